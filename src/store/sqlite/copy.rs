//! Every row out, as it is stored, and back in (`db copy`, and backups across kinds).

use super::LiteTx;
use crate::error::Result;
use crate::store::rows::{CopyRows, Record};

impl CopyRows for LiteTx<'_> {
    fn export(&self, each: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let tx = &self.tx;
        let mut rows = |sql: &str,
                        read: &dyn Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Record>|
         -> Result<()> {
            let mut stmt = tx.prepare(sql)?;
            let mut found = stmt.query([])?;
            while let Some(row) = found.next()? {
                each(read(row)?)?;
            }
            Ok(())
        };
        rows("SELECT key, value FROM settings ORDER BY key", &|r| {
            Ok(Record::Setting {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        rows(
            "SELECT name, description, built_in FROM roles ORDER BY name",
            &|r| {
                Ok(Record::Role {
                    name: r.get(0)?,
                    description: r.get(1)?,
                    built_in: r.get(2)?,
                })
            },
        )?;
        rows(
            "SELECT id, created_at, created_by FROM users ORDER BY id",
            &|r| {
                Ok(Record::User {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    created_by: r.get(2)?,
                })
            },
        )?;
        rows(
            "SELECT user_id, role, assigned_by, assigned_at FROM user_roles ORDER BY user_id, role",
            &|r| {
                Ok(Record::UserRole {
                    user_id: r.get(0)?,
                    role: r.get(1)?,
                    assigned_by: r.get(2)?,
                    assigned_at: r.get(3)?,
                })
            },
        )?;
        rows(
            "SELECT id, public_id, user_id, name, description, secret_hash, created_at,
                    created_by, expires_at, last_used_at
             FROM tokens ORDER BY id",
            &|r| {
                Ok(Record::Token {
                    id: r.get(0)?,
                    public_id: r.get(1)?,
                    user_id: r.get(2)?,
                    name: r.get(3)?,
                    description: r.get(4)?,
                    secret_hash: r.get(5)?,
                    created_at: r.get(6)?,
                    created_by: r.get(7)?,
                    expires_at: r.get(8)?,
                    last_used_at: r.get(9)?,
                })
            },
        )?;
        rows(
            "SELECT token_id, user_id, role, assigned_by, assigned_at FROM token_roles
             ORDER BY token_id, role",
            &|r| {
                Ok(Record::TokenRole {
                    token_id: r.get(0)?,
                    user_id: r.get(1)?,
                    role: r.get(2)?,
                    assigned_by: r.get(3)?,
                    assigned_at: r.get(4)?,
                })
            },
        )?;
        rows(
            "SELECT id, at, actor, action, target, subject, outcome FROM audit ORDER BY id",
            &|r| {
                Ok(Record::Audit {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    subject: r.get(5)?,
                    outcome: r.get(6)?,
                })
            },
        )?;
        // AUTOINCREMENT's high-water mark: above every id ever given, deleted ones too.
        rows(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tokens'), 0),
                        coalesce((SELECT max(id) FROM tokens), 0))",
            &|r| Ok(Record::TokenIdsUsed(r.get(0)?)),
        )
    }

    fn import(&self, record: &Record) -> Result<()> {
        let tx = &self.tx;
        match record {
            Record::Setting { key, value } => tx
                .prepare_cached(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute((key, value)),
            Record::Role {
                name,
                description,
                built_in,
            } => tx
                .prepare_cached(
                    "INSERT INTO roles (name, description, built_in) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE
                     SET description = excluded.description, built_in = excluded.built_in",
                )?
                .execute((name, description, built_in)),
            Record::User {
                id,
                created_at,
                created_by,
            } => tx
                .prepare_cached(
                    "INSERT INTO users (id, created_at, created_by) VALUES (?1, ?2, ?3)",
                )?
                .execute((id, created_at, created_by)),
            Record::UserRole {
                user_id,
                role,
                assigned_by,
                assigned_at,
            } => tx
                .prepare_cached(
                    "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute((user_id, role, assigned_by, assigned_at)),
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
            } => tx
                .prepare_cached(
                    "INSERT INTO tokens (id, public_id, user_id, name, description, secret_hash,
                                         created_at, created_by, expires_at, last_used_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(rusqlite::params![
                    id,
                    public_id,
                    user_id,
                    name,
                    description,
                    secret_hash,
                    created_at,
                    created_by,
                    expires_at,
                    last_used_at
                ]),
            Record::TokenRole {
                token_id,
                user_id,
                role,
                assigned_by,
                assigned_at,
            } => tx
                .prepare_cached(
                    "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute((token_id, user_id, role, assigned_by, assigned_at)),
            Record::Audit {
                id,
                at,
                actor,
                action,
                target,
                subject,
                outcome,
            } => tx
                .prepare_cached(
                    "INSERT INTO audit (id, at, actor, action, target, subject, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute((id, at, actor, action, target, subject, outcome)),
            Record::TokenIdsUsed(used) => {
                tx.execute(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT 'tokens', 0
                     WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tokens')",
                    [],
                )?;
                tx.execute(
                    "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'tokens'",
                    [used],
                )
            }
        }?;
        Ok(())
    }
}
