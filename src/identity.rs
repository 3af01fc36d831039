//! Who is calling, and the one place that decides what they may do (DESIGN §2).

use crate::error::{Error, Result};
use crate::roles::ADMIN;
use crate::sessions::{self, Entry};
use crate::settings::Settings;
use crate::store::Store;
use crate::time::Timestamp;
use crate::tokens::{self, Verified};

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

/// The credential a command was started with, in the order of DESIGN §2.
pub enum Presented {
    /// From `$OSMO_TOKEN` or `$OSMO_TOKEN_FILE`.
    Token(String),
    /// This database's entry in the session file.
    Session(Entry),
    /// Nothing: the local operator, if operator access is on.
    Nothing,
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

    fn from_token(verified: Verified, login: Login, url: Option<String>) -> Caller {
        Caller {
            user: verified.user_name,
            roles: verified.roles.clone(),
            login,
            token: Some(CallerToken {
                row_id: verified.row_id,
                name: verified.token_name,
                expires_at: verified.expires_at,
                roles: verified.roles,
            }),
            url,
        }
    }
}

/// Resolves the caller. A credential that does not check out never falls through to the
/// next source: it fails with exit 6.
pub fn resolve(store: &mut Store, settings: &Settings, presented: &Presented) -> Result<Caller> {
    match presented {
        Presented::Token(text) => match tokens::authenticate(store, text, "authenticate")? {
            Ok(verified) => Ok(Caller::from_token(verified, Login::Token, None)),
            Err(rejection) => Err(sessions::invalid_token(rejection)),
        },
        Presented::Session(entry) => {
            let resumed = sessions::resume(store, settings, entry)?;
            Ok(Caller::from_token(
                resumed.token,
                Login::Session,
                resumed.url,
            ))
        }
        Presented::Nothing => operator(store, settings),
    }
}

fn operator(store: &Store, settings: &Settings) -> Result<Caller> {
    if !settings.operator_access {
        return Err(Error::Unauthenticated(
            "Operator access is turned off: log in with `osmo login --method token` or set OSMO_TOKEN."
                .into(),
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
        url: None,
    })
}

/// `profile list`: who the caller is and what it may use.
#[derive(Debug, serde::Serialize)]
pub struct Profile {
    pub user: ProfileUser,
    /// `token` (a token or a session opened with one) or `operator`.
    pub login: &'static str,
    pub token: Option<ProfileToken>,
    pub roles: Vec<String>,
    /// The URL given to `osmo login`, if any.
    pub url: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct ProfileUser {
    pub name: String,
}

#[derive(Debug, serde::Serialize)]
pub struct ProfileToken {
    pub name: String,
    pub expires_at: Timestamp,
}

impl Profile {
    pub fn of(caller: &Caller) -> Profile {
        Profile {
            user: ProfileUser {
                name: caller.user.clone(),
            },
            login: match caller.login {
                Login::Operator => "operator",
                Login::Token | Login::Session => "token",
            },
            token: caller.token.as_ref().map(|t| ProfileToken {
                name: t.name.clone(),
                expires_at: t.expires_at,
            }),
            roles: caller.roles.clone(),
            url: caller.url.clone(),
        }
    }
}
