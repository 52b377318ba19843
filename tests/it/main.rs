mod calendar;
mod config;
mod planner;
