mod mail;
mod support;
