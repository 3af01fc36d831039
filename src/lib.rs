//! osmo-local: OSMO's users, roles and personal access tokens in one local SQLite file.
//!
//! The `osmo` binary is a thin shell over this library; other programs may use it directly.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod error;
pub mod identity;
pub mod output;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod store;
pub mod time;
pub mod token;
pub mod token_input;
pub mod tokens;
pub mod users;
pub mod validate;

pub use error::{Error, Result};
