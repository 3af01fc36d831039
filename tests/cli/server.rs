//! Beyond one machine (DESIGN §10): `db copy` between the two kinds, and what only a
//! server has (a URL with a password, a host that may not answer, TLS).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{Env, Issued, fails_unchanged, in_days, token_for, with_small_disk};

/// Runs `osmo --db DB ARGS` in the test's environment, asserting success.
fn on(env: &Env, db: &Path, args: &[&str]) -> String {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend(args);
    env.ok(&all)
}

/// Everything a user can read of a database, as JSON, sessions aside.
fn contents(env: &Env, db: &Path) -> Vec<Value> {
    [
        &["user", "list", "-c", "1000"][..],
        &["role", "list"],
        &["token", "list", "--all"],
        &["config", "list"],
        &["audit", "list", "-c", "1000"],
    ]
    .iter()
    .map(|args| {
        let mut all = args.to_vec();
        all.extend(["-t", "json"]);
        serde_json::from_str(&on(env, db, &all)).unwrap()
    })
    .collect()
}

/// A lab worth moving: users, a custom role, tokens (one expired, one deleted), a
/// setting, a session, and the audit trail all that left.
fn lab(env: &Env) -> Vec<String> {
    env.ok(&["role", "create", "team", "-d", "The team"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user", "team"]);
    env.ok(&["config", "set", "max-tokens-per-user", "7"]);
    let mut tokens = vec![
        token_for(env, "alice", "ci", &["team"]),
        token_for(env, "admin", "ops", &[]),
    ];
    let old: Issued = env.json(&["token", "set", "old", "-e", &in_days(3)]);
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'old'");
    env.ok(&["token", "set", "gone"]);
    env.ok(&["token", "delete", "gone"]);
    env.ok(&["login", "--token", &tokens[0]]);
    env.ok(&["logout"]);
    env.ok(&["login", "--token", &tokens[1]]);
    tokens.push(old.token);
    tokens
}

/// Copies `from` to the empty `to` and checks the copy: the same contents, every live
/// token verifying there, no sessions, `from` unchanged, and new rows (a role called
/// `mark`, and its audit event) taken after the copied ones.
fn hop(env: &Env, from: &Path, to: &Path, tokens: &[String], mark: &str) {
    let before = contents(env, from);
    let out = on(env, from, &["db", "copy", "--to", to.to_str().unwrap()]);
    assert_eq!(
        out,
        format!(
            "Copied {} to {} (2 users, 3 tokens)\n",
            from.display(),
            to.display()
        )
    );
    assert_eq!(contents(env, from), before, "the source changed");
    assert_eq!(contents(env, to), before, "the copy differs");
    let info: Value = serde_json::from_str(&on(env, to, &["db", "info", "-t", "json"])).unwrap();
    assert_eq!(info["sessions"], 0, "sessions stay behind");
    for token in &tokens[..2] {
        let mut all = vec!["--db", to.to_str().unwrap(), "token", "verify"];
        all.extend(["-t", "json"]);
        let run = env.run_stdin(token, &all);
        assert_eq!(run.code, 0, "{run}");
    }
    let run = env.run_stdin(
        &tokens[2],
        &["--db", to.to_str().unwrap(), "token", "verify"],
    );
    assert_eq!(run.stderr, "error: invalid token (expired)\n", "{run}");
    if !to.to_string_lossy().contains("://") {
        assert_eq!(
            fs::metadata(to).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Only into an empty database: this one is not, now.
    let err = fails_unchanged(
        env,
        &[
            "--db",
            from.to_str().unwrap(),
            "db",
            "copy",
            "--to",
            to.to_str().unwrap(),
        ],
        5,
    );
    assert!(err.contains("not empty"), "{err}");
    // The copy takes new rows after the copied ones: its ids carry on past theirs.
    on(env, to, &["role", "create", mark]);
    let newest = on(env, to, &["audit", "list", "-c", "1", "-t", "json"]);
    let newest: Value = serde_json::from_str(&newest).unwrap();
    assert_eq!(newest[0]["target"], mark);
}

#[test]
fn db_copy_moves_a_lab_to_the_other_kind_and_back() {
    let env = Env::new();
    let tokens = lab(&env);
    let file = env.root().join("moved.db");
    if env.on_server() {
        // A lab on a server moves into a file, and from the file onto another server.
        hop(&env, &env.db(), &file, &tokens, "moved-to-a-file");
        let back = env.another_db("unused");
        hop(&env, &file, &back, &tokens, "moved-back");
    } else {
        // From a file to a file: the same rows path (the PostgreSQL run goes across).
        hop(&env, &env.db(), &file, &tokens, "moved-to-a-file");
    }
    // A token made after the move never gets the id of the deleted one.
    on(&env, &file, &["token", "set", "after"]);
    let ids: Vec<i64> = {
        let conn = rusqlite::Connection::open(&file).unwrap();
        let mut stmt = conn.prepare("SELECT id FROM tokens ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(ids[3], 5, "ids 1-4 were given before the move: {ids:?}");
}

#[test]
fn db_copy_refuses_what_is_not_empty_and_is_for_admins() {
    let env = Env::new();
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    // A file with anything in it, a folder, and a fresh osmo database.
    let full = env.root().join("notes.txt");
    fs::write(&full, "notes\n").unwrap();
    let fresh = env.root().join("fresh.db");
    env.ok(&["--db", fresh.to_str().unwrap(), "role", "list"]);
    for dest in [&full, &env.root().to_path_buf(), &fresh] {
        let before = fs::read(dest).ok();
        let err = fails_unchanged(&env, &["db", "copy", "--to", dest.to_str().unwrap()], 5);
        assert!(err.contains("not empty"), "{err}");
        assert_eq!(fs::read(dest).ok(), before);
    }
    // Onto itself.
    fails_unchanged(&env, &["db", "copy", "--to", env.db().to_str().unwrap()], 5);
    // A zero-length file of one's own is empty.
    let empty = env.root().join("empty.db");
    fs::write(&empty, "").unwrap();
    fs::set_permissions(&empty, fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(&["db", "copy", "--to", empty.to_str().unwrap()]);
    // Not for a plain user.
    let alice = token_for(&env, "alice", "a", &[]);
    let dest = env.root().join("by-alice.db");
    let run = env.run_env(
        &[("OSMO_TOKEN", &alice)],
        &["db", "copy", "--to", dest.to_str().unwrap()],
    );
    assert_eq!(run.code, 3, "{run}");
    assert!(!dest.exists());
}

/// `url` with `secret` as its password.
fn with_password(url: &str, secret: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    match rest.split_once('@') {
        Some((user, host)) => format!("{scheme}://{user}:{secret}@{host}"),
        None => format!("{scheme}://osmo:{secret}@{rest}"),
    }
}

#[test]
fn a_server_that_cannot_be_reached_is_named_without_its_password() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]);
    let dead = env.root().join("no-server-here");
    let url = format!("postgresql://osmo:hunter2@/osmo?host={}", dead.display());
    for args in [
        &["user", "list"][..],
        &["token", "verify"],
        &["db", "info", "-t", "json"],
    ] {
        let mut all = vec!["--db", url.as_str()];
        all.extend(args);
        let run = env.run_stdin(&token, &all);
        assert_eq!(run.code, 1, "{run}");
        assert!(
            !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
            "{run}"
        );
        assert!(
            run.stderr.contains(&format!(
                "cannot connect to database postgresql://osmo@/osmo?host={}",
                dead.display()
            )),
            "{run}"
        );
    }
}

#[test]
fn the_password_in_a_url_is_never_printed_or_stored() {
    let env = Env::new();
    if !env.on_server() {
        eprintln!("not on SQLite: a file path has no password");
        return;
    }
    // The test server trusts its local users, so any password is accepted.
    let url = with_password(env.db().to_str().unwrap(), "hunter2");
    let db = PathBuf::from(&url);
    let mut seen = Vec::new();
    let run = env.run(&["--db", &url, "token", "set", "first"]);
    seen.push(run.stdout + &run.stderr);
    let token = token_for(&env, "admin", "t", &[]);
    for args in [
        &["db", "info"][..],
        &["db", "info", "-t", "json"],
        &["user", "get", "nobody"],
        &["init", "--admin", "boss"],
        &["db", "copy", "--to", &url],
        &["db", "backup", &url],
        &["login", "--token", &token],
        &["profile", "list"],
        &["profile", "list", "-t", "json"],
        &["token", "list"],
        &["logout"],
        &["audit", "list", "-t", "json"],
    ] {
        let mut all = vec!["--db", db.to_str().unwrap()];
        all.extend(args);
        let run = env.run(&all);
        seen.push(run.stdout + &run.stderr);
    }
    let shown = seen.join("\n");
    assert!(shown.contains("postgresql://osmo@/"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!env.every_row().contains("hunter2"));
    for file in fs::read_dir(env.config_dir()).unwrap() {
        let text = fs::read_to_string(file.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("hunter2"), "{text}");
    }
}

/// A PostgreSQL server of the test's own on loopback, with TLS: `openssl req` makes a
/// certificate authority and a server certificate for `localhost`.
struct TlsServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl TlsServer {
    fn start(root: &Path) -> Result<TlsServer, String> {
        let bin = fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "no PostgreSQL server installed here".to_string())?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .ok_or("no PostgreSQL server installed here")?;
        let dir = root.join("tls-server");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|err| format!("{cmd:?}: {err}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
            }
        };
        let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&dir));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=osmo test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ])?;
        fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ])?;
        // The server's files are nobody's when the tests run as root (see server_user).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            run(Command::new("chown").args(["-R", "65534:65534"]).arg(&dir))?;
        }
        fs::set_permissions(dir.join("server.key"), fs::Permissions::from_mode(0o600)).unwrap();
        run(server_user(&bin.join("initdb"), &dir).args([
            "-D",
            "data",
            "-U",
            "osmo",
            "--auth=trust",
            "--no-sync",
        ]))?;
        // Over TCP only with TLS; a free port is the one a listener just gave back.
        fs::write(
            dir.join("data/pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            dir.display(),
            dir.join("server.crt").display(),
            dir.join("server.key").display()
        );
        run(server_user(&bin.join("pg_ctl"), &dir).args([
            "-D",
            "data",
            "-l",
            "server.log",
            "-w",
            "-o",
            &options,
            "start",
        ]))?;
        Ok(TlsServer { dir, bin, port })
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = server_user(&self.bin.join("pg_ctl"), &self.dir)
            .args(["-D", "data", "-m", "immediate", "stop"])
            .output();
    }
}

/// `program` of the server's, run in `dir`: as nobody when the tests run as root
/// (PostgreSQL refuses to run as root).
fn server_user(program: &Path, dir: &Path) -> Command {
    // SAFETY: geteuid has no preconditions.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program);
        cmd
    } else {
        Command::new(program)
    };
    cmd.current_dir(dir);
    cmd
}

#[test]
fn tls_connections_check_what_sslmode_asks() {
    let env = Env::new();
    if !env.on_server() {
        eprintln!("not on SQLite: TLS is a server's");
        return;
    }
    let server = match TlsServer::start(env.root()) {
        Ok(server) => server,
        Err(why) => {
            eprintln!("skipped: cannot start a TLS server here: {why}");
            return;
        }
    };
    let ca = server.dir.join("ca.crt");
    let other_ca = env.root().join("other-ca.crt");
    Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=someone else", "-keyout"])
        .arg(env.root().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    let url = |host: &str, query: &str| {
        format!("postgresql://osmo@{host}:{}/postgres?{query}", server.port)
    };
    let list = |db: &str| env.run(&["--db", db, "user", "list", "-t", "json"]);
    for (db, refused) in [
        (url("localhost", "sslmode=require"), None),
        (
            url(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
            ),
            None,
        ),
        (
            url(
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
            ),
            None,
        ),
        // The name on the certificate is localhost, not 127.0.0.1.
        (
            url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
            ),
            Some("certificate not valid for name"),
        ),
        // Signed by someone else.
        (
            url(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
            ),
            Some("UnknownIssuer"),
        ),
        // The server takes TCP connections only with TLS.
        (url("localhost", "sslmode=disable"), Some("no encryption")),
    ] {
        let run = list(&db);
        match refused {
            None => assert_eq!(run.code, 0, "{db}{run}"),
            Some(why) => {
                assert_eq!(run.code, 1, "{db}{run}");
                assert!(run.stderr.contains("cannot connect to database"), "{run}");
                assert!(run.stderr.contains(why), "{run}");
            }
        }
    }
}

/// The `osmo` lines of the README's `sh` blocks that need nothing from outside (no file,
/// pipe or command substitution), split into words, with a few lines of setup first.
fn readme_examples() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let mut in_sh = false;
    let mut lines = vec![
        // What the README says to do first: the roles and owners its examples name.
        vec!["role", "create", "role1"],
        vec!["role", "create", "role2"],
        vec!["user", "update", "admin", "-a", "role1", "role2"],
        vec!["user", "create", "adminjb", "-r", "osmo-user"],
    ]
    .into_iter()
    .map(|words| words.into_iter().map(String::from).collect())
    .collect::<Vec<Vec<String>>>();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        let command = line.split(" #").next().unwrap().trim();
        let Some(rest) = command.strip_prefix("osmo ") else {
            continue;
        };
        if !in_sh || rest.contains(['|', '$', '~', '<', '/']) {
            continue;
        }
        lines.push(words(rest));
    }
    lines
}

/// A command line split into words as a shell would, for the quoting the README uses.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (_, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Runs `examples` on the database at `db`: each one's exit code and output, with what
/// differs by design (the secrets and ids of new tokens, where the database is) masked.
fn answers(env: &Env, db: &Path, examples: &[Vec<String>]) -> Vec<String> {
    let shown = db.display().to_string();
    examples
        .iter()
        .map(|words| {
            let mut args = vec!["--db", shown.as_str()];
            args.extend(words.iter().map(String::as_str));
            let run = env.run(&args);
            let mut text = format!(
                "$ osmo {}\nexit {}\n{}{}",
                words.join(" "),
                run.code,
                run.stdout,
                run.stderr
            );
            for token in crate::util::tokens_in(&text) {
                let public = token[5..17].to_string();
                text = text.replace(&token, "<token>").replace(&public, "<id>");
            }
            text.replace(&shown, "<db>")
        })
        .collect()
}

#[test]
fn the_readme_examples_answer_the_same_on_both_backends() {
    let env = Env::new();
    if !env.on_server() {
        eprintln!("not on SQLite alone: compares the two backends on the PostgreSQL run");
        return;
    }
    let examples = readme_examples();
    assert!(examples.len() >= 20, "{examples:?}");
    let on_file = answers(&env, &env.root().join("readme.db"), &examples);
    let on_server = answers(&env, &env.db(), &examples);
    for (file, server) in on_file.iter().zip(&on_server) {
        assert_eq!(file, server);
    }
    // Most of them succeed: the comparison is of answers, not of errors.
    let failed: Vec<&String> = on_file
        .iter()
        .filter(|a| !a.contains("\nexit 0\n"))
        .collect();
    assert!(failed.len() <= 3, "{failed:#?}");
}

#[test]
fn a_copy_that_fails_leaves_its_destination_as_it_was() {
    let env = Env::new();
    lab(&env);
    // More than the small disk below holds: 20,000 audit events.
    env.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO audit (at, actor, action, target, subject, outcome)
         SELECT i, 'admin', 'role.create', 'padding-' || i, NULL, 'ok' FROM n",
    );
    with_small_disk(&env, |small| {
        let before = env.every_row();
        // A new file, and a zero-length one of one's own: gone, and empty, after.
        let new = small.join("new.db");
        let empty = small.join("empty.db");
        fs::write(&empty, "").unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o600)).unwrap();
        for (dest, after) in [(&new, None), (&empty, Some(0))] {
            let run = env.run(&["db", "copy", "--to", dest.to_str().unwrap()]);
            assert_eq!(run.code, 1, "{run}");
            assert!(run.stderr.contains("the disk is full"), "{run}");
            assert_eq!(fs::metadata(dest).ok().map(|m| m.len()), after, "{run}");
            let left: Vec<_> = fs::read_dir(small)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(left.len() <= 1, "{left:?}");
        }
        assert_eq!(env.every_row(), before, "the source changed");
        // With room, the same copy goes through.
        fs::remove_file(&empty).unwrap();
        let roomy = env.root().join("roomy.db");
        env.ok(&["db", "copy", "--to", roomy.to_str().unwrap()]);
    });
}

#[test]
fn a_copy_the_server_refuses_leaves_the_schema_empty() {
    let env = Env::new();
    if !env.on_server() {
        eprintln!("not on SQLite alone: copies a file onto the PostgreSQL run's server");
        return;
    }
    let file = env.root().join("lab.db");
    on(&env, &file, &["role", "create", "team", "-d", "ok"]);
    // A text SQLite keeps and PostgreSQL cannot: a NUL character.
    let set = |text: &str| {
        rusqlite::Connection::open(&file)
            .unwrap()
            .execute(
                "UPDATE roles SET description = ?1 WHERE name = 'team'",
                [text],
            )
            .unwrap();
    };
    set("a\0b");
    let dest = env.another_db("unused");
    let mut args = vec!["--db", file.to_str().unwrap(), "db", "copy", "--to"];
    args.push(dest.to_str().unwrap());
    let run = env.run(&args);
    assert_eq!(run.code, 1, "{run}");
    // Nothing of it stayed: the same copy goes through once the text is one it can take.
    set("a b");
    env.ok(&args);
    assert_eq!(
        on(&env, &dest, &["role", "list", "-t", "json"]),
        on(&env, &file, &["role", "list", "-t", "json"])
    );
}
