//! Tokens and the roles each carries.

use rusqlite::OptionalExtension;

use super::{LiteTx, role_list};
use crate::error::Result;
use crate::store::rows::{Flow, TokenRows, id_range};
use crate::store::rows::{NewTokenRow, RoleGrant, StoredToken, TokenRef, TokenRow};
use crate::time::Timestamp;

impl TokenRows for LiteTx<'_> {
    /// `owner`'s token called `name`.
    fn find_token(&self, owner: &str, name: &str) -> Result<Option<TokenRef>> {
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

    /// The first `limit` names of `owner`'s tokens starting with `prefix`, in order, from
    /// the `(user_id, name)` key.
    fn token_names(&self, owner: &str, prefix: &str, limit: u32) -> Result<Vec<String>> {
        let (low, high) = id_range(prefix);
        let mut stmt = self.tx.prepare_cached(
            "SELECT name FROM tokens WHERE user_id = ?1 AND name >= ?2 AND name < ?3
             ORDER BY name LIMIT ?4",
        )?;
        let names = stmt.query_map((owner, &low, &high, limit), |row| row.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// The token a presented secret names by its public id.
    fn find_token_by_public_id(&self, public_id: &str) -> Result<Option<StoredToken>> {
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

    /// How many of `owner`'s tokens are unexpired at `now`, leaving out `except`, counting
    /// no further than `up_to`: the limit check needs to know only whether the limit is
    /// reached, whatever number of tokens the owner holds.
    fn count_live_tokens(
        &self,
        owner: &str,
        now: i64,
        except: Option<i64>,
        up_to: i64,
    ) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached(COUNT_LIVE)?
            .query_row((owner, now, except, up_to), |row| row.get(0))?)
    }

    /// How many tokens `owner` has, expired ones too.
    fn count_user_tokens(&self, owner: &str) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM tokens WHERE user_id = ?1")?
            .query_row([owner], |row| row.get(0))?)
    }

    /// Inserts a token and its role grants; returns its internal id, which is never one
    /// a deleted or rotated token had (DESIGN §2).
    fn insert_token(&self, token: &NewTokenRow<'_>, grants: &[RoleGrant]) -> Result<i64> {
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
    fn delete_token(&self, row_id: i64) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM tokens WHERE id = ?1")?
            .execute([row_id])?;
        Ok(())
    }

    /// Records a use at `now`.
    fn touch_token(&self, row_id: i64, now: i64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
            .execute((row_id, now))?;
        Ok(())
    }

    /// Replaces a token's hash only where it is still exactly `old`.
    fn replace_token_hash(&self, row_id: i64, old: &str, new: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE tokens SET secret_hash = ?3 WHERE id = ?1 AND secret_hash = ?2",
            )?
            .execute((row_id, old, new))?;
        Ok(())
    }

    /// A token's role names, sorted.
    fn token_roles(&self, row_id: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT role FROM token_roles WHERE token_id = ?1 ORDER BY role")?;
        let names = stmt.query_map([row_id], |row| row.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }

    /// A token's grants, sorted by role.
    fn token_grants(&self, row_id: i64) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM token_roles WHERE token_id = ?1 ORDER BY role",
            [row_id],
        )
    }

    /// As `list_tokens`, one token at a time, as the rows come: the owner-and-name index
    /// gives the order (nothing is sorted), and each token's roles come from the roles'
    /// key, aggregated in order (plan: `tokens_by_owner`, then `token_roles` by key).
    fn each_token(
        &self,
        owner: Option<&str>,
        each: &mut dyn FnMut(TokenRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()> {
        // Two statements, not `?1 IS NULL OR user_id = ?1`, which would hide the
        // (user_id, name) index from the planner and scan every token.
        let mut stmt = match owner {
            Some(_) => self.tx.prepare_cached(TOKENS_OF_OWNER)?,
            None => self.tx.prepare_cached(EVERY_TOKEN)?,
        };
        let mut rows = stmt.query([owner])?;
        while let Some(row) = rows.next()? {
            let token = TokenRow {
                row_id: row.get(0)?,
                public_id: row.get(1)?,
                name: row.get(2)?,
                user_id: row.get(3)?,
                description: row.get(4)?,
                created_at: Timestamp(row.get(5)?),
                expires_at: Timestamp(row.get(6)?),
                last_used_at: row.get::<_, Option<i64>>(7)?.map(Timestamp),
            };
            if each(token, role_list(row.get(8)?))?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The listing of tokens with their roles, for one owner or for all.
macro_rules! tokens_where {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.public_id, t.name, t.user_id, t.description,
                    t.created_at, t.expires_at, t.last_used_at,
                    (SELECT group_concat(role, ',') FROM token_roles WHERE token_id = t.id)
             FROM tokens t INDEXED BY tokens_by_owner ",
            $tail
        )
    };
}

pub(super) const TOKENS_OF_OWNER: &str = tokens_where!("WHERE t.user_id = ?1 ORDER BY t.name");
pub(super) const EVERY_TOKEN: &str = tokens_where!("WHERE ?1 IS NULL ORDER BY t.user_id, t.name");

pub(super) const COUNT_LIVE: &str = "SELECT count(*) FROM (SELECT 1 FROM tokens
     WHERE user_id = ?1 AND expires_at > ?2 AND id IS NOT ?3 LIMIT ?4)";
