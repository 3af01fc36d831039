//! Users and their roles: create, list, get, update, delete (DESIGN §3, §5 user).

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::audit;
use crate::error::{Error, Result};
use crate::identity::{Caller, Need};
use crate::roles;
use crate::store::Store;
use crate::time::{self, Timestamp};
use crate::validate;

/// One role held by a user or a token, and who gave it when.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role_name: String,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
}

/// A user with the details of each role: `user get`, `user create`, `user update`.
#[derive(Debug, Serialize)]
pub struct UserDetail {
    pub id: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub roles: Vec<RoleGrant>,
}

/// `user create`: JSON is the new user as `user get` shows it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct UserCreated(pub UserDetail);

/// A row of `user list`.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct UserList {
    /// Every match, even past `--count`.
    pub total_results: i64,
    pub users: Vec<UserSummary>,
}

/// What `user update` did to one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    Added(String),
    AlreadyAssigned(String),
    Removed(String),
    NotAssigned(String),
}

/// `user update`: JSON shows only the user; text lists the changes.
#[derive(Debug, Serialize)]
pub struct UserUpdated {
    #[serde(flatten)]
    pub user: UserDetail,
    #[serde(skip)]
    pub changes: Vec<RoleChange>,
}

#[derive(Debug, Serialize)]
pub struct UserDeleted {
    pub id: String,
    pub deleted: bool,
    pub tokens_deleted: i64,
}

/// The names of the roles `user` holds, sorted.
pub fn role_names(conn: &Connection, user: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role")?;
    let names = stmt.query_map([user], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

fn grants(conn: &Connection, user: &str) -> Result<Vec<RoleGrant>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, assigned_by, assigned_at FROM user_roles WHERE user_id = ?1 ORDER BY role",
    )?;
    let grants = stmt.query_map([user], |row| {
        Ok(RoleGrant {
            role_name: row.get(0)?,
            assigned_by: row.get(1)?,
            assigned_at: Timestamp(row.get(2)?),
        })
    })?;
    Ok(grants.collect::<rusqlite::Result<_>>()?)
}

/// Fails with `User ID not found` (exit 4) unless `id` exists.
pub fn require(conn: &Connection, id: &str) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?;
    found.ok_or_else(|| Error::not_found(format!("User {id} not found")))
}

fn detail(conn: &Connection, id: &str) -> Result<UserDetail> {
    let row = conn
        .prepare_cached("SELECT created_at, created_by FROM users WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (created_at, created_by) =
        row.ok_or_else(|| Error::not_found(format!("User {id} not found")))?;
    Ok(UserDetail {
        id: id.to_string(),
        created_at: Timestamp(created_at),
        created_by,
        roles: grants(conn, id)?,
    })
}

pub fn create(
    store: &mut Store,
    caller: &Caller,
    id: &str,
    roles: &[String],
) -> Result<UserCreated> {
    caller.authorize(Need::Admin("Creating users"))?;
    validate::user_id(id)?;
    let roles = roles::dedup(roles)?;
    store.write(|tx| {
        roles::require_exist(tx, &roles)?;
        let now = time::now();
        let inserted = tx
            .prepare_cached(
                "INSERT INTO users (id, created_at, created_by) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute((id, now, &caller.user))?;
        if inserted == 0 {
            return Err(Error::conflict(format!("User {id} already exists")));
        }
        let mut grant = tx.prepare_cached(
            "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for role in &roles {
            grant.execute((id, role, &caller.user, now))?;
        }
        audit::record(tx, &caller.user, "user.create", id, Some(id), "ok")?;
        detail(tx, id).map(UserCreated)
    })
}

/// Filters for `user list`.
#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    pub id_prefix: Option<&'a str>,
    /// Users holding any of these.
    pub roles: &'a [String],
    pub count: u32,
}

pub fn list(store: &Store, caller: &Caller, query: &ListQuery<'_>) -> Result<UserList> {
    caller.authorize(Need::Admin("Listing users"))?;
    let prefix = query.id_prefix.unwrap_or("");
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.@+-".contains(c))
    {
        return Err(Error::invalid(format!(
            "Invalid id prefix {}: user ids hold only letters, digits and _ . @ + -.",
            validate::quoted(prefix)
        )));
    }
    let roles = roles::dedup(query.roles)?;
    let conn = store.conn();
    roles::require_exist(conn, &roles)?;
    let role_filter = (!roles.is_empty()).then(|| serde_json::json!(roles).to_string());
    // `id >= prefix` lets the primary key index find the first match.
    const MATCHES: &str = "FROM users u
        WHERE u.id >= ?1 AND substr(u.id, 1, length(?1)) = ?1
          AND (?2 IS NULL OR EXISTS (
                SELECT 1 FROM user_roles ur
                WHERE ur.user_id = u.id AND ur.role IN (SELECT value FROM json_each(?2))))";
    let total_results: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {MATCHES}"))?
        .query_row((prefix, &role_filter), |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT u.id, u.created_at, u.created_by {MATCHES} ORDER BY u.id LIMIT ?3"
    ))?;
    let rows = stmt.query_map((prefix, &role_filter, query.count), |row| {
        Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
    })?;
    let mut users = Vec::new();
    for row in rows {
        let (id, created_at, created_by) = row?;
        users.push(UserSummary {
            roles: role_names(conn, &id)?,
            id,
            created_at: Timestamp(created_at),
            created_by,
        });
    }
    Ok(UserList {
        total_results,
        users,
    })
}

pub fn get(store: &Store, caller: &Caller, id: &str) -> Result<UserDetail> {
    caller.authorize(Need::SelfOrAdmin {
        user: id,
        what: "Viewing another user",
    })?;
    validate::user_id(id)?;
    detail(store.conn(), id)
}

pub fn update(
    store: &mut Store,
    caller: &Caller,
    id: &str,
    add: &[String],
    remove: &[String],
) -> Result<UserUpdated> {
    if add.is_empty() && remove.is_empty() {
        return Err(Error::invalid(
            "No updates specified. Use --add-roles or --remove-roles.",
        ));
    }
    caller.authorize(Need::Admin("Updating users"))?;
    validate::user_id(id)?;
    let (add, remove) = (roles::dedup(add)?, roles::dedup(remove)?);
    store.write(|tx| {
        require(tx, id)?;
        roles::require_exist(tx, &add)?;
        roles::require_exist(tx, &remove)?;
        let now = time::now();
        let mut changes = Vec::new();
        let mut grant = tx.prepare_cached(
            "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, role) DO NOTHING",
        )?;
        for role in add {
            if grant.execute((id, &role, &caller.user, now))? == 1 {
                audit::record(tx, &caller.user, "user.role.add", &format!("{id}:{role}"), Some(id), "ok")?;
                changes.push(RoleChange::Added(role));
            } else {
                changes.push(RoleChange::AlreadyAssigned(role));
            }
        }
        let mut revoke =
            tx.prepare_cached("DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2")?;
        for role in remove {
            // The schema also removes the role from the user's tokens, and refuses to
            // remove the last osmo-admin.
            if revoke.execute((id, &role))? == 1 {
                audit::record(tx, &caller.user, "user.role.remove", &format!("{id}:{role}"), Some(id), "ok")?;
                changes.push(RoleChange::Removed(role));
            } else {
                changes.push(RoleChange::NotAssigned(role));
            }
        }
        Ok(UserUpdated {
            user: detail(tx, id)?,
            changes,
        })
    })
}

/// Checks that `id` may be deleted by `caller`; returns how many tokens it owns.
pub fn check_delete(conn: &Connection, caller: &Caller, id: &str) -> Result<i64> {
    caller.authorize(Need::Admin("Deleting users"))?;
    validate::user_id(id)?;
    require(conn, id)?;
    if crate::settings::stored(conn, "operator-user")?.as_deref() == Some(id) {
        return Err(Error::conflict(format!(
            "User {id} is the operator-user (the local operator acts as it) and cannot be deleted."
        )));
    }
    let admins: i64 = conn
        .prepare_cached("SELECT count(*) FROM user_roles WHERE role = ?1")?
        .query_row([roles::ADMIN], |row| row.get(0))?;
    if admins <= 1 && role_names(conn, id)?.iter().any(|r| r == roles::ADMIN) {
        return Err(Error::conflict(format!(
            "User {id} is the last user with the {} role and cannot be deleted.",
            roles::ADMIN
        )));
    }
    Ok(conn
        .prepare_cached("SELECT count(*) FROM tokens WHERE user_id = ?1")?
        .query_row([id], |row| row.get(0))?)
}

/// Deletes a user; the schema deletes its roles, tokens, token roles and sessions.
pub fn delete(store: &mut Store, caller: &Caller, id: &str) -> Result<UserDeleted> {
    store.write(|tx| {
        let tokens_deleted = check_delete(tx, caller, id)?;
        tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
            .execute([id])?;
        audit::record(tx, &caller.user, "user.delete", id, Some(id), "ok")?;
        Ok(UserDeleted {
            id: id.to_string(),
            deleted: true,
            tokens_deleted,
        })
    })
}
