//! Checking a presented token: for `token verify`, for token and session callers, and for
//! other programs using the library (DESIGN §4, §5).

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::role_names;
use crate::audit;
use crate::error::{Error, Result};
use crate::roles;
use crate::store::Store;
use crate::time::{self, Timestamp};
use crate::token::{self, Token};

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a token at all: wrong shape or checksum. No database read was made.
    Malformed,
    /// Never existed, deleted, or rotated away; or the secret does not match.
    Unknown,
    Expired,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::Unknown => "unknown",
            Rejection::Expired => "expired",
        }
    }
}

/// A presented token that checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    pub row_id: i64,
    pub public_id: String,
    pub token_name: String,
    pub user_name: String,
    pub roles: Vec<String>,
    pub expires_at: Timestamp,
    pub last_used_at: Option<i64>,
    /// The stored hash was made with older parameters.
    pub needs_rehash: bool,
}

/// How stale `last_used_at` may get before a use writes it again. Writing it on every
/// use would turn each `token verify` into a write transaction (and a checkpoint when
/// the process exits); a minute is as fine as anyone reads "last used".
pub const USE_GRANULARITY: i64 = 60;

/// Whether a use at `now` should be written, given the last one written.
pub fn use_is_news(last_used_at: Option<i64>, now: i64, granularity: i64) -> bool {
    last_used_at.is_none_or(|last| now - last >= granularity)
}

/// Checks a presented token against the database at instant `now`. The outer `Result` is
/// for database failures; the inner one says whether the token is good.
pub fn check(
    conn: &Connection,
    presented: &str,
    now: i64,
) -> Result<std::result::Result<Verified, Rejection>> {
    let Ok(token) = Token::parse(presented) else {
        return Ok(Err(Rejection::Malformed));
    };
    let row = conn
        .prepare_cached(
            "SELECT id, name, user_id, secret_hash, expires_at, last_used_at FROM tokens
             WHERE public_id = ?1",
        )?
        .query_row([token.public_id()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()?;
    let Some((row_id, token_name, user_name, hash, expires_at, last_used_at)) = row else {
        return Ok(Err(Rejection::Unknown));
    };
    if !token.matches(&hash) {
        return Ok(Err(Rejection::Unknown));
    }
    if expires_at <= now {
        return Ok(Err(Rejection::Expired));
    }
    Ok(Ok(Verified {
        row_id,
        public_id: token.public_id().to_string(),
        token_name,
        user_name,
        roles: role_names(conn, row_id)?,
        expires_at: Timestamp(expires_at),
        last_used_at,
        needs_rehash: token::needs_rehash(&hash),
    }))
}

/// Checks a presented token and, when it is good, records its use (to the minute) and
/// replaces a hash made with older parameters. A refusal goes to the audit log under
/// `action`.
pub fn authenticate(
    store: &mut Store,
    presented: &str,
    action: &str,
) -> Result<std::result::Result<Verified, Rejection>> {
    let now = time::now();
    let verdict = check(store.conn(), presented, now)?;
    match &verdict {
        Ok(verified)
            if verified.needs_rehash
                || use_is_news(verified.last_used_at, now, USE_GRANULARITY) =>
        {
            let rehash = match Token::parse(presented) {
                Ok(token) if verified.needs_rehash => Some(token.hash()?),
                _ => None,
            };
            store.write(|tx| {
                tx.prepare_cached(
                    "UPDATE tokens SET last_used_at = ?2, secret_hash = coalesce(?3, secret_hash)
                     WHERE id = ?1",
                )?
                .execute((verified.row_id, now, rehash))?;
                Ok(())
            })?;
        }
        Err(rejection) => {
            let public_id = Token::parse(presented).map(|t| t.public_id().to_string());
            store.write(|tx| {
                let owner: Option<(String, String)> = match &public_id {
                    Ok(id) => tx
                        .prepare_cached("SELECT user_id, name FROM tokens WHERE public_id = ?1")?
                        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()?,
                    Err(_) => None,
                };
                let target = match (&owner, &public_id) {
                    (Some((user, name)), _) => format!("{user}/{name}"),
                    (None, Ok(id)) => id.clone(),
                    (None, Err(_)) => "-".to_string(),
                };
                let subject = owner.as_ref().map(|(user, _)| user.as_str());
                let outcome = format!("failed: {}", rejection.reason());
                audit::record(tx, "-", action, &target, subject, &outcome)
            })?;
        }
        // Used within the last minute, and already recorded as such: nothing to write.
        Ok(_) => {}
    }
    Ok(verdict)
}

/// `token verify` of a good token.
#[derive(Debug, Serialize)]
pub struct Valid {
    pub valid: bool,
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub roles: Vec<String>,
    pub expires_at: Timestamp,
}

/// `token verify -t json` of a bad token.
#[derive(Debug, Serialize)]
pub struct Invalid {
    pub valid: bool,
    pub reason: &'static str,
}

/// Checks a token for another program: it must be live and carry every role in `required`.
/// A token that is not live is `Ok(Err(..))`; a missing role is exit 3.
pub fn verify(
    store: &mut Store,
    presented: &str,
    required: &[String],
) -> Result<std::result::Result<Valid, Rejection>> {
    let required = roles::dedup(required)?;
    let verified = match authenticate(store, presented, "token.verify")? {
        Ok(verified) => verified,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let name = &verified.token_name;
    for role in &required {
        if !verified.roles.contains(role) {
            roles::require_exist(store.conn(), std::slice::from_ref(role))
                .map_err(|err| Error::forbidden(format!("{err}")))?;
            return Err(Error::forbidden(format!(
                "token {name} does not carry role {role}."
            )));
        }
    }
    Ok(Ok(Valid {
        valid: true,
        id: verified.public_id,
        token_name: verified.token_name,
        user_name: verified.user_name,
        roles: verified.roles,
        expires_at: verified.expires_at,
    }))
}

/// Whether an instant falls within the 7-day expiry warning window.
pub fn expires_soon(expires_at: Timestamp, now: i64) -> bool {
    expires_at.0 - now <= 7 * time::DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_written_at_most_once_a_minute() {
        assert!(use_is_news(None, 1_000, USE_GRANULARITY));
        assert!(!use_is_news(Some(1_000), 1_059, USE_GRANULARITY));
        assert!(use_is_news(Some(1_000), 1_060, USE_GRANULARITY));
        assert!(use_is_news(Some(1_000), 1_001, 0));
    }
}
