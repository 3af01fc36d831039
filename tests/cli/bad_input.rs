//! Bad input of every kind, over every command: the exit code of DESIGN §6, one `error:`
//! line, never a panic, and no change to the database (DESIGN §7).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use chrono::{Days, Utc};

use crate::util::{Env, Issued, Run, in_days};

struct Case {
    args: Vec<String>,
    code: i32,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

fn case(args: &[&str], code: i32) -> Case {
    Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        code,
        env: vec![],
        stdin: None,
    }
}

fn with_env(mut c: Case, key: &str, value: &str) -> Case {
    c.env.push((key.to_string(), value.to_string()));
    c
}

fn with_stdin(mut c: Case, input: &str) -> Case {
    c.stdin = Some(input.to_string());
    c
}

fn run_case(env: &Env, c: &Case) -> Run {
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let mut cmd = env.cmd(&args);
    for (key, value) in &c.env {
        cmd.env(key, value);
    }
    cmd.write_stdin(c.stdin.clone().unwrap_or_default());
    env.run_with(cmd, &args)
}

/// One `error:` line (warnings may come before it), nothing on stdout, no panic.
fn assert_clean_failure(run: &Run, code: i32) {
    assert_eq!(run.code, code, "wrong exit code{run}");
    assert!(run.stdout.is_empty(), "stdout should be empty{run}");
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("backtrace"),
        "{run}"
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    let errors = lines.iter().filter(|l| l.starts_with("error: ")).count();
    let others = lines
        .iter()
        .filter(|l| !l.starts_with("error: ") && !l.starts_with("warning: "))
        .count();
    assert_eq!((errors, others), (1, 0), "expected one error line{run}");
}

#[test]
fn bad_input_table() {
    let env = Env::new();
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user", "team"]);
    let issued: Issued = env.json(&["token", "set", "t1", "-u", "alice"]);
    let root = env.root().to_str().unwrap().to_string();
    let missing = format!("{root}/no-such-file");
    let empty = format!("{root}/empty-token");
    fs::write(&empty, "  \n").unwrap();
    let open = format!("{root}/open-token");
    fs::write(&open, "osmo_not_a_real_token\n").unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
    let today = in_days(0);
    let yesterday = (Utc::now().date_naive() - Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let far = in_days(400);
    let long = "x".repeat(10_000);
    let unknown_token = {
        let other: Issued = env.json(&["token", "set", "gone"]);
        env.ok(&["token", "delete", "gone"]);
        other.token
    };
    let mut malformed = issued.token.clone();
    malformed.replace_range(20..21, if &malformed[20..21] == "A" { "B" } else { "A" });

    let cases = vec![
        // Dates and durations.
        case(&["token", "set", "x", "-e", "2027-02-30"], 2),
        case(&["token", "set", "x", "-e", "2027-5-1"], 2),
        case(&["token", "set", "x", "-e", &today], 2),
        case(&["token", "set", "x", "-e", &yesterday], 2),
        case(&["token", "set", "x", "-e", "1999-01-01"], 2),
        case(&["token", "set", "x", "-e", &far], 2),
        case(&["token", "set", "x", "-e", ""], 2),
        case(&["token", "set", "x", "-e", "2027-01-01T00:00:00Z"], 2),
        case(&["token", "set", "x", "-e", "٢٠٢٧-٠١-٠١"], 2),
        case(&["token", "set", "x", "--expires-in", "0d"], 2),
        case(&["token", "set", "x", "--expires-in=-1d"], 2),
        case(&["token", "set", "x", "--expires-in", "1.5d"], 2),
        case(&["token", "set", "x", "--expires-in", "1 d"], 2),
        case(&["token", "set", "x", "--expires-in", "5"], 2),
        case(&["token", "set", "x", "--expires-in", "10y"], 2),
        case(
            &["token", "set", "x", "--expires-in", "99999999999999999999d"],
            2,
        ),
        case(&["token", "set", "x", "--expires-in", "366d"], 2),
        case(&["apitoken", "create", "--expiry-date", "0s"], 2),
        case(&["apitoken", "create", "--expiry-date", "2Y"], 2),
        case(&["apitoken", "create", "--expiry-date", "+5D"], 2),
        case(
            &["token", "rotate", "t1", "-u", "alice", "-e", "2020-01-01"],
            2,
        ),
        // Ids and names.
        case(&["user", "create", "--", "-x"], 2),
        case(&["user", "create", "a b"], 2),
        case(&["user", "create", &"u".repeat(129)], 2),
        case(&["user", "create", &long], 2),
        case(&["user", "create", "ünï"], 2),
        case(&["user", "create", "a\u{7}b"], 2),
        case(&["user", "create", "a\tb"], 2),
        case(&["user", "create", ""], 2),
        case(&["user", "get", "bad id"], 2),
        case(&["user", "update", "a/b", "-a", "team"], 2),
        case(&["user", "delete", "a;drop", "-f"], 2),
        case(&["user", "list", "-p", "bad prefix!"], 2),
        case(&["user", "list", "-r", "bad role"], 2),
        case(&["role", "create", "1 2"], 2),
        case(&["role", "create", &"r".repeat(65)], 2),
        case(&["role", "create", ":x"], 2),
        case(&["role", "delete", "", "-f"], 2),
        case(&["token", "set", "1abc"], 2),
        case(&["token", "set", "a.b"], 2),
        case(&["token", "set", &"t".repeat(65)], 2),
        case(&["token", "delete", "bad name"], 2),
        case(&["token", "roles", "x y"], 2),
        case(&["token", "set", "ok", "-u", "bad user"], 2),
        case(&["token", "set", "ok", "-r", "bad role"], 2),
        case(&["apitoken", "create", "--name", "bad name"], 2),
        case(&["apitoken", "create", "--owner", "bad owner"], 2),
        case(
            &[
                "token",
                "verify",
                "--role",
                "bad role",
                "--token-file",
                &empty,
            ],
            2,
        ),
        // Descriptions.
        case(&["token", "set", "ok", "-d", "line\nbreak"], 2),
        case(&["token", "set", "ok", "-d", &"x".repeat(257)], 2),
        case(&["token", "set", "ok", "-d", &"é".repeat(300)], 2),
        case(&["role", "create", "r2", "-d", "\u{1b}[31mred"], 2),
        // Not found.
        case(&["user", "get", "nobody"], 4),
        case(&["user", "update", "nobody", "-a", "team"], 4),
        case(&["user", "delete", "nobody", "-f"], 4),
        case(&["user", "create", "new", "-r", "no-such-role"], 4),
        case(&["user", "list", "-r", "no-such-role"], 4),
        case(&["token", "delete", "nope"], 4),
        case(&["token", "roles", "nope", "-u", "alice"], 4),
        case(&["token", "rotate", "nope"], 4),
        case(&["token", "list", "-u", "nobody"], 4),
        case(&["token", "set", "ok", "-u", "nobody"], 4),
        case(&["token", "set", "ok", "-r", "no-such"], 4),
        case(&["role", "delete", "no-such", "-f"], 4),
        case(&["apitoken", "create", "--owner", "nobody"], 4),
        // Conflicts.
        case(&["user", "create", "alice"], 5),
        case(&["role", "create", "team"], 5),
        case(&["role", "delete", "osmo-user", "-f"], 5),
        case(&["token", "set", "t1", "-u", "alice"], 5),
        case(&["user", "delete", "admin", "-f"], 5),
        case(&["init", "--admin", "someone"], 5),
        // Usage.
        case(&["user", "update", "alice"], 2),
        case(&["user", "delete", "alice"], 2),
        case(&["role", "delete", "team"], 2),
        case(&["config", "set", "nope", "1"], 2),
        case(&["config", "set", "max-tokens-per-user", "-1"], 2),
        case(&["config", "set", "max-tokens-per-user", "1e3"], 2),
        case(&["config", "set", "default-token-lifetime", "400d"], 2),
        case(&["config", "set", "max-token-lifetime", "1d"], 2),
        case(&["config", "set", "session-idle-timeout", "0h"], 2),
        case(&["config", "set", "operator-access", "maybe"], 2),
        case(&["config", "get", "nope"], 2),
        case(&["login", "--method", "password", "--token", "x"], 2),
        // Tokens and token files.
        with_env(case(&["token", "list"], 6), "OSMO_TOKEN", "garbage"),
        with_env(case(&["token", "list"], 6), "OSMO_TOKEN", &malformed),
        with_env(case(&["user", "list"], 6), "OSMO_TOKEN", &unknown_token),
        with_env(
            case(&["token", "list"], 6),
            "OSMO_TOKEN",
            &format!("osmo_{long}"),
        ),
        with_env(case(&["token", "list"], 2), "OSMO_TOKEN_FILE", &missing),
        with_env(case(&["token", "list"], 2), "OSMO_TOKEN_FILE", &empty),
        with_env(case(&["token", "list"], 2), "OSMO_TOKEN_FILE", &root),
        with_env(case(&["token", "list"], 6), "OSMO_TOKEN_FILE", &open),
        with_stdin(case(&["token", "verify"], 2), ""),
        with_stdin(case(&["token", "verify"], 6), "osmo_\u{0}\u{1}"),
        with_stdin(case(&["token", "verify"], 6), &malformed),
        case(&["token", "verify", "--token-file", &missing], 2),
        case(&["token", "verify", "--token-file", &empty], 2),
        case(&["token", "verify", "--token-file", &root], 2),
        case(&["token", "verify", "--token-file", &open], 6),
        case(&["login", "--token-file", &root], 2),
        case(&["login", "--token", "garbage"], 6),
        with_stdin(case(&["login"], 2), "\n"),
    ];
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let before = env.dump();
        let run = run_case(&env, c);
        let result = std::panic::catch_unwind(|| assert_clean_failure(&run, c.code));
        if result.is_err() {
            failures.push(format!("{run}"));
        }
        assert_eq!(before, env.dump(), "the database changed{run}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:{}",
        failures.len(),
        cases.len(),
        failures.join("")
    );
    eprintln!("{} bad-input cases", cases.len());
}

/// Cases where `--db` itself is the bad input; each leaves the file as it was.
#[test]
fn bad_database_paths_exit_1_and_change_nothing() {
    let env = Env::new();
    let root = env.root().to_path_buf();
    // A directory.
    let dir = root.join("a-dir");
    fs::create_dir(&dir).unwrap();
    // Not SQLite.
    let text = root.join("notes.txt");
    fs::write(&text, "hello, not a database\n".repeat(100)).unwrap();
    // An SQLite file of something else.
    let foreign = root.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    // A truncated osmo database.
    let truncated = root.join("truncated.db");
    let source = root.join("source.db");
    for i in 0..40 {
        let user = format!("user-{i}");
        env.ok(&[
            "--db",
            source.to_str().unwrap(),
            "user",
            "create",
            &user,
            "-r",
            "osmo-user",
        ]);
    }
    let bytes = fs::read(&source).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // A newer schema.
    let newer = root.join("newer.db");
    fs::copy(&source, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    // A folder nobody may create files in. Root ignores mode bits, so use /proc there.
    let locked = root.join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    let read_only = if is_root() {
        "/proc/self/osmo/osmo.db".into()
    } else {
        locked.join("osmo.db")
    };

    let paths = [dir.clone(), text, foreign, truncated, newer, read_only];
    for path in &paths {
        let before = fs::read(path).ok();
        let run = env.run(&["--db", path.to_str().unwrap(), "user", "list"]);
        assert_clean_failure(&run, 1);
        assert_eq!(
            before,
            fs::read(path).ok(),
            "{} changed{run}",
            path.display()
        );
        let run = env.run(&["--db", path.to_str().unwrap(), "user", "list", "-t", "json"]);
        assert_eq!(run.code, 1, "{run}");
        let doc: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
        assert_eq!(doc["error"]["status"], 500, "{run}");
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
