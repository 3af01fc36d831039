//! The holes found when the tool was attacked as a hostile local user (DESIGN §1–§4, §6):
//! each test here failed before the fix.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chrono::Utc;
use osmo_local::tokens;

use crate::util::{Env, Event, Issued, issue_for as token_for, run_within, with_token};

fn audit(env: &Env) -> Vec<Event> {
    serde_json::from_str(&env.as_operator(&["audit", "list", "-t", "json"])).unwrap()
}

fn side_files(path: &Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| format!("{}{suffix}", path.display()))
        .filter(|p| Path::new(p).exists())
        .collect()
}

// 1. Escalation through `token rotate`.

#[test]
fn a_narrow_token_cannot_rotate_a_wider_one() {
    let env = Env::new();
    env.ok(&["user", "create", "lab", "-r", "osmo-user", "osmo-admin"]);
    let narrow = token_for(&env, "lab", "narrow", &["osmo-user"]);
    let wide = token_for(&env, "lab", "wide", &["osmo-admin", "osmo-user"]);
    let expired = token_for(&env, "lab", "old-admin", &["osmo-admin"]);
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'old-admin'");
    // The narrow token's first use is recorded now, not by the refused rotates.
    assert_eq!(
        with_token(&env, &narrow.token, &["profile", "list"]).code,
        0
    );
    let before = env.dump();
    for name in ["wide", "old-admin"] {
        let run = with_token(&env, &narrow.token, &["token", "rotate", name]);
        assert_eq!(run.code, 3, "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        assert!(run.stderr.contains("osmo-admin"), "{run}");
    }
    assert_eq!(before, env.dump(), "a refused rotate changed the database");
    assert_eq!(env.run_stdin(&wide.token, &["token", "verify"]).code, 0);
    assert_eq!(env.run_stdin(&expired.token, &["token", "verify"]).code, 6);

    // A session acts as its token: the same refusal.
    env.ok(&["login", "--token", &narrow.token]);
    let run = env.run(&["token", "rotate", "wide"]);
    assert_eq!(run.code, 3, "{run}");
    // Within its own roles, rotation works, for itself and for narrower tokens.
    let run = env.run(&["token", "rotate", "narrow", "-t", "json"]);
    assert_eq!(run.code, 0, "{run}");
    // apitoken create from the narrow token still gets only the narrow roles.
    env.ok(&["logout"]);
    let run = with_token(&env, &wide.token, &["apitoken", "create", "-t", "json"]);
    let wide_minted: Issued = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(wide_minted.roles, ["osmo-admin", "osmo-user"]);
    let session_env_narrow = token_for(&env, "lab", "narrow2", &["osmo-user"]);
    let run = with_token(
        &env,
        &session_env_narrow.token,
        &["apitoken", "create", "--name", "n3", "-t", "json"],
    );
    let minted: Issued = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(minted.roles, ["osmo-user"]);
}

// 2. Identity is never confused by timing.

#[test]
fn token_ids_are_never_reused() {
    let env = Env::new();
    let id_of = |name: &str| env.count(&format!("SELECT id FROM tokens WHERE name = '{name}'"));
    env.ok(&["token", "set", "a"]);
    let first = id_of("a");
    env.ok(&["token", "delete", "a"]);
    env.ok(&["token", "set", "b"]);
    let second = id_of("b");
    assert!(second > first, "id {first} was given again as {second}");
    env.ok(&["token", "rotate", "b"]);
    assert!(id_of("b") > second, "rotation reused id {second}");
}

/// Starts `osmo` with `args` and `vars` without waiting for it.
fn spawn(env: &Env, vars: &[(&str, &Path)], args: &[&str]) -> Child {
    let mut cmd = env.std_cmd(args);
    for (key, value) in vars {
        cmd.env(key, value);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn osmo")
}

/// Races `login` with a fresh token of `lab` against `writes` (run one after the other
/// as the operator) for 100 rounds; after each, `check` reads the database.
fn race_logins(env: &Env, writes: impl Fn(usize, &str) -> Vec<Vec<String>>, check: impl Fn(usize)) {
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["user", "create", "lab", "-r", "osmo-user"]);
    let operator = env.root().join("operator-config");
    let mut logged_in = 0;
    for round in 0..100 {
        let name = format!("t{round}");
        let token = token_for(env, "lab", &name, &[]).token;
        let config = env.root().join(format!("config-{round}"));
        let mut login = spawn(
            env,
            &[("OSMO_CONFIG_FILE_DIR", &config)],
            &["login", "--token", &token],
        );
        for args in writes(round, &name) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut write = spawn(env, &[("OSMO_CONFIG_FILE_DIR", &operator)], &args);
            assert!(write.wait().unwrap().success(), "{args:?}");
        }
        logged_in += usize::from(login.wait().unwrap().success());
        check(round);
    }
    eprintln!("{logged_in} of 100 logins won their race");
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(str::to_string).collect()
}

#[test]
fn a_login_racing_a_rotate_never_keeps_a_session() {
    let env = Env::new();
    race_logins(
        &env,
        |_, name| vec![words(&format!("token rotate {name} -u lab"))],
        |round| {
            let sessions = env.count("SELECT count(*) FROM sessions");
            assert_eq!(sessions, 0, "round {round}: a session outlived its token");
        },
    );
}

#[test]
fn a_login_racing_a_delete_never_lands_on_another_users_token() {
    let env = Env::new();
    env.ok(&["user", "create", "boss", "-r", "osmo-user", "osmo-admin"]);
    race_logins(
        &env,
        |round, name| {
            vec![
                words(&format!("token delete {name} -u lab")),
                words(&format!("token set b{round} -u boss")),
            ]
        },
        |round| {
            let on_boss = env.count(
                "SELECT count(*) FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE t.user_id = 'boss'",
            );
            assert_eq!(on_boss, 0, "round {round}: lab's session became boss's");
            let sessions = env.count("SELECT count(*) FROM sessions");
            assert_eq!(sessions, 0, "round {round}: a session outlived its token");
        },
    );
}

/// A hash made with older parameters, for the secret inside `token`.
fn old_hash(token: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(4096, 2, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(&token.as_bytes()[18..50])
        .unwrap()
        .to_string()
}

#[test]
fn a_hash_upgrade_replaces_only_the_hash_it_read() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t"]);
    let set_hash = |hash: &str| env.exec(&format!("UPDATE tokens SET secret_hash = '{hash}'"));
    set_hash(&old_hash(&issued.token));
    let now = Utc::now().timestamp();
    let checked = || {
        tokens::check(&mut env.store(), &issued.token, now)
            .unwrap()
            .expect("valid")
    };
    let hash = || env.text("SELECT secret_hash FROM tokens");

    // Someone else replaced the hash between the check and the upgrade: theirs stays.
    let verified = checked();
    assert!(verified.outdated_hash.is_some());
    set_hash(&old_hash(&issued.token).replace("m=4096", "m=4097"));
    let theirs = hash();
    let mut store = env.store();
    tokens::record_use(&mut store, &issued.token, &verified, now).unwrap();
    assert_eq!(hash(), theirs);

    // The token was rotated between the check and the upgrade: the new token keeps its hash.
    set_hash(&old_hash(&issued.token));
    let verified = checked();
    let rotated: Issued = env.json(&["token", "rotate", "t"]);
    let new_hash = hash();
    tokens::record_use(&mut store, &issued.token, &verified, now).unwrap();
    assert_eq!(hash(), new_hash);
    assert_eq!(env.run_stdin(&rotated.token, &["token", "verify"]).code, 0);
}

// 3. A set-but-empty OSMO_TOKEN never acts as the operator.

#[test]
fn an_empty_osmo_token_is_refused() {
    let env = Env::new();
    env.ok(&["token", "set", "build"]);
    let before = env.dump();
    for blank in ["", "   ", "\t\n"] {
        let run = with_token(&env, blank, &["token", "delete", "build"]);
        assert_eq!(run.code, 6, "{run}");
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
        assert!(run.stderr.contains("OSMO_TOKEN is set but empty"), "{run}");
    }
    // `token verify` checks the token it is given: a blank one is no token (exit 2), and
    // it does not read stdin instead.
    let build: Issued = env.json(&["token", "set", "verified"]);
    let mut cmd = env.cmd(&["token", "verify"]);
    cmd.env("OSMO_TOKEN", "").write_stdin(build.token);
    let run = env.run_with(cmd, &["token", "verify"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("OSMO_TOKEN is set but empty"), "{run}");
    env.ok(&["token", "delete", "verified"]);
    let run = env.run_env(&[("OSMO_TOKEN_FILE", "")], &["token", "delete", "build"]);
    assert_eq!(run.code, 2, "{run}");
    let empty = env.root().join("empty-token");
    fs::write(&empty, "").unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o600)).unwrap();
    let run = env.run_env(
        &[("OSMO_TOKEN_FILE", empty.to_str().unwrap())],
        &["token", "delete", "build"],
    );
    assert_eq!(run.code, 2, "{run}");
    // Not even with a login session to fall back on.
    let session = token_for(&env, "admin", "session", &[]);
    env.ok(&["login", "--token", &session.token]);
    let run = with_token(&env, "", &["token", "delete", "build"]);
    assert_eq!(run.code, 6, "{run}");
    env.ok(&["logout"]);
    assert!(env.ok(&["token", "list"]).contains("build"));
    assert_eq!(before.lines().filter(|l| l.contains("build")).count(), 1);
}

// 4. The operator cannot lock everyone out.

#[test]
fn the_operator_cannot_turn_operator_access_off() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let before = env.dump();
    let err = env.fails(&["config", "set", "operator-access", "false"], 5);
    assert!(
        err.contains("log in with a token that holds osmo-admin"),
        "{err}"
    );
    assert_eq!(before, env.dump());
    env.ok(&["user", "list"]);
    // An admin token may, and may turn it back on.
    let admin = token_for(&env, "admin", "root", &[]);
    let run = with_token(
        &env,
        &admin.token,
        &["config", "set", "operator-access", "false"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(env.run(&["user", "list"]).code, 6);
    let run = with_token(
        &env,
        &admin.token,
        &["config", "set", "operator-access", "true"],
    );
    assert_eq!(run.code, 0, "{run}");
    env.ok(&["user", "list"]);
}

// 5. The database file and the session file.

/// Root may chown; a developer running the suite unprivileged may not.
fn give_to_nobody(path: &Path) -> bool {
    match std::os::unix::fs::chown(path, Some(65534), Some(65534)) {
        Ok(()) => true,
        Err(err) => {
            eprintln!("skipped: cannot chown a file to uid 65534 ({err}); run as root");
            false
        }
    }
}

#[test]
fn an_empty_file_is_adopted_only_when_it_is_private_and_ours() {
    let env = Env::new();
    if env.sqlite_only("an empty file's owner and mode") {
        return;
    }
    let data = env.db().parent().unwrap().to_path_buf();
    fs::create_dir_all(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();

    fs::write(env.db(), "").unwrap();
    fs::set_permissions(env.db(), fs::Permissions::from_mode(0o666)).unwrap();
    let err = env.fails(&["user", "list"], 1);
    assert!(err.contains("chmod 600"), "{err}");
    assert_eq!(fs::read(env.db()).unwrap().len(), 0);
    assert!(side_files(&env.db()).is_empty());

    if give_to_nobody(&env.db()) {
        fs::set_permissions(env.db(), fs::Permissions::from_mode(0o600)).unwrap();
        let err = env.fails(&["user", "list"], 1);
        assert!(err.contains("owned by another user"), "{err}");
        assert_eq!(fs::read(env.db()).unwrap().len(), 0);
        assert!(side_files(&env.db()).is_empty());
    }

    fs::remove_file(env.db()).unwrap();
    fs::write(env.db(), "").unwrap();
    fs::set_permissions(env.db(), fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(&["user", "list"]);
}

#[test]
fn a_database_others_may_write_is_warned_about() {
    let env = Env::new();
    if env.sqlite_only("the file's mode") {
        return;
    }
    env.ok(&["role", "list"]);
    let db = env.db();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o660)).unwrap();
    let run = env.run(&["role", "list", "-t", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let want = format!(
        "warning: {} is writable by group or others: anyone who can write it is an admin (chmod 600 {})\n",
        db.display(),
        db.display()
    );
    assert_eq!(run.stderr, want);
    fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
    let folder = db.parent().unwrap();
    fs::set_permissions(folder, fs::Permissions::from_mode(0o777)).unwrap();
    let run = env.run(&["role", "list"]);
    assert!(
        run.stderr.contains(&format!(
            "{} is writable by group or others",
            folder.display()
        )),
        "{run}"
    );
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).unwrap();
    let run = env.run(&["role", "list"]);
    assert!(run.stderr.is_empty(), "{run}");
}

#[test]
fn refused_files_stay_byte_identical_without_side_files() {
    let env = Env::new();
    if env.on_server() {
        // A schema holding someone else's tables, then a newer osmo's: refused, unchanged.
        let refused = |what: &str, why: &str| {
            let before = env.every_row();
            let run = env.run(&["user", "list"]);
            assert_eq!(run.code, 1, "{what}{run}");
            assert!(run.stderr.contains(why), "{what}{run}");
            assert_eq!(env.every_row(), before, "{what}: rows changed");
        };
        env.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');");
        refused("another program's tables", "not an osmo database");
        env.exec("DROP TABLE notes;");
        env.ok(&["role", "list"]);
        env.exec("UPDATE osmo_schema SET version = 99;");
        refused("a newer schema", "newer osmo");
        return;
    }
    fs::create_dir_all(env.db().parent().unwrap()).unwrap();
    let check = |what: &str| {
        let before = fs::read(env.db()).unwrap();
        let run = env.run(&["user", "list"]);
        assert_eq!(run.code, 1, "{what}{run}");
        assert_eq!(fs::read(env.db()).unwrap(), before, "{what}: file changed");
        assert!(
            side_files(&env.db()).is_empty(),
            "{what}: side files {:?}",
            side_files(&env.db())
        );
    };

    for bytes in [&b"x"[..], b"SQLite format 3\0", &[0u8; 300]] {
        fs::write(env.db(), bytes).unwrap();
        fs::set_permissions(env.db(), fs::Permissions::from_mode(0o600)).unwrap();
        check(&format!("{} bytes", bytes.len()));
    }

    // Another program's WAL database, closed.
    fs::remove_file(env.db()).unwrap();
    let other = rusqlite::Connection::open(env.db()).unwrap();
    other
        .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(other);
    check("a closed WAL database");

    // A newer osmo's database.
    fs::remove_file(env.db()).unwrap();
    env.ok(&["role", "list"]);
    env.sql().pragma_update(None, "user_version", 99).unwrap();
    for side in side_files(&env.db()) {
        fs::remove_file(side).unwrap();
    }
    check("a newer schema");

    // The same while another process holds it open, with its -wal and -shm in use.
    fs::remove_file(env.db()).unwrap();
    env.ok(&["role", "list"]);
    let holder = env.sql();
    holder.pragma_update(None, "user_version", 99).unwrap();
    let read = |suffix: &str| fs::read(format!("{}{suffix}", env.db().display())).unwrap();
    let (main, wal) = (read(""), read("-wal"));
    let run = env.run(&["user", "list"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("newer osmo"), "{run}");
    assert_eq!(
        (read(""), read("-wal")),
        (main, wal),
        "a newer database in use changed"
    );
    drop(holder);

    // Another program's WAL database, open, with rows only in its WAL: not checkpointed.
    fs::remove_file(env.db()).unwrap();
    let other = rusqlite::Connection::open(env.db()).unwrap();
    other
        .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    let read = |suffix: &str| fs::read(format!("{}{suffix}", env.db().display())).unwrap();
    let (main, wal) = (read(""), read("-wal"));
    let run = env.run(&["user", "list"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(
        (read(""), read("-wal")),
        (main, wal),
        "the open WAL database changed"
    );
    drop(other);
}

#[test]
fn the_session_file_never_follows_a_planted_link() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]).token;
    let config = env.config_dir();
    fs::create_dir_all(&config).unwrap();
    let victim = env.root().join("victim");
    fs::write(&victim, "untouched\n").unwrap();
    // The next process ids, as a temp file named after the process would use them.
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0);
    for pid in last + 1..last + 3000 {
        let _ = symlink(&victim, config.join(format!("login.tmp{pid}")));
        let _ = symlink(&victim, config.join(format!("login.json.tmp{pid}")));
    }
    env.ok(&["login", "--token", &token]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched\n");
    let session = config.join("login.json");
    assert!(fs::symlink_metadata(&session).unwrap().is_file());
    assert_eq!(
        fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );
    env.ok(&["profile", "list"]);

    // A session file others may read is warned about.
    fs::set_permissions(&session, fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["profile", "list"]);
    assert!(run.stderr.contains("readable by others"), "{run}");
}

#[test]
fn parallel_logins_to_different_databases_all_keep_their_sessions() {
    let env = Env::new();
    let dbs: Vec<_> = (0..8)
        .map(|i| env.root().join(format!("db{i}/osmo.db")))
        .collect();
    let tokens: Vec<String> = dbs
        .iter()
        .map(|db| {
            fs::create_dir_all(db.parent().unwrap()).unwrap();
            let run = env.run(&[
                "--db",
                db.to_str().unwrap(),
                "token",
                "set",
                "t",
                "-t",
                "json",
            ]);
            serde_json::from_str::<Issued>(&run.stdout).unwrap().token
        })
        .collect();
    for round in 0..5 {
        let _ = fs::remove_file(env.config_dir().join("login.json"));
        let children: Vec<Child> = dbs
            .iter()
            .zip(&tokens)
            .map(|(db, token)| {
                spawn(
                    &env,
                    &[],
                    &["--db", db.to_str().unwrap(), "login", "--token", token],
                )
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        for db in &dbs {
            let run = env.run(&[
                "--db",
                db.to_str().unwrap(),
                "profile",
                "list",
                "-t",
                "json",
            ]);
            assert!(
                run.stdout.contains("\"login\": \"token\""),
                "round {round}: lost{run}"
            );
        }
    }
}

// 6. Token input is bounded; pipes and `-` work.

/// The exit code of a run that may not read forever (a hang guard, not a budget).
fn run_bounded(env: &Env, vars: &[(&str, &str)], args: &[&str]) -> i32 {
    let mut cmd = env.std_cmd(args);
    for (key, value) in vars {
        cmd.env(key, value);
    }
    run_within(cmd.stdin(Stdio::null()), args, Duration::from_secs(60)).code
}

#[test]
fn token_input_is_capped_at_64_kib() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t"]);
    assert_eq!(
        run_bounded(
            &env,
            &[("OSMO_TOKEN_FILE", "/dev/zero")],
            &["token", "list"]
        ),
        2
    );
    assert_eq!(
        run_bounded(&env, &[], &["token", "verify", "--token-file", "/dev/zero"]),
        2
    );
    let big = env.root().join("big");
    let mut body = format!("{}\n", issued.token);
    body.push_str(&" ".repeat(64 * 1024));
    fs::write(&big, &body).unwrap();
    fs::set_permissions(&big, fs::Permissions::from_mode(0o600)).unwrap();
    let err = env.fails(
        &["token", "verify", "--token-file", big.to_str().unwrap()],
        2,
    );
    assert!(err.contains("larger than 64 KiB"), "{err}");
    body.truncate(64 * 1024);
    fs::write(&big, &body).unwrap();
    env.ok(&["token", "verify", "--token-file", big.to_str().unwrap()]);
    let err = {
        let run = env.run_stdin(&"a".repeat(70_000), &["token", "verify"]);
        assert_eq!(run.code, 2, "{run}");
        run.stderr
    };
    assert!(err.contains("larger than 64 KiB"), "{err}");
}

#[test]
fn token_files_may_be_pipes_or_stdin() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t"]);
    let run = env.run_stdin(&issued.token, &["token", "verify", "--token-file", "-"]);
    assert_eq!(run.code, 0, "{run}");
    let run = env.run_stdin(
        &format!("\n{}\n\n", issued.token),
        &["token", "verify", "--token-file", "/dev/stdin"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr.is_empty(),
        "a pipe's mode is not worth a warning{run}"
    );
    let run = env.run_stdin(&issued.token, &["login", "--token-file", "-"]);
    assert_eq!(run.code, 0, "{run}");
    // A FIFO, as `--token-file <(pass show ci)` gives.
    let fifo = env.root().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped the FIFO case: mkfifo is not available");
        return;
    }
    let writer = {
        let (fifo, token) = (fifo.clone(), issued.token.clone());
        std::thread::spawn(move || fs::write(fifo, token).unwrap())
    };
    let run = env.run(&["token", "verify", "--token-file", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(run.code, 0, "{run}");
}

// 7. Nothing from outside can spoof the terminal.

#[test]
fn descriptions_refuse_invisible_and_reordering_characters() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    for text in [
        "read only\u{202e} nimda lluf",
        "zero\u{200b}width",
        "line\u{2028}separator",
        "para\u{2029}graph",
        "isolate\u{2067}x",
        "bom\u{feff}",
    ] {
        crate::util::fails_unchanged(&env, &["role", "create", "viewer", "-d", text], 2);
        crate::util::fails_unchanged(&env, &["token", "set", "t", "-d", text], 2);
    }
    env.ok(&[
        "role",
        "create",
        "viewer",
        "-d",
        "read only – lecture seule",
    ]);
}

#[test]
fn text_from_outside_is_shown_escaped() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]).token;
    let hostile = "https://x\u{1b}[2J\nuser:\n  name: root";
    let run = env.run(&["login", hostile, "--token", &token]);
    assert_eq!(run.code, 2, "{run}");
    assert!(!run.stderr.contains('\u{1b}'), "{run}");
    assert!(run.stderr.contains("\\u{1b}"), "{run}");
    assert!(!env.config_dir().join("login.json").exists());
    for bad in ["ftp://x", "https://", "https://a b", "osmo.example.com"] {
        assert_eq!(env.run(&["login", bad, "--token", &token]).code, 2, "{bad}");
    }

    // A URL stored before validation existed is still shown escaped.
    env.ok(&["login", "https://osmo.example.com", "--token", &token]);
    env.exec(&format!("UPDATE sessions SET url = '{hostile}'"));
    let out = env.ok(&["profile", "list"]);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("url: https://x\\u{1b}[2J\\u{a}user:"), "{out}");
    let names = out.lines().filter(|l| l.starts_with("  name: ")).count();
    assert_eq!(names, 2, "forged lines:\n{out}");

    // An old stored description with a bidi override.
    env.exec("UPDATE roles SET description = 'read only\u{202e} nimda' WHERE name = 'osmo-user'");
    let out = env.ok(&["role", "list"]);
    assert!(
        !out.contains('\u{202e}') && out.contains("\\u{202e}"),
        "{out}"
    );

    // Paths and values echoed in errors and warnings.
    let run = env.run(&["token", "verify", "--token-file", "/nonexistent/\u{1b}[2Jx"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        !run.stderr.contains('\u{1b}') && run.stderr.contains("\\u{1b}"),
        "{run}"
    );
    let open = env.root().join("open\u{1b}[31m");
    fs::write(&open, format!("{token}\n")).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["token", "verify", "--token-file", open.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("readable by others"), "{run}");
    assert!(!run.stderr.contains('\u{1b}'), "{run}");
}

// 8. Smaller.

#[test]
fn refusals_and_failed_resumes_are_audited_as_denied() {
    let env = Env::new();
    env.ok(&["user", "create", "bob", "-r", "osmo-user"]);
    let bob = token_for(&env, "bob", "bob-t", &[]);
    assert_eq!(with_token(&env, &bob.token, &["user", "list"]).code, 3);
    assert_eq!(
        with_token(&env, &bob.token, &["token", "delete", "x", "-u", "admin"]).code,
        3
    );
    let events = audit(&env);
    let denied: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e.outcome == "denied")
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        denied,
        [
            ("bob", "token.delete", "admin/x"),
            ("bob", "user.list", "-")
        ]
    );

    env.ok(&["login", "--token", &bob.token]);
    env.as_operator(&["token", "delete", "bob-t", "-u", "bob"]);
    assert_eq!(env.run(&["profile", "list"]).code, 6);
    let newest = &audit(&env)[0];
    assert_eq!(
        (newest.action.as_str(), newest.outcome.as_str()),
        ("session.resume", "denied")
    );
}

#[test]
fn settings_are_stored_in_canonical_form() {
    let env = Env::new();
    for (given, stored) in [("+5", "5"), ("007", "7"), ("0", "0")] {
        let set: serde_json::Value = env.json(&["config", "set", "max-tokens-per-user", given]);
        assert_eq!(set["value"], stored);
        assert_eq!(
            env.ok(&["config", "get", "max-tokens-per-user"]),
            format!("{stored}\n")
        );
    }
}

#[test]
fn many_repeated_roles_collapse_in_order() {
    let env = Env::new();
    env.ok(&["role", "create", "team"]);
    let mut args = vec!["user", "create", "many", "-r"];
    for i in 0..60_000 {
        args.push(["team", "osmo-user", "team", "osmo-backend"][i % 4]);
    }
    let out = env.ok(&args);
    assert!(
        out.contains("Roles assigned: osmo-backend, osmo-user, team\n"),
        "{out}"
    );
}
