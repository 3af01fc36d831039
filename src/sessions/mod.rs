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

/// The exit-6 error for a refused token, naming where it came from (`OSMO_TOKEN`,
/// `OSMO_TOKEN_FILE PATH`), so a stale variable is found at once (DESIGN §2).
pub fn invalid_token_in(rejection: Rejection, source: &str) -> Error {
    Error::Unauthenticated(format!(
        "invalid token in {source} ({})",
        rejection.reason()
    ))
}

/// This database's login session, as the session file holds it.
pub struct Held {
    pub entry: Entry,
    /// The session file, where an ended session's reason is kept; `None` keeps nothing.
    pub file: Option<std::path::PathBuf>,
    /// The entry's key in that file.
    pub key: String,
}

/// Why a session can no longer be used, with what to do about it. The reason is kept
/// in the session file, so every later command repeats it until the session is replaced
/// or removed (DESIGN §2).
fn ended(held: &Held, settings: &Settings, reason: &str) -> Error {
    if held.entry.ended.is_none()
        && let Some(path) = &held.file
    {
        file::mark_ended(path, &held.key, &held.entry.session_id, reason);
    }
    let fix = if settings.operator_access {
        "run osmo login again, or osmo logout to act as the local operator"
    } else {
        "run osmo login again"
    };
    Error::Unauthenticated(format!("{reason}: {fix}"))
}

/// What the database says of a session, read in one snapshot; nothing written.
enum Found {
    Live(SessionRow, Vec<String>),
    /// No such session: its token was deleted or rotated, or it was logged out.
    Gone,
    /// The session file's secret is not this session's.
    Mismatch(SessionRow),
    /// Its token expired.
    Expired(SessionRow),
    /// Unused for longer than `session-idle-timeout`.
    Idle(SessionRow),
}

fn inspect(store: &mut Store, settings: &Settings, entry: &Entry, now: i64) -> Result<Found> {
    let found = store.read(|tx| {
        let Some(row) = tx.find_session(&entry.session_id)? else {
            return Ok(None);
        };
        let roles = tx.token_roles(row.token_row_id)?;
        Ok(Some((row, roles)))
    })?;
    let Some((row, roles)) = found else {
        return Ok(Found::Gone);
    };
    Ok(
        if !format::secret_matches(&Secret::from_text(&entry.secret), &row.secret_hash) {
            Found::Mismatch(row)
        } else if row.expires_at <= now {
            Found::Expired(row)
        } else if now - row.last_used_at >= settings.session_idle_timeout.seconds {
            Found::Idle(row)
        } else {
            Found::Live(row, roles)
        },
    )
}

fn resumed(row: SessionRow, roles: Vec<String>, last_used_at: i64) -> Resumed {
    Resumed {
        token: tokens::Verified {
            row_id: row.token_row_id,
            public_id: row.public_id,
            token_name: row.token_name,
            user_name: row.user_id,
            roles,
            expires_at: Timestamp(row.expires_at),
            last_used_at: Some(last_used_at),
            outdated_hash: None,
        },
        url: row.url,
    }
}

/// The live session `entry` stands for, read only: nothing refreshed, ended or audited
/// (shell completion asks on every TAB). `None` when it cannot be used.
pub fn peek(
    store: &mut Store,
    settings: &Settings,
    entry: &Entry,
    now: i64,
) -> Result<Option<Resumed>> {
    if entry.ended.is_some() {
        return Ok(None);
    }
    Ok(match inspect(store, settings, entry, now)? {
        Found::Live(row, roles) => {
            let last_used_at = row.last_used_at;
            Some(resumed(row, roles, last_used_at))
        }
        _ => None,
    })
}

/// Resumes a session at `now`: it must exist, match its secret, have been used within
/// `session-idle-timeout`, and its token must still be live. Use refreshes it. A resume
/// that fails is audited as `denied`.
pub fn resume(store: &mut Store, settings: &Settings, held: &Held, now: i64) -> Result<Resumed> {
    const ACTION: Action = Action::SessionResume;
    let entry = &held.entry;
    // The file's own word for whose session it was, if it is a user id at all.
    let user = crate::validate::user_id(&entry.user_name)
        .ok()
        .map(|()| entry.user_name.as_str());
    if let Some(reason) = &entry.ended {
        audit::record_denial(store, now, "-", ACTION, user.unwrap_or("-"), user);
        return Err(ended(held, settings, reason));
    }
    let (row, reason) = match inspect(store, settings, entry, now)? {
        Found::Live(row, roles) => {
            // Refresh the session, and the token's last use, unless that was done a
            // moment ago: a quarter of the idle timeout (at most a minute) is plenty.
            let granularity =
                (settings.session_idle_timeout.seconds / 4).min(tokens::USE_GRANULARITY);
            if tokens::use_is_news(Some(row.last_used_at), now, granularity) {
                let (session, token) = (&entry.session_id, row.token_row_id);
                store.write_if_free(|tx| {
                    tx.touch_session(session, now)?;
                    tx.touch_token(token, now)
                });
            }
            return Ok(resumed(row, roles, now));
        }
        Found::Gone => {
            audit::record_denial(store, now, "-", ACTION, user.unwrap_or("-"), user);
            return Err(ended(
                held,
                settings,
                "the login session has ended (its token was deleted or rotated, or it was logged out)",
            ));
        }
        Found::Mismatch(row) => {
            let target = format!("{}/{}", row.user_id, row.token_name);
            audit::record_denial(store, now, "-", ACTION, &target, Some(&row.user_id));
            return Err(ended(
                held,
                settings,
                "the login session has ended (the session file does not match)",
            ));
        }
        Found::Expired(row) => (
            row,
            format!(
                "invalid token in the login session ({})",
                Rejection::Expired.reason()
            ),
        ),
        Found::Idle(row) => (
            row,
            format!(
                "the login session has ended (unused for longer than session-idle-timeout, {})",
                settings.session_idle_timeout
            ),
        ),
    };
    // Bookkeeping: the session has ended whether or not this can be written.
    let target = format!("{}/{}", row.user_id, row.token_name);
    store.write_if_free(|tx| {
        tx.delete_session(&entry.session_id)?;
        audit::Record {
            at: now,
            actor: "-",
            action: ACTION,
            target: &target,
            subject: Some(&row.user_id),
            outcome: "denied",
        }
        .append(tx)
    });
    Err(ended(held, settings, &reason))
}

/// Ends a session in the database; a session already gone is fine.
pub fn end(store: &mut Store, session_id: &str) -> Result<()> {
    store.write(|tx| tx.delete_session(session_id))
}
