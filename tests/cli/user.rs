//! `osmo user ...`: the examples of seed 003, their JSON, and the rules of DESIGN §3.

use serde::Deserialize;

use crate::util::{Env, UserList, fails_unchanged};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub role_name: String,
    pub assigned_by: String,
    pub assigned_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub created_at: String,
    pub created_by: String,
    pub roles: Vec<Grant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deleted {
    id: String,
    deleted: bool,
    tokens_deleted: u64,
}

fn role_names(user: &User) -> Vec<&str> {
    user.roles.iter().map(|g| g.role_name.as_str()).collect()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn is_rfc3339_utc(value: &str) -> bool {
    value.len() == 20 && value.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(value).is_ok()
}

/// Seed 003, verbatim, with its text output.
#[test]
fn seed_003_service_account_examples() {
    let env = Env::new();
    assert_eq!(
        env.ok(&["role", "create", "osmo-ml-team"]),
        "Role created: osmo-ml-team\n"
    );
    assert_eq!(
        env.ok(&[
            "user",
            "create",
            "backend-operator",
            "--roles",
            "osmo-backend"
        ]),
        "User created: backend-operator\nRoles assigned: osmo-backend\n"
    );
    let day = today();
    let listing = format!(
        "Total users: 1\n\n\
         User ID            Created At   Created By   Roles\n\
         {}\n\
         backend-operator   {day}   admin        osmo-backend\n",
        "=".repeat(57)
    );
    assert_eq!(
        env.ok(&["user", "list", "--id-prefix", "backend-"]),
        listing
    );
    assert_eq!(
        env.ok(&["user", "list", "--roles", "osmo-backend"]),
        listing
    );
    assert_eq!(
        env.ok(&["user", "get", "backend-operator"]),
        format!(
            "User ID: backend-operator\nCreated At: {day}\nCreated By: admin\nRoles:\n  \
             - osmo-backend (assigned by admin on {day})\n"
        )
    );
    assert_eq!(
        env.ok(&[
            "user",
            "update",
            "backend-operator",
            "--add-roles",
            "osmo-ml-team"
        ]),
        "Added role: osmo-ml-team\n"
    );
    assert_eq!(
        env.ok(&[
            "user",
            "update",
            "backend-operator",
            "--remove-roles",
            "osmo-ml-team"
        ]),
        "Removed role: osmo-ml-team\n"
    );
    assert_eq!(
        env.ok(&["user", "delete", "backend-operator", "--force"]),
        "User deleted: backend-operator\n"
    );
    env.fails(&["user", "get", "backend-operator"], 4);
}

/// The same examples with `-t json`, parsed into the documented shapes.
#[test]
fn seed_003_examples_as_json() {
    let env = Env::new();
    let role: serde_json::Value = env.json(&["role", "create", "osmo-ml-team"]);
    assert_eq!(role["name"], "osmo-ml-team");
    assert_eq!(role["built_in"], false);

    let created: User = env.json(&[
        "user",
        "create",
        "backend-operator",
        "--roles",
        "osmo-backend",
    ]);
    assert_eq!(created.id, "backend-operator");
    assert_eq!(created.created_by, "admin");
    assert_eq!(role_names(&created), ["osmo-backend"]);
    assert!(
        is_rfc3339_utc(&created.created_at),
        "{}",
        created.created_at
    );

    for args in [
        &["user", "list", "--id-prefix", "backend-"][..],
        &["user", "list", "--roles", "osmo-backend"],
    ] {
        let list: UserList = env.json(args);
        assert_eq!(list.total_results, 1);
        assert_eq!(list.users[0].id, "backend-operator");
        assert_eq!(list.users[0].roles, ["osmo-backend"]);
        assert_eq!(list.users[0].created_by, "admin");
        assert!(is_rfc3339_utc(&list.users[0].created_at));
    }

    let got: User = env.json(&["user", "get", "backend-operator"]);
    assert_eq!(got.roles[0].assigned_by, "admin");
    assert!(is_rfc3339_utc(&got.roles[0].assigned_at));

    let added: User = env.json(&[
        "user",
        "update",
        "backend-operator",
        "--add-roles",
        "osmo-ml-team",
    ]);
    assert_eq!(role_names(&added), ["osmo-backend", "osmo-ml-team"]);
    let removed: User = env.json(&[
        "user",
        "update",
        "backend-operator",
        "--remove-roles",
        "osmo-ml-team",
    ]);
    assert_eq!(role_names(&removed), ["osmo-backend"]);

    let deleted: Deleted = env.json(&["user", "delete", "backend-operator", "--force"]);
    assert_eq!(deleted.id, "backend-operator");
    assert!(deleted.deleted);
    assert_eq!(deleted.tokens_deleted, 0);
}

#[test]
fn first_use_bootstraps_the_admin() {
    let env = Env::new();
    let admin: User = env.json(&["user", "get", "admin"]);
    assert_eq!(admin.created_by, "system");
    assert_eq!(role_names(&admin), ["osmo-admin", "osmo-user"]);
    assert!(admin.roles.iter().all(|g| g.assigned_by == "system"));
}

#[test]
fn list_filters_counts_and_empty_results() {
    let env = Env::new();
    env.ok(&["role", "create", "team-a"]);
    for id in ["svc-a", "svc-b", "svc-c", "alice"] {
        env.ok(&["user", "create", id]);
    }
    env.ok(&["user", "update", "svc-b", "-a", "team-a"]);
    env.ok(&["user", "update", "alice", "-a", "osmo-backend"]);

    let list: UserList = env.json(&["user", "list", "-p", "svc-", "-c", "2"]);
    assert_eq!(list.total_results, 3, "total counts every match");
    let ids: Vec<&str> = list.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["svc-a", "svc-b"]);

    // Roles match any of those given, in both spellings of a multi-value flag.
    for args in [
        &["user", "list", "-r", "team-a", "osmo-backend"][..],
        &["user", "list", "-r", "team-a", "-r", "osmo-backend"],
    ] {
        let list: UserList = env.json(args);
        let ids: Vec<&str> = list.users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["alice", "svc-b"]);
    }

    assert_eq!(
        env.ok(&["user", "list", "-p", "nobody"]),
        "No users found\n"
    );
    let empty: UserList = env.json(&["user", "list", "-p", "nobody"]);
    assert_eq!(empty.total_results, 0);
    assert!(empty.users.is_empty());
    let raw = env.ok(&["user", "list", "-p", "nobody", "-t", "json"]);
    assert!(raw.contains("\"users\": []"), "{raw}");
}

#[test]
fn create_refuses_duplicates_bad_ids_and_unknown_roles() {
    let env = Env::new();
    env.ok(&["user", "create", "bob"]);
    let err = fails_unchanged(&env, &["user", "create", "bob"], 5);
    assert_eq!(err, "error: User bob already exists\n");
    for bad in ["-bob", "bob-", "bo b", "bob/x", "ünï", &"b".repeat(129)] {
        fails_unchanged(&env, &["user", "create", "--", bad], 2);
    }
    let err = fails_unchanged(&env, &["user", "create", "carol", "-r", "osmo-bakend"], 4);
    assert!(err.contains("Did you mean osmo-backend?"), "{err}");
    fails_unchanged(&env, &["user", "create", "carol", "-r", "bad role"], 2);
    // Duplicated roles are collapsed, not an error.
    let user: User = env.json(&[
        "user",
        "create",
        "carol",
        "-r",
        "osmo-user",
        "-r",
        "osmo-user",
    ]);
    assert_eq!(role_names(&user), ["osmo-user"]);
}

#[test]
fn update_reports_no_ops_and_needs_a_flag() {
    let env = Env::new();
    env.ok(&["user", "create", "dave", "-r", "osmo-user"]);
    assert_eq!(
        env.ok(&[
            "user",
            "update",
            "dave",
            "-a",
            "osmo-user",
            "-r",
            "osmo-backend"
        ]),
        "Role osmo-user already assigned\nRole osmo-backend not assigned\n"
    );
    let err = fails_unchanged(&env, &["user", "update", "dave"], 2);
    assert_eq!(
        err,
        "error: No updates specified. Use --add-roles or --remove-roles.\n"
    );
    fails_unchanged(&env, &["user", "update", "nobody", "-a", "osmo-user"], 4);
    fails_unchanged(&env, &["user", "update", "dave", "-a", "no-such-role"], 4);
}

#[test]
fn the_last_admin_cannot_be_demoted_or_deleted() {
    let env = Env::new();
    env.ok(&["user", "create", "root2", "-r", "osmo-admin"]);
    // Two admins: one may go.
    env.ok(&["user", "update", "root2", "-r", "osmo-admin"]);
    let err = fails_unchanged(&env, &["user", "update", "admin", "-r", "osmo-admin"], 5);
    assert!(err.contains("last"), "{err}");

    // The schema refuses too, whatever the code path.
    let err = env.exec_fails("DELETE FROM user_roles WHERE role = 'osmo-admin'");
    assert!(err.contains("last admin"), "{err}");

    // Another admin who is not the operator-user can be deleted once someone else is admin.
    env.ok(&["user", "update", "root2", "-a", "osmo-admin"]);
    env.ok(&["user", "delete", "root2", "-f"]);
}

#[test]
fn the_operator_user_cannot_be_deleted() {
    let env = Env::new();
    env.ok(&["user", "create", "root2", "-r", "osmo-admin"]);
    let err = fails_unchanged(&env, &["user", "delete", "admin", "-f"], 5);
    assert!(err.contains("operator-user"), "{err}");
}

#[test]
fn delete_needs_confirmation_without_a_terminal() {
    let env = Env::new();
    env.ok(&["user", "create", "erin"]);
    let err = fails_unchanged(&env, &["user", "delete", "erin"], 2);
    assert!(err.contains("--force"), "{err}");
    fails_unchanged(&env, &["user", "delete", "nobody", "-f"], 4);
    fails_unchanged(&env, &["user", "delete", "bad id", "-f"], 2);
}

#[test]
fn deleting_a_user_cascades_in_the_schema() {
    let env = Env::new();
    env.ok(&["user", "create", "frank", "-r", "osmo-user"]);
    env.exec(
        "INSERT INTO tokens (public_id, user_id, name, secret_hash, created_at, created_by, expires_at)
         VALUES ('pub000000001', 'frank', 't1', 'x', 0, 'admin', 4102444800);
         INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
         SELECT id, 'frank', 'osmo-user', 'admin', 0 FROM tokens;",
    );
    let deleted: Deleted = env.json(&["user", "delete", "frank", "-f"]);
    assert_eq!(deleted.tokens_deleted, 1);
    for table in ["users", "user_roles", "tokens", "token_roles"] {
        let left = env.count(&format!(
            "SELECT count(*) FROM {table} WHERE {} = 'frank'",
            if table == "users" { "id" } else { "user_id" }
        ));
        assert_eq!(left, 0, "{table} still holds frank");
    }
}

#[test]
fn removing_a_role_from_a_user_removes_it_from_its_tokens() {
    let env = Env::new();
    env.ok(&["role", "create", "team-x"]);
    env.ok(&["user", "create", "gina", "-r", "osmo-user", "team-x"]);
    env.exec(
        "INSERT INTO tokens (public_id, user_id, name, secret_hash, created_at, created_by, expires_at)
         VALUES ('pub000000002', 'gina', 't1', 'x', 0, 'admin', 4102444800);
         INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
         SELECT t.id, 'gina', r.role, 'admin', 0 FROM tokens t JOIN user_roles r ON r.user_id = t.user_id
         WHERE t.user_id = 'gina';",
    );
    env.ok(&["user", "update", "gina", "-r", "team-x"]);
    let roles = env.count("SELECT count(*) FROM token_roles");
    let kept = env.count("SELECT count(*) FROM token_roles WHERE role = 'osmo-user'");
    assert_eq!((roles, kept), (1, 1));
    // Adding a role to the user leaves existing tokens alone.
    env.ok(&["user", "update", "gina", "-a", "team-x"]);
    assert_eq!(env.count("SELECT count(*) FROM token_roles"), 1);
    // A token can never hold a role its owner lacks.
    let err = env.exec_fails(
        "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
         SELECT id, 'gina', 'osmo-admin', 'admin', 0 FROM tokens",
    );
    assert!(err.to_lowercase().contains("foreign key"), "{err}");
}
