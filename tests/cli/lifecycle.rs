//! Token lifecycle for operators (DESIGN §5 token): list filters, prune, bulk revoke,
//! lifetime-keeping rotation, -q, and token scan.

use std::fs;
use std::os::unix::fs::symlink;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::util::{Env, Issued, Listed, fails_unchanged, token_for, with_token};

/// Exit 2 and nothing changed, for flags the parser itself refuses (its message is clap's
/// own, several lines long).
fn refused_usage(env: &Env, args: &[&str]) {
    let before = env.dump();
    let run = env.run(args);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout.is_empty() && run.stderr.starts_with("error: "),
        "{run}"
    );
    assert_eq!(before, env.dump(), "{args:?} changed the database");
}

fn expire(env: &Env, name: &str) {
    env.exec(&format!(
        "UPDATE tokens SET expires_at = 1000 WHERE name = '{name}'"
    ));
}

/// The token names a listing shows, in order.
fn names(env: &Env, args: &[&str]) -> Vec<String> {
    let listed: Vec<Listed> = env.json(args);
    listed.into_iter().map(|t| t.token_name).collect()
}

/// A world of two users with tokens: admin's `a-live`, `a-soon` (3 days), `a-old`
/// (expired); alice's `b-live`, `b-old` (expired).
fn world() -> Env {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    for name in ["a-live", "a-old"] {
        env.ok(&["token", "set", name]);
    }
    env.ok(&["token", "set", "a-soon", "--expires-in", "3d"]);
    for name in ["b-live", "b-old"] {
        token_for(&env, "alice", name, &[]);
    }
    expire(&env, "a-old");
    expire(&env, "b-old");
    env
}

#[test]
fn token_list_filters_by_status_and_expiry() {
    let env = world();
    let list = |args: &[&str]| {
        let mut all = vec!["token", "list"];
        all.extend(args);
        names(&env, &all)
    };
    assert_eq!(list(&[]), ["a-live", "a-old", "a-soon"]);
    assert_eq!(list(&["--expired"]), ["a-old"]);
    assert_eq!(list(&["--active"]), ["a-live", "a-soon"]);
    assert_eq!(list(&["--expiring-within", "7d"]), ["a-soon"]);
    assert_eq!(list(&["--expiring-within", "7d", "--active"]), ["a-soon"]);
    assert!(list(&["--expiring-within", "1h"]).is_empty());
    assert_eq!(list(&["-u", "alice", "--expired"]), ["b-old"]);
    assert_eq!(list(&["--all", "--expired"]), ["a-old", "b-old"]);
    assert_eq!(list(&["--all", "--active"]), ["a-live", "a-soon", "b-live"]);
    assert_eq!(
        env.ok(&["token", "list", "--expiring-within", "1h"]),
        "No tokens found\n"
    );

    for bad in [
        &["--expired", "--active"][..],
        &["--expired", "--expiring-within", "7d"],
        &["--expiring-within", "7"],
        &["--expiring-within", "-1d"],
    ] {
        let mut args = vec!["token", "list"];
        args.extend(bad);
        refused_usage(&env, &args);
    }
    let alice = token_for(&env, "alice", "b-caller", &[]);
    for args in [
        &["token", "list", "--all", "--expired"][..],
        &["token", "list", "-u", "admin", "--active"],
    ] {
        assert_eq!(with_token(&env, &alice, args).code, 3, "{args:?}");
    }
}

#[test]
fn token_list_shows_when_each_token_was_last_used() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t"]);
    let listing = env.ok(&["token", "list"]);
    let header: Vec<&str> = listing.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "Name",
            "Description",
            "Active",
            "Expires",
            "At",
            "(UTC)",
            "Last",
            "Used",
            "Roles"
        ]
    );
    assert!(
        listing.lines().nth(2).unwrap().contains(" never "),
        "{listing}"
    );
    env.run_stdin(&issued.token, &["token", "verify"]);
    let listed: Vec<Listed> = env.json(&["token", "list"]);
    let used = listed[0].last_used_at.as_ref().expect("used");
    let minute = DateTime::parse_from_rfc3339(used)
        .unwrap()
        .with_timezone(&Utc)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let listing = env.ok(&["token", "list", "--all"]);
    assert!(
        listing.lines().next().unwrap().starts_with("User "),
        "{listing}"
    );
    assert!(listing.contains(&format!(" {minute} ")), "{listing}");
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrunedToken {
    id: String,
    token_name: String,
    user_name: String,
    expires_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pruned {
    dry_run: bool,
    pruned: Vec<PrunedToken>,
}

fn audit_actions(env: &Env) -> Vec<String> {
    let events: Vec<serde_json::Value> = env.json(&["audit", "list"]);
    events
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn token_prune_removes_expired_tokens_in_one_go() {
    let env = world();
    let before = env.dump();
    let audit_before = audit_actions(&env);
    let dry: Pruned = env.json(&["token", "prune", "--all", "--dry-run"]);
    assert!(dry.dry_run);
    let gone: Vec<(&str, &str)> = dry
        .pruned
        .iter()
        .map(|t| (t.user_name.as_str(), t.token_name.as_str()))
        .collect();
    assert_eq!(gone, [("admin", "a-old"), ("alice", "b-old")]);
    assert!(
        dry.pruned
            .iter()
            .all(|t| t.id.len() == 12 && t.expires_at == "1970-01-01T00:16:40Z")
    );
    assert_eq!(
        env.ok(&["token", "prune", "--dry-run"]),
        "Would prune: a-old of admin, expired 1970-01-01\n1 expired tokens would be pruned\n"
    );
    assert_eq!(before, env.dump(), "a dry run changed the database");
    assert_eq!(audit_before, audit_actions(&env), "a dry run was audited");

    // A plain user prunes only their own.
    let alice = token_for(&env, "alice", "b-caller", &[]);
    for args in [
        &["token", "prune", "--all"][..],
        &["token", "prune", "-u", "admin"],
    ] {
        assert_eq!(with_token(&env, &alice, args).code, 3, "{args:?}");
    }
    let run = with_token(&env, &alice, &["token", "prune"]);
    assert_eq!(run.stdout, "Pruned 1 expired tokens\n", "{run}");
    assert_eq!(env.ok(&["token", "prune"]), "Pruned 1 expired tokens\n");
    let pruned: Pruned = env.json(&["token", "prune", "--all"]);
    assert!(!pruned.dry_run && pruned.pruned.is_empty());
    assert_eq!(
        names(&env, &["token", "list", "--all"]),
        ["a-live", "a-soon", "b-caller", "b-live"]
    );
    let actions = audit_actions(&env);
    assert!(
        actions.contains(&"token.prune alice/b-old".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"token.prune admin/a-old".to_string()),
        "{actions:?}"
    );
    refused_usage(&env, &["token", "prune", "-u", "alice", "--all"]);
    fails_unchanged(&env, &["token", "prune", "-u", "nobody"], 4);
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllDeleted {
    user_name: String,
    deleted: Vec<String>,
}

#[test]
fn token_delete_all_revokes_every_token_of_a_user() {
    let env = world();
    let b_live = env.count("SELECT count(*) FROM tokens WHERE name = 'b-live'");
    assert_eq!(b_live, 1);
    let alice = token_for(&env, "alice", "b-session", &[]);
    let config = env.root().join("alice-config");
    let as_alice =
        |args: &[&str]| env.run_env(&[("OSMO_CONFIG_FILE_DIR", config.to_str().unwrap())], args);
    assert_eq!(as_alice(&["login", "--token", &alice]).code, 0);

    // No terminal to confirm on.
    fails_unchanged(&env, &["token", "delete", "--all", "-u", "alice"], 2);
    for bad in [
        &["token", "delete", "b-live", "--all", "-u", "alice", "-f"][..],
        &["token", "delete"],
    ] {
        refused_usage(&env, bad);
    }
    let bob = token_for(&env, "alice", "b-other", &[]);
    env.ok(&["user", "create", "bob", "-r", "osmo-user"]);
    let bob_token = token_for(&env, "bob", "bob-t", &[]);
    let run = with_token(
        &env,
        &bob_token,
        &["token", "delete", "--all", "-u", "alice", "-f"],
    );
    assert_eq!(run.code, 3, "{run}");
    drop(bob);

    let deleted: AllDeleted = env.json(&["token", "delete", "--all", "-u", "alice", "-f"]);
    assert_eq!(deleted.user_name, "alice");
    assert_eq!(deleted.deleted, ["b-live", "b-old", "b-other", "b-session"]);
    assert!(names(&env, &["token", "list", "-u", "alice"]).is_empty());
    assert_eq!(
        as_alice(&["profile", "list"]).code,
        6,
        "the session ended with its token"
    );
    assert_eq!(
        names(&env, &["token", "list"]),
        ["a-live", "a-old", "a-soon"]
    );
    // Your own, in text.
    assert_eq!(
        with_token(&env, &bob_token, &["token", "delete", "--all", "-f"]).stdout,
        "Deleted 1 access tokens for user bob\n"
    );
}

fn lifetime(issued: &Issued) -> i64 {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    at(&issued.expires_at) - at(&issued.created_at)
}

#[test]
fn token_rotate_keeps_the_lifetime_unless_told_otherwise() {
    let env = Env::new();
    let ninety: Issued = env.json(&["token", "set", "ninety", "--expires-in", "90d"]);
    assert_eq!(lifetime(&ninety), 90 * 86_400);
    let rotated: Issued = env.json(&["token", "rotate", "ninety"]);
    assert_eq!(lifetime(&rotated), 90 * 86_400);
    let told: Issued = env.json(&["token", "rotate", "ninety", "--expires-in", "2d"]);
    assert_eq!(lifetime(&told), 2 * 86_400);
    // An expired token rotates back into its old lifetime, from now.
    let week: Issued = env.json(&["token", "set", "week", "--expires-in", "1w"]);
    expire(&env, "week");
    env.exec(&format!(
        "UPDATE tokens SET created_at = expires_at - {} WHERE name = 'week'",
        lifetime(&week)
    ));
    let revived: Issued = env.json(&["token", "rotate", "week"]);
    assert_eq!(lifetime(&revived), 7 * 86_400);
    // Never past max-token-lifetime.
    let long: Issued = env.json(&["token", "set", "long", "--expires-in", "300d"]);
    assert_eq!(lifetime(&long), 300 * 86_400);
    env.ok(&["config", "set", "max-token-lifetime", "200d"]);
    let capped: Issued = env.json(&["token", "rotate", "long"]);
    assert_eq!(lifetime(&capped), 200 * 86_400);
}

#[test]
fn quiet_prints_the_token_alone() {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    for args in [
        &["token", "set", "ci", "-q"][..],
        &["token", "rotate", "ci", "--quiet"],
        &["apitoken", "create", "-q"],
        &[
            "token",
            "set",
            "other",
            "-u",
            "admin",
            "-r",
            "osmo-user",
            "-q",
        ],
    ] {
        let out = env.ok(args);
        let token = out.strip_suffix('\n').expect("one line");
        assert!(!token.contains('\n'), "{out:?}");
        assert_eq!(
            env.run_stdin(token, &["token", "verify"]).code,
            0,
            "{args:?}"
        );
    }
    for args in [
        &["token", "set", "q2", "-q", "-t", "json"][..],
        &["token", "rotate", "ci", "-q", "-t", "json"],
        &["apitoken", "create", "--name", "q3", "-q", "-t", "json"],
    ] {
        let before = env.dump();
        let run = env.run(args);
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stdout.is_empty() && run.stderr.contains("\"invalid_input\""),
            "{run}"
        );
        assert_eq!(before, env.dump());
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanHit {
    path: String,
    line: usize,
    id: String,
    status: String,
    token_name: Option<String>,
    user_name: Option<String>,
    revoked: bool,
}

#[test]
fn token_scan_finds_leaks_without_printing_secrets() {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    let live: Issued = env.json(&["token", "set", "live"]);
    let old: Issued = env.json(&["token", "set", "old"]);
    expire(&env, "old");
    let gone: Issued = env.json(&["token", "set", "gone"]);
    env.ok(&["token", "delete", "gone"]);
    let alices = token_for(&env, "alice", "hers", &[]);
    let alice_caller = token_for(&env, "alice", "caller", &[]);
    let mut wrong = live.token.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });

    let tree = env.root().join("tree");
    fs::create_dir_all(tree.join("src")).unwrap();
    fs::create_dir_all(tree.join(".git")).unwrap();
    fs::write(tree.join(".env"), format!("OSMO_TOKEN={}\n", live.token)).unwrap();
    fs::write(
        tree.join("src/main.py"),
        format!("# config\nA = '{}'; B = \"{}\"\n", old.token, alices),
    )
    .unwrap();
    fs::write(
        tree.join("deploy.json"),
        format!("{{\n  \"x\": 1,\n  \"token\": \"{}\"\n}}\n", gone.token),
    )
    .unwrap();
    fs::write(
        tree.join("src/noise.txt"),
        format!("{}\n{}\n{}\n", wrong, &live.token[..30], &live.token[30..]),
    )
    .unwrap();
    fs::write(tree.join(".git/config"), &live.token).unwrap();
    fs::write(
        tree.join("binary.bin"),
        [&b"\0\0"[..], live.token.as_bytes()].concat(),
    )
    .unwrap();
    symlink(env.root().join("outside"), tree.join("link")).unwrap();
    fs::create_dir_all(env.root().join("outside")).unwrap();
    fs::write(env.root().join("outside/leak"), &live.token).unwrap();

    let tree_arg = tree.to_str().unwrap();
    let run = env.run(&["token", "scan", tree_arg]);
    assert_eq!(run.code, 7, "{run}");
    let shown = |token: &str| format!("osmo_{}_…", &token[5..17]);
    let want = format!(
        "{t}/.env:1: {} live of admin (active)\n\
         {t}/deploy.json:3: {} (unknown)\n\
         {t}/src/main.py:2: {} old of admin (expired)\n\
         {t}/src/main.py:2: {} hers of alice (active)\n\
         4 tokens found, 2 active\n",
        shown(&live.token),
        shown(&gone.token),
        shown(&old.token),
        shown(&alices),
        t = tree_arg,
    );
    assert_eq!(run.stdout, want);
    for secret in [&live.token, &old.token, &alices] {
        assert!(
            !run.stdout.contains(&secret[18..50]),
            "a secret was printed"
        );
    }

    // A plain user sees names of their own tokens only.
    let run = with_token(
        &env,
        &alice_caller,
        &["token", "scan", tree_arg, "-t", "json"],
    );
    assert_eq!(run.code, 7, "{run}");
    let hits: Vec<ScanHit> = serde_json::from_str(&run.stdout).unwrap();
    let seen: Vec<(&str, Option<&str>, Option<&str>)> = hits
        .iter()
        .map(|h| {
            (
                h.status.as_str(),
                h.token_name.as_deref(),
                h.user_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("active", None, None),
            ("unknown", None, None),
            ("expired", None, None),
            ("active", Some("hers"), Some("alice")),
        ]
    );
    assert!(
        hits.iter()
            .all(|h| h.id.len() == 12 && !h.revoked && h.line > 0 && h.path.starts_with(tree_arg))
    );

    // Standard input, and --revoke of what the caller may delete.
    let run = env.run_stdin(&format!("x {}\n", live.token), &["token", "scan", "-"]);
    assert_eq!(
        (run.code, run.stdout.lines().next().unwrap()),
        (
            7,
            format!("-:1: {} live of admin (active)", shown(&live.token)).as_str()
        )
    );
    let run = with_token(
        &env,
        &alice_caller,
        &["token", "scan", tree_arg, "--revoke", "-t", "json"],
    );
    assert_eq!(run.code, 7, "{run}");
    let hits: Vec<ScanHit> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(hits.iter().filter(|h| h.revoked).count(), 1, "only her own");
    assert_eq!(env.run_stdin(&alices, &["token", "verify"]).code, 6);
    assert_eq!(env.run_stdin(&live.token, &["token", "verify"]).code, 0);
    let run = env.run(&["token", "scan", tree_arg, "--revoke"]);
    assert_eq!(run.code, 7, "{run}");
    assert!(run.stdout.ends_with("4 tokens found, 1 active\n"), "{run}");
    let run = env.run(&["token", "scan", tree_arg]);
    assert_eq!(run.code, 0, "nothing active is left{run}");
    assert!(run.stdout.ends_with("4 tokens found, 0 active\n"), "{run}");

    let missing = env.root().join("missing");
    fails_unchanged(
        &env,
        &["token", "scan", tree_arg, missing.to_str().unwrap()],
        2,
    );
    assert_eq!(
        env.run_stdin("nothing here\n", &["token", "scan"]).stdout,
        "0 tokens found, 0 active\n"
    );
}
