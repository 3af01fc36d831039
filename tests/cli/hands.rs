//! Fitting the user's hands: shell completion that knows names, the manual page, help,
//! usage errors under `-t json`, messages that say what happened and what to do, tables
//! that fit a terminal, and the packaging (DESIGN §1, §2, §5, §6).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{Env, token_for, with_token};

/// Whether `program` can be run here; if not, says so, for a test that skips a part.
fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: {program} is not installed here");
    }
    found
}

fn binary_dir() -> &'static Path {
    Path::new(assert_cmd::cargo::cargo_bin!("osmo"))
        .parent()
        .unwrap()
}

/// Runs `script` in `shell` with the test's environment and `osmo` on PATH.
fn shell(env: &Env, shell: &str, flag: &str, script: &str, extra: &[(&str, &str)]) -> String {
    let path = format!(
        "{}:{}",
        binary_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = env.program(shell);
    sh.args([flag, script]).current_dir(env.root());
    sh.env("PATH", path);
    for (key, value) in extra {
        sh.env(key, value);
    }
    let out = sh.output().expect("run shell");
    assert!(
        out.status.success(),
        "{shell} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asks the bash completion function what it offers for `line` (the last word is the
/// one being completed), as bash itself does on TAB.
fn bash_completes(env: &Env, line: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let script = format!(
        r#"source <(osmo completion bash)
words=({line} '')
{last}
COMP_WORDS=("${{words[@]}}"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9
_clap_complete_osmo osmo "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        // `line` ending in a space completes a new word; otherwise its last word.
        last = if line.ends_with(' ') {
            ""
        } else {
            "unset 'words[${#words[@]}-1]'"
        },
    );
    shell(env, "bash", "-c", &script, extra)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn values(offered: &[String]) -> Vec<&str> {
    offered
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .collect()
}

#[test]
fn completion_into_a_closed_pipe_is_success() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish"] {
        // The reading end is gone before osmo writes a byte: every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env
            .std_cmd(&["completion", shell])
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{shell}: {stderr}");
        assert!(stderr.is_empty(), "{shell}: {stderr}");
    }
    // The same through a real `| head -1`.
    let out = shell(
        &env,
        "bash",
        "-c",
        "set -o pipefail; osmo completion bash | head -1 >/dev/null; osmo completion zsh | head -1",
        &[],
    );
    assert_eq!(out, "#compdef osmo\n");
}

#[test]
fn completion_offers_names_from_the_database_in_real_bash() {
    let env = Env::new();
    env.ok(&["token", "set", "ci-token"]);
    env.ok(&["token", "set", "laptop"]);
    env.ok(&["role", "create", "ml-team"]);
    env.ok(&["user", "create", "bob", "-r", "osmo-user"]);
    env.ok(&["token", "set", "bobs-token", "-u", "bob"]);

    let offered = bash_completes(&env, "osmo token delete ", &[]);
    assert_eq!(values(&offered), ["ci-token", "laptop"], "{offered:?}");
    assert!(offered.contains(&"--user".to_string()), "{offered:?}");
    let offered = bash_completes(&env, "osmo token rotate la", &[]);
    assert_eq!(offered, ["laptop"]);
    // Another user's tokens, for an admin who names the user.
    let offered = bash_completes(&env, "osmo token roles --user bob ", &[]);
    assert_eq!(values(&offered), ["bobs-token"], "{offered:?}");
    let offered = bash_completes(&env, "osmo token list --user ", &[]);
    assert_eq!(offered, ["admin", "bob"]);
    let offered = bash_completes(&env, "osmo user get b", &[]);
    assert_eq!(offered, ["bob"]);
    let offered = bash_completes(&env, "osmo user update bob --add-roles ", &[]);
    assert_eq!(
        offered,
        ["ml-team", "osmo-admin", "osmo-backend", "osmo-user"]
    );
    let offered = bash_completes(&env, "osmo role delete ml", &[]);
    assert_eq!(offered, ["ml-team"]);
    let offered = bash_completes(&env, "osmo config set session", &[]);
    assert_eq!(offered, ["session-idle-timeout"]);
    // Commands and flags come from the same engine.
    let offered = bash_completes(&env, "osmo tok", &[]);
    assert_eq!(offered, ["token"]);

    // A plain user's token sees its own tokens and its own id, not other users'.
    let bob = token_for(&env, "bob", "bob-cli", &[]);
    let as_bob = [("OSMO_TOKEN", bob.as_str())];
    let offered = bash_completes(&env, "osmo token delete ", &as_bob);
    assert_eq!(values(&offered), ["bob-cli", "bobs-token"], "{offered:?}");
    let offered = bash_completes(&env, "osmo user get ", &as_bob);
    assert_eq!(values(&offered), ["bob"], "{offered:?}");
    // A bad token gets nothing, and completion records nothing.
    let before = env.dump();
    let offered = bash_completes(&env, "osmo token delete ", &[("OSMO_TOKEN", "nope")]);
    assert!(values(&offered).is_empty(), "{offered:?}");
    assert_eq!(before, env.dump());

    // The database on the line is the one asked; a missing one is not created.
    let other = env.root().join("data/other.db");
    let line = format!("osmo --db {} token delete ", other.display());
    let offered = bash_completes(&env, &line, &[]);
    assert!(values(&offered).is_empty(), "{offered:?}");
    assert!(!other.exists(), "completion created a database");
}

#[test]
fn zsh_and_fish_scripts_parse_and_fish_completes_names() {
    let env = Env::new();
    env.ok(&["token", "set", "ci-token"]);
    if have("zsh") {
        let zsh = env.ok(&["completion", "zsh"]);
        assert!(zsh.starts_with("#compdef osmo"), "{zsh}");
        let file = env.root().join("osmo.zsh");
        std::fs::write(&file, zsh).unwrap();
        shell(&env, "zsh", "-n", file.to_str().unwrap(), &[]);
    }
    if have("fish") {
        let fish = env.ok(&["completion", "fish"]);
        let file = env.root().join("osmo.fish");
        std::fs::write(&file, fish).unwrap();
        shell(&env, "fish", "-n", file.to_str().unwrap(), &[]);
        let script = format!(
            "source {}; complete -C 'osmo token delete '",
            file.display()
        );
        let out = shell(&env, "fish", "-c", &script, &[]);
        assert!(out.lines().any(|l| l == "ci-token"), "{out}");
    }
}

#[test]
fn the_manual_page_has_every_command_and_the_environment() {
    let env = Env::new();
    let page = env.ok(&["man"]);
    for section in [".SH NAME", ".SH COMMANDS", ".SH ENVIRONMENT", ".SH FILES"] {
        assert!(page.contains(section), "no {section}");
    }
    assert!(page.contains(".SH \"EXIT STATUS\""), "no EXIT STATUS");
    assert!(!env.db_exists(), "man created a database");
    if !have("man") {
        return;
    }
    let rendered = shell(
        &env,
        "sh",
        "-c",
        "osmo man | MANWIDTH=100 man -l - | col -b",
        &[("MANPAGER", "cat")],
    );
    for expected in [
        "osmo token set [OPTIONS] <NAME>",
        "osmo token verify",
        "osmo db restore",
        "-u, --user USER",
        "--add-roles ROLE",
        "Ex. osmo token set my-token -r role1 -r role2",
        "OSMO_TOKEN_FILE",
        "OSMO_CONFIG_FILE_DIR",
        "NO_COLOR",
        "EXIT STATUS",
        "token scan found at least one active token",
    ] {
        assert!(
            rendered.contains(expected),
            "no `{expected}` in:\n{rendered}"
        );
    }
}

#[test]
fn help_ends_with_examples_and_the_summaries() {
    let env = Env::new();
    let help = env.ok(&["--help"]);
    let environment = help.find("Environment:\n").expect("Environment section");
    let exits = help.find("Exit status:\n").expect("Exit status section");
    assert!(help.find("Options:").unwrap() < environment && environment < exits);
    for line in [
        "  OSMO_TOKEN_FILE",
        "  6  Authentication failed",
        "  7  token scan",
    ] {
        assert!(help[environment..].contains(line), "no {line}:\n{help}");
    }
    // -h: one example, after the options; --help: all of them, after the options.
    let short = env.ok(&["token", "set", "-h"]);
    let examples: Vec<&str> = short.lines().filter(|l| l.starts_with("Ex. ")).collect();
    assert_eq!(
        examples,
        ["Ex. osmo token set my-token --expires-at 2027-05-01"]
    );
    assert!(short.find("Options:").unwrap() < short.find("Ex. ").unwrap());
    let long = env.ok(&["token", "set", "--help"]);
    assert_eq!(long.lines().filter(|l| l.starts_with("Ex. ")).count(), 4);
    assert!(long.find("--quiet").unwrap() < long.find("Ex. ").unwrap());
    assert!(long.trim_end().ends_with("--roles osmo-backend"), "{long}");
    // Every command shows at least one example.
    for command in [
        "init",
        "login",
        "logout",
        "man",
        "completion",
        "token set",
        "token delete",
        "token list",
        "token roles",
        "token rotate",
        "token prune",
        "token scan",
        "token verify",
        "apitoken create",
        "user create",
        "user list",
        "user get",
        "user update",
        "user delete",
        "role list",
        "role create",
        "role delete",
        "config list",
        "config get",
        "config set",
        "profile list",
        "audit list",
        "db info",
        "db check",
        "db backup",
        "db restore",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("-h");
        let out = env.ok(&args);
        let examples = out.lines().filter(|l| l.starts_with("Ex. ")).count();
        assert_eq!(examples, 1, "{command}:\n{out}");
    }
}

/// The JSON error a usage mistake gets under `-t json`.
fn usage_error(env: &Env, args: &[&str]) -> String {
    let run = env.run(args);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    let doc: Value = serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{e}{run}"));
    assert_eq!(doc["error"]["code"], "usage", "{run}");
    assert_eq!(doc["error"]["status"], 400, "{run}");
    let message = doc["error"]["message"].as_str().unwrap().to_string();
    assert!(!message.contains('\n'), "{message}");
    message
}

#[test]
fn usage_errors_follow_format_type_json() {
    let env = Env::new();
    let message = usage_error(&env, &["-t", "json", "token", "set"]);
    assert!(message.contains("<NAME>"), "{message}");
    assert!(message.contains("usage: osmo token set"), "{message}");
    usage_error(&env, &["token", "list", "--format-type=json", "--bogus"]);
    usage_error(
        &env,
        &["--format-type", "json", "token", "list", "--all", "-u", "x"],
    );
    usage_error(&env, &["-tjson", "nothing-here"]);
    usage_error(&env, &["-t", "json", "token", "prune", "--all", "-u", "x"]);
    // Text stays clap's own, and help is help.
    let run = env.run(&["token", "set"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(run.stderr.contains("Usage: osmo token set"), "{run}");
    assert!(
        env.ok(&["-t", "json", "token", "set", "--help"])
            .contains("Usage:")
    );
    assert!(!env.db_exists());
}

#[test]
fn usage_does_not_show_db_as_required_when_osmo_db_is_set() {
    let env = Env::new();
    // Env sets OSMO_DB for every run.
    let run = env.run(&["token", "set"]);
    let usage = run
        .stderr
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap();
    assert_eq!(usage, "Usage: osmo token set <NAME>", "{run}");
    // And OSMO_DB is still the database.
    env.ok(&["user", "create", "zed"]);
    assert!(env.db_exists());
}

#[test]
fn a_stale_token_names_where_it_came_from() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]);
    env.ok(&["token", "delete", "t"]);
    let run = with_token(&env, &token, &["token", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert_eq!(run.stderr, "error: invalid token in OSMO_TOKEN (unknown)\n");
    let file = env.root().join("token");
    std::fs::write(&file, &token).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let run = env.run_env(
        &[("OSMO_TOKEN_FILE", file.to_str().unwrap())],
        &["role", "list"],
    );
    assert_eq!(run.code, 6, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "error: invalid token in OSMO_TOKEN_FILE {} (unknown)\n",
            file.display()
        )
    );
}

#[test]
fn an_ended_session_keeps_its_reason_and_says_how_out() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]);
    env.ok(&["login", "--token", &token]);
    let past = chrono::Utc::now().timestamp() - 13 * 3600;
    env.exec(&format!("UPDATE sessions SET last_used_at = {past}"));
    let expected = "error: the login session has ended (unused for longer than session-idle-timeout, 12h): run osmo login again, or osmo logout to act as the local operator\n";
    for _ in 0..3 {
        let run = env.run(&["token", "list"]);
        assert_eq!(run.code, 6, "{run}");
        assert_eq!(run.stderr, expected, "{run}");
    }
    // Every failed resume is audited, not only the first.
    let denied: i64 = env
        .count("SELECT count(*) FROM audit WHERE action = 'session.resume' AND outcome = 'denied'");
    assert_eq!(denied, 3);
    assert!(env.ok(&["logout"]).contains("logged out"));
    env.ok(&["token", "list"]);

    // An expired token names the session as its source.
    env.ok(&["login", "--token", &token]);
    env.exec("UPDATE tokens SET expires_at = 1000");
    for _ in 0..2 {
        let run = env.run(&["role", "list"]);
        assert_eq!(
            run.stderr,
            "error: invalid token in the login session (expired): run osmo login again, or osmo logout to act as the local operator\n",
            "{run}"
        );
    }
}

#[test]
fn first_use_says_where_the_database_went() {
    let env = Env::new();
    let run = env.run(&["token", "set", "my-token"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stderr,
        format!(
            "note: created database {} (admin user: admin)\n",
            env.db().display()
        )
    );
    // Only once.
    assert_eq!(env.run(&["token", "list"]).stderr, "");
    // Not under -t json, where stderr holds only warnings and JSON errors.
    let other = env.root().join("data/json.db");
    let run = env.run(&[
        "--db",
        other.to_str().unwrap(),
        "role",
        "list",
        "-t",
        "json",
    ]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run}");
    // The default folder is created when missing, with the same note.
    let mut cmd = env.cmd(&["role", "list"]);
    cmd.env_remove("OSMO_DB");
    let run = env.run_with(cmd, &["role", "list"]);
    let default = env.root().join("xdg-data/osmo/osmo.db");
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains(&format!("note: created database {}", default.display()))
    );
    assert!(default.exists());
}

#[test]
fn a_mistyped_path_creates_nothing() {
    let env = Env::new();
    let typo = env.root().join("dtaa/osmo.db");
    let run = env.run(&["--db", typo.to_str().unwrap(), "token", "set", "x"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(&format!(
            "folder {} does not exist",
            typo.parent().unwrap().display()
        )),
        "{run}"
    );
    assert!(!typo.parent().unwrap().exists());
    let run = env.run_env(
        &[("OSMO_DB", typo.to_str().unwrap())],
        &["init", "--admin", "a"],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(!typo.parent().unwrap().exists());

    // login, verify and token callers never create one, even in a folder that exists.
    let missing = env.root().join("data/missing.db");
    let expected = format!("error: no osmo database at {}\n", missing.display());
    let db = missing.to_str().unwrap();
    let token = "osmo_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (vars, args) in [
        (vec![], vec!["--db", db, "login", "--token", token]),
        (vec![], vec!["--db", db, "token", "verify"]),
        (
            vec![("OSMO_TOKEN", token)],
            vec!["--db", db, "token", "list"],
        ),
        (
            vec![("OSMO_TOKEN_FILE", "/dev/null")],
            vec!["--db", db, "role", "list"],
        ),
    ] {
        let mut cmd = env.cmd(&args);
        for (key, value) in &vars {
            cmd.env(key, value);
        }
        cmd.write_stdin(token);
        let run = env.run_with(cmd, &args);
        assert_eq!(run.code, 1, "{run}");
        assert_eq!(run.stderr, expected, "{run}");
        assert!(!missing.exists(), "{args:?} created a database");
    }
}

#[test]
fn messages_say_what_to_do() {
    let env = Env::new();
    env.ok(&["user", "create", "bare"]);
    let run = env.run(&["apitoken", "create", "--owner", "bare"]);
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(
        run.stderr,
        "error: At least one role must be specified for the access token. User bare has no roles: osmo user update bare --add-roles ROLE\n"
    );
    let run = env.run(&["init", "--admin", "alice"]);
    assert_eq!(run.code, 5, "{run}");
    assert!(run.stderr.contains("pass --db PATH"), "{run}");
    assert_eq!(
        env.ok(&["config", "set", "max-tokens-per-user", "2"]),
        "max-tokens-per-user set to 2\n"
    );
    env.ok(&["user", "create", "lab", "-r", "osmo-user"]);
    let run = env.run(&["token", "set", "x", "-u", "lab", "-r", "osmo-admin"]);
    assert_eq!(
        run.stderr,
        "error: User lab does not have role osmo-admin.\n"
    );
}

/// Runs `osmo ARGS` on a pseudo-terminal `columns` wide; returns what it showed.
fn on_terminal(env: &Env, columns: &str, args: &str) -> String {
    let osmo = assert_cmd::cargo::cargo_bin!("osmo");
    let mut script = env.program("script");
    script.args(["-qec", &format!("{} {args}", osmo.display()), "/dev/null"]);
    let mut child = script
        .env("COLUMNS", columns)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{out}");
    out.replace("\r\n", "\n")
}

#[test]
fn tables_fit_the_terminal_and_pipes_are_never_cut() {
    if !have("script") {
        return;
    }
    let env = Env::new();
    let long = "a long description ".repeat(11);
    env.ok(&["token", "set", "wordy", "-d", long.trim()]);
    env.ok(&["token", "set", "short", "-d", "ci"]);
    let shown = on_terminal(&env, "100", "token list");
    let width = |l: &str| unicode_width::UnicodeWidthStr::width(l);
    assert!(shown.lines().all(|l| width(l) <= 100), "{shown}");
    let wordy = shown.lines().find(|l| l.starts_with("wordy")).unwrap();
    assert!(
        wordy.contains("a long de") && wordy.contains('…'),
        "{shown}"
    );
    // Every other cell is whole: the description gave way first.
    assert!(
        wordy.contains("Active") && wordy.contains("osmo-admin, osmo-user"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("short") && l.contains(" ci ")),
        "{shown}"
    );
    // Piped: unchanged, the whole description.
    let piped = env.ok(&["token", "list"]);
    assert!(piped.contains(long.trim()), "{piped}");
    assert!(!piped.contains('…'));
    // JSON is data, never cut.
    let json = on_terminal(&env, "100", "token list -t json");
    assert!(json.contains(long.trim()));
}

#[test]
fn packaging_states_the_truth() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", "x86_64-unknown-linux-gnu"])
        .current_dir(root)
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let ours = packages.iter().find(|p| p["name"] == "osmo-local").unwrap();
    for key in ["keywords", "categories"] {
        assert!(!ours[key].as_array().unwrap().is_empty(), "no {key}");
    }
    assert_eq!(ours["readme"], "README.md");
    // The stated minimum Rust is at least what every crate the binary builds needs.
    let version = |v: &Value| -> (u64, u64) {
        let mut parts = v
            .as_str()
            .unwrap_or("0.0")
            .split('.')
            .map(|p| p.parse().unwrap());
        (parts.next().unwrap(), parts.next().unwrap_or(0))
    };
    let stated = version(&ours["rust_version"]);
    let built = built_packages(&meta);
    let needs = packages
        .iter()
        .filter(|p| built.contains(p["id"].as_str().unwrap()))
        .map(|p| (version(&p["rust_version"]), p["name"].as_str().unwrap()))
        .max()
        .unwrap();
    assert!(
        needs.0 <= stated,
        "{} needs Rust {:?}, rust-version says {stated:?}",
        needs.1,
        needs.0
    );
    assert!(built.len() > 20, "{built:?}");
    // chrono's `now`, not `clock`: no time-zone database crates.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    assert!(!lock.contains("name = \"iana-time-zone\""));
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("keepachangelog.com"));
    assert!(changelog.contains("## [Unreleased]"));
}

/// The ids of the packages the library and binary build from: normal and build
/// dependencies, followed from the root; not the dev-dependencies of the tests.
fn built_packages(meta: &Value) -> std::collections::HashSet<&str> {
    let nodes = meta["resolve"]["nodes"].as_array().unwrap();
    let root = meta["resolve"]["root"].as_str().unwrap();
    let mut seen = std::collections::HashSet::from([root]);
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        let node = nodes.iter().find(|n| n["id"] == id).unwrap();
        for dep in node["deps"].as_array().unwrap() {
            let kinds = dep["dep_kinds"].as_array().unwrap();
            if kinds.iter().any(|k| k["kind"] != "dev") {
                let next = dep["pkg"].as_str().unwrap();
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
    }
    seen
}
