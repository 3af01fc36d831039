//! Integration tests for the `osmo` binary: one binary, a module per command group.

mod auth;
mod concurrency;
mod config;
mod crash;
mod output;
mod role;
mod store;
mod token;
mod user;
mod util;
