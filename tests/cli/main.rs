//! Integration tests for the `osmo` binary: one binary, a module per command group.

mod auth;
mod bad_input;
mod concurrency;
mod config;
mod crash;
mod hands;
mod hygiene;
mod lifecycle;
mod listing;
mod output;
mod role;
mod safety;
mod security;
mod server;
mod store;
mod token;
mod user;
mod util;
