//! Who is calling, and the one place that decides what they may do (DESIGN §2).

use crate::error::{Error, Result};
use crate::roles::ADMIN;
use crate::settings::Settings;
use crate::store::Store;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Whoever can write the database file: always an admin.
    Operator,
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
}

/// The token behind a token caller; its roles bound what the caller may mint.
#[derive(Debug, Clone)]
pub struct CallerToken {
    pub row_id: i64,
    pub name: String,
    pub expires_at: i64,
    pub roles: Vec<String>,
}

/// What a command needs from its caller.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Anyone who could be identified.
    Anyone,
    /// The osmo-admin role; the text says what for ("create users").
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

/// Resolves the caller: for now the local operator, when operator access is on.
pub fn resolve(store: &Store, settings: &Settings) -> Result<Caller> {
    if !settings.operator_access {
        return Err(Error::Unauthenticated(
            "Operator access is turned off: log in with `osmo login` or set OSMO_TOKEN.".into(),
        ));
    }
    let mut roles = crate::users::role_names(store.conn(), &settings.operator_user)?;
    if !roles.iter().any(|r| r == ADMIN) {
        roles.push(ADMIN.to_string());
        roles.sort();
    }
    Ok(Caller {
        user: settings.operator_user.clone(),
        roles,
        login: Login::Operator,
        token: None,
    })
}
