//! Users and the roles they hold.

use rusqlite::OptionalExtension;

use super::Tx;
use super::tx::{RoleGrant, UserRow};
use crate::error::Result;
use crate::time::Timestamp;

impl Tx<'_> {
    pub fn user_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn find_user(&self, id: &str) -> Result<Option<UserRow>> {
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
    pub fn insert_user(&self, id: &str, created_at: i64, created_by: &str) -> Result<bool> {
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
    pub fn delete_user(&self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM users WHERE id = ?1")?
            .execute([id])?
            == 1)
    }

    /// The names of the roles `user` holds, sorted.
    pub fn user_roles(&self, user: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role")?;
        let names = stmt.query_map([user], |row| row.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// The roles `user` holds, with who gave them when, sorted.
    pub fn user_grants(&self, user: &str) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM user_roles WHERE user_id = ?1 ORDER BY role",
            [user],
        )
    }

    /// Gives `user` a role; false when it held it already.
    pub fn grant_role(&self, user: &str, role: &str, by: &str, at: i64) -> Result<bool> {
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
    pub fn revoke_role(&self, user: &str, role: &str) -> Result<bool> {
        let deleted = self
            .tx
            .prepare_cached("DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2")?
            .execute((user, role))?;
        Ok(deleted == 1)
    }

    /// How many users hold `role`.
    pub fn count_role_holders(&self, role: &str) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM user_roles WHERE role = ?1")?
            .query_row([role], |row| row.get(0))?)
    }

    /// Users whose id starts with `prefix` and who hold any of `roles` (all users when
    /// `roles` is empty): how many there are, and the first `limit` of them by id.
    pub fn find_users(
        &self,
        prefix: &str,
        roles: &[String],
        limit: u32,
    ) -> Result<(i64, Vec<UserRow>)> {
        let role_filter = (!roles.is_empty()).then(|| serde_json::json!(roles).to_string());
        // `id >= prefix` lets the primary key index find the first match.
        const MATCHES: &str = "FROM users u
            WHERE u.id >= ?1 AND substr(u.id, 1, length(?1)) = ?1
              AND (?2 IS NULL OR EXISTS (
                    SELECT 1 FROM user_roles ur
                    WHERE ur.user_id = u.id AND ur.role IN (SELECT value FROM json_each(?2))))";
        let total: i64 = self
            .tx
            .prepare_cached(&format!("SELECT count(*) {MATCHES}"))?
            .query_row((prefix, &role_filter), |row| row.get(0))?;
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT u.id, u.created_at, u.created_by {MATCHES} ORDER BY u.id LIMIT ?3"
        ))?;
        let rows = stmt.query_map((prefix, &role_filter, limit), |row| {
            Ok(UserRow {
                id: row.get(0)?,
                created_at: Timestamp(row.get(1)?),
                created_by: row.get(2)?,
            })
        })?;
        Ok((total, rows.collect::<rusqlite::Result<_>>()?))
    }
}
