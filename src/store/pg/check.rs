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

/// One column of the pending rows, read by `pick` from each.
fn column<'a, T>(rows: &'a [Record], pick: impl Fn(&'a Record) -> Option<T>) -> Vec<T> {
    rows.iter().filter_map(pick).collect()
}

impl PgTx<'_> {
    /// Inserts the pending rows (all of one table) with one statement, each column an
    /// array that `unnest` turns back into rows.
    pub(super) fn flush(&self) -> Result<()> {
        let rows = std::mem::take(&mut *self.pending.borrow_mut());
        let Some(first) = rows.first() else {
            return Ok(());
        };
        match first {
            Record::User { .. } => {
                let ids = column(&rows, |r| match r {
                    Record::User { id, .. } => Some(id.as_str()),
                    _ => None,
                });
                let at = column(&rows, |r| match r {
                    Record::User { created_at, .. } => Some(*created_at),
                    _ => None,
                });
                let by = column(&rows, |r| match r {
                    Record::User { created_by, .. } => Some(created_by.as_str()),
                    _ => None,
                });
                self.execute(
                    "INSERT INTO users (id, created_at, created_by)
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])",
                    &[&ids, &at, &by],
                )?;
            }
            Record::UserRole { .. } => {
                let users = column(&rows, |r| match r {
                    Record::UserRole { user_id, .. } => Some(user_id.as_str()),
                    _ => None,
                });
                let roles = column(&rows, |r| match r {
                    Record::UserRole { role, .. } => Some(role.as_str()),
                    _ => None,
                });
                let by = column(&rows, |r| match r {
                    Record::UserRole { assigned_by, .. } => Some(assigned_by.as_str()),
                    _ => None,
                });
                let at = column(&rows, |r| match r {
                    Record::UserRole { assigned_at, .. } => Some(*assigned_at),
                    _ => None,
                });
                self.execute(
                    "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])",
                    &[&users, &roles, &by, &at],
                )?;
            }
            Record::Token { .. } => {
                let tokens: Vec<_> = rows
                    .iter()
                    .filter_map(|r| match r {
                        Record::Token {
                            id,
                            public_id,
                            user_id,
                            name,
                            description,
                            secret_hash,
                            created_at,
                            created_by,
                            expires_at,
                            last_used_at,
                        } => Some((
                            id,
                            public_id,
                            user_id,
                            name,
                            description,
                            secret_hash,
                            created_at,
                            created_by,
                            expires_at,
                            last_used_at,
                        )),
                        _ => None,
                    })
                    .collect();
                let ids: Vec<i64> = tokens.iter().map(|t| *t.0).collect();
                let public: Vec<&str> = tokens.iter().map(|t| t.1.as_str()).collect();
                let owners: Vec<&str> = tokens.iter().map(|t| t.2.as_str()).collect();
                let names: Vec<&str> = tokens.iter().map(|t| t.3.as_str()).collect();
                let descriptions: Vec<&str> = tokens.iter().map(|t| t.4.as_str()).collect();
                let hashes: Vec<&str> = tokens.iter().map(|t| t.5.as_str()).collect();
                let created_at: Vec<i64> = tokens.iter().map(|t| *t.6).collect();
                let created_by: Vec<&str> = tokens.iter().map(|t| t.7.as_str()).collect();
                let expires_at: Vec<i64> = tokens.iter().map(|t| *t.8).collect();
                let last_used_at: Vec<Option<i64>> = tokens.iter().map(|t| *t.9).collect();
                self.execute(
                    "INSERT INTO tokens (id, public_id, user_id, name, description, secret_hash,
                                         created_at, created_by, expires_at, last_used_at)
                     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                                          $5::text[], $6::text[], $7::bigint[], $8::text[],
                                          $9::bigint[], $10::bigint[])",
                    &[
                        &ids,
                        &public,
                        &owners,
                        &names,
                        &descriptions,
                        &hashes,
                        &created_at,
                        &created_by,
                        &expires_at,
                        &last_used_at,
                    ],
                )?;
            }
            Record::TokenRole { .. } => {
                let tokens = column(&rows, |r| match r {
                    Record::TokenRole { token_id, .. } => Some(*token_id),
                    _ => None,
                });
                let users = column(&rows, |r| match r {
                    Record::TokenRole { user_id, .. } => Some(user_id.as_str()),
                    _ => None,
                });
                let roles = column(&rows, |r| match r {
                    Record::TokenRole { role, .. } => Some(role.as_str()),
                    _ => None,
                });
                let by = column(&rows, |r| match r {
                    Record::TokenRole { assigned_by, .. } => Some(assigned_by.as_str()),
                    _ => None,
                });
                let at = column(&rows, |r| match r {
                    Record::TokenRole { assigned_at, .. } => Some(*assigned_at),
                    _ => None,
                });
                self.execute(
                    "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
                     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],
                                          $5::bigint[])",
                    &[&tokens, &users, &roles, &by, &at],
                )?;
            }
            Record::Audit { .. } => {
                let events: Vec<_> = rows
                    .iter()
                    .filter_map(|r| match r {
                        Record::Audit {
                            id,
                            at,
                            actor,
                            action,
                            target,
                            subject,
                            outcome,
                        } => Some((id, at, actor, action, target, subject, outcome)),
                        _ => None,
                    })
                    .collect();
                let ids: Vec<i64> = events.iter().map(|e| *e.0).collect();
                let at: Vec<i64> = events.iter().map(|e| *e.1).collect();
                let actors: Vec<&str> = events.iter().map(|e| e.2.as_str()).collect();
                let actions: Vec<&str> = events.iter().map(|e| e.3.as_str()).collect();
                let targets: Vec<&str> = events.iter().map(|e| e.4.as_str()).collect();
                let subjects: Vec<Option<&str>> = events.iter().map(|e| e.5.as_deref()).collect();
                let outcomes: Vec<&str> = events.iter().map(|e| e.6.as_str()).collect();
                self.execute(
                    "INSERT INTO audit (id, at, actor, action, target, subject, outcome)
                     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],
                                          $5::text[], $6::text[], $7::text[])",
                    &[&ids, &at, &actors, &actions, &targets, &subjects, &outcomes],
                )?;
            }
            Record::Setting { .. } | Record::Role { .. } | Record::TokenIdsUsed(_) => {
                unreachable!("inserted one at a time")
            }
        }
        Ok(())
    }
}
