//! The seam between the rules and the database: one transaction, and the rows it reads
//! and writes, named in the domain's words.
//!
//! `Tx` is the interface each backend implements (SQLite in `sqlite/`, PostgreSQL in
//! `pg/`): the traits below, none of whose methods takes or returns a backend's type. The
//! domain modules decide what happens in one transaction; a backend only says how a row
//! is stored.
//!
//! Two rules span rows, and hold only because of how a backend runs a write transaction:
//! - the token limit: `count_live_tokens` and `insert_token` in one `write`;
//! - the last admin: the schema's trigger counts the other holders of `osmo-admin` inside
//!   the deleting transaction.
//!
//! Both need the writers of one database to run one at a time. SQLite's `write` is
//! `BEGIN IMMEDIATE`, its single writer; PostgreSQL's takes a row lock that every write
//! transaction of the same database takes first (see `pg/mod.rs`).

use serde::Serialize;

use crate::error::Result;
use crate::time::Timestamp;

/// What a new database is given inside its first migration's transaction (the first
/// admin); returns whether it did anything. The rules of that live above the store.
pub type Bootstrap<'a> = &'a dyn Fn(&Tx<'_>) -> Result<bool>;

/// What opening a path that holds no file may do (DESIGN §1): a mistyped `--db` must
/// not quietly become a new database, and a token caller has no database to be new in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Refuse: `no osmo database at PATH` (login, verify, token callers, completion).
    Never,
    /// Create the file in a folder that exists (a `--db`/`$OSMO_DB` path).
    File,
    /// Create the file and any missing folders (the default data folder).
    WithFolders,
}

/// What the database looks like from outside its tables (`db info`).
#[derive(Debug)]
pub struct FileInfo {
    pub schema_version: i64,
    /// SQLite's journal mode; none on PostgreSQL.
    pub journal_mode: Option<String>,
    /// The file's size, or PostgreSQL's `pg_database_size`.
    pub size_bytes: u64,
    /// The size of SQLite's write-ahead log; none on PostgreSQL.
    pub wal_bytes: Option<u64>,
}

/// Whether a reader handed rows one at a time wants more (a closed pipe does not).
pub type Flow = std::ops::ControlFlow<()>;

/// One read or write transaction. Commits when the closure given to `Store::read`,
/// `Store::write` or `Store::write_durable` returns `Ok`; rolls back otherwise.
pub type Tx<'c> = dyn Rows + 'c;

/// Everything a transaction can do, whatever the backend.
pub trait Rows:
    UserRows + TokenRows + RoleRows + SessionRows + SettingRows + AuditRows + CheckRows + CopyRows
{
}

impl<T> Rows for T where
    T: UserRows
        + TokenRows
        + RoleRows
        + SessionRows
        + SettingRows
        + AuditRows
        + CheckRows
        + CopyRows
{
}

/// Users and the roles they hold.
pub trait UserRows {
    fn user_exists(&self, id: &str) -> Result<bool>;
    fn find_user(&self, id: &str) -> Result<Option<UserRow>>;
    /// Inserts a user; false when the id is taken.
    fn insert_user(&self, id: &str, created_at: i64, created_by: &str) -> Result<bool>;
    /// Deletes a user; the schema deletes its roles, tokens, token roles and sessions.
    fn delete_user(&self, id: &str) -> Result<bool>;
    /// The names of the roles `user` holds, sorted.
    fn user_roles(&self, user: &str) -> Result<Vec<String>>;
    /// The roles `user` holds, with who gave them when, sorted.
    fn user_grants(&self, user: &str) -> Result<Vec<RoleGrant>>;
    /// Gives `user` a role; false when it held it already.
    fn grant_role(&self, user: &str, role: &str, by: &str, at: i64) -> Result<bool>;
    /// Takes a role from `user` (and, by the schema, from the user's tokens); false when
    /// the user did not hold it. Removing the last `osmo-admin` is a conflict.
    fn revoke_role(&self, user: &str, role: &str) -> Result<bool>;
    /// How many users hold `role`.
    fn count_role_holders(&self, role: &str) -> Result<i64>;
    /// How many users have an id starting with `prefix` and hold any of `roles` (or any
    /// role at all when `roles` is empty: every user).
    fn count_users(&self, prefix: &str, roles: &[String]) -> Result<i64>;
    /// The first `limit` of those users by id, each with its roles (sorted), one at a
    /// time, in the order of a key: nothing that grows with the table is sorted.
    fn each_user(
        &self,
        prefix: &str,
        roles: &[String],
        limit: u32,
        each: &mut dyn FnMut(UserRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()>;
    /// The first `limit` user ids starting with `prefix`, in order.
    fn user_ids(&self, prefix: &str, limit: u32) -> Result<Vec<String>>;
}

/// Tokens and the roles each carries.
pub trait TokenRows {
    /// `owner`'s token called `name`.
    fn find_token(&self, owner: &str, name: &str) -> Result<Option<TokenRef>>;
    /// The first `limit` names of `owner`'s tokens starting with `prefix`, in order.
    fn token_names(&self, owner: &str, prefix: &str, limit: u32) -> Result<Vec<String>>;
    /// The token a presented secret names by its public id.
    fn find_token_by_public_id(&self, public_id: &str) -> Result<Option<StoredToken>>;
    /// How many of `owner`'s tokens are unexpired at `now`, leaving out `except`, counting
    /// no further than `up_to`: the limit check needs to know only whether the limit is
    /// reached, whatever number of tokens the owner holds.
    fn count_live_tokens(
        &self,
        owner: &str,
        now: i64,
        except: Option<i64>,
        up_to: i64,
    ) -> Result<i64>;
    /// How many tokens `owner` has, expired ones too.
    fn count_user_tokens(&self, owner: &str) -> Result<i64>;
    /// Inserts a token and its role grants; returns its internal id, which is never one
    /// a deleted or rotated token had (DESIGN §2).
    fn insert_token(&self, token: &NewTokenRow<'_>, grants: &[RoleGrant]) -> Result<i64>;
    /// Deletes a token; the schema ends its sessions and drops its grants.
    fn delete_token(&self, row_id: i64) -> Result<()>;
    /// Records a use at `now`.
    fn touch_token(&self, row_id: i64, now: i64) -> Result<()>;
    /// Replaces a token's hash only where it is still exactly `old`.
    fn replace_token_hash(&self, row_id: i64, old: &str, new: &str) -> Result<()>;
    /// A token's role names, sorted.
    fn token_roles(&self, row_id: i64) -> Result<Vec<String>>;
    /// A token's grants, sorted by role.
    fn token_grants(&self, row_id: i64) -> Result<Vec<RoleGrant>>;
    /// `owner`'s tokens by name, or every token by owner and name, each with its roles
    /// (sorted), one at a time, as the rows come from the owner-and-name key.
    fn each_token(
        &self,
        owner: Option<&str>,
        each: &mut dyn FnMut(TokenRow, Vec<String>) -> Result<Flow>,
    ) -> Result<()>;
    /// As `each_token`, collected.
    fn list_tokens(&self, owner: Option<&str>) -> Result<Vec<(TokenRow, Vec<String>)>> {
        let mut all = Vec::new();
        self.each_token(owner, &mut |row, roles| {
            all.push((row, roles));
            Ok(Flow::Continue(()))
        })?;
        Ok(all)
    }
}

/// The role catalogue.
pub trait RoleRows {
    fn role_exists(&self, name: &str) -> Result<bool>;
    /// Whether `name` is built in; `None` when there is no such role.
    fn role_built_in(&self, name: &str) -> Result<Option<bool>>;
    /// Every role, by name.
    fn roles(&self) -> Result<Vec<Role>>;
    /// Adds a custom role; false when the name is taken.
    fn insert_role(&self, name: &str, description: &str) -> Result<bool>;
    /// Deletes a custom role (never a built-in one); the schema takes it from every user
    /// and token. False when there was no such custom role.
    fn delete_custom_role(&self, name: &str) -> Result<bool>;
    /// How many tokens carry `role`.
    fn count_tokens_with_role(&self, role: &str) -> Result<i64>;
}

/// Login sessions, each tied to the token it was opened with.
pub trait SessionRows {
    fn insert_session(
        &self,
        id: &str,
        token_row_id: i64,
        secret_hash: &str,
        url: Option<&str>,
        now: i64,
    ) -> Result<()>;
    /// A session with its token; `None` once either is gone.
    fn find_session(&self, id: &str) -> Result<Option<SessionRow>>;
    fn touch_session(&self, id: &str, now: i64) -> Result<()>;
    /// Ends a session; one already gone is fine.
    fn delete_session(&self, id: &str) -> Result<()>;
}

/// Stored settings: key and text value.
pub trait SettingRows {
    /// A stored value, if any.
    fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Every stored key and value.
    fn settings(&self) -> Result<Vec<(String, String)>>;
    fn put_setting(&self, key: &str, value: &str) -> Result<()>;
}

/// The audit trail.
pub trait AuditRows {
    fn append_audit(&self, event: &NewEvent<'_>) -> Result<()>;
    /// The newest `count` events, or only those where `user` is actor or subject, newest
    /// first, one at a time, read backwards along an index.
    fn each_audit_event(
        &self,
        user: Option<&str>,
        count: u32,
        each: &mut dyn FnMut(Event) -> Result<Flow>,
    ) -> Result<()>;
}

/// What `db check` and `db info` ask of the whole database.
pub trait CheckRows {
    /// The engine's own check of its pages and indexes: one line per problem.
    fn integrity_problems(&self) -> Result<Vec<String>>;
    /// Rows whose references point at nothing: (table, parent table).
    fn broken_references(&self) -> Result<Vec<(String, String)>>;
    /// Tokens that carry no role at all: (owner, token name).
    fn tokens_without_roles(&self) -> Result<Vec<(String, String)>>;
    /// Token roles their token's owner does not hold: (owner, token name, role).
    fn token_roles_not_held(&self) -> Result<Vec<(String, String, String)>>;
    /// How many rows a table holds.
    fn count_rows(&self, table: Table) -> Result<i64>;
    /// How many tokens are unexpired at `now`.
    fn count_all_live_tokens(&self, now: i64) -> Result<i64>;
    /// Ends every session (a restored database's sessions belong to another time).
    fn delete_all_sessions(&self) -> Result<()>;
}

/// Moving every row from one database to another, of either kind (`db copy`, `db backup`
/// and `db restore` across kinds): ids, hashes and timestamps as they are.
pub trait CopyRows {
    /// Every row but sessions, parents before children, one at a time.
    fn export(&self, each: &mut dyn FnMut(Record) -> Result<()>) -> Result<()>;
    /// Stores one exported row as it is (a built-in role's row replaces the one the
    /// schema made), into a database with no rows of its own but the built-in roles.
    fn import(&self, record: &Record) -> Result<()>;
}

/// Every id starting with `prefix` lies in `[prefix, prefix + DEL)`: ids and names hold
/// only characters below DEL, so the range has an upper end an index can stop at (both
/// backends compare bytewise: SQLite's default, PostgreSQL's `COLLATE "C"`).
pub(super) fn id_range(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}\u{7f}"))
}

/// The tables `count_rows` counts.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Users,
    Roles,
    Tokens,
    Sessions,
    Audit,
}

/// One stored row, whole, as `CopyRows` moves it. Serialized, a row is an object whose
/// keys are its table's column names.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Record {
    Setting {
        key: String,
        value: String,
    },
    User {
        id: String,
        created_at: i64,
        created_by: String,
    },
    Role {
        name: String,
        description: String,
        built_in: bool,
    },
    UserRole {
        user_id: String,
        role: String,
        assigned_by: String,
        assigned_at: i64,
    },
    Token {
        id: i64,
        public_id: String,
        user_id: String,
        name: String,
        description: String,
        secret_hash: String,
        created_at: i64,
        created_by: String,
        expires_at: i64,
        last_used_at: Option<i64>,
    },
    TokenRole {
        token_id: i64,
        user_id: String,
        role: String,
        assigned_by: String,
        assigned_at: i64,
    },
    Audit {
        id: i64,
        at: i64,
        actor: String,
        action: String,
        target: String,
        subject: Option<String>,
        outcome: String,
    },
    /// The highest token id ever given (deleted tokens' too), so the destination never
    /// gives one again (DESIGN §2). Comes last.
    TokenIdsUsed(i64),
}

/// One role held by a user or a token, and who gave it when.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role_name: String,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
}

/// A role of the catalogue.
#[derive(Debug, Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub built_in: bool,
}

/// A user's own row.
#[derive(Debug)]
pub struct UserRow {
    pub id: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A token as the commands that name one (by owner and name) find it.
#[derive(Debug)]
pub struct TokenRef {
    pub row_id: i64,
    pub public_id: String,
    pub description: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A token as `token list` shows it, with its roles, sorted.
#[derive(Debug)]
pub struct TokenRow {
    pub row_id: i64,
    pub public_id: String,
    pub name: String,
    pub user_id: String,
    pub description: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A token as a presented secret is checked against it.
#[derive(Debug)]
pub struct StoredToken {
    pub row_id: i64,
    pub name: String,
    pub user_id: String,
    pub secret_hash: String,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

/// A new token row: everything but its internal id, which the store assigns.
pub struct NewTokenRow<'a> {
    pub public_id: &'a str,
    pub owner: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub secret_hash: &'a str,
    pub created_at: i64,
    pub created_by: &'a str,
    pub expires_at: i64,
}

/// A login session joined with the token it stands for.
#[derive(Debug)]
pub struct SessionRow {
    pub secret_hash: String,
    pub last_used_at: i64,
    pub url: Option<String>,
    pub token_row_id: i64,
    pub public_id: String,
    pub token_name: String,
    pub user_id: String,
    pub expires_at: i64,
}

/// One audit event as stored.
#[derive(Debug, Serialize)]
pub struct Event {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

/// One audit event to append.
pub struct NewEvent<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    /// The user the target belongs to, so `audit list -u` finds events about a user.
    pub subject: Option<&'a str>,
    pub outcome: &'a str,
}
