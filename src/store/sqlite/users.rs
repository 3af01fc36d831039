//! Users and the roles they hold.

use rusqlite::OptionalExtension;

use super::{LiteTx, role_list};
use crate::error::Result;
use crate::store::rows::{Flow, UserRows, id_range};
use crate::store::rows::{RoleGrant, UserRow};
use crate::time::Timestamp;

impl UserRows for LiteTx<'_> {
    fn user_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn find_user(&self, id: &str) -> Result<Option<UserRow>> {
        Ok(self
            .tx
            .prepare_cached("SELECT created_at, created_by FROM users WHERE id = ?1")?
            .query_row([id], |row| {
                Ok(UserRow {
                    id: id.to_string(),
                    created_at: Timestamp(row.get(0)?),
                    created_by: row.get(1)?,
                })
            })
            .optional()?)
    }

    /// Inserts a user; false when the id is taken.
    fn insert_user(&self, id: &str, created_at: i64, created_by: &str) -> Result<bool> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO users (id, created_at, created_by) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute((id, created_at, created_by))?;
        Ok(inserted == 1)
    }

    /// Deletes a user; the schema deletes its roles, tokens, token roles and sessions.
    fn delete_user(&self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM users WHERE id = ?1")?
            .execute([id])?
            == 1)
    }

    /// The names of the roles `user` holds, sorted.
    fn user_roles(&self, user: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role")?;
        let names = stmt.query_map([user], |row| row.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// The roles `user` holds, with who gave them when, sorted.
    fn user_grants(&self, user: &str) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM user_roles WHERE user_id = ?1 ORDER BY role",
            [user],
        )
    }

    /// Gives `user` a role; false when it held it already.
    fn grant_role(&self, user: &str, role: &str, by: &str, at: i64) -> Result<bool> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, role) DO NOTHING",
            )?
            .execute((user, role, by, at))?;
        Ok(inserted == 1)
    }

    /// Takes a role from `user` (and, by the schema, from the user's tokens); false when
    /// the user did not hold it. Removing the last `osmo-admin` is a conflict.
    fn revoke_role(&self, user: &str, role: &str) -> Result<bool> {
        let deleted = self
            .tx
            .prepare_cached("DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2")?
            .execute((user, role))?;
        Ok(deleted == 1)
    }

    /// How many users hold `role`.
    fn count_role_holders(&self, role: &str) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM user_roles WHERE role = ?1")?
            .query_row([role], |row| row.get(0))?)
    }

    /// How many users have an id starting with `prefix` and hold any of `roles` (or any
    /// role at all when `roles` is empty: every user). Read from the id range of the
    /// users' key, or of the roles' `(role, user_id)` index for each role.
    fn count_users(&self, prefix: &str, roles: &[String]) -> Result<i64> {
        let (low, high) = id_range(prefix);
        Ok(if roles.is_empty() {
            self.tx
                .prepare_cached(COUNT_IN_RANGE)?
                .query_row((&low, &high), |row| row.get(0))?
        } else {
            self.tx
                .prepare_cached(COUNT_WITH_ROLES)?
                .query_row((&low, &high, json(roles)), |row| row.get(0))?
        })
    }

    /// The first `limit` of those users by id, each with its roles, one at a time: the
    /// users' key (or, for roles, the roles' index) gives the order, so nothing is sorted,
    /// and each user's roles come from their key, aggregated in order.
    fn each_user(
        &self,
        prefix: &str,
        roles: &[String],
        limit: u32,
        each: &mut dyn FnMut(UserRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()> {
        let (low, high) = id_range(prefix);
        let filter = (!roles.is_empty()).then(|| json(roles));
        let mut stmt = self.tx.prepare_cached(if roles.is_empty() {
            USERS_IN_RANGE
        } else {
            USERS_WITH_ROLES
        })?;
        let mut rows = stmt.query((&low, &high, limit, &filter))?;
        while let Some(row) = rows.next()? {
            let user = UserRow {
                id: row.get(0)?,
                created_at: Timestamp(row.get(1)?),
                created_by: row.get(2)?,
            };
            if each(user, role_list(row.get(3)?))?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The first `limit` user ids starting with `prefix`, in order, from the users' key.
    fn user_ids(&self, prefix: &str, limit: u32) -> Result<Vec<String>> {
        let (low, high) = id_range(prefix);
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM users WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
        )?;
        let ids = stmt.query_map((&low, &high, limit), |row| row.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }
}

fn json(roles: &[String]) -> String {
    serde_json::json!(roles).to_string()
}

/// The listing of users with their roles, in an id range or holding any of some roles.
macro_rules! users_where {
    ($filter:literal) => {
        concat!(
            "SELECT id, created_at, created_by,
                    (SELECT group_concat(role, ',') FROM user_roles WHERE user_id = users.id)
             FROM users WHERE ",
            $filter,
            " ORDER BY id LIMIT ?3"
        )
    };
}

pub(super) const USERS_IN_RANGE: &str = users_where!("id >= ?1 AND id < ?2 AND ?4 IS NULL");
pub(super) const USERS_WITH_ROLES: &str = users_where!(
    "id IN (SELECT user_id FROM user_roles INDEXED BY user_roles_by_role
            WHERE role IN (SELECT value FROM json_each(?4))
              AND user_id >= ?1 AND user_id < ?2)"
);

pub(super) const COUNT_IN_RANGE: &str = "SELECT count(*) FROM users WHERE id >= ?1 AND id < ?2";
pub(super) const COUNT_WITH_ROLES: &str =
    "SELECT count(DISTINCT user_id) FROM user_roles INDEXED BY user_roles_by_role
     WHERE role IN (SELECT value FROM json_each(?3)) AND user_id >= ?1 AND user_id < ?2";
