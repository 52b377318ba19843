mod calendar;
mod config;
