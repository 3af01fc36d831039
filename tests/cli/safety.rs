//! Data safety (DESIGN §7, §5 db): first use under a race, read-only media, a verify that
//! never waits on writers, faults that say what happened, and db info/check/backup/restore.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use crate::util::{
    Env, Issued, Run, fails_unchanged, run_within, token_for, with_mount, with_small_disk,
    with_token,
};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

// 1. First use races.

fn race(env: &Env, db: &Path, args: &[&str], n: usize) -> Vec<Run> {
    let children: Vec<(Child, Vec<&str>)> = (0..n)
        .map(|_| {
            let mut cmd = env.std_cmd(args);
            cmd.env("OSMO_DB", db)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (cmd.spawn().unwrap(), args.to_vec())
        })
        .collect();
    children
        .into_iter()
        .map(|(child, args)| {
            let out = child.wait_with_output().unwrap();
            Run {
                args: args.iter().map(|a| a.to_string()).collect(),
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

#[test]
fn sixteen_processes_creating_one_database_all_succeed() {
    let env = Env::new();
    for round in 0..30 {
        let db = env.another_db(&format!("r{round}.db"));
        for run in race(&env, &db, &["user", "list", "-t", "json"], 16) {
            assert_eq!(run.code, 0, "round {round}{run}");
        }
    }
}

#[test]
fn sixteen_racing_inits_make_one_database() {
    let env = Env::new();
    for round in 0..30 {
        let db = env.another_db(&format!("i{round}.db"));
        let runs = race(&env, &db, &["init", "--admin", "boss"], 16);
        let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
        assert_eq!(
            codes.iter().filter(|&&c| c == 0).count(),
            1,
            "round {round}: {codes:?}"
        );
        for run in runs.iter().filter(|r| r.code != 0) {
            assert_eq!(run.code, 5, "round {round}{run}");
        }
    }
}

// 2. Read-only media.

/// A database with a token, and that token.
fn world(env: &Env) -> String {
    let token = token_for(env, "admin", "t", &[]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    token
}

/// What must hold on a database the caller cannot write, run through `osmo`.
fn reads_work_and_writes_are_refused(
    osmo: impl Fn(&[&str], Option<&str>) -> Run,
    db: &Path,
    token: &str,
) {
    let run = osmo(&["user", "list", "-t", "json"], None);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("alice"), "{run}");
    let run = osmo(&["token", "verify"], Some(token));
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.starts_with("valid: t of admin"), "{run}");
    // The last character changed (to A, or to B if it was A): one the checksum refuses.
    let last = if token.ends_with('A') { "B" } else { "A" };
    let bad = format!("{}{last}", &token[..token.len() - 1]);
    let run = osmo(&["token", "verify"], Some(&bad));
    assert_eq!(run.code, 6, "{run}");
    let run = osmo(&["db", "check"], None);
    assert_eq!((run.code, run.stdout.as_str()), (0, "ok\n"), "{run}");
    let run = osmo(&["token", "list"], None);
    assert_eq!(run.code, 0, "{run}");
    // A file refuses a restore before reading the backup; a server, once it tries to write.
    if !db.to_string_lossy().contains("://") {
        let elsewhere = db.with_file_name("restore-me.db");
        let run = osmo(&["db", "restore", elsewhere.to_str().unwrap(), "-f"], None);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.ends_with("is read-only\n"), "{run}");
    }
    let run = osmo(&["user", "create", "bob"], None);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.stderr,
        format!("error: database {} is read-only\n", db.display()),
        "{run}"
    );
}

/// Runs `osmo` with `stdin` on standard input, as `setpriv` would start it, or directly.
fn run_as(env: &Env, prefix: &[&str], db: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let osmo = assert_cmd::cargo::cargo_bin!("osmo");
    let mut cmd = match prefix.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(osmo);
            cmd
        }
        None => Command::new(osmo),
    };
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("HOME", env.root().join("nobody-home"))
        .env("OSMO_DB", db)
        .env("OSMO_CONFIG_FILE_DIR", env.root().join("nobody-config"));
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.write_stdin(stdin.unwrap_or("").to_string());
    env.run_with(cmd, args)
}

#[test]
fn an_immutable_database_reads_and_refuses_writes() {
    let env = Env::new();
    if env.sqlite_only("chattr +i makes a file immutable") {
        return;
    }
    let token = world(&env);
    let db = env.db();
    if !Command::new("chattr")
        .arg("+i")
        .arg(&db)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: chattr +i is not available here (needs root and a filesystem with it)");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let before = fs::read(&db).unwrap();
        reads_work_and_writes_are_refused(
            |args, stdin| run_as(&env, &[], &db, args, stdin),
            &db,
            &token,
        );
        assert_eq!(fs::read(&db).unwrap(), before);
    });
    let _ = Command::new("chattr").arg("-i").arg(&db).status();
    result.unwrap();
}

/// Whether this process may drop to uid 65534 to test permissions as a plain user.
fn can_drop_privileges() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if !(root && setpriv) {
        eprintln!("skipped: dropping privileges needs root and setpriv (util-linux)");
    }
    root && setpriv
}

const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

/// A copy of the test's (settled) database, without its -wal and -shm, in a folder of
/// its own that uid 65534 may enter.
fn shared_copy(env: &Env, name: &str) -> PathBuf {
    chmod(env.root(), 0o755);
    let folder = env.root().join(name);
    fs::create_dir(&folder).unwrap();
    let db = folder.join("osmo.db");
    fs::copy(env.db(), &db).unwrap();
    db
}

#[test]
fn a_database_the_user_may_only_read_works_for_reads() {
    let env = Env::new();
    let token = world(&env);
    if let Some(schema) = env.server_schema() {
        // On a server, the same as a PostgreSQL role granted reading only.
        let reader = format!("r{schema}");
        env.exec(&format!(
            "CREATE ROLE {reader} LOGIN; GRANT USAGE ON SCHEMA {schema} TO {reader};
             GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {reader};"
        ));
        let db = PathBuf::from(env.db().to_str().unwrap().replacen(
            "osmo@",
            &format!("{reader}@"),
            1,
        ));
        let result = std::panic::catch_unwind(|| {
            reads_work_and_writes_are_refused(
                |args, stdin| run_as(&env, &[], &db, args, stdin),
                &db,
                &token,
            )
        });
        env.exec(&format!("DROP OWNED BY {reader}; DROP ROLE {reader};"));
        return result.unwrap();
    }
    // Whole, with the WAL emptied, as the last process leaves it.
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    if !can_drop_privileges() {
        return;
    }
    // Mode 0444 in a folder of the user's own.
    let db = shared_copy(&env, "mode-0444");
    std::os::unix::fs::chown(db.parent().unwrap(), Some(65534), Some(65534)).unwrap();
    chmod(db.parent().unwrap(), 0o700);
    chmod(&db, 0o444);
    reads_work_and_writes_are_refused(
        |args, stdin| run_as(&env, NOBODY, &db, args, stdin),
        &db,
        &token,
    );

    // A copy without its -wal and -shm, in a folder the user may not write.
    let db = shared_copy(&env, "bare-copy");
    chmod(&db, 0o644);
    chmod(db.parent().unwrap(), 0o555);
    reads_work_and_writes_are_refused(
        |args, stdin| run_as(&env, NOBODY, &db, args, stdin),
        &db,
        &token,
    );
    let left: Vec<_> = fs::read_dir(db.parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "no side files were made");
    chmod(db.parent().unwrap(), 0o755);
}

#[test]
fn a_read_only_mount_reads_and_refuses_writes() {
    let env = Env::new();
    if env.sqlite_only("a read-only mount holds a file") {
        return;
    }
    let token = world(&env);
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let folder = env.db().parent().unwrap().to_path_buf();
    let source = folder.to_str().unwrap().to_string();
    with_mount(&["--bind", "-o", "ro", &source], &folder, || {
        let db = env.db();
        reads_work_and_writes_are_refused(
            |args, stdin| run_as(&env, &[], &db, args, stdin),
            &db,
            &token,
        );
    });
}

// 3 and 4. A verify that never waits on writers; faults that say what happened.

#[test]
fn verify_answers_while_another_process_holds_the_write_lock() {
    let env = Env::new();
    let token = world(&env);
    let holder = env.hold_write_lock();
    for (presented, code) in [
        (token.as_str(), 0),
        ("osmo_0000000000000000000000000000000000000000000000000", 6),
    ] {
        let mut cmd = env.std_cmd(&["token", "verify"]);
        cmd.env("OSMO_TOKEN", presented).stdin(Stdio::null());
        let run = run_within(&mut cmd, &["token", "verify"], Duration::from_secs(25));
        assert_eq!(run.code, code, "{run}");
    }
    // A write waits the whole busy timeout, then says why it gave up.
    let mut cmd = env.std_cmd(&["user", "create", "late"]);
    let run = run_within(
        &mut cmd,
        &["user", "create", "late"],
        Duration::from_secs(90),
    );
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: database {} is busy: another process has held its write lock for 30 s\n",
            env.db().display()
        )
    );
    drop(holder);
}

/// Overwrites page `page` (counted from 1) of the file with garbage.
fn corrupt_page(db: &Path, page: i64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = fs::OpenOptions::new().write(true).open(db).unwrap();
    file.seek(SeekFrom::Start((page as u64 - 1) * 4096))
        .unwrap();
    file.write_all(&[0xA5; 4096]).unwrap();
}

/// A copy of the database with every change in the file itself and no -wal.
fn settled(env: &Env) {
    env.sql()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
        .unwrap();
}

#[test]
fn a_damaged_index_is_damage_not_an_unknown_token() {
    let env = Env::new();
    if env.sqlite_only("overwrites a page of the file") {
        return;
    }
    let token = world(&env);
    settled(&env);
    let root: i64 =
        env.count("SELECT rootpage FROM sqlite_schema WHERE name = 'sqlite_autoindex_tokens_1'");
    corrupt_page(&env.db(), root);
    let run = env.run_stdin(&token, &["token", "verify"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: database {} is damaged: run osmo db check, and osmo db restore from a backup\n",
            env.db().display()
        )
    );
    let run = env.run(&["db", "check"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.starts_with("damage: "), "{run}");
}

#[test]
fn a_full_disk_is_named() {
    let env = Env::new();
    with_small_disk(&env, |small| {
        let db = small.join("osmo.db");
        let db_arg = db.to_str().unwrap();
        env.ok(&["--db", db_arg, "user", "create", "first"]);
        // Fill what is left of the disk.
        let mut filler = fs::File::create(small.join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
        drop(filler);
        let roles: Vec<String> = (0..40)
            .map(|i| format!("role-number-{i:03}-{}", "x".repeat(40)))
            .collect();
        let mut failed = None;
        for role in &roles {
            let run = env.run(&[
                "--db",
                db_arg,
                "role",
                "create",
                role,
                "-d",
                &"d".repeat(250),
            ]);
            if run.code != 0 {
                failed = Some(run);
                break;
            }
        }
        let run = failed.expect("the disk never filled");
        assert_eq!(run.code, 1, "{run}");
        assert_eq!(
            run.stderr,
            format!(
                "error: cannot write database {}: the disk is full\n",
                db.display()
            ),
        );
    });
}

// 5. A session folder that cannot be one.

#[test]
fn a_session_folder_that_is_a_file_means_no_session() {
    let env = Env::new();
    let token = world(&env);
    let not_a_folder = env.root().join("config-file");
    fs::write(&not_a_folder, "I am a file").unwrap();
    let dir = not_a_folder.to_str().unwrap();
    let run = env.run_env(&[("OSMO_CONFIG_FILE_DIR", dir)], &["user", "list"]);
    assert_eq!(run.code, 0, "{run}");
    let run = env.run_env(&[("OSMO_CONFIG_FILE_DIR", dir)], &["logout"]);
    assert_eq!(run.code, 0, "{run}");
    let run = env.run_env(
        &[("OSMO_CONFIG_FILE_DIR", dir)],
        &["login", "--token", &token],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(&format!("{dir} cannot be its folder")),
        "{run}"
    );
    assert_eq!(env.count("SELECT count(*) FROM sessions"), 0);
}

// 6. db info, check, backup, restore.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Info {
    path: String,
    schema_version: i64,
    journal_mode: Option<String>,
    size_bytes: u64,
    wal_bytes: Option<u64>,
    users: i64,
    roles: i64,
    tokens_active: i64,
    tokens_expired: i64,
    sessions: i64,
    audit_events: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checked {
    ok: bool,
    problems: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackedUp {
    path: String,
    size_bytes: u64,
    users: i64,
    tokens: i64,
}

#[test]
fn db_info_describes_the_file() {
    let env = Env::new();
    let token = world(&env);
    env.ok(&["token", "set", "old"]);
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'old'");
    env.ok(&["login", "--token", &token]);
    let info: Info = env.json(&["db", "info"]);
    assert_eq!(info.path, env.db().display().to_string());
    assert_eq!(info.schema_version, env.latest_schema_version());
    if env.on_server() {
        // pg_database_size; no journal, no WAL file of osmo's own.
        assert!(info.size_bytes > 0, "{info:?}");
        assert_eq!((info.journal_mode.as_deref(), info.wal_bytes), (None, None));
    } else {
        assert_eq!(info.journal_mode.as_deref(), Some("wal"));
        assert_eq!(info.size_bytes, fs::metadata(env.db()).unwrap().len());
        assert!(info.wal_bytes.is_some());
    }
    assert_eq!((info.users, info.roles), (2, 3));
    assert_eq!((info.tokens_active, info.tokens_expired), (1, 1));
    assert_eq!(info.sessions, 1);
    assert!(info.audit_events >= 4, "{info:?}");
    let text = env.ok(&["db", "info"]);
    assert!(
        text.starts_with(&format!(
            "path: {}\nschema_version: {}\n",
            env.db().display(),
            env.latest_schema_version()
        )),
        "{text}"
    );
    // Not for everyone.
    env.ok(&["logout"]);
    let alice = token_for(&env, "alice", "a", &[]);
    for args in [
        &["db", "info"][..],
        &["db", "backup", "x.db"],
        &["db", "restore", "x.db", "-f"],
    ] {
        assert_eq!(with_token(&env, &alice, args).code, 3, "{args:?}");
    }
}

#[test]
fn db_check_finds_broken_invariants() {
    let env = Env::new();
    world(&env);
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "update", "alice", "-a", "team"]);
    env.ok(&["token", "set", "at", "-u", "alice"]);
    let checked: Checked = env.json(&["db", "check"]);
    assert!(checked.ok && checked.problems.is_empty(), "{checked:?}");

    // What the schema never allows, done with its guards off: foreign keys and
    // triggers (SQLite: off for the connection; PostgreSQL: a replica session).
    let guards_off = if env.on_server() {
        "SET session_replication_role = replica;"
    } else {
        "PRAGMA foreign_keys = OFF; DROP TRIGGER keep_last_admin;"
    };
    env.exec(&format!(
        "DELETE FROM token_roles WHERE user_id = 'admin';
         {guards_off}
         DELETE FROM user_roles WHERE user_id = 'alice' AND role = 'team';
         DELETE FROM user_roles WHERE role = 'osmo-admin';
         UPDATE settings SET value = 'ghost' WHERE key = 'operator-user';"
    ));
    let run = env.run(&["db", "check"]);
    assert_eq!(run.code, 1, "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    for want in [
        "token t of admin has no role",
        "token at of alice carries team, which alice does not hold",
        "no user holds osmo-admin",
        "the operator-user ghost does not exist",
        "a row of token_roles refers to a missing row of user_roles",
    ] {
        assert!(lines.contains(&want), "missing {want:?}{run}");
    }
    // A plain user learns how many, not which.
    env.exec("UPDATE settings SET value = 'admin' WHERE key = 'operator-user';");
    let alice_token: Issued = serde_json::from_str(&env.as_operator(&[
        "token",
        "set",
        "mine",
        "-u",
        "alice",
        "-r",
        "osmo-user",
        "-t",
        "json",
    ]))
    .unwrap();
    let run = with_token(&env, &alice_token.token, &["db", "check", "-t", "json"]);
    assert_eq!(run.code, 1, "{run}");
    let checked: Checked = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(checked.problems.len(), 1, "{checked:?}");
    assert!(
        !checked.problems[0].contains("alice") && checked.problems[0].contains("problem"),
        "{checked:?}"
    );
}

#[test]
fn db_check_finds_a_damaged_page() {
    let env = Env::new();
    if env.sqlite_only("overwrites a page of the file") {
        return;
    }
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    for i in 0..60 {
        env.ok(&[
            "token",
            "set",
            &format!("t{i}"),
            "-d",
            &"padding ".repeat(30),
        ]);
    }
    settled(&env);
    let copy = env.root().join("copy.db");
    fs::copy(env.db(), &copy).unwrap();
    let pages = fs::metadata(&copy).unwrap().len() as i64 / 4096;
    corrupt_page(&copy, pages - 1);
    let run = env.run(&["--db", copy.to_str().unwrap(), "db", "check"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.lines().all(|l| l.starts_with("damage: ")),
        "{run}"
    );
    assert!(!run.stdout.is_empty(), "{run}");
}

#[test]
fn db_backup_is_consistent_while_sixteen_processes_write() {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    let writers: Vec<Child> = (0..16)
        .map(|w| {
            let script = (0..8)
                .map(|i| {
                    format!(
                        "{} token set w{w}-{i} >/dev/null",
                        assert_cmd::cargo::cargo_bin!("osmo").display()
                    )
                })
                .collect::<Vec<_>>()
                .join(" && ");
            env.program("sh").arg("-c").arg(script).spawn().unwrap()
        })
        .collect();
    let mut backups = Vec::new();
    for n in 0..4 {
        let path = env.root().join(format!("backup-{n}.db"));
        let backed: BackedUp = env.json(&["db", "backup", path.to_str().unwrap()]);
        assert_eq!(backed.path, path.to_str().unwrap());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(backed.size_bytes, fs::metadata(&path).unwrap().len());
        backups.push((path, backed));
    }
    for mut writer in writers {
        assert!(writer.wait().unwrap().success());
    }
    for (path, backed) in &backups {
        let db = path.to_str().unwrap();
        let checked: Checked = env.json(&["--db", db, "db", "check"]);
        assert!(checked.ok, "{checked:?}");
        let info: Info = env.json(&["--db", db, "db", "info"]);
        assert_eq!(
            (info.users, info.tokens_active + info.tokens_expired),
            (backed.users, backed.tokens)
        );
    }
    // An existing file is kept unless --force.
    let (first, _) = &backups[0];
    let before = fs::read(first).unwrap();
    let err = env.fails(&["db", "backup", first.to_str().unwrap()], 5);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(first).unwrap(), before);
    // Never onto the live database, even with --force (on PostgreSQL: a backup is a file).
    let live = env.db();
    let err = fails_unchanged(&env, &["db", "backup", live.to_str().unwrap(), "-f"], 2);
    assert!(
        err.contains(if env.on_server() {
            "SQLite file"
        } else {
            "the database itself"
        }),
        "{err}"
    );
    let text = env.ok(&["db", "backup", first.to_str().unwrap(), "-f"]);
    assert_eq!(
        text,
        format!(
            "Backup written: {} (1 users, 128 tokens)\n",
            first.display()
        )
    );
}

#[test]
fn db_restore_refuses_what_is_not_a_sound_osmo_database() {
    let env = Env::new();
    world(&env);
    let dir = env.root();
    let text = dir.join("notes.db");
    fs::write(&text, "not a database\n".repeat(100)).unwrap();
    let foreign = dir.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT);")
        .unwrap();
    let newer = dir.join("newer.db");
    env.ok(&["db", "backup", newer.to_str().unwrap()]);
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let broken = dir.join("broken.db");
    env.ok(&["db", "backup", broken.to_str().unwrap()]);
    rusqlite::Connection::open(&broken)
        .unwrap()
        .execute_batch("DELETE FROM token_roles;")
        .unwrap();
    for bad in [&text, &foreign, &newer, &broken, &dir.join("missing.db")] {
        fails_unchanged(&env, &["db", "restore", bad.to_str().unwrap(), "-f"], 2);
    }
    let temporary = if env.on_server() {
        env.root().join("tmp")
    } else {
        env.db().parent().unwrap().to_path_buf()
    };
    let leftovers: Vec<String> = fs::read_dir(temporary)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn db_restore_swaps_in_a_backup_in_one_step_and_upgrades_an_old_one() {
    let env = Env::new();
    let token = world(&env);
    let backup = env.root().join("backup.db");
    env.ok(&["db", "backup", backup.to_str().unwrap()]);
    for i in 0..20 {
        env.ok(&["user", "create", &format!("later{i}")]);
    }
    env.ok(&["login", "--token", &token]);

    // A reader in another process sees all of the old or all of the new.
    let reader = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "for i in $(seq 1 150); do {} --db '{}' user list -c 1 -t json | grep total_results; done",
            assert_cmd::cargo::cargo_bin!("osmo").display(),
            env.db().display()
        ))
        .env("OSMO_CONFIG_FILE_DIR", env.root().join("reader-config"))
        .env_remove("OSMO_TOKEN")
        .env_remove("OSMO_TOKEN_FILE")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = env.as_operator(&["db", "restore", backup.to_str().unwrap(), "-f"]);
    assert_eq!(
        text,
        format!("Restored from {} (2 users, 1 tokens)\n", backup.display())
    );
    let seen = String::from_utf8(reader.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(seen.lines().count(), 150, "the reader failed:\n{seen}");
    for line in seen.lines() {
        assert!(
            line.contains("\"total_results\": 22") || line.contains("\"total_results\": 2,"),
            "a reader saw a half-restored database: {line}"
        );
    }
    // Every session ended with the restore.
    assert_eq!(env.count("SELECT count(*) FROM sessions"), 0);
    assert_eq!(env.run(&["profile", "list"]).code, 6);
    env.ok(&["logout"]);
    assert_eq!(
        env.json::<serde_json::Value>(&["user", "list"])["total_results"],
        2
    );
    assert_eq!(env.run_stdin(&token, &["token", "verify"]).code, 0);

    // A backup from the first schema is upgraded as it comes in; its tokens still work.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let old = env.root().join("v1.db");
    fs::copy(fixtures.join("schema-v1.db"), &old).unwrap();
    env.ok(&["db", "restore", old.to_str().unwrap(), "-f"]);
    assert_eq!(env.schema_version(), env.latest_schema_version());
    let tokens = fs::read_to_string(fixtures.join("schema-v1.tokens")).unwrap();
    let first = tokens.lines().next().unwrap();
    assert_eq!(env.run_stdin(first, &["token", "verify"]).code, 0);
    // Without a terminal, --force is needed.
    let err = env.fails(&["db", "restore", backup.to_str().unwrap()], 2);
    assert!(err.contains("--force"), "{err}");
}
