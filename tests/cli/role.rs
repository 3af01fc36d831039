//! `osmo role ...`

use serde::Deserialize;

use crate::util::{Env, fails_unchanged};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Role {
    name: String,
    description: String,
    built_in: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deleted {
    name: String,
    deleted: bool,
    users_affected: u64,
    tokens_affected: u64,
}

#[test]
fn list_shows_the_built_in_catalogue() {
    let env = Env::new();
    let roles: Vec<Role> = env.json(&["role", "list"]);
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["osmo-admin", "osmo-backend", "osmo-user"]);
    assert!(
        roles
            .iter()
            .all(|r| r.built_in && !r.description.is_empty())
    );
    let text = env.ok(&["role", "list"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("Name") && lines[0].ends_with("Built-in"),
        "{text}"
    );
    assert!(lines[1].chars().all(|c| c == '='), "{text}");
    assert!(
        lines[2].starts_with("osmo-admin ") && lines[2].ends_with("yes"),
        "{text}"
    );
}

#[test]
fn create_and_delete_a_custom_role() {
    let env = Env::new();
    let role: Role = env.json(&["role", "create", "team:ml", "-d", "ML team"]);
    assert_eq!(
        (role.name.as_str(), role.description.as_str()),
        ("team:ml", "ML team")
    );
    assert!(!role.built_in);
    fails_unchanged(&env, &["role", "create", "team:ml"], 5);
    env.ok(&["user", "create", "ann", "-r", "team:ml"]);

    fails_unchanged(&env, &["role", "delete", "team:ml"], 2);
    let deleted: Deleted = env.json(&["role", "delete", "team:ml", "-f"]);
    assert_eq!(deleted.name, "team:ml");
    assert!(deleted.deleted);
    assert_eq!((deleted.users_affected, deleted.tokens_affected), (1, 0));
    let user: serde_json::Value = env.json(&["user", "get", "ann"]);
    assert_eq!(user["roles"], serde_json::json!([]));
    assert_eq!(
        env.ok(&["user", "get", "ann"]).lines().last(),
        Some("Roles: None")
    );
}

#[test]
fn built_in_unknown_and_malformed_roles_are_refused() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    for role in ["osmo-admin", "osmo-user", "osmo-backend"] {
        let err = fails_unchanged(&env, &["role", "delete", role, "-f"], 5);
        assert!(err.contains("built in"), "{err}");
    }
    let err = fails_unchanged(&env, &["role", "delete", "osmo-adm", "-f"], 4);
    assert!(err.contains("Did you mean osmo-admin?"), "{err}");
    for bad in ["-x", "x-", "a b", "a@b", &"r".repeat(65)] {
        fails_unchanged(&env, &["role", "create", "--", bad], 2);
    }
    fails_unchanged(&env, &["role", "create", "ok-name", "-d", "line\nbreak"], 2);
    fails_unchanged(
        &env,
        &["role", "create", "ok-name", "-d", &"d".repeat(257)],
        2,
    );
}
