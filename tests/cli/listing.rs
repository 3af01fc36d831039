//! Streamed listings (`token list`, `user list`, `audit list`) are byte for byte what the
//! earlier renderer printed for the same data: JSON as serde_json pretty-prints the whole
//! document, text as tabled drew the whole table.

use crate::util::{Env, Event, Listed, UserList, token_for};
use serde::Serialize;

#[path = "../reference/tabled.rs"]
mod reference;

use reference::tabled_table;

fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

fn world() -> Env {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user", "team"]);
    env.ok(&[
        "user",
        "create",
        "bob-with-a-long-id@example.com",
        "-r",
        "osmo-user",
    ]);
    env.ok(&["user", "create", "carol"]);
    env.ok(&["token", "set", "short"]);
    env.ok(&[
        "token",
        "set",
        "a-much-longer-token-name",
        "-d",
        "Déjà vu: 日本語の説明",
    ]);
    token_for(&env, "alice", "hers", &["team"]);
    let used = token_for(&env, "alice", "used", &[]);
    env.run_stdin(&used, &["token", "verify"]);
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'short'");
    env
}

fn date(rfc3339: &str) -> String {
    rfc3339[..10].to_string()
}

fn token_cells(t: &Listed) -> [String; 6] {
    [
        t.token_name.clone(),
        t.description.clone(),
        if t.active { "Active" } else { "Expired" }.to_string(),
        date(&t.expires_at),
        t.last_used_at.as_ref().map_or("never".to_string(), |at| {
            format!("{} {}", &at[..10], &at[11..16])
        }),
        t.roles.join(", "),
    ]
}

const TOKEN_HEADERS: [&str; 6] = [
    "Name",
    "Description",
    "Active",
    "Expires At (UTC)",
    "Last Used",
    "Roles",
];

#[test]
fn token_list_is_byte_identical_to_the_earlier_rendering() {
    let env = world();
    for args in [
        &["token", "list"][..],
        &["token", "list", "-u", "alice"],
        &["token", "list", "--all"],
    ] {
        let mut json_args = args.to_vec();
        json_args.extend(["-t", "json"]);
        let json = env.ok(&json_args);
        let tokens: Vec<Listed> = serde_json::from_str(&json).unwrap();
        assert_eq!(json, pretty(&tokens), "{args:?}");

        let text = env.ok(args);
        let mut want = String::new();
        if args.contains(&"-u") {
            want.push_str("Tokens for user: alice\n\n");
        }
        if args.contains(&"--all") {
            let [a, b, c, d, e, f] = TOKEN_HEADERS;
            let rows = tokens
                .iter()
                .map(|t| {
                    let [a, b, c, d, e, f] = token_cells(t);
                    [t.user_name.clone(), a, b, c, d, e, f]
                })
                .collect();
            want.push_str(&tabled_table(["User", a, b, c, d, e, f], rows));
        } else {
            want.push_str(&tabled_table(
                TOKEN_HEADERS,
                tokens.iter().map(token_cells).collect(),
            ));
        }
        assert_eq!(text, want, "{args:?}");
    }
}

#[test]
fn user_list_is_byte_identical_to_the_earlier_rendering() {
    let env = world();
    for args in [
        &["user", "list"][..],
        &["user", "list", "-c", "2"],
        &["user", "list", "-r", "team", "osmo-admin"],
        &["user", "list", "-p", "b"],
        &["user", "list", "-p", "zzz"],
    ] {
        let mut json_args = args.to_vec();
        json_args.extend(["-t", "json"]);
        let json = env.ok(&json_args);
        let users: UserList = serde_json::from_str(&json).unwrap();
        assert_eq!(json, pretty(&users), "{args:?}");

        let text = env.ok(args);
        let want = if users.users.is_empty() {
            "No users found\n".to_string()
        } else {
            let rows = users
                .users
                .iter()
                .map(|u| {
                    [
                        u.id.clone(),
                        date(&u.created_at),
                        u.created_by.clone(),
                        u.roles.join(", "),
                    ]
                })
                .collect();
            format!(
                "Total users: {}\n\n{}",
                users.total_results,
                tabled_table(["User ID", "Created At", "Created By", "Roles"], rows)
            )
        };
        assert_eq!(text, want, "{args:?}");
    }
    let some: UserList = env.json(&["user", "list", "-c", "2"]);
    assert_eq!((some.total_results, some.users.len()), (4, 2));
    let by_role: UserList = env.json(&["user", "list", "-r", "team", "osmo-admin"]);
    let ids: Vec<&str> = by_role.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!((by_role.total_results, ids), (2, vec!["admin", "alice"]));
}

#[test]
fn audit_list_is_byte_identical_to_the_earlier_rendering() {
    let env = world();
    for args in [
        &["audit", "list"][..],
        &["audit", "list", "-u", "alice", "-c", "3"],
    ] {
        let mut json_args = args.to_vec();
        json_args.extend(["-t", "json"]);
        let json = env.ok(&json_args);
        let events: Vec<Event> = serde_json::from_str(&json).unwrap();
        assert_eq!(json, pretty(&events), "{args:?}");
        let rows = events
            .iter()
            .map(|e| {
                [
                    e.at.clone(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone(),
                    e.outcome.clone(),
                ]
            })
            .collect();
        assert_eq!(
            env.ok(args),
            tabled_table(["At (UTC)", "Actor", "Action", "Target", "Outcome"], rows),
            "{args:?}"
        );
    }
    // The newest events where alice is the actor or the subject, newest first.
    let events: Vec<Event> = env.json(&["audit", "list", "-u", "alice"]);
    let targets: Vec<&str> = events.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets[..3], ["alice/used", "alice/hers", "alice"]);
    assert!(
        events
            .iter()
            .all(|e| e.actor == "alice" || e.target.starts_with("alice")),
        "{events:?}"
    );
}
