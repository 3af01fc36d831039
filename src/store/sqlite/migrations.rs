//! The schema, as an append-only list of migrations keyed by `PRAGMA user_version`.
//!
//! Never edit a released entry: add a new one. The invariants of DESIGN §3 live here
//! as foreign keys and triggers, so no code path can break them.

use rusqlite::Transaction;

/// `PRAGMA application_id` of an osmo database ("OSMO" in ASCII).
pub const APPLICATION_ID: i64 = 0x4F53_4D4F;

pub const MIGRATIONS: &[&str] = &[
    // 1: users, roles, tokens, settings, audit.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE users (
        id         TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
    ) STRICT;

    CREATE TABLE roles (
        name        TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        built_in    INTEGER NOT NULL DEFAULT 0 CHECK (built_in IN (0, 1))
    ) STRICT;

    CREATE TABLE user_roles (
        user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role        TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
        assigned_by TEXT NOT NULL,
        assigned_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, role)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX user_roles_by_role ON user_roles (role, user_id);

    CREATE TABLE tokens (
        id           INTEGER PRIMARY KEY,
        public_id    TEXT NOT NULL UNIQUE,
        user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        description  TEXT NOT NULL DEFAULT '',
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        created_by   TEXT NOT NULL,
        expires_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        UNIQUE (user_id, name),
        UNIQUE (id, user_id)
    ) STRICT;

    -- A token role must be a role its owner holds: removing the role from the user
    -- removes it from the user's tokens, and a token can never gain a role its owner lacks.
    CREATE TABLE token_roles (
        token_id    INTEGER NOT NULL,
        user_id     TEXT NOT NULL,
        role        TEXT NOT NULL,
        assigned_by TEXT NOT NULL,
        assigned_at INTEGER NOT NULL,
        PRIMARY KEY (token_id, role),
        FOREIGN KEY (token_id, user_id) REFERENCES tokens (id, user_id) ON DELETE CASCADE,
        FOREIGN KEY (user_id, role) REFERENCES user_roles (user_id, role) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX token_roles_by_holder ON token_roles (user_id, role);

    -- Token roles are immutable once given.
    CREATE TRIGGER token_roles_immutable BEFORE UPDATE ON token_roles
    BEGIN
        SELECT RAISE(ABORT, 'osmo: token roles are immutable');
    END;

    -- There is always someone holding osmo-admin.
    CREATE TRIGGER keep_last_admin BEFORE DELETE ON user_roles
    WHEN OLD.role = 'osmo-admin'
        AND (SELECT count(*) FROM user_roles WHERE role = 'osmo-admin') <= 1
    BEGIN
        SELECT RAISE(ABORT, 'osmo: last admin');
    END;

    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT NOT NULL,
        -- the user the target belongs to, so `audit list -u` finds events about a user
        subject TEXT,
        outcome TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_actor ON audit (actor, id);
    CREATE INDEX audit_by_subject ON audit (subject, id);

    INSERT INTO roles (name, description, built_in) VALUES
        ('osmo-admin', 'Full administrative access', 1),
        ('osmo-user', 'Standard user access', 1),
        ('osmo-backend', 'Backend operator access', 1);
    "#,
    // 2: login sessions. A session dies with its token: deleted, rotated, or its user deleted.
    r#"
    CREATE TABLE sessions (
        id           TEXT PRIMARY KEY,
        token_id     INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        secret_hash  TEXT NOT NULL,
        url          TEXT,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_token ON sessions (token_id);
    "#,
    // 3: `token list -u USER` reads a user's tokens from this index alone: a few
    // neighbouring pages, instead of one table page per token wherever it was inserted.
    r#"
    CREATE INDEX tokens_by_owner ON tokens
        (user_id, name, public_id, description, created_at, expires_at, last_used_at);
    "#,
    // 4: a token's internal id is never given to another token (DESIGN §2): without
    // AUTOINCREMENT, SQLite hands a deleted or rotated token's id to the next insert, and
    // a session or hash upgrade keyed by that id lands on the wrong token. SQLite cannot
    // add AUTOINCREMENT in place, so the table is rebuilt (foreign keys are off while
    // migrations run, so dropping the old table cascades nothing).
    r#"
    CREATE TABLE tokens_new (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        public_id    TEXT NOT NULL UNIQUE,
        user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        description  TEXT NOT NULL DEFAULT '',
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        created_by   TEXT NOT NULL,
        expires_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        UNIQUE (user_id, name),
        UNIQUE (id, user_id)
    ) STRICT;
    INSERT INTO tokens_new (id, public_id, user_id, name, description, secret_hash,
                            created_at, created_by, expires_at, last_used_at)
        SELECT id, public_id, user_id, name, description, secret_hash,
               created_at, created_by, expires_at, last_used_at
        FROM tokens;
    DROP TABLE tokens;
    ALTER TABLE tokens_new RENAME TO tokens;
    CREATE INDEX tokens_by_owner ON tokens
        (user_id, name, public_id, description, created_at, expires_at, last_used_at);
    "#,
    // 5: the token limit counts an owner's unexpired tokens only as far as the limit;
    // with this index that is a few entries, however many expired tokens the owner keeps.
    r#"
    CREATE INDEX tokens_by_owner_expiry ON tokens (user_id, expires_at);
    "#,
];

/// Applies migrations `from..to` (counted from 0) and records the version reached.
pub(super) fn apply(tx: &Transaction<'_>, from: usize, to: usize) -> rusqlite::Result<()> {
    for (done, migration) in MIGRATIONS.iter().enumerate().take(to).skip(from) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", done as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table, index and trigger, as SQLite prints them.
    fn schema(conn: &rusqlite::Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| {
            Ok(format!(
                "{} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default()
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    fn migrated(steps: &[(usize, usize)]) -> rusqlite::Connection {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        for &(from, to) in steps {
            let tx = conn.transaction().unwrap();
            apply(&tx, from, to).unwrap();
            tx.commit().unwrap();
        }
        conn
    }

    /// A user with a role and a token carrying it, written as the first schema allows.
    const ROWS: &str = "
        INSERT INTO users VALUES ('alice', 1, 'system');
        INSERT INTO user_roles VALUES ('alice', 'osmo-user', 'system', 1);
        INSERT INTO tokens (id, public_id, user_id, name, secret_hash, created_at, created_by, expires_at)
            VALUES (7, 'PUBLIC7', 'alice', 't', 'hash', 1, 'system', 99);
        INSERT INTO token_roles VALUES (7, 'alice', 'osmo-user', 'system', 1);";

    #[test]
    fn upgrading_from_every_version_reaches_the_same_schema_and_keeps_rows() {
        let latest = MIGRATIONS.len();
        let fresh = schema(&migrated(&[(0, latest)]));
        for k in 0..=latest {
            let mut conn = migrated(&[(0, k)]);
            if k > 0 {
                conn.execute_batch(ROWS).unwrap();
            }
            let tx = conn.transaction().unwrap();
            apply(&tx, k, latest).unwrap();
            tx.commit().unwrap();
            assert_eq!(schema(&conn), fresh, "stopping after migration {k}");
            let version: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(version, latest as i64);
            let broken: i64 = conn
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(broken, 0, "after migration {k}");
            if k > 0 {
                let kept: (i64, String) = conn
                    .query_row(
                        "SELECT t.id, r.role FROM tokens t JOIN token_roles r ON r.token_id = t.id",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(kept, (7, "osmo-user".to_string()), "after migration {k}");
                // Deleting the highest id and inserting again never reuses it.
                conn.execute_batch(
                    "DELETE FROM tokens WHERE id = 7;
                     INSERT INTO tokens (public_id, user_id, name, secret_hash, created_at, created_by, expires_at)
                         VALUES ('PUBLIC8', 'alice', 'u', 'hash', 1, 'system', 99);",
                )
                .unwrap();
                let id: i64 = conn
                    .query_row("SELECT id FROM tokens", [], |r| r.get(0))
                    .unwrap();
                assert!(id > 7, "after migration {k}: id {id} reused");
            }
        }
    }

    #[test]
    fn applying_nothing_more_changes_nothing() {
        let latest = MIGRATIONS.len();
        let conn = migrated(&[(0, latest)]);
        let before = schema(&conn);
        let tx = rusqlite::Connection::unchecked_transaction(&conn).unwrap();
        apply(&tx, latest, latest).unwrap();
        tx.commit().unwrap();
        assert_eq!(schema(&conn), before);
    }
}
