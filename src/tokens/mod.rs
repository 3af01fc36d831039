//! Personal access tokens (DESIGN §3–§5): the token string itself (`format`), reading
//! one from a file or stdin (`input`), issuing new ones (`issue`), managing existing ones
//! (`manage`: delete, list, roles, rotate), and checking a presented one (`verify`).

use serde::{Serialize, Serializer};

use crate::access::{Caller, Need};
use crate::error::Result;
use crate::store::RoleGrant;
use crate::time::{Expiry, Timestamp};
use crate::validate;

pub mod format;
pub mod input;
mod issue;
mod manage;
pub mod scan;
mod verify;

pub use format::Token;
pub use issue::issue;
pub use manage::{count_tokens, delete, delete_all, list, prune, roles, rotate};
pub use verify::{
    Invalid, Rejection, USE_GRANULARITY, Valid, Verdict, Verified, authenticate, check,
    expires_soon, record_use, use_is_news, verify,
};

pub(crate) use verify::{check_raw, record_failure, record_use_raw, rehash};

/// How a new token is announced: OSMO's three lines or VAST's one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// `token set` / `token rotate`; the flags say which optional lines to add.
    Osmo { for_user: bool, roles_given: bool },
    /// `apitoken create`.
    Vast,
    /// `-q`: the token and a newline, nothing else.
    Quiet,
}

/// A token just made: the only result that carries the plaintext.
#[derive(Serialize)]
pub struct TokenIssued {
    #[serde(serialize_with = "reveal")]
    pub token: Token,
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub description: String,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(skip)]
    pub announce: Announce,
}

fn reveal<S: Serializer>(token: &Token, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&token.reveal())
}

#[derive(Debug, Serialize)]
pub struct TokenDeleted {
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub deleted: bool,
    /// `--user` was given: the text names the owner.
    #[serde(skip)]
    pub for_user: bool,
}

/// One row of `token list`.
#[derive(Debug, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub description: String,
    /// `active` or `expired`.
    pub status: &'static str,
    pub active: bool,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Which tokens `token list` shows.
#[derive(Debug, Clone, Copy, Default)]
pub enum ListFilter {
    #[default]
    Every,
    Active,
    Expired,
    /// Active, and expiring within this many seconds.
    ExpiringWithin(i64),
}

impl ListFilter {
    fn keeps(self, expires_at: i64, now: i64) -> bool {
        let active = expires_at > now;
        match self {
            ListFilter::Every => true,
            ListFilter::Active => active,
            ListFilter::Expired => !active,
            ListFilter::ExpiringWithin(span) => active && expires_at - now <= span,
        }
    }
}

/// One token `token prune` removed (or would remove).
#[derive(Debug, Serialize)]
pub struct PrunedToken {
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub expires_at: Timestamp,
}

/// `token prune`.
#[derive(Debug, Serialize)]
pub struct Pruned {
    pub dry_run: bool,
    pub pruned: Vec<PrunedToken>,
}

/// `token delete --all`.
#[derive(Debug, Serialize)]
pub struct AllDeleted {
    pub user_name: String,
    pub deleted: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenRoles {
    pub user_name: String,
    pub token_name: String,
    pub roles: Vec<RoleGrant>,
}

/// What `token set` and `apitoken create` ask for.
pub struct NewToken<'a> {
    /// None: VAST's default name, `OWNER_api_token`.
    pub name: Option<&'a str>,
    /// None: the caller.
    pub owner: Option<&'a str>,
    pub description: &'a str,
    /// Empty: the owner's roles (within the caller token's roles).
    pub roles: &'a [String],
    pub expiry: Expiry<'a>,
}

/// The owner a command acts on: `--user` or the caller, checked before any lookup.
pub(crate) fn owner_of(caller: &Caller, user: Option<&str>) -> Result<String> {
    let owner = user.unwrap_or(&caller.user);
    caller.authorize(Need::SelfOrAdmin {
        user: owner,
        what: "Managing another user's tokens",
    })?;
    validate::user_id(owner)?;
    Ok(owner.to_string())
}

/// VAST's default token name, made to fit the token name alphabet.
pub fn default_name(owner: &str) -> String {
    const SUFFIX: &str = "_api_token";
    let mut name: String = owner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "user_");
    }
    name.truncate(validate::TOKEN_NAME_MAX - SUFFIX.len());
    name + SUFFIX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_vast_and_fit_the_alphabet() {
        assert_eq!(default_name("admin"), "admin_api_token");
        assert_eq!(default_name("adminjb"), "adminjb_api_token");
        assert_eq!(
            default_name("svc.mon@example.com"),
            "svc_mon_example_com_api_token"
        );
        assert_eq!(default_name("9lives"), "user_9lives_api_token");
        let long = default_name(&"a".repeat(128));
        assert_eq!(long.len(), validate::TOKEN_NAME_MAX);
        for owner in ["admin", "a.b", "1x", &"z".repeat(128), "x+y@z"] {
            validate::token_name(&default_name(owner)).unwrap();
        }
    }
}
