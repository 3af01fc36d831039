//! The role catalogue: built-in and custom roles, and "did you mean" for typos.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::audit;
use crate::error::{Error, Result};
use crate::identity::{Caller, Need};
use crate::store::Store;
use crate::validate;

pub const ADMIN: &str = "osmo-admin";
pub const USER: &str = "osmo-user";

#[derive(Debug, Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub built_in: bool,
}

#[derive(Debug, Serialize)]
pub struct RoleList(pub Vec<Role>);

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct RoleCreated(pub Role);

#[derive(Debug, Serialize)]
pub struct RoleDeleted {
    pub name: String,
    pub deleted: bool,
    /// Users that held the role.
    pub users_affected: i64,
    /// Tokens that carried the role.
    pub tokens_affected: i64,
}

/// Names each role once, in the order first given, after checking its shape.
pub fn dedup(names: &[String]) -> Result<Vec<String>> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    let mut out: Vec<String> = Vec::new();
    for name in names {
        validate::role_name(name)?;
        if seen.insert(name.as_str()) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// Fails with exit 4 on the first role that does not exist, suggesting close names.
pub fn require_exist(conn: &Connection, names: &[String]) -> Result<()> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM roles WHERE name = ?1")?;
    for name in names {
        if stmt.query_row([name], |_| Ok(())).optional()?.is_none() {
            return Err(unknown(conn, name));
        }
    }
    Ok(())
}

fn unknown(conn: &Connection, name: &str) -> Error {
    let mut msg = format!("Role {name} does not exist.");
    let all = all_names(conn).unwrap_or_default();
    let close = suggestions(name, &all);
    if !close.is_empty() {
        msg.push_str(&format!(" Did you mean {}?", close.join(" or ")));
    }
    msg.push_str(" See `osmo role list`.");
    Error::not_found(msg)
}

fn all_names(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM roles ORDER BY name")?;
    let names = stmt.query_map([], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// Names within a small edit distance of `name`, closest first (at most three).
fn suggestions(name: &str, known: &[String]) -> Vec<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .collect();
    close.sort();
    close.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

pub fn list(store: &Store, caller: &Caller) -> Result<RoleList> {
    caller.authorize(Need::Anyone)?;
    let mut stmt = store
        .conn()
        .prepare_cached("SELECT name, description, built_in FROM roles ORDER BY name")?;
    let roles = stmt.query_map([], |row| {
        Ok(Role {
            name: row.get(0)?,
            description: row.get(1)?,
            built_in: row.get(2)?,
        })
    })?;
    Ok(RoleList(roles.collect::<rusqlite::Result<_>>()?))
}

pub fn create(
    store: &mut Store,
    caller: &Caller,
    name: &str,
    description: &str,
) -> Result<RoleCreated> {
    caller.authorize(Need::Admin("Creating roles"))?;
    validate::role_name(name)?;
    validate::description(description)?;
    store.write(|tx| {
        let inserted = tx
            .prepare_cached(
                "INSERT INTO roles (name, description, built_in) VALUES (?1, ?2, 0)
                 ON CONFLICT (name) DO NOTHING",
            )?
            .execute((name, description))?;
        if inserted == 0 {
            return Err(Error::conflict(format!("Role {name} already exists.")));
        }
        audit::record(tx, &caller.user, "role.create", name, None, "ok")?;
        Ok(RoleCreated(Role {
            name: name.to_string(),
            description: description.to_string(),
            built_in: false,
        }))
    })
}

/// How many users and tokens hold `name`, to say what a delete would touch.
pub fn usage(conn: &Connection, name: &str) -> Result<(i64, i64)> {
    let users = conn
        .prepare_cached("SELECT count(*) FROM user_roles WHERE role = ?1")?
        .query_row([name], |row| row.get(0))?;
    let tokens = conn
        .prepare_cached("SELECT count(*) FROM token_roles WHERE role = ?1")?
        .query_row([name], |row| row.get(0))?;
    Ok((users, tokens))
}

/// Checks that `name` may be deleted by `caller`, before any confirmation is asked.
pub fn check_delete(store: &Store, caller: &Caller, name: &str) -> Result<()> {
    caller.authorize(Need::Admin("Deleting roles"))?;
    validate::role_name(name)?;
    let built_in: Option<bool> = store
        .conn()
        .prepare_cached("SELECT built_in FROM roles WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?;
    match built_in {
        None => Err(unknown(store.conn(), name)),
        Some(true) => Err(Error::conflict(format!(
            "Role {name} is built in and cannot be deleted."
        ))),
        Some(false) => Ok(()),
    }
}

/// Deletes a custom role; the schema removes it from every user and token.
pub fn delete(store: &mut Store, caller: &Caller, name: &str) -> Result<RoleDeleted> {
    check_delete(store, caller, name)?;
    store.write(|tx| {
        let (users_affected, tokens_affected) = usage(tx, name)?;
        let deleted = tx
            .prepare_cached("DELETE FROM roles WHERE name = ?1 AND built_in = 0")?
            .execute([name])?;
        if deleted == 0 {
            return Err(Error::not_found(format!("Role {name} does not exist.")));
        }
        audit::record(tx, &caller.user, "role.delete", name, None, "ok")?;
        Ok(RoleDeleted {
            name: name.to_string(),
            deleted: true,
            users_affected,
            tokens_affected,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let known: Vec<String> = ["osmo-admin", "osmo-backend", "osmo-user", "osmo-ml-team"]
            .map(String::from)
            .to_vec();
        assert_eq!(suggestions("osmo-bakend", &known), vec!["osmo-backend"]);
        assert_eq!(suggestions("osmo-usr", &known), vec!["osmo-user"]);
        assert!(suggestions("zzz", &known).is_empty());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
