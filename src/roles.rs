//! The role catalogue: built-in and custom roles, and "did you mean" for typos.

use serde::Serialize;

use crate::access::{Caller, Need};
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::store::{Store, Tx};
use crate::validate;

pub use crate::store::Role;

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
pub fn require_exist(tx: &Tx<'_>, names: &[String]) -> Result<()> {
    for name in names {
        if !tx.role_exists(name)? {
            return Err(unknown(tx, name));
        }
    }
    Ok(())
}

fn unknown(tx: &Tx<'_>, name: &str) -> Error {
    let mut msg = format!("Role {name} does not exist.");
    let all: Vec<String> = tx
        .roles()
        .map(|roles| roles.into_iter().map(|r| r.name).collect())
        .unwrap_or_default();
    let close = suggestions(name, &all);
    if !close.is_empty() {
        msg.push_str(&format!(" Did you mean {}?", close.join(" or ")));
    }
    msg.push_str(" See `osmo role list`.");
    Error::not_found(msg)
}

/// Names within a small edit distance of `name`, closest first (at most three).
fn suggestions(name: &str, known: &[String]) -> Vec<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .collect();
    close.sort();
    close.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

pub fn list(store: &mut Store, caller: &Caller) -> Result<RoleList> {
    caller.authorize(Need::Anyone)?;
    store.read(|tx| tx.roles()).map(RoleList)
}

pub fn create(
    store: &mut Store,
    caller: &Caller,
    name: &str,
    description: &str,
    now: i64,
) -> Result<RoleCreated> {
    caller.authorize(Need::Admin("Creating roles"))?;
    validate::role_name(name)?;
    validate::description(description)?;
    store.write(|tx| {
        if !tx.insert_role(name, description)? {
            return Err(Error::conflict(format!("Role {name} already exists.")));
        }
        audit::record_ok(tx, now, &caller.user, Action::RoleCreate, name, None)?;
        Ok(RoleCreated(Role {
            name: name.to_string(),
            description: description.to_string(),
            built_in: false,
        }))
    })
}

/// How many users and tokens hold `name`, to say what a delete would touch.
fn usage(tx: &Tx<'_>, name: &str) -> Result<(i64, i64)> {
    Ok((
        tx.count_role_holders(name)?,
        tx.count_tokens_with_role(name)?,
    ))
}

/// Checks that `name` may be deleted by `caller`, before any confirmation is asked;
/// returns how many users and tokens hold it.
pub fn check_delete(store: &mut Store, caller: &Caller, name: &str) -> Result<(i64, i64)> {
    caller.authorize(Need::Admin("Deleting roles"))?;
    validate::role_name(name)?;
    store.read(|tx| match tx.role_built_in(name)? {
        None => Err(unknown(tx, name)),
        Some(true) => Err(Error::conflict(format!(
            "Role {name} is built in and cannot be deleted."
        ))),
        Some(false) => usage(tx, name),
    })
}

/// Deletes a custom role; the schema removes it from every user and token.
pub fn delete(store: &mut Store, caller: &Caller, name: &str, now: i64) -> Result<RoleDeleted> {
    check_delete(store, caller, name)?;
    store.write(|tx| {
        let (users_affected, tokens_affected) = usage(tx, name)?;
        if !tx.delete_custom_role(name)? {
            return Err(Error::not_found(format!("Role {name} does not exist.")));
        }
        audit::record_ok(tx, now, &caller.user, Action::RoleDelete, name, None)?;
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
}
