//! The database file: creation, modes, init, migrations and refusing files that are not ours.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::util::Env;

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_use_creates_private_files() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    assert_eq!(env.schema_version(), env.latest_schema_version());
    if env.on_server() {
        return;
    }
    assert_eq!(mode(&env.db()), 0o600);
    assert_eq!(mode(env.db().parent().unwrap()), 0o700);
    let conn = env.sql();
    let journal: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
}

#[test]
fn db_flag_and_home_expansion() {
    let env = Env::new();
    std::fs::create_dir_all(env.root().join("home/elsewhere")).unwrap();
    env.ok(&["--db", "~/elsewhere/o.db", "user", "create", "zed"]);
    let path = env.root().join("home/elsewhere/o.db");
    assert!(path.exists());
    // The flag wins over OSMO_DB, which was left untouched.
    assert!(!env.db_exists());
    let out = env.ok(&["user", "get", "zed", "--db", path.to_str().unwrap()]);
    assert!(out.starts_with("User ID: zed"), "{out}");
}

#[test]
fn init_names_the_first_admin_once() {
    let env = Env::new();
    let out = env.ok(&["init", "--admin", "root@example.com"]);
    assert!(out.contains("root@example.com"), "{out}");
    let admin: serde_json::Value = env.json(&["user", "get", "root@example.com"]);
    assert_eq!(admin["roles"][0]["role_name"], "osmo-admin");
    env.fails(&["user", "get", "admin"], 4);
    let before = env.dump();
    env.fails(&["init", "--admin", "other"], 5);
    assert_eq!(before, env.dump());
    let fresh = Env::new();
    fresh.fails(&["init", "--admin", "bad id"], 2);
    assert!(!fresh.db_exists());
}

#[test]
fn migrating_twice_is_a_no_op() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let before = env.dump();
    env.ok(&["role", "list"]);
    assert_eq!(before, env.dump());
    let schema_objects = if env.on_server() {
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema()"
    } else {
        "SELECT count(*) FROM sqlite_schema"
    };
    let objects = env.count(schema_objects);
    env.ok(&["config", "list"]);
    assert_eq!(objects, env.count(schema_objects));
}

#[test]
fn a_newer_schema_is_refused_unchanged() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let newer = env.latest_schema_version() + 1;
    if env.on_server() {
        env.exec(&format!("UPDATE osmo_schema SET version = {newer}"));
    } else {
        env.sql()
            .pragma_update(None, "user_version", newer)
            .unwrap();
    }
    let before = env.every_row();
    let file = (!env.on_server()).then(|| fs::read(env.db()).unwrap());
    let err = env.fails(&["role", "list"], 1);
    assert!(err.contains("newer osmo"), "{err}");
    assert_eq!(before, env.every_row());
    assert_eq!(
        file,
        (!env.on_server()).then(|| fs::read(env.db()).unwrap())
    );
}

#[test]
fn files_that_are_not_osmo_databases_are_refused_unchanged() {
    let env = Env::new();
    if env.sqlite_only("files of other kinds (security.rs has a schema of others' tables)") {
        return;
    }
    fs::create_dir_all(env.db().parent().unwrap()).unwrap();

    let text = b"just some notes, not a database at all\n".repeat(200);
    fs::write(env.db(), &text).unwrap();
    let err = env.fails(&["user", "list"], 1);
    assert!(err.contains("not an osmo database"), "{err}");
    assert_eq!(fs::read(env.db()).unwrap(), text);

    fs::remove_file(env.db()).unwrap();
    let other = rusqlite::Connection::open(env.db()).unwrap();
    other
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(other);
    let before = fs::read(env.db()).unwrap();
    let err = env.fails(&["user", "list"], 1);
    assert!(err.contains("not an osmo database"), "{err}");
    assert_eq!(fs::read(env.db()).unwrap(), before);

    fs::remove_file(env.db()).unwrap();
    fs::create_dir(env.db()).unwrap();
    let err = env.fails(&["user", "list"], 1);
    assert!(err.contains("directory"), "{err}");
}

/// `fixtures/schema-v1.db` was written by the first released schema (osmo at commit
/// ffc1b78); `schema-v1.tokens` holds the tokens it gave out: two live until 2099, one
/// that expired 90 seconds after it was made.
#[test]
fn a_first_schema_database_upgrades_in_place() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let env = Env::new();
    if env.sqlite_only(
        "the fixture is a file of SQLite's first schema (safety.rs restores it onto PostgreSQL)",
    ) {
        return;
    }
    fs::create_dir_all(env.db().parent().unwrap()).unwrap();
    fs::copy(fixtures.join("schema-v1.db"), env.db()).unwrap();
    let version: i64 = env
        .sql()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let tokens = fs::read_to_string(fixtures.join("schema-v1.tokens")).unwrap();
    let tokens: Vec<&str> = tokens.lines().collect();

    let users: serde_json::Value = env.json(&["user", "list"]);
    let ids: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["admin", "alice", "bob"]);
    assert_eq!(env.schema_version(), env.latest_schema_version());
    assert_eq!(env.ok(&["config", "get", "max-tokens-per-user"]), "7\n");
    let roles: serde_json::Value = env.json(&["token", "roles", "ci", "-u", "alice"]);
    assert_eq!(roles["roles"][1]["role_name"], "team");

    assert_eq!(env.run_stdin(tokens[0], &["token", "verify"]).code, 0);
    assert_eq!(env.run_stdin(tokens[1], &["token", "verify"]).code, 0);
    let run = env.run_stdin(tokens[2], &["token", "verify"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (6, "error: invalid token (expired)\n")
    );
    // The new sessions table works with the old tokens.
    env.ok(&["login", "--token", tokens[0]]);
    assert_eq!(
        env.json::<serde_json::Value>(&["profile", "list"])["user"]["name"],
        "alice"
    );
    env.ok(&["logout"]);

    // Running migrations again changes nothing.
    let before = env.dump();
    env.ok(&["role", "list"]);
    assert_eq!(before, env.dump());
}

/// The -wal file is kept between processes but emptied by the last one to close, so it
/// cannot grow and no process has to replay what earlier ones already checkpointed.
#[test]
fn the_wal_is_emptied_when_the_last_process_exits() {
    let env = Env::new();
    if env.sqlite_only("SQLite's WAL file") {
        return;
    }
    for i in 0..5 {
        env.ok(&["user", "create", &format!("u{i}"), "-r", "osmo-user"]);
        env.ok(&["token", "set", "t", "-u", &format!("u{i}")]);
    }
    let mut wal = env.db().into_os_string();
    wal.push("-wal");
    assert_eq!(fs::metadata(&wal).unwrap().len(), 0);
}
