//! Checking a presented token: for `token verify`, for token and session callers, and for
//! other programs using the library (DESIGN §4, §5).

use serde::Serialize;

use super::format::{self, Token};
use crate::audit::{self, Action, Record};
use crate::error::{Error, Result};
use crate::roles;
use crate::store::{Store, Tx};
use crate::time::{self, Timestamp};

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
    /// The stored hash, when it was made with older parameters: a rehash replaces exactly
    /// this one, never a hash another token (or a rotation) wrote meanwhile.
    pub outdated_hash: Option<String>,
}

/// A presented token's verdict: good, or why not.
pub type Verdict = std::result::Result<Verified, Rejection>;

/// How stale `last_used_at` may get before a use writes it again. Writing it on every
/// use would turn each `token verify` into a write transaction (and a checkpoint when
/// the process exits); a minute is as fine as anyone reads "last used".
pub const USE_GRANULARITY: i64 = 60;

/// Whether a use at `now` should be written, given the last one written.
pub fn use_is_news(last_used_at: Option<i64>, now: i64, granularity: i64) -> bool {
    last_used_at.is_none_or(|last| now - last >= granularity)
}

/// Checks a presented token against the database at instant `now`, reading the token
/// and its roles from one snapshot. The outer `Result` is for database failures; the
/// inner one says whether the token is good. Nothing is written.
pub fn check(store: &mut Store, presented: &str, now: i64) -> Result<Verdict> {
    store.read(|tx| check_raw(tx, presented, now))
}

/// `check` inside a transaction the caller holds (a login checks again under its write).
pub(crate) fn check_raw(tx: &Tx<'_>, presented: &str, now: i64) -> Result<Verdict> {
    let Ok(token) = Token::parse(presented) else {
        return Ok(Err(Rejection::Malformed));
    };
    let Some(row) = tx.find_token_by_public_id(token.public_id())? else {
        return Ok(Err(Rejection::Unknown));
    };
    if !token.matches(&row.secret_hash) {
        return Ok(Err(Rejection::Unknown));
    }
    if row.expires_at <= now {
        return Ok(Err(Rejection::Expired));
    }
    Ok(Ok(Verified {
        row_id: row.row_id,
        public_id: token.public_id().to_string(),
        token_name: row.name,
        user_name: row.user_id,
        roles: tx.token_roles(row.row_id)?,
        expires_at: Timestamp(row.expires_at),
        last_used_at: row.last_used_at,
        outdated_hash: format::needs_rehash(&row.secret_hash).then_some(row.secret_hash),
    }))
}

/// Checks a presented token and, when it is good, records its use (to the minute) and
/// replaces a hash made with older parameters. A refusal goes to the audit log under
/// `action`. The verdict never depends on those writes (DESIGN §7).
pub fn authenticate(
    store: &mut Store,
    presented: &str,
    action: Action,
    now: i64,
) -> Result<Verdict> {
    let verdict = check(store, presented, now)?;
    match &verdict {
        Ok(verified) => record_use(store, presented, verified, now)?,
        Err(rejection) => {
            store.write_if_free(|tx| record_failure(tx, presented, *rejection, action, now));
        }
    }
    Ok(verdict)
}

/// Writes what a good check learned: the use (unless one within the last minute is
/// recorded already) and, for an outdated hash, a new one. Nothing is written when there
/// is nothing new, so repeated verifies stay read-only; and it is bookkeeping, skipped
/// when the write lock is not free within half a second or the medium is read-only.
pub fn record_use(store: &mut Store, presented: &str, verified: &Verified, now: i64) -> Result<()> {
    if verified.outdated_hash.is_none() && !use_is_news(verified.last_used_at, now, USE_GRANULARITY)
    {
        return Ok(());
    }
    let rehash = rehash(presented, verified)?;
    store.write_if_free(|tx| record_use_raw(tx, verified, rehash.as_deref(), now));
    Ok(())
}

/// A new hash for `presented` when the stored one is outdated.
pub(crate) fn rehash(presented: &str, verified: &Verified) -> Result<Option<String>> {
    match (&verified.outdated_hash, Token::parse(presented)) {
        (Some(_), Ok(token)) => token.hash().map(Some),
        _ => Ok(None),
    }
}

/// `record_use` inside a transaction the caller already holds. The row is named by its
/// id, which is never reused, and the hash is replaced only where it is still exactly
/// the outdated one that was checked.
pub(crate) fn record_use_raw(
    tx: &Tx<'_>,
    verified: &Verified,
    rehash: Option<&str>,
    now: i64,
) -> Result<()> {
    tx.touch_token(verified.row_id, now)?;
    if let (Some(old), Some(new)) = (&verified.outdated_hash, rehash) {
        tx.replace_token_hash(verified.row_id, old, new)?;
    }
    Ok(())
}

/// Audits a refused token under `action`, naming its owner when the public id is known.
pub(crate) fn record_failure(
    tx: &Tx<'_>,
    presented: &str,
    rejection: Rejection,
    action: Action,
    now: i64,
) -> Result<()> {
    let public_id = Token::parse(presented).map(|t| t.public_id().to_string());
    let owner = match &public_id {
        Ok(id) => tx.find_token_by_public_id(id)?,
        Err(_) => None,
    };
    let target = match (&owner, &public_id) {
        (Some(token), _) => format!("{}/{}", token.user_id, token.name),
        (None, Ok(id)) => id.clone(),
        (None, Err(_)) => "-".to_string(),
    };
    Record {
        at: now,
        actor: "-",
        action,
        target: &target,
        subject: owner.as_ref().map(|token| token.user_id.as_str()),
        outcome: &format!("failed: {}", rejection.reason()),
    }
    .append(tx)
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
    now: i64,
) -> Result<std::result::Result<Valid, Rejection>> {
    let required = roles::dedup(required)?;
    let verified = match authenticate(store, presented, Action::TokenVerify, now)? {
        Ok(verified) => verified,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let name = &verified.token_name;
    if let Some(role) = required.iter().find(|r| !verified.roles.contains(r)) {
        let exists = store.read(|tx| roles::require_exist(tx, std::slice::from_ref(role)));
        let refusal = match exists {
            Err(err) => Error::forbidden(format!("{err}")),
            Ok(()) => Error::forbidden(format!("token {name} does not carry role {role}.")),
        };
        let target = format!("{}/{name}", verified.user_name);
        let owner = Some(verified.user_name.as_str());
        audit::record_denial(store, now, "-", Action::TokenVerify, &target, owner);
        return Err(refusal);
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
