mod calendar;
mod config;
mod golden;
mod planner;
