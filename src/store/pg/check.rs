//! `db check`, `db info` and moving every row, on PostgreSQL.

use postgres::Row;

use super::PgTx;
use crate::error::Result;
use crate::store::rows::{CheckRows, CopyRows, Flow, Record, Table};

impl CheckRows for PgTx<'_> {
    /// The server checks its own pages (and reports damage as an error of the statement
    /// that meets it); there is no whole-database check to run from a client.
    fn integrity_problems(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// PostgreSQL enforces every foreign key, unless a superuser turned its triggers off
    /// (`session_replication_role = replica`): each of the schema's references, checked.
    fn broken_references(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .rows(
                "SELECT 'user_roles', 'users' FROM user_roles c
                 WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
                 UNION ALL
                 SELECT 'user_roles', 'roles' FROM user_roles c
                 WHERE NOT EXISTS (SELECT 1 FROM roles p WHERE p.name = c.role)
                 UNION ALL
                 SELECT 'tokens', 'users' FROM tokens c
                 WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
                 UNION ALL
                 SELECT 'token_roles', 'tokens' FROM token_roles c
                 WHERE NOT EXISTS (SELECT 1 FROM tokens p
                                   WHERE p.id = c.token_id AND p.user_id = c.user_id)
                 UNION ALL
                 SELECT 'token_roles', 'user_roles' FROM token_roles c
                 WHERE NOT EXISTS (SELECT 1 FROM user_roles p
                                   WHERE p.user_id = c.user_id AND p.role = c.role)
                 UNION ALL
                 SELECT 'sessions', 'tokens' FROM sessions c
                 WHERE NOT EXISTS (SELECT 1 FROM tokens p WHERE p.id = c.token_id)",
                &[],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn tokens_without_roles(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .rows(
                "SELECT user_id, name FROM tokens t
                 WHERE NOT EXISTS (SELECT 1 FROM token_roles r WHERE r.token_id = t.id)
                 ORDER BY user_id, name",
                &[],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn token_roles_not_held(&self) -> Result<Vec<(String, String, String)>> {
        Ok(self
            .rows(
                "SELECT r.user_id, coalesce(t.name, '?'), r.role FROM token_roles r
                 LEFT JOIN tokens t ON t.id = r.token_id
                 WHERE NOT EXISTS (SELECT 1 FROM user_roles u
                                   WHERE u.user_id = r.user_id AND u.role = r.role)
                 ORDER BY 1, 2, 3",
                &[],
            )?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    fn count_rows(&self, table: Table) -> Result<i64> {
        let sql = match table {
            Table::Users => "SELECT count(*) FROM users",
            Table::Roles => "SELECT count(*) FROM roles",
            Table::Tokens => "SELECT count(*) FROM tokens",
            Table::Sessions => "SELECT count(*) FROM sessions",
            Table::Audit => "SELECT count(*) FROM audit",
        };
        self.count(sql, &[])
    }

    fn count_all_live_tokens(&self, now: i64) -> Result<i64> {
        self.count("SELECT count(*) FROM tokens WHERE expires_at > $1", &[&now])
    }

    fn delete_all_sessions(&self) -> Result<()> {
        self.execute("DELETE FROM sessions", &[])?;
        Ok(())
    }
}

impl CopyRows for PgTx<'_> {
    fn export(&self, each: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let mut all = |sql: &str, read: &dyn Fn(&Row) -> Record| {
            self.stream(sql, &[], &mut |row| {
                each(read(row))?;
                Ok(Flow::Continue(()))
            })
        };
        all("SELECT key, value FROM settings ORDER BY key", &|r| {
            Record::Setting {
                key: r.get(0),
                value: r.get(1),
            }
        })?;
        all(
            "SELECT name, description, built_in FROM roles ORDER BY name",
            &|r| Record::Role {
                name: r.get(0),
                description: r.get(1),
                built_in: r.get(2),
            },
        )?;
        all(
            "SELECT id, created_at, created_by FROM users ORDER BY id",
            &|r| Record::User {
                id: r.get(0),
                created_at: r.get(1),
                created_by: r.get(2),
            },
        )?;
        all(
            "SELECT user_id, role, assigned_by, assigned_at FROM user_roles ORDER BY user_id, role",
            &|r| Record::UserRole {
                user_id: r.get(0),
                role: r.get(1),
                assigned_by: r.get(2),
                assigned_at: r.get(3),
            },
        )?;
        all(
            "SELECT id, public_id, user_id, name, description, secret_hash, created_at,
                    created_by, expires_at, last_used_at
             FROM tokens ORDER BY id",
            &|r| Record::Token {
                id: r.get(0),
                public_id: r.get(1),
                user_id: r.get(2),
                name: r.get(3),
                description: r.get(4),
                secret_hash: r.get(5),
                created_at: r.get(6),
                created_by: r.get(7),
                expires_at: r.get(8),
                last_used_at: r.get(9),
            },
        )?;
        all(
            "SELECT token_id, user_id, role, assigned_by, assigned_at FROM token_roles
             ORDER BY token_id, role",
            &|r| Record::TokenRole {
                token_id: r.get(0),
                user_id: r.get(1),
                role: r.get(2),
                assigned_by: r.get(3),
                assigned_at: r.get(4),
            },
        )?;
        all(
            "SELECT id, at, actor, action, target, subject, outcome FROM audit ORDER BY id",
            &|r| Record::Audit {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                target: r.get(4),
                subject: r.get(5),
                outcome: r.get(6),
            },
        )?;
        // The identity's high-water mark: above every id ever given, deleted ones too.
        all(
            "SELECT greatest(
                coalesce(pg_sequence_last_value(pg_get_serial_sequence('tokens', 'id')::regclass), 0),
                coalesce((SELECT max(id) FROM tokens), 0))",
            &|r| Record::TokenIdsUsed(r.get(0)),
        )
    }

    fn import(&self, record: &Record) -> Result<()> {
        match record {
            Record::Setting { key, value } => {
                self.flush()?;
                self.execute(
                    "INSERT INTO settings (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[key, value],
                )?;
            }
            Record::Role {
                name,
                description,
                built_in,
            } => {
                self.flush()?;
                self.execute(
                    "INSERT INTO roles (name, description, built_in) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE
                     SET description = excluded.description, built_in = excluded.built_in",
                    &[name, description, built_in],
                )?;
            }
            // Identities given explicit ids do not move on by themselves: both go past
            // every id now stored, and tokens' past every id ever given.
            Record::TokenIdsUsed(used) => {
                self.flush()?;
                self.execute(
                    "SELECT setval(pg_get_serial_sequence('tokens', 'id'),
                                   greatest($1, (SELECT coalesce(max(id), 0) FROM tokens), 1),
                                   greatest($1, (SELECT coalesce(max(id), 0) FROM tokens)) > 0),
                            setval(pg_get_serial_sequence('audit', 'id'),
                                   greatest((SELECT coalesce(max(id), 0) FROM audit), 1),
                                   (SELECT count(*) FROM audit) > 0)",
                    &[used],
                )?;
            }
            _ => {
                let joins = self.pending.borrow().first().is_none_or(|first| {
                    std::mem::discriminant(first) == std::mem::discriminant(record)
                });
                if !joins || self.pending.borrow().len() >= BATCH {
                    self.flush()?;
                }
                self.pending.borrow_mut().push(record.clone());
            }
        }
        Ok(())
    }
}

/// Rows inserted by one statement: a round trip per few thousand rows, not per row.
const BATCH: usize = 4096;

impl PgTx<'_> {
    /// Inserts the pending rows (all of one table) with one statement: a JSON array of
    /// them, which `json_populate_recordset` turns back into rows of the table's type by
    /// column name.
    pub(super) fn flush(&self) -> Result<()> {
        let rows = std::mem::take(&mut *self.pending.borrow_mut());
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let table = match first {
            Record::User { .. } => "users",
            Record::UserRole { .. } => "user_roles",
            Record::Token { .. } => "tokens",
            Record::TokenRole { .. } => "token_roles",
            Record::Audit { .. } => "audit",
            Record::Setting { .. } | Record::Role { .. } | Record::TokenIdsUsed(_) => {
                unreachable!("inserted one at a time")
            }
        };
        let rows = serde_json::to_string(&rows)
            .map_err(|err| crate::error::Error::Internal(format!("rows as JSON: {err}")))?;
        self.execute(
            &format!(
                "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::text::json)"
            ),
            &[&rows],
        )?;
        Ok(())
    }
}
