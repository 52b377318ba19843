mod calendar;
mod config;
mod golden;
mod mail;
mod outbox;
mod planner;
mod store;
mod support;
