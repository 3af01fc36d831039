//! Login sessions: `osmo login` trades a token for a session credential of its own, kept
//! in the session file (`file`); the token itself is never written there (DESIGN §5).

mod file;

use serde::Serialize;

pub use file::{Entry, Locked, SessionFile, database_key, default_path};

use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::{SessionRow, Store};
use crate::time::Timestamp;
use crate::tokens::format::{self, Secret};
use crate::tokens::{self, Rejection};

const SESSION_ID_LEN: usize = 16;

/// What a successful login hands back: who, and the credential for the session file.
pub struct LoggedIn {
    pub user_name: String,
    pub token_name: String,
    pub expires_at: Timestamp,
    pub session_id: String,
    pub secret: Secret,
}

/// `login`: JSON `{user_name, token_name, expires_at}`.
#[derive(Debug, Serialize)]
pub struct LoginSummary {
    pub user_name: String,
    pub token_name: String,
    pub expires_at: Timestamp,
}

/// `logout`: JSON `{logged_out}`, false when there was no session.
#[derive(Debug, Serialize)]
pub struct LogoutSummary {
    pub logged_out: bool,
}

/// The identity a live session stands for.
pub struct Resumed {
    pub token: tokens::Verified,
    pub url: Option<String>,
}

/// Checks `presented` and opens a session for it, in one write transaction: the token
/// is checked again under the write lock, so a rotation or delete racing this login
/// either ends the new session with its token or makes the login fail; the session can
/// never land on another token. A bad token opens nothing.
pub fn login(store: &mut Store, presented: &str, url: Option<&str>, now: i64) -> Result<LoggedIn> {
    let session_id = format::random_base62(SESSION_ID_LEN)?;
    let secret = Secret::generate()?;
    let hash = format::hash_secret(&secret)?;
    let verdict = store.write_durable(|tx| {
        let verified = match tokens::check_raw(tx, presented, now)? {
            Ok(verified) => verified,
            Err(rejection) => {
                tokens::record_failure(tx, presented, rejection, Action::Login, now)?;
                return Ok(Err(rejection));
            }
        };
        let rehash = tokens::rehash(presented, &verified)?;
        tokens::record_use_raw(tx, &verified, rehash.as_deref(), now)?;
        tx.insert_session(&session_id, verified.row_id, &hash, url, now)?;
        let target = format!("{}/{}", verified.user_name, verified.token_name);
        let user = verified.user_name.as_str();
        audit::record_ok(tx, now, user, Action::Login, &target, Some(user))?;
        Ok(Ok(verified))
    })?;
    let verified = verdict.map_err(invalid_token)?;
    Ok(LoggedIn {
        user_name: verified.user_name,
        token_name: verified.token_name,
        expires_at: verified.expires_at,
        session_id,
        secret,
    })
}

/// The exit-6 error for a refused token.
pub fn invalid_token(rejection: Rejection) -> Error {
    Error::Unauthenticated(format!("invalid token ({})", rejection.reason()))
}

fn ended(why: &str) -> Error {
    Error::Unauthenticated(format!(
        "Your login session has ended ({why}). Log in again with `osmo login --method token`."
    ))
}

/// Resumes a session at `now`: it must exist, match its secret, have been used within
/// `session-idle-timeout`, and its token must still be live. Use refreshes it. A resume
/// that fails is audited as `denied`.
pub fn resume(store: &mut Store, settings: &Settings, entry: &Entry, now: i64) -> Result<Resumed> {
    const ACTION: Action = Action::SessionResume;
    let found = store.read(|tx| {
        let Some(row) = tx.find_session(&entry.session_id)? else {
            return Ok(None);
        };
        let roles = tx.token_roles(row.token_row_id)?;
        Ok(Some((row, roles)))
    })?;
    let Some((row, roles)): Option<(SessionRow, Vec<String>)> = found else {
        // The file's own word for whose session it was, if it is a user id at all.
        let user = crate::validate::user_id(&entry.user_name)
            .ok()
            .map(|()| entry.user_name.as_str());
        audit::record_denial(store, now, "-", ACTION, user.unwrap_or("-"), user);
        return Err(ended(
            "its token was deleted or rotated, or it was logged out",
        ));
    };
    let target = format!("{}/{}", row.user_id, row.token_name);
    let owner = Some(row.user_id.as_str());
    if !format::secret_matches(&Secret::from_text(&entry.secret), &row.secret_hash) {
        audit::record_denial(store, now, "-", ACTION, &target, owner);
        return Err(ended("the session file does not match"));
    }
    let idle = now - row.last_used_at;
    if idle >= settings.session_idle_timeout.seconds || row.expires_at <= now {
        // Bookkeeping: the session has ended whether or not this can be written.
        store.write_if_free(|tx| {
            tx.delete_session(&entry.session_id)?;
            audit::Record {
                at: now,
                actor: "-",
                action: ACTION,
                target: &target,
                subject: owner,
                outcome: "denied",
            }
            .append(tx)
        });
        return Err(if row.expires_at <= now {
            ended("its token expired")
        } else {
            ended(&format!(
                "unused for longer than session-idle-timeout, {}",
                settings.session_idle_timeout
            ))
        });
    }
    // Refresh the session, and the token's last use, unless that was done a moment ago:
    // a quarter of the idle timeout (at most a minute) is plenty of precision.
    let granularity = (settings.session_idle_timeout.seconds / 4).min(tokens::USE_GRANULARITY);
    if tokens::use_is_news(Some(row.last_used_at), now, granularity) {
        store.write_if_free(|tx| {
            tx.touch_session(&entry.session_id, now)?;
            tx.touch_token(row.token_row_id, now)
        });
    }
    Ok(Resumed {
        token: tokens::Verified {
            row_id: row.token_row_id,
            public_id: row.public_id,
            token_name: row.token_name,
            user_name: row.user_id,
            roles,
            expires_at: Timestamp(row.expires_at),
            last_used_at: Some(now),
            outdated_hash: None,
        },
        url: row.url,
    })
}

/// Ends a session in the database; a session already gone is fine.
pub fn end(store: &mut Store, session_id: &str) -> Result<()> {
    store.write(|tx| tx.delete_session(session_id))
}
