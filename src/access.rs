//! Who is calling, and the one place that decides what they may do (DESIGN §2).

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The built-in role that may do anything.
pub const ADMIN: &str = "osmo-admin";
/// The built-in role of ordinary users.
pub const USER: &str = "osmo-user";
/// The user id the first admin gets when nobody says otherwise.
pub const DEFAULT_ADMIN: &str = "admin";

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Whoever can write the database file: always an admin.
    Operator,
    /// `$OSMO_TOKEN` or `$OSMO_TOKEN_FILE`.
    Token,
    /// A session opened by `osmo login`.
    Session,
}

/// The identity a command runs as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user the caller acts as (the `operator-user` for the operator).
    pub user: String,
    /// Effective roles: what the caller may use, sorted.
    pub roles: Vec<String>,
    pub login: Login,
    /// The token the caller authenticated with, if any.
    pub token: Option<CallerToken>,
    /// The URL given to `osmo login`, for `profile list`.
    pub url: Option<String>,
}

/// The token behind a token caller; its roles bound what the caller may mint.
#[derive(Debug, Clone)]
pub struct CallerToken {
    pub row_id: i64,
    pub name: String,
    pub expires_at: Timestamp,
    pub roles: Vec<String>,
}

/// What a command needs from its caller.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Anyone who could be identified.
    Anyone,
    /// The osmo-admin role; the text says what for ("Creating users").
    Admin(&'a str),
    /// To act on `user`'s own things: that user, or an admin.
    SelfOrAdmin { user: &'a str, what: &'a str },
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.login == Login::Operator || self.roles.iter().any(|r| r == ADMIN)
    }

    /// The single permission check every command goes through.
    pub fn authorize(&self, need: Need<'_>) -> Result<()> {
        let refused = |what: &str| {
            Err(Error::forbidden(format!(
                "{what} requires the {ADMIN} role."
            )))
        };
        match need {
            Need::Anyone => Ok(()),
            _ if self.is_admin() => Ok(()),
            Need::Admin(what) => refused(what),
            Need::SelfOrAdmin { user, .. } if user == self.user => Ok(()),
            Need::SelfOrAdmin { what, .. } => refused(what),
        }
    }
}
