//! Resolving who is calling: a token, a login session, or the local operator (DESIGN §2).

use crate::access::{ADMIN, Caller, CallerToken, Login};
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::sessions::{self, Held};
use crate::settings::Settings;
use crate::store::Store;
use crate::time::Timestamp;
use crate::tokens::{self, Verified};

/// The credential a command was started with, in the order of DESIGN §2.
pub enum Presented {
    /// From `$OSMO_TOKEN` or `$OSMO_TOKEN_FILE`; `source` names which, for messages.
    Token { text: String, source: String },
    /// This database's entry in the session file.
    Session(Held),
    /// Nothing: the local operator, if operator access is on.
    Nothing,
}

fn caller_from(verified: Verified, login: Login, url: Option<String>) -> Caller {
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

/// Resolves the caller at instant `now`. A credential that does not check out never
/// falls through to the next source: it fails with exit 6.
pub fn resolve(
    store: &mut Store,
    settings: &Settings,
    presented: &Presented,
    now: i64,
) -> Result<Caller> {
    match presented {
        Presented::Token { text, source } => {
            match tokens::authenticate(store, text, Action::Authenticate, now)? {
                Ok(verified) => Ok(caller_from(verified, Login::Token, None)),
                Err(rejection) => Err(sessions::invalid_token_in(rejection, source)),
            }
        }
        Presented::Session(held) => {
            let resumed = sessions::resume(store, settings, held, now)?;
            Ok(caller_from(resumed.token, Login::Session, resumed.url))
        }
        Presented::Nothing => operator(store, settings),
    }
}

/// Who is calling, read only: nothing refreshed or recorded, for shell completion, which
/// asks on every TAB. `None` when the credential does not check out.
pub fn peek(
    store: &mut Store,
    settings: &Settings,
    presented: &Presented,
    now: i64,
) -> Result<Option<Caller>> {
    Ok(match presented {
        Presented::Token { text, .. } => tokens::check(store, text, now)?
            .ok()
            .map(|verified| caller_from(verified, Login::Token, None)),
        Presented::Session(held) => sessions::peek(store, settings, &held.entry, now)?
            .map(|resumed| caller_from(resumed.token, Login::Session, resumed.url)),
        Presented::Nothing => operator(store, settings).ok(),
    })
}

fn operator(store: &mut Store, settings: &Settings) -> Result<Caller> {
    if !settings.operator_access {
        return Err(Error::Unauthenticated(
            "Operator access is turned off: log in with `osmo login --method token` or set OSMO_TOKEN."
                .into(),
        ));
    }
    let mut roles = store.read(|tx| tx.user_roles(&settings.operator_user))?;
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
