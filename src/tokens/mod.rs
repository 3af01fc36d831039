//! Personal access tokens: issue, list, show roles, rotate, delete (DESIGN §3–§5); checking
//! a presented token lives in `verify`.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::{Serialize, Serializer};

use crate::audit;
use crate::error::{Error, Result};
use crate::identity::{Caller, Need};
use crate::roles;
use crate::settings::Settings;
use crate::store::Store;
use crate::time::{self, Expiry, Timestamp};
use crate::token::Token;
use crate::users::{self, RoleGrant};
use crate::validate;

mod verify;

pub use verify::{
    Invalid, Rejection, USE_GRANULARITY, Valid, Verified, authenticate, check, expires_soon,
    record_use, use_is_news, verify,
};
pub(crate) use verify::{record_failure, record_use_raw};

/// How a new token is announced: OSMO's three lines or VAST's one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// `token set` / `token rotate`; the flags say which optional lines to add.
    Osmo { for_user: bool, roles_given: bool },
    /// `apitoken create`.
    Vast,
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

/// `token list`: JSON is the bare array.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
    /// The `--user` given, for the text heading.
    #[serde(skip)]
    pub user: Option<String>,
    /// `--all`: the text table gains a User column.
    #[serde(skip)]
    pub all: bool,
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
fn owner_of(caller: &Caller, user: Option<&str>) -> Result<String> {
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

pub fn issue(
    store: &mut Store,
    caller: &Caller,
    settings: &Settings,
    req: &NewToken<'_>,
    announce: Announce,
) -> Result<TokenIssued> {
    let owner = owner_of(caller, req.owner)?;
    let name = req
        .name
        .map_or_else(|| default_name(&owner), str::to_string);
    validate::token_name(&name)?;
    validate::description(req.description)?;
    let requested = roles::dedup(req.roles)?;
    let fresh = Fresh::new(settings, &req.expiry)?;
    let now = fresh.now;
    store.write_durable(|tx| {
        users::require(tx, &owner)?;
        let roles = token_roles(tx, caller, &owner, requested)?;
        if exists(tx, &owner, &name)? {
            return Err(Error::conflict(format!(
                "Token name {name} already exists."
            )));
        }
        check_limit(tx, &owner, settings.max_tokens_per_user, now, None)?;
        let grants: Vec<RoleGrant> = roles
            .iter()
            .map(|role| RoleGrant {
                role_name: role.clone(),
                assigned_by: caller.user.clone(),
                assigned_at: Timestamp(now),
            })
            .collect();
        insert(
            tx,
            &fresh,
            &owner,
            &name,
            req.description,
            &caller.user,
            &grants,
        )?;
        audit::record(
            tx,
            &caller.user,
            "token.create",
            &format!("{owner}/{name}"),
            Some(&owner),
            "ok",
        )?;
        Ok(fresh.issued(&name, &owner, req.description, roles, announce))
    })
}

/// The roles a new token gets: those asked for, or the owner's; never beyond the owner's
/// roles, nor beyond the caller token's roles when the caller is a token.
fn token_roles(
    tx: &Transaction<'_>,
    caller: &Caller,
    owner: &str,
    requested: Vec<String>,
) -> Result<Vec<String>> {
    let held = users::role_names(tx, owner)?;
    let bound = caller.token.as_ref().map(|t| &t.roles);
    let mut roles = if requested.is_empty() {
        held.into_iter()
            .filter(|r| bound.is_none_or(|b| b.contains(r)))
            .collect()
    } else {
        roles::require_exist(tx, &requested)?;
        for role in &requested {
            if !held.contains(role) {
                return Err(Error::invalid(format!(
                    "User {owner} does not have role {role}"
                )));
            }
            if bound.is_some_and(|b| !b.contains(role)) {
                return Err(Error::forbidden(format!(
                    "the token you are using does not carry role {role}, so it cannot give it to a new token."
                )));
            }
        }
        requested
    };
    if roles.is_empty() {
        return Err(Error::invalid(
            "At least one role must be specified for the access token.",
        ));
    }
    roles.sort();
    Ok(roles)
}

fn exists(conn: &Connection, owner: &str, name: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM tokens WHERE user_id = ?1 AND name = ?2")?
        .query_row((owner, name), |_| Ok(()))
        .optional()?
        .is_some())
}

/// Refuses a new unexpired token past `max-tokens-per-user` (0 = no limit). Runs inside
/// the `BEGIN IMMEDIATE` transaction that inserts, so parallel callers cannot overshoot.
fn check_limit(
    conn: &Connection,
    owner: &str,
    limit: u32,
    now: i64,
    replacing: Option<i64>,
) -> Result<()> {
    if limit == 0 {
        return Ok(());
    }
    let live: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM tokens WHERE user_id = ?1 AND expires_at > ?2 AND id IS NOT ?3",
        )?
        .query_row((owner, now, replacing), |row| row.get(0))?;
    if live >= i64::from(limit) {
        return Err(Error::conflict(format!(
            "User {owner} already has {live} unexpired tokens, the limit set by max-tokens-per-user ({limit}). Delete one, or raise the setting with `osmo config set max-tokens-per-user N`."
        )));
    }
    Ok(())
}

/// A new token, its hash and its expiry, made before the write lock is taken so that
/// parallel callers wait less.
struct Fresh {
    now: i64,
    expires_at: i64,
    token: Token,
    hash: String,
}

impl Fresh {
    fn new(settings: &Settings, expiry: &Expiry<'_>) -> Result<Fresh> {
        let now = time::now();
        let expires_at = expiry.resolve(
            now,
            &settings.default_token_lifetime,
            &settings.max_token_lifetime,
        )?;
        let token = Token::generate()?;
        let hash = token.hash()?;
        Ok(Fresh {
            now,
            expires_at,
            token,
            hash,
        })
    }

    /// The result shown once the token is committed.
    fn issued(
        &self,
        name: &str,
        owner: &str,
        description: &str,
        roles: Vec<String>,
        announce: Announce,
    ) -> TokenIssued {
        TokenIssued {
            id: self.token.public_id().to_string(),
            token: self.token.clone(),
            token_name: name.to_string(),
            user_name: owner.to_string(),
            description: description.to_string(),
            roles,
            created_at: Timestamp(self.now),
            expires_at: Timestamp(self.expires_at),
            announce,
        }
    }
}

/// Inserts a token row and its role grants.
fn insert(
    tx: &Transaction<'_>,
    fresh: &Fresh,
    owner: &str,
    name: &str,
    description: &str,
    created_by: &str,
    grants: &[RoleGrant],
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO tokens (public_id, user_id, name, description, secret_hash, created_at, created_by, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute((
        fresh.token.public_id(),
        owner,
        name,
        description,
        &fresh.hash,
        fresh.now,
        created_by,
        fresh.expires_at,
    ))?;
    let row_id = tx.last_insert_rowid();
    let mut grant = tx.prepare_cached(
        "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for g in grants {
        grant.execute((row_id, owner, &g.role_name, &g.assigned_by, g.assigned_at.0))?;
    }
    Ok(())
}

/// A stored token, as the commands that name one find it.
struct Row {
    id: i64,
    public_id: String,
    description: String,
}

/// Finds `owner`'s token `name`: the user must exist, then the token.
fn find(conn: &Connection, owner: &str, name: &str) -> Result<Row> {
    users::require(conn, owner)?;
    conn.prepare_cached(
        "SELECT id, public_id, description FROM tokens WHERE user_id = ?1 AND name = ?2",
    )?
    .query_row((owner, name), |row| {
        Ok(Row {
            id: row.get(0)?,
            public_id: row.get(1)?,
            description: row.get(2)?,
        })
    })
    .optional()?
    .ok_or_else(|| Error::not_found(format!("Access token {name} does not exist.")))
}

/// Every token's roles, sorted, for one owner's tokens (read from the owner's index
/// entries in one pass) or for all tokens.
fn roles_by_token(conn: &Connection, owner: Option<&str>) -> Result<HashMap<i64, Vec<String>>> {
    let mut stmt = match owner {
        Some(_) => conn.prepare_cached(
            "SELECT token_id, role FROM token_roles WHERE user_id = ?1 ORDER BY token_id, role",
        )?,
        None => conn.prepare_cached(
            "SELECT token_id, role FROM token_roles WHERE ?1 IS NULL ORDER BY token_id, role",
        )?,
    };
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    let mut rows = stmt.query([owner])?;
    while let Some(row) = rows.next()? {
        roles.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    Ok(roles)
}

/// A token's grants, sorted by role.
fn grants(conn: &Connection, token_id: i64) -> Result<Vec<RoleGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, assigned_by, assigned_at FROM token_roles WHERE token_id = ?1 ORDER BY role",
    )?;
    let grants = stmt.query_map([token_id], |row| {
        Ok(RoleGrant {
            role_name: row.get(0)?,
            assigned_by: row.get(1)?,
            assigned_at: Timestamp(row.get(2)?),
        })
    })?;
    Ok(grants.collect::<rusqlite::Result<_>>()?)
}

/// A token's role names, sorted.
pub(crate) fn role_names(conn: &Connection, token_id: i64) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT role FROM token_roles WHERE token_id = ?1 ORDER BY role")?;
    let names = stmt.query_map([token_id], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

pub fn delete(
    store: &mut Store,
    caller: &Caller,
    name: &str,
    user: Option<&str>,
) -> Result<TokenDeleted> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    store.write(|tx| {
        let row = find(tx, &owner, name)?;
        tx.prepare_cached("DELETE FROM tokens WHERE id = ?1")?
            .execute([row.id])?;
        audit::record(
            tx,
            &caller.user,
            "token.delete",
            &format!("{owner}/{name}"),
            Some(&owner),
            "ok",
        )?;
        Ok(TokenDeleted {
            id: row.public_id,
            token_name: name.to_string(),
            user_name: owner,
            deleted: true,
            for_user: user.is_some(),
        })
    })
}

pub fn list(store: &Store, caller: &Caller, user: Option<&str>, all: bool) -> Result<TokenList> {
    let conn = store.conn();
    let owner = if all {
        caller.authorize(Need::Admin("Listing every user's tokens"))?;
        None
    } else {
        let owner = owner_of(caller, user)?;
        users::require(conn, &owner)?;
        Some(owner)
    };
    let now = time::now();
    // Two statements, not `?1 IS NULL OR user_id = ?1`, which would hide the
    // (user_id, name) index from the planner and scan every token.
    const COLUMNS: &str = "SELECT id, public_id, name, user_id, description, created_at, expires_at, last_used_at FROM tokens";
    let mut stmt = match &owner {
        Some(_) => conn.prepare_cached(&format!("{COLUMNS} WHERE user_id = ?1 ORDER BY name"))?,
        None => conn.prepare_cached(&format!(
            "{COLUMNS} WHERE ?1 IS NULL ORDER BY user_id, name"
        ))?,
    };
    let rows = stmt.query_map([&owner], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            TokenInfo {
                id: row.get(1)?,
                token_name: row.get(2)?,
                user_name: row.get(3)?,
                description: row.get(4)?,
                status: "active",
                active: true,
                roles: Vec::new(),
                created_at: Timestamp(row.get(5)?),
                expires_at: Timestamp(row.get(6)?),
                last_used_at: row.get::<_, Option<i64>>(7)?.map(Timestamp),
            },
        ))
    })?;
    let mut roles = roles_by_token(conn, owner.as_deref())?;
    let mut tokens = Vec::new();
    for row in rows {
        let (row_id, mut info) = row?;
        info.roles = roles.remove(&row_id).unwrap_or_default();
        if info.expires_at.0 <= now {
            (info.status, info.active) = ("expired", false);
        }
        tokens.push(info);
    }
    Ok(TokenList {
        tokens,
        user: user.filter(|_| !all).map(str::to_string),
        all,
    })
}

pub fn roles(store: &Store, caller: &Caller, name: &str, user: Option<&str>) -> Result<TokenRoles> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    let conn = store.conn();
    let row = find(conn, &owner, name)?;
    Ok(TokenRoles {
        user_name: owner,
        token_name: name.to_string(),
        roles: grants(conn, row.id)?,
    })
}

/// A new secret and public id for the same name, description and roles, in one
/// transaction: the old token (and every session it opened) stops working at once.
pub fn rotate(
    store: &mut Store,
    caller: &Caller,
    settings: &Settings,
    name: &str,
    user: Option<&str>,
    expiry: Expiry<'_>,
) -> Result<TokenIssued> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    let fresh = Fresh::new(settings, &expiry)?;
    store.write_durable(|tx| {
        let old = find(tx, &owner, name)?;
        check_limit(
            tx,
            &owner,
            settings.max_tokens_per_user,
            fresh.now,
            Some(old.id),
        )?;
        // The new row keeps the old grants; deleting the old row ends its sessions.
        let grants = grants(tx, old.id)?;
        // Rotation hands out a secret, so it may not escalate either: a token caller
        // can only rotate tokens whose roles its own token carries, expired ones too.
        let bound = caller.token.as_ref().map(|t| &t.roles);
        if let Some(g) = grants
            .iter()
            .find(|g| bound.is_some_and(|b| !b.contains(&g.role_name)))
        {
            return Err(Error::forbidden(format!(
                "the token you are using does not carry role {}, so it cannot rotate token {name}, which does.",
                g.role_name
            )));
        }
        tx.prepare_cached("DELETE FROM tokens WHERE id = ?1")?
            .execute([old.id])?;
        insert(
            tx,
            &fresh,
            &owner,
            name,
            &old.description,
            &caller.user,
            &grants,
        )?;
        audit::record(
            tx,
            &caller.user,
            "token.rotate",
            &format!("{owner}/{name}"),
            Some(&owner),
            "ok",
        )?;
        let roles = grants.into_iter().map(|g| g.role_name).collect();
        let announce = Announce::Osmo {
            for_user: user.is_some(),
            roles_given: false,
        };
        Ok(fresh.issued(name, &owner, &old.description, roles, announce))
    })
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
