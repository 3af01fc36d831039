//! An isolated environment per test: its own database, config folder and home, no
//! inherited OSMO_* variables, and helpers that show the whole run when an assertion fails.

use std::fmt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{Days, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;

pub struct Env {
    dir: TempDir,
    /// On a PostgreSQL run (`OSMO_TEST_POSTGRES_URL`), this test's own schema.
    server: Option<Server>,
}

/// A schema of its own on the test server, dropped with the test.
struct Server {
    /// The server's URL, as `OSMO_TEST_POSTGRES_URL` gives it.
    base: String,
    schema: String,
    /// The URL osmo is given: the base with `search_path` set to the schema.
    url: String,
    /// Further schemas the test made (`Env::another_db`), dropped with it.
    others: std::sync::Mutex<Vec<String>>,
}

impl Server {
    fn new() -> Option<Server> {
        let base = std::env::var("OSMO_TEST_POSTGRES_URL").ok()?;
        let schema = new_schema(&base);
        let url = schema_url(&base, &schema);
        Some(Server {
            base,
            schema,
            url,
            others: Default::default(),
        })
    }

    /// A connection of the test's own, in its schema.
    fn client(&self) -> postgres::Client {
        let mut client = postgres::Client::connect(&self.base, postgres::NoTls)
            .unwrap_or_else(|err| panic!("connect to {}: {err}", self.base));
        client
            .batch_execute(&format!("SET search_path = {}", self.schema))
            .unwrap();
        client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.base, postgres::NoTls) {
            for schema in std::iter::once(&self.schema).chain(self.others.lock().unwrap().iter()) {
                let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

/// A new, empty schema on the server at `base`.
fn new_schema(base: &str) -> String {
    let schema = format!("t{:016x}", rand::random::<u64>());
    postgres::Client::connect(base, postgres::NoTls)
        .unwrap_or_else(|err| panic!("connect to {base}: {err}"))
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create the test's schema");
    schema
}

/// `base` with `schema` first on the search path.
fn schema_url(base: &str, schema: &str) -> String {
    let join = if base.contains('?') { '&' } else { '?' };
    format!("{base}{join}options=-csearch_path%3D{schema}")
}

/// Mounts `mount_args` (a tmpfs, a read-only bind...) on `folder`, runs `test`, and
/// unmounts again even when `test` fails. Where this machine cannot mount (not root),
/// says so and runs nothing: returns false.
pub fn with_mount(mount_args: &[&str], folder: &Path, test: impl FnOnce()) -> bool {
    let mounted = std::process::Command::new("mount")
        .args(mount_args)
        .arg(folder)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount {mount_args:?} here (needs root and mount)");
        return false;
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(test));
    let _ = std::process::Command::new("umount").arg(folder).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    true
}

/// Runs `test` on a folder of the test's own that holds 1 MiB (a tmpfs), to fill it up.
pub fn with_small_disk(env: &Env, test: impl FnOnce(&Path)) -> bool {
    let small = env.root().join("small");
    std::fs::create_dir(&small).unwrap();
    with_mount(
        &["-t", "tmpfs", "-o", "size=1m,mode=700", "tmpfs"],
        &small,
        || test(&small),
    )
}

/// A connection holding the database's write lock until it is dropped.
pub struct WriteLock {
    _held: Box<dyn std::any::Any>,
}

/// One finished run of `osmo`.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n$ osmo {}\nexit: {}\n--- stdout\n{}--- stderr\n{}---",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        // OSMO_DB names a file in this folder; only the default data folder is created
        // by osmo itself (DESIGN §1).
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.path().join("data"))
            .expect("data folder");
        std::fs::create_dir(dir.path().join("tmp")).expect("temporary folder");
        Env {
            dir,
            server: Server::new(),
        }
    }

    /// Whether this run's database is on PostgreSQL.
    pub fn on_server(&self) -> bool {
        self.server.is_some()
    }

    /// On a PostgreSQL run, the test's schema.
    pub fn server_schema(&self) -> Option<String> {
        self.server.as_ref().map(|server| server.schema.clone())
    }

    /// For a test of SQLite's file itself (its modes, locks, pages): true on a PostgreSQL
    /// run, after saying why the test does not apply there.
    pub fn sqlite_only(&self, why: &str) -> bool {
        if self.on_server() {
            eprintln!("not on PostgreSQL: {why}");
        }
        self.on_server()
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Another database than the test's own, not made yet: a file in the test's folder,
    /// or on a PostgreSQL run a new, empty schema.
    pub fn another_db(&self, name: &str) -> PathBuf {
        match &self.server {
            Some(server) => {
                let schema = new_schema(&server.base);
                server.others.lock().unwrap().push(schema.clone());
                PathBuf::from(schema_url(&server.base, &schema))
            }
            None => self.root().join(name),
        }
    }

    /// Takes the write lock as another writer would, and holds it until dropped.
    pub fn hold_write_lock(&self) -> WriteLock {
        match &self.server {
            Some(server) => {
                let mut client = server.client();
                client
                    .batch_execute("BEGIN; SELECT 1 FROM osmo_schema FOR UPDATE;")
                    .unwrap();
                WriteLock {
                    _held: Box::new(client),
                }
            }
            None => {
                let conn = self.sql();
                conn.execute_batch("BEGIN IMMEDIATE;").unwrap();
                WriteLock {
                    _held: Box::new(conn),
                }
            }
        }
    }

    /// Whether the database has been made (the file, or the schema's tables).
    pub fn db_exists(&self) -> bool {
        match &self.server {
            Some(_) => {
                self.count("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") > 0
            }
            None => self.db().exists(),
        }
    }

    /// The database's schema version.
    pub fn schema_version(&self) -> i64 {
        match &self.server {
            Some(_) => self.count("SELECT version FROM osmo_schema"),
            None => self
                .sql()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap(),
        }
    }

    /// The schema version a new database has on this run's backend.
    pub fn latest_schema_version(&self) -> i64 {
        if self.on_server() { 1 } else { 5 }
    }

    /// Where osmo finds the database: a file, or on a PostgreSQL run the server's URL.
    pub fn db(&self) -> PathBuf {
        match &self.server {
            Some(server) => PathBuf::from(&server.url),
            None => self.root().join("data").join("osmo.db"),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.root().join("config")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// The plain `std` command, for tests that drive the child's pipes themselves.
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.program(assert_cmd::cargo::cargo_bin!("osmo"));
        cmd.args(args);
        cmd
    }

    /// Another program (a shell, `script`) in this test's environment, for osmo runs it
    /// starts itself.
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        for var in [
            "OSMO_DB",
            "OSMO_TOKEN",
            "OSMO_TOKEN_FILE",
            "OSMO_CONFIG_FILE_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.root().join("home"))
            .env("XDG_DATA_HOME", self.root().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.root().join("xdg-config"))
            .env("OSMO_DB", self.db())
            .env("OSMO_CONFIG_FILE_DIR", self.config_dir())
            .env("TMPDIR", self.root().join("tmp"))
            .env("RUST_BACKTRACE", "1");
        cmd
    }

    pub fn run_with(&self, mut cmd: Command, args: &[&str]) -> Run {
        let out = cmd.output().expect("run osmo");
        let run = Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        // Across the whole suite: no valid token ever appears on stderr.
        assert!(
            tokens_in(&run.stderr).is_empty(),
            "stderr holds a token{run}"
        );
        run
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.cmd(args), args)
    }

    /// Runs with extra environment variables, such as `OSMO_TOKEN`.
    pub fn run_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = self.cmd(args);
        for (key, value) in vars {
            cmd.env(key, value);
        }
        self.run_with(cmd, args)
    }

    /// Runs with `input` on standard input.
    pub fn run_stdin(&self, input: &str, args: &[&str]) -> Run {
        let mut cmd = self.cmd(args);
        cmd.write_stdin(input.to_string());
        self.run_with(cmd, args)
    }

    /// Runs as the local operator even while a login session exists, by pointing
    /// `OSMO_CONFIG_FILE_DIR` at a folder with no session file.
    pub fn as_operator(&self, args: &[&str]) -> String {
        let dir = self.root().join("operator-config");
        let run = self.run_env(&[("OSMO_CONFIG_FILE_DIR", dir.to_str().unwrap())], args);
        assert_eq!(run.code, 0, "expected success{run}");
        run.stdout
    }

    /// Runs and asserts success with a quiet stderr; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "expected success{run}");
        assert!(!run.stderr.contains("panicked"), "unexpected stderr{run}");
        run.stdout
    }

    /// Runs and asserts exit `code` with one `error:` line and nothing on stdout; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(run.code, code, "wrong exit code{run}");
        assert!(run.stdout.is_empty(), "stdout should be empty{run}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one error line{run}");
        assert!(lines[0].starts_with("error: "), "expected `error: `{run}");
        run.stderr
    }

    /// Runs with `-t json` appended, asserts success, parses stdout into `T`.
    pub fn json<T: DeserializeOwned>(&self, args: &[&str]) -> T {
        let mut all = args.to_vec();
        all.extend(["-t", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|err| panic!("bad JSON ({err}):\n{out}"))
    }

    /// Opens the database through the library, as another local program would.
    pub fn store(&self) -> osmo_local::store::Store {
        let now = chrono::Utc::now().timestamp();
        let create = osmo_local::store::Create::File;
        osmo_local::setup::open(&self.db(), create, now)
            .expect("open store")
            .0
    }

    /// The one number a `SELECT count(*) ...` on the database gives.
    pub fn count(&self, sql: &str) -> i64 {
        self.value(sql)
    }

    /// The text in the first column of the first row `sql` gives.
    pub fn text(&self, sql: &str) -> String {
        self.value(sql)
    }

    fn value<T>(&self, sql: &str) -> T
    where
        T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>,
    {
        match &self.server {
            Some(server) => server
                .client()
                .query_one(sql, &[])
                .unwrap_or_else(|err| panic!("{sql}: {err}"))
                .get(0),
            None => self
                .sql()
                .query_row(sql, [], |row| row.get(0))
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
        }
    }

    /// Runs statements on the database as a second client would (SQL both backends
    /// read alike).
    pub fn exec(&self, sql: &str) {
        let done = match &self.server {
            Some(server) => server
                .client()
                .batch_execute(sql)
                .map_err(|e| e.to_string()),
            None => self.sql().execute_batch(sql).map_err(|e| e.to_string()),
        };
        done.unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// Runs a statement the database must refuse; returns its error.
    pub fn exec_fails(&self, sql: &str) -> String {
        let refused = match &self.server {
            Some(server) => server.client().batch_execute(sql).map_err(|e| {
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |db| db.message().to_string())
            }),
            None => self.sql().execute_batch(sql).map_err(|e| e.to_string()),
        };
        refused.expect_err(sql)
    }

    /// On SQLite, a second connection that keeps the -wal and -shm files from being
    /// checkpointed away when osmo exits; none on PostgreSQL.
    pub fn hold_open(&self) -> Option<rusqlite::Connection> {
        (!self.on_server()).then(|| {
            let holder = self.sql();
            holder
                .query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
                .unwrap();
            holder
        })
    }

    /// Opens the SQLite file directly, as a test's own second client, with foreign keys
    /// enforced as osmo's own connections have them.
    pub fn sql(&self) -> rusqlite::Connection {
        assert!(
            !self.on_server(),
            "sql() opens the SQLite file: use exec()/count()"
        );
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE;
        let conn = rusqlite::Connection::open_with_flags(self.db(), flags).expect("open db");
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        conn
    }

    /// Every row of every table but the audit log, which grows on failures by design
    /// (failed logins and verifies): to show a failed command changed nothing.
    pub fn dump(&self) -> String {
        self.rows(false)
    }

    /// Every row of every table, the audit log's too.
    pub fn every_row(&self) -> String {
        self.rows(true)
    }

    fn rows(&self, with_audit: bool) -> String {
        if let Some(server) = &self.server {
            return dump_server(&mut server.client(), with_audit);
        }
        if !self.db().exists() {
            return "no database".into();
        }
        let conn = self.sql();
        let mut tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        tables.retain(|t| !t.starts_with("sqlite_") && (with_audit || t != "audit"));
        let mut out = String::new();
        for table in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| {
                            row.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for row in rows {
                out.push_str(&format!("{table}: {}\n", row.unwrap().join(" | ")));
            }
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        out.push_str(&format!("user_version: {version}\n"));
        out
    }
}

/// `Env::rows` on PostgreSQL: each table's rows as JSON, in a fixed order.
fn dump_server(client: &mut postgres::Client, with_audit: bool) -> String {
    let tables: Vec<String> = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()
             AND (tablename <> 'audit' OR $1) ORDER BY 1",
            &[&with_audit],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    if tables.is_empty() {
        return "no database".into();
    }
    let mut out = String::new();
    for table in tables {
        let rows: Option<String> = client
            .query_one(
                &format!("SELECT json_agg(t ORDER BY t::text)::text FROM {table} t"),
                &[],
            )
            .unwrap()
            .get(0);
        out.push_str(&format!("{table}: {}\n", rows.unwrap_or_default()));
    }
    out
}

/// Asserts that running `args` fails with `code` and leaves the database as it was.
pub fn fails_unchanged(env: &Env, args: &[&str], code: i32) -> String {
    let before = env.dump();
    let stderr = env.fails(args, code);
    assert_eq!(
        before,
        env.dump(),
        "database changed by a failed command: {args:?}"
    );
    stderr
}

/// Every well-formed token (checksum and all) inside `text`.
pub fn tokens_in(text: &str) -> Vec<String> {
    text.match_indices("osmo_")
        .filter_map(|(at, _)| text.get(at..at + osmo_local::tokens::format::TOKEN_LEN))
        .filter(|candidate| osmo_local::tokens::format::Token::parse(candidate).is_ok())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issued {
    pub token: String,
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub description: String,
    pub roles: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
}

/// One event of `audit list -t json`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

/// `user list -t json`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserList {
    pub total_results: u64,
    pub users: Vec<UserSummary>,
}

/// One user of `user list -t json`: roles by name.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserSummary {
    pub id: String,
    pub created_at: String,
    pub created_by: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Listed {
    pub id: String,
    pub token_name: String,
    pub user_name: String,
    pub description: String,
    pub status: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

/// A date `days` from today, as `--expires-at` takes it.
pub fn in_days(days: u64) -> String {
    (Utc::now().date_naive() + Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// The token printed on the `Access token: ` line.
pub fn access_token(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("Access token: "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_string()
}

/// A user's token, made by the operator (even while a session is open).
pub fn issue_for(env: &Env, user: &str, name: &str, roles: &[&str]) -> Issued {
    let mut args = vec!["token", "set", name, "-u", user, "-t", "json"];
    if !roles.is_empty() {
        args.push("-r");
        args.extend(roles);
    }
    serde_json::from_str(&env.as_operator(&args)).unwrap()
}

/// The plaintext of a user's new token, made by the operator.
pub fn token_for(env: &Env, user: &str, name: &str, roles: &[&str]) -> String {
    issue_for(env, user, name, roles).token
}

/// Runs as the holder of `token`, through `OSMO_TOKEN`.
pub fn with_token(env: &Env, token: &str, args: &[&str]) -> Run {
    env.run_env(&[("OSMO_TOKEN", token)], args)
}

/// Runs `cmd` and kills it if it has not finished within `limit`: a guard against a
/// hang (an endless read, a wait that should not happen), never a timing budget.
pub fn run_within(
    cmd: &mut std::process::Command,
    args: &[&str],
    limit: std::time::Duration,
) -> Run {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn osmo");
    // Drain the pipes meanwhile, so a chatty child cannot block on a full one.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("osmo {args:?} was still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
