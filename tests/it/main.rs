mod calendar;
mod config;
mod golden;
mod mail;
mod planner;
mod store;
mod support;
mod tracking;
