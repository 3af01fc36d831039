//! Users and their roles: create, list, get, update, delete (DESIGN §3, §5 user).

use serde::Serialize;

use crate::access::{ADMIN, Caller, Need, USER};
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::roles;
use crate::settings::OPERATOR_USER;
use crate::store::{Flow, Store, Tx};
use crate::time::Timestamp;
use crate::validate;

pub use crate::store::RoleGrant;

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

/// Fails with `User ID not found` (exit 4) unless `id` exists.
pub fn require(tx: &Tx<'_>, id: &str) -> Result<()> {
    if tx.user_exists(id)? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

fn not_found(id: &str) -> Error {
    Error::not_found(format!("User {id} not found"))
}

fn detail(tx: &Tx<'_>, id: &str) -> Result<UserDetail> {
    let user = tx.find_user(id)?.ok_or_else(|| not_found(id))?;
    Ok(UserDetail {
        id: user.id,
        created_at: user.created_at,
        created_by: user.created_by,
        roles: tx.user_grants(id)?,
    })
}

/// Gives a new database its first admin (`admin`, holding osmo-admin and osmo-user, made
/// by `system`) and names it the operator-user. Runs inside the store's first migration;
/// false when the database has one already.
pub fn bootstrap(tx: &Tx<'_>, admin: &str, now: i64) -> Result<bool> {
    if tx.setting(OPERATOR_USER)?.is_some() {
        return Ok(false);
    }
    tx.insert_user(admin, now, "system")?;
    for role in [ADMIN, USER] {
        tx.grant_role(admin, role, "system", now)?;
    }
    tx.put_setting(OPERATOR_USER, admin)?;
    audit::record_ok(tx, now, "system", Action::Init, admin, Some(admin))?;
    Ok(true)
}

pub fn create(
    store: &mut Store,
    caller: &Caller,
    id: &str,
    roles: &[String],
    now: i64,
) -> Result<UserCreated> {
    caller.authorize(Need::Admin("Creating users"))?;
    validate::user_id(id)?;
    let roles = roles::dedup(roles)?;
    store.write(|tx| {
        roles::require_exist(tx, &roles)?;
        if !tx.insert_user(id, now, &caller.user)? {
            return Err(Error::conflict(format!("User {id} already exists")));
        }
        for role in &roles {
            tx.grant_role(id, role, &caller.user, now)?;
        }
        audit::record_ok(tx, now, &caller.user, Action::UserCreate, id, Some(id))?;
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

/// What `user list` hands over, in order: the number of users that match, then the
/// first `count` of them, one at a time.
pub enum Listed {
    Total(i64),
    User(UserSummary),
}

/// `user list`: hands `each` the total, then each listed user as it is read.
pub fn list(
    store: &mut Store,
    caller: &Caller,
    query: &ListQuery<'_>,
    each: &mut dyn FnMut(Listed) -> Result<Flow>,
) -> Result<()> {
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
    store.read(|tx| {
        roles::require_exist(tx, &roles)?;
        if each(Listed::Total(tx.count_users(prefix, &roles)?))?.is_break() {
            return Ok(());
        }
        tx.each_user(prefix, &roles, query.count, &mut |user, roles| {
            each(Listed::User(UserSummary {
                id: user.id,
                created_at: user.created_at,
                created_by: user.created_by,
                roles,
            }))
        })
    })
}

pub fn get(store: &mut Store, caller: &Caller, id: &str) -> Result<UserDetail> {
    caller.authorize(Need::SelfOrAdmin {
        user: id,
        what: "Viewing another user",
    })?;
    validate::user_id(id)?;
    store.read(|tx| detail(tx, id))
}

pub fn update(
    store: &mut Store,
    caller: &Caller,
    id: &str,
    add: &[String],
    remove: &[String],
    now: i64,
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
        let mut changes = Vec::new();
        for role in add {
            if tx.grant_role(id, &role, &caller.user, now)? {
                let target = format!("{id}:{role}");
                audit::record_ok(
                    tx,
                    now,
                    &caller.user,
                    Action::UserRoleAdd,
                    &target,
                    Some(id),
                )?;
                changes.push(RoleChange::Added(role));
            } else {
                changes.push(RoleChange::AlreadyAssigned(role));
            }
        }
        for role in remove {
            // The schema also removes the role from the user's tokens, and refuses to
            // remove the last osmo-admin.
            if tx.revoke_role(id, &role)? {
                let target = format!("{id}:{role}");
                audit::record_ok(
                    tx,
                    now,
                    &caller.user,
                    Action::UserRoleRemove,
                    &target,
                    Some(id),
                )?;
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
fn check_delete_raw(tx: &Tx<'_>, caller: &Caller, id: &str) -> Result<i64> {
    caller.authorize(Need::Admin("Deleting users"))?;
    validate::user_id(id)?;
    require(tx, id)?;
    if tx.setting(OPERATOR_USER)?.as_deref() == Some(id) {
        return Err(Error::conflict(format!(
            "User {id} is the operator-user (the local operator acts as it) and cannot be deleted."
        )));
    }
    if tx.count_role_holders(ADMIN)? <= 1 && tx.user_roles(id)?.iter().any(|r| r == ADMIN) {
        return Err(Error::conflict(format!(
            "User {id} is the last user with the {ADMIN} role and cannot be deleted."
        )));
    }
    tx.count_user_tokens(id)
}

/// Checks that `id` may be deleted by `caller`, before any confirmation is asked.
pub fn check_delete(store: &mut Store, caller: &Caller, id: &str) -> Result<i64> {
    store.read(|tx| check_delete_raw(tx, caller, id))
}

/// Deletes a user; the schema deletes its roles, tokens, token roles and sessions.
pub fn delete(store: &mut Store, caller: &Caller, id: &str, now: i64) -> Result<UserDeleted> {
    store.write(|tx| {
        let tokens_deleted = check_delete_raw(tx, caller, id)?;
        tx.delete_user(id)?;
        audit::record_ok(tx, now, &caller.user, Action::UserDelete, id, Some(id))?;
        Ok(UserDeleted {
            id: id.to_string(),
            deleted: true,
            tokens_deleted,
        })
    })
}
