//! Tokens and the roles each carries.

use std::collections::HashMap;

use rusqlite::OptionalExtension;

use super::Tx;
use super::tx::{NewTokenRow, RoleGrant, StoredToken, TokenRef, TokenRow};
use crate::error::Result;
use crate::time::Timestamp;

impl Tx<'_> {
    /// `owner`'s token called `name`.
    pub fn find_token(&self, owner: &str, name: &str) -> Result<Option<TokenRef>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT id, public_id, description, created_at, expires_at FROM tokens
                 WHERE user_id = ?1 AND name = ?2",
            )?
            .query_row((owner, name), |row| {
                Ok(TokenRef {
                    row_id: row.get(0)?,
                    public_id: row.get(1)?,
                    description: row.get(2)?,
                    created_at: row.get(3)?,
                    expires_at: row.get(4)?,
                })
            })
            .optional()?)
    }

    /// The token a presented secret names by its public id.
    pub fn find_token_by_public_id(&self, public_id: &str) -> Result<Option<StoredToken>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT id, name, user_id, secret_hash, expires_at, last_used_at FROM tokens
                 WHERE public_id = ?1",
            )?
            .query_row([public_id], |row| {
                Ok(StoredToken {
                    row_id: row.get(0)?,
                    name: row.get(1)?,
                    user_id: row.get(2)?,
                    secret_hash: row.get(3)?,
                    expires_at: row.get(4)?,
                    last_used_at: row.get(5)?,
                })
            })
            .optional()?)
    }

    /// How many of `owner`'s tokens are unexpired at `now`, leaving out `except`.
    pub fn count_live_tokens(&self, owner: &str, now: i64, except: Option<i64>) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM tokens WHERE user_id = ?1 AND expires_at > ?2 AND id IS NOT ?3",
            )?
            .query_row((owner, now, except), |row| row.get(0))?)
    }

    /// How many tokens `owner` has, expired ones too.
    pub fn count_user_tokens(&self, owner: &str) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM tokens WHERE user_id = ?1")?
            .query_row([owner], |row| row.get(0))?)
    }

    /// Inserts a token and its role grants; returns its internal id, which is never one
    /// a deleted or rotated token had (DESIGN §2).
    pub fn insert_token(&self, token: &NewTokenRow<'_>, grants: &[RoleGrant]) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO tokens (public_id, user_id, name, description, secret_hash, created_at, created_by, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute((
                token.public_id,
                token.owner,
                token.name,
                token.description,
                token.secret_hash,
                token.created_at,
                token.created_by,
                token.expires_at,
            ))?;
        let row_id = self.tx.last_insert_rowid();
        let mut grant = self.tx.prepare_cached(
            "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for g in grants {
            grant.execute((
                row_id,
                token.owner,
                &g.role_name,
                &g.assigned_by,
                g.assigned_at.0,
            ))?;
        }
        Ok(row_id)
    }

    /// Deletes a token; the schema ends its sessions and drops its grants.
    pub fn delete_token(&self, row_id: i64) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM tokens WHERE id = ?1")?
            .execute([row_id])?;
        Ok(())
    }

    /// Records a use at `now`.
    pub fn touch_token(&self, row_id: i64, now: i64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
            .execute((row_id, now))?;
        Ok(())
    }

    /// Replaces a token's hash only where it is still exactly `old`.
    pub fn replace_token_hash(&self, row_id: i64, old: &str, new: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE tokens SET secret_hash = ?3 WHERE id = ?1 AND secret_hash = ?2",
            )?
            .execute((row_id, old, new))?;
        Ok(())
    }

    /// A token's role names, sorted.
    pub fn token_roles(&self, row_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT role FROM token_roles WHERE token_id = ?1 ORDER BY role")?;
        let names = stmt.query_map([row_id], |row| row.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// A token's grants, sorted by role.
    pub fn token_grants(&self, row_id: i64) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM token_roles WHERE token_id = ?1 ORDER BY role",
            [row_id],
        )
    }

    /// `owner`'s tokens by name, or every token by owner and name, each with its roles.
    pub fn list_tokens(&self, owner: Option<&str>) -> Result<Vec<(TokenRow, Vec<String>)>> {
        // Two statements, not `?1 IS NULL OR user_id = ?1`, which would hide the
        // (user_id, name) index from the planner and scan every token.
        const COLUMNS: &str = "SELECT id, public_id, name, user_id, description, created_at, expires_at, last_used_at FROM tokens";
        let mut stmt = match owner {
            Some(_) => self
                .tx
                .prepare_cached(&format!("{COLUMNS} WHERE user_id = ?1 ORDER BY name"))?,
            None => self.tx.prepare_cached(&format!(
                "{COLUMNS} WHERE ?1 IS NULL ORDER BY user_id, name"
            ))?,
        };
        let rows = stmt.query_map([owner], |row| {
            Ok(TokenRow {
                row_id: row.get(0)?,
                public_id: row.get(1)?,
                name: row.get(2)?,
                user_id: row.get(3)?,
                description: row.get(4)?,
                created_at: Timestamp(row.get(5)?),
                expires_at: Timestamp(row.get(6)?),
                last_used_at: row.get::<_, Option<i64>>(7)?.map(Timestamp),
            })
        })?;
        let mut roles = self.roles_by_token(owner)?;
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            let roles = roles.remove(&row.row_id).unwrap_or_default();
            out.push((row, roles));
        }
        Ok(out)
    }

    /// Every token's roles, sorted, for one owner's tokens (read from the owner's index
    /// entries in one pass) or for all tokens.
    fn roles_by_token(&self, owner: Option<&str>) -> Result<HashMap<i64, Vec<String>>> {
        let mut stmt = match owner {
            Some(_) => self.tx.prepare_cached(
                "SELECT token_id, role FROM token_roles WHERE user_id = ?1 ORDER BY token_id, role",
            )?,
            None => self.tx.prepare_cached(
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
}
