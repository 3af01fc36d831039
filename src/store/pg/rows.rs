//! The seam's traits on PostgreSQL: the same rows as SQLite's, in PostgreSQL's dialect.
//! Listings read along the same keys (see the indexes in `migrations.rs`), and those that
//! grow with the data come through a portal a page at a time, never all at once.

use postgres::Row;
use postgres::types::ToSql;

use super::PgTx;
use crate::error::Result;
use crate::store::rows::{
    AuditRows, Event, Flow, NewEvent, NewTokenRow, Role, RoleGrant, RoleRows, SessionRow,
    SessionRows, SettingRows, StoredToken, TokenRef, TokenRow, TokenRows, UserRow, UserRows,
    id_range,
};
use crate::time::Timestamp;

/// Rows fetched per round trip by a streaming listing.
const PAGE: i32 = 512;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgTx<'_> {
    pub(super) fn rows(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        Ok(self.tx.borrow_mut().query(sql, params)?)
    }

    pub(super) fn row(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        Ok(self.tx.borrow_mut().query_opt(sql, params)?)
    }

    pub(super) fn count(&self, sql: &str, params: Params<'_>) -> Result<i64> {
        Ok(self.tx.borrow_mut().query_one(sql, params)?.get(0))
    }

    pub(super) fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64> {
        Ok(self.tx.borrow_mut().execute(sql, params)?)
    }

    /// Hands `each` the rows of `sql` a page at a time, until it says stop.
    pub(super) fn stream(
        &self,
        sql: &str,
        params: Params<'_>,
        each: &mut dyn FnMut(&Row) -> Result<Flow>,
    ) -> Result<()> {
        let mut tx = self.tx.borrow_mut();
        let portal = tx.bind(sql, params)?;
        loop {
            let page = tx.query_portal(&portal, PAGE)?;
            for row in &page {
                if each(row)?.is_break() {
                    return Ok(());
                }
            }
            if page.len() < PAGE as usize {
                return Ok(());
            }
        }
    }

    fn strings(&self, sql: &str, params: Params<'_>) -> Result<Vec<String>> {
        Ok(self.rows(sql, params)?.iter().map(|r| r.get(0)).collect())
    }

    fn grants(&self, sql: &str, params: Params<'_>) -> Result<Vec<RoleGrant>> {
        Ok(self
            .rows(sql, params)?
            .iter()
            .map(|row| RoleGrant {
                role_name: row.get(0),
                assigned_by: row.get(1),
                assigned_at: Timestamp(row.get(2)),
            })
            .collect())
    }
}

/// Role names aggregated in key order by `array_agg`; none for a NULL.
fn role_list(row: &Row, at: usize) -> Vec<String> {
    row.get::<_, Option<Vec<String>>>(at).unwrap_or_default()
}

impl UserRows for PgTx<'_> {
    fn user_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .row("SELECT 1 FROM users WHERE id = $1", &[&id])?
            .is_some())
    }

    fn find_user(&self, id: &str) -> Result<Option<UserRow>> {
        Ok(self
            .row(
                "SELECT created_at, created_by FROM users WHERE id = $1",
                &[&id],
            )?
            .map(|row| UserRow {
                id: id.to_string(),
                created_at: Timestamp(row.get(0)),
                created_by: row.get(1),
            }))
    }

    fn insert_user(&self, id: &str, created_at: i64, created_by: &str) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO users (id, created_at, created_by) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &created_at, &created_by],
        )? == 1)
    }

    fn delete_user(&self, id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM users WHERE id = $1", &[&id])? == 1)
    }

    fn user_roles(&self, user: &str) -> Result<Vec<String>> {
        self.strings(
            "SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
            &[&user],
        )
    }

    fn user_grants(&self, user: &str) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM user_roles WHERE user_id = $1 ORDER BY role",
            &[&user],
        )
    }

    fn grant_role(&self, user: &str, role: &str, by: &str, at: i64) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, role) DO NOTHING",
            &[&user, &role, &by, &at],
        )? == 1)
    }

    fn revoke_role(&self, user: &str, role: &str) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM user_roles WHERE user_id = $1 AND role = $2",
            &[&user, &role],
        )? == 1)
    }

    fn count_role_holders(&self, role: &str) -> Result<i64> {
        self.count("SELECT count(*) FROM user_roles WHERE role = $1", &[&role])
    }

    fn count_users(&self, prefix: &str, roles: &[String]) -> Result<i64> {
        let (low, high) = id_range(prefix);
        if roles.is_empty() {
            self.count(
                "SELECT count(*) FROM users WHERE id >= $1 AND id < $2",
                &[&low, &high],
            )
        } else {
            self.count(
                "SELECT count(DISTINCT user_id) FROM user_roles
                 WHERE role = ANY($3) AND user_id >= $1 AND user_id < $2",
                &[&low, &high, &roles],
            )
        }
    }

    fn each_user(
        &self,
        prefix: &str,
        roles: &[String],
        limit: u32,
        each: &mut dyn FnMut(UserRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()> {
        let (low, high) = id_range(prefix);
        let limit = i64::from(limit);
        let mut one = |row: &Row| {
            let user = UserRow {
                id: row.get(0),
                created_at: Timestamp(row.get(1)),
                created_by: row.get(2),
            };
            each(user, role_list(row, 3))
        };
        if roles.is_empty() {
            self.stream(
                "SELECT id, created_at, created_by,
                        (SELECT array_agg(role ORDER BY role) FROM user_roles WHERE user_id = users.id)
                 FROM users WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
                &[&low, &high, &limit],
                &mut one,
            )
        } else {
            self.stream(
                "SELECT id, created_at, created_by,
                        (SELECT array_agg(role ORDER BY role) FROM user_roles WHERE user_id = users.id)
                 FROM users
                 WHERE id IN (SELECT user_id FROM user_roles
                              WHERE role = ANY($4) AND user_id >= $1 AND user_id < $2)
                 ORDER BY id LIMIT $3",
                &[&low, &high, &limit, &roles],
                &mut one,
            )
        }
    }

    fn user_ids(&self, prefix: &str, limit: u32) -> Result<Vec<String>> {
        let (low, high) = id_range(prefix);
        self.strings(
            "SELECT id FROM users WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
            &[&low, &high, &i64::from(limit)],
        )
    }
}

/// The listing of tokens with their roles, for one owner or for all.
macro_rules! tokens_where {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.public_id, t.name, t.user_id, t.description,
                    t.created_at, t.expires_at, t.last_used_at,
                    (SELECT array_agg(role ORDER BY role) FROM token_roles WHERE token_id = t.id)
             FROM tokens t ",
            $tail
        )
    };
}

impl TokenRows for PgTx<'_> {
    fn find_token(&self, owner: &str, name: &str) -> Result<Option<TokenRef>> {
        Ok(self
            .row(
                "SELECT id, public_id, description, created_at, expires_at FROM tokens
                 WHERE user_id = $1 AND name = $2",
                &[&owner, &name],
            )?
            .map(|row| TokenRef {
                row_id: row.get(0),
                public_id: row.get(1),
                description: row.get(2),
                created_at: row.get(3),
                expires_at: row.get(4),
            }))
    }

    fn token_names(&self, owner: &str, prefix: &str, limit: u32) -> Result<Vec<String>> {
        let (low, high) = id_range(prefix);
        self.strings(
            "SELECT name FROM tokens WHERE user_id = $1 AND name >= $2 AND name < $3
             ORDER BY name LIMIT $4",
            &[&owner, &low, &high, &i64::from(limit)],
        )
    }

    fn find_token_by_public_id(&self, public_id: &str) -> Result<Option<StoredToken>> {
        Ok(self
            .row(
                "SELECT id, name, user_id, secret_hash, expires_at, last_used_at FROM tokens
                 WHERE public_id = $1",
                &[&public_id],
            )?
            .map(|row| StoredToken {
                row_id: row.get(0),
                name: row.get(1),
                user_id: row.get(2),
                secret_hash: row.get(3),
                expires_at: row.get(4),
                last_used_at: row.get(5),
            }))
    }

    fn count_live_tokens(
        &self,
        owner: &str,
        now: i64,
        except: Option<i64>,
        up_to: i64,
    ) -> Result<i64> {
        self.count(
            "SELECT count(*) FROM (SELECT 1 FROM tokens
             WHERE user_id = $1 AND expires_at > $2 AND id IS DISTINCT FROM $3 LIMIT $4) AS live",
            &[&owner, &now, &except, &up_to],
        )
    }

    fn count_user_tokens(&self, owner: &str) -> Result<i64> {
        self.count("SELECT count(*) FROM tokens WHERE user_id = $1", &[&owner])
    }

    fn insert_token(&self, token: &NewTokenRow<'_>, grants: &[RoleGrant]) -> Result<i64> {
        let row_id: i64 = self
            .row(
                "INSERT INTO tokens (public_id, user_id, name, description, secret_hash, created_at, created_by, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &token.public_id,
                    &token.owner,
                    &token.name,
                    &token.description,
                    &token.secret_hash,
                    &token.created_at,
                    &token.created_by,
                    &token.expires_at,
                ],
            )?
            .expect("INSERT ... RETURNING gives a row")
            .get(0);
        for g in grants {
            self.execute(
                "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &row_id,
                    &token.owner,
                    &g.role_name,
                    &g.assigned_by,
                    &g.assigned_at.0,
                ],
            )?;
        }
        Ok(row_id)
    }

    fn delete_token(&self, row_id: i64) -> Result<()> {
        self.execute("DELETE FROM tokens WHERE id = $1", &[&row_id])?;
        Ok(())
    }

    fn touch_token(&self, row_id: i64, now: i64) -> Result<()> {
        self.execute(
            "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
            &[&row_id, &now],
        )?;
        Ok(())
    }

    fn replace_token_hash(&self, row_id: i64, old: &str, new: &str) -> Result<()> {
        self.execute(
            "UPDATE tokens SET secret_hash = $3 WHERE id = $1 AND secret_hash = $2",
            &[&row_id, &old, &new],
        )?;
        Ok(())
    }

    fn token_roles(&self, row_id: i64) -> Result<Vec<String>> {
        self.strings(
            "SELECT role FROM token_roles WHERE token_id = $1 ORDER BY role",
            &[&row_id],
        )
    }

    fn token_grants(&self, row_id: i64) -> Result<Vec<RoleGrant>> {
        self.grants(
            "SELECT role, assigned_by, assigned_at FROM token_roles WHERE token_id = $1 ORDER BY role",
            &[&row_id],
        )
    }

    fn each_token(
        &self,
        owner: Option<&str>,
        each: &mut dyn FnMut(TokenRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()> {
        let mut one = |row: &Row| {
            let token = TokenRow {
                row_id: row.get(0),
                public_id: row.get(1),
                name: row.get(2),
                user_id: row.get(3),
                description: row.get(4),
                created_at: Timestamp(row.get(5)),
                expires_at: Timestamp(row.get(6)),
                last_used_at: row.get::<_, Option<i64>>(7).map(Timestamp),
            };
            each(token, role_list(row, 8))
        };
        match owner {
            Some(owner) => self.stream(
                tokens_where!("WHERE t.user_id = $1 ORDER BY t.name"),
                &[&owner],
                &mut one,
            ),
            None => self.stream(tokens_where!("ORDER BY t.user_id, t.name"), &[], &mut one),
        }
    }
}

impl RoleRows for PgTx<'_> {
    fn role_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .row("SELECT 1 FROM roles WHERE name = $1", &[&name])?
            .is_some())
    }

    fn role_built_in(&self, name: &str) -> Result<Option<bool>> {
        Ok(self
            .row("SELECT built_in FROM roles WHERE name = $1", &[&name])?
            .map(|row| row.get(0)))
    }

    fn roles(&self) -> Result<Vec<Role>> {
        Ok(self
            .rows(
                "SELECT name, description, built_in FROM roles ORDER BY name",
                &[],
            )?
            .iter()
            .map(|row| Role {
                name: row.get(0),
                description: row.get(1),
                built_in: row.get(2),
            })
            .collect())
    }

    fn insert_role(&self, name: &str, description: &str) -> Result<bool> {
        Ok(self.execute(
            "INSERT INTO roles (name, description, built_in) VALUES ($1, $2, false)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &description],
        )? == 1)
    }

    fn delete_custom_role(&self, name: &str) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM roles WHERE name = $1 AND NOT built_in",
            &[&name],
        )? == 1)
    }

    fn count_tokens_with_role(&self, role: &str) -> Result<i64> {
        self.count("SELECT count(*) FROM token_roles WHERE role = $1", &[&role])
    }
}

impl SessionRows for PgTx<'_> {
    fn insert_session(
        &self,
        id: &str,
        token_row_id: i64,
        secret_hash: &str,
        url: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO sessions (id, token_id, secret_hash, url, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
            &[&id, &token_row_id, &secret_hash, &url, &now],
        )?;
        Ok(())
    }

    fn find_session(&self, id: &str) -> Result<Option<SessionRow>> {
        Ok(self
            .row(
                "SELECT s.secret_hash, s.last_used_at, s.url, t.id, t.public_id, t.name, t.user_id, t.expires_at
                 FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id = $1",
                &[&id],
            )?
            .map(|row| SessionRow {
                secret_hash: row.get(0),
                last_used_at: row.get(1),
                url: row.get(2),
                token_row_id: row.get(3),
                public_id: row.get(4),
                token_name: row.get(5),
                user_id: row.get(6),
                expires_at: row.get(7),
            }))
    }

    fn touch_session(&self, id: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE sessions SET last_used_at = $2 WHERE id = $1",
            &[&id, &now],
        )?;
        Ok(())
    }

    fn delete_session(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE id = $1", &[&id])?;
        Ok(())
    }
}

impl SettingRows for PgTx<'_> {
    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .row("SELECT value FROM settings WHERE key = $1", &[&key])?
            .map(|row| row.get(0)))
    }

    fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .rows("SELECT key, value FROM settings", &[])?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}

impl AuditRows for PgTx<'_> {
    fn append_audit(&self, event: &NewEvent<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO audit (at, actor, action, target, subject, outcome)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &event.at,
                &event.actor,
                &event.action,
                &event.target,
                &event.subject,
                &event.outcome,
            ],
        )?;
        Ok(())
    }

    fn each_audit_event(
        &self,
        user: Option<&str>,
        count: u32,
        each: &mut dyn FnMut(Event) -> Result<Flow>,
    ) -> Result<()> {
        let count = i64::from(count);
        let mut one = |row: &Row| {
            each(Event {
                at: Timestamp(row.get(0)),
                actor: row.get(1),
                action: row.get(2),
                target: row.get(3),
                outcome: row.get(4),
            })
        };
        match user {
            // The newest `count` by actor and by subject, each read backwards along its
            // own index, then merged.
            Some(user) => self.stream(
                "SELECT at, actor, action, target, outcome FROM (
                    (SELECT id, at, actor, action, target, outcome FROM audit
                     WHERE actor = $1 ORDER BY id DESC LIMIT $2)
                    UNION
                    (SELECT id, at, actor, action, target, outcome FROM audit
                     WHERE subject = $1 ORDER BY id DESC LIMIT $2)) AS mine
                 ORDER BY id DESC LIMIT $2",
                &[&user, &count],
                &mut one,
            ),
            None => self.stream(
                "SELECT at, actor, action, target, outcome FROM audit ORDER BY id DESC LIMIT $1",
                &[&count],
                &mut one,
            ),
        }
    }
}
