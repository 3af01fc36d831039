//! The schema, as an append-only list of migrations keyed by `PRAGMA user_version`.
//!
//! Never edit a released entry: add a new one. The invariants of DESIGN §3 live here
//! as foreign keys and triggers, so no code path can break them.

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
];
