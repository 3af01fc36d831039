//! osmo-local: OSMO's users, roles and personal access tokens in one local SQLite file.
//!
//! The `osmo` binary is a thin shell over this library; other programs may use it directly.
//! Modules import downwards only: `commands` → `output` and the rules (`identity`,
//! `sessions`, `tokens`, `users`, `roles`, `settings`, `audit`, `access`) → `store`.

pub mod access;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod completion;
pub mod db;
pub mod error;
pub mod identity;
pub mod invocation;
pub mod output;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod store;
pub mod time;
pub mod tokens;
pub mod users;
pub mod validate;

#[cfg(test)]
mod rules_tests;

pub use error::{Error, ExitStatus, Result};
