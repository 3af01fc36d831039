//! The role catalogue.

use rusqlite::OptionalExtension;

use super::LiteTx;
use crate::error::Result;
use crate::store::rows::Role;
use crate::store::rows::RoleRows;

impl RoleRows for LiteTx<'_> {
    fn role_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM roles WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Whether `name` is built in; `None` when there is no such role.
    fn role_built_in(&self, name: &str) -> Result<Option<bool>> {
        Ok(self
            .tx
            .prepare_cached("SELECT built_in FROM roles WHERE name = ?1")?
            .query_row([name], |row| row.get(0))
            .optional()?)
    }

    /// Every role, by name.
    fn roles(&self) -> Result<Vec<Role>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT name, description, built_in FROM roles ORDER BY name")?;
        let roles = stmt.query_map([], |row| {
            Ok(Role {
                name: row.get(0)?,
                description: row.get(1)?,
                built_in: row.get(2)?,
            })
        })?;
        Ok(roles.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds a custom role; false when the name is taken.
    fn insert_role(&self, name: &str, description: &str) -> Result<bool> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO roles (name, description, built_in) VALUES (?1, ?2, 0)
                 ON CONFLICT (name) DO NOTHING",
            )?
            .execute((name, description))?;
        Ok(inserted == 1)
    }

    /// Deletes a custom role (never a built-in one); the schema takes it from every user
    /// and token. False when there was no such custom role.
    fn delete_custom_role(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM roles WHERE name = ?1 AND built_in = 0")?
            .execute([name])?
            == 1)
    }

    /// How many tokens carry `role`.
    fn count_tokens_with_role(&self, role: &str) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM token_roles WHERE role = ?1")?
            .query_row([role], |row| row.get(0))?)
    }
}
