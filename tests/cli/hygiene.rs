//! Secret hygiene: a token's plaintext is shown once and appears nowhere else (DESIGN §4).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::util::{Env, Issued, Run, tokens_in};

fn mode(path: &PathBuf) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn plaintext_appears_only_where_it_is_handed_out() {
    let env = Env::new();
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    let holder = env.hold_open();

    let mut secrets: Vec<String> = Vec::new();
    let mut issue = |args: &[&str]| {
        let issued: Issued = env.json(args);
        secrets.push(issued.token.clone());
        issued
    };
    let own = issue(&["token", "set", "own"]);
    let theirs = issue(&["token", "set", "theirs", "-u", "alice"]);
    let rotated = issue(&["token", "rotate", "own"]);
    let vast = issue(&["apitoken", "create", "--owner", "alice"]);
    let text_out = env.ok(&["token", "set", "texty"]);
    secrets.extend(tokens_in(&text_out));
    assert_eq!(secrets.len(), 5);

    // Everything else that reads or uses them.
    let mut outputs: Vec<Run> = Vec::new();
    outputs.push(env.run(&["login", "--token", &theirs.token]));
    for args in [
        &["token", "list"][..],
        &["token", "list", "-t", "json"],
        &["profile", "list"],
        &["profile", "list", "-t", "json"],
        &["token", "roles", "theirs", "-u", "alice"],
    ] {
        outputs.push(env.run(args));
    }
    env.ok(&["logout"]);
    for token in [&own.token, &rotated.token, &vast.token] {
        outputs.push(env.run_stdin(token, &["token", "verify"]));
        outputs.push(env.run_stdin(token, &["token", "verify", "-t", "json"]));
        outputs.push(env.run_env(&[("OSMO_TOKEN", token)], &["token", "list"]));
    }
    // A failed login (rotated away), then one that leaves a session file.
    outputs.push(env.run(&["login", "--token", &own.token]));
    env.ok(&["login", "--token", &rotated.token]);
    env.as_operator(&["token", "delete", "texty"]);
    for args in [
        &["token", "list", "--all"][..],
        &["token", "list", "--all", "-t", "json"],
        &["audit", "list"],
        &["audit", "list", "-t", "json"],
    ] {
        let dir = env.root().join("operator-config");
        outputs.push(env.run_env(&[("OSMO_CONFIG_FILE_DIR", dir.to_str().unwrap())], args));
    }

    assert!(outputs.iter().all(|r| r.code == 0 || r.code == 6));
    let succeeded = outputs.iter().filter(|r| r.code == 0).count();
    assert!(
        succeeded >= 15,
        "only {succeeded} of {} uses succeeded",
        outputs.len()
    );
    let secret_parts: Vec<&str> = secrets.iter().map(|t| &t[18..50]).collect();
    for run in &outputs {
        for part in &secret_parts {
            assert!(
                !run.stdout.contains(part) && !run.stderr.contains(part),
                "leak{run}"
            );
        }
    }

    // The session file, the database's files (on PostgreSQL: its rows, audit and all).
    let session = env.config_dir().join("login.json");
    let mut files = vec![session.clone()];
    if env.on_server() {
        let rows = env.every_row();
        for part in &secret_parts {
            assert!(!rows.contains(part), "a stored row holds a secret");
        }
    } else {
        files.push(env.db());
        for suffix in ["-wal", "-shm"] {
            let mut path = env.db().into_os_string();
            path.push(suffix);
            files.push(PathBuf::from(path));
        }
    }
    for file in &files {
        assert!(file.exists(), "{} should exist", file.display());
        assert_eq!(mode(file), 0o600, "{}", file.display());
        let bytes = fs::read(file).unwrap();
        for part in &secret_parts {
            assert!(
                !bytes.windows(part.len()).any(|w| w == part.as_bytes()),
                "{} holds a secret",
                file.display()
            );
        }
    }
    if !env.on_server() {
        assert_eq!(mode(&env.db().parent().unwrap().to_path_buf()), 0o700);
    }
    drop(holder);
}
