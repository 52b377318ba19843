mod calendar;
mod config;
mod golden;
mod planner;
mod store;
mod support;
