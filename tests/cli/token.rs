//! `osmo token ...` and `osmo apitoken create`: the examples of seeds 000–004, the JSON
//! contract, roles, expiry, limits, rotation and the library check (DESIGN §3–§5).

use std::fs;

use chrono::{Days, Utc};
use osmo_local::tokens::{self, Rejection};
use serde::Deserialize;

use crate::util::{Env, Issued, Listed, access_token, fails_unchanged, in_days};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deleted {
    id: String,
    token_name: String,
    user_name: String,
    deleted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    role_name: String,
    assigned_by: String,
    assigned_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Roles {
    user_name: String,
    token_name: String,
    roles: Vec<Grant>,
}

fn assert_token_shape(token: &str) {
    assert_eq!(token.len(), 56, "{token}");
    assert!(
        token.starts_with("osmo_") && &token[17..18] == "_",
        "{token}"
    );
    assert!(
        token[5..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{token}"
    );
}

/// Checks a token through the library, as another local program would.
fn check(env: &Env, token: &str) -> Result<tokens::Verified, Rejection> {
    tokens::check(&mut env.store(), token, Utc::now().timestamp()).expect("database")
}

#[test]
fn seed_000_examples() {
    let env = Env::new();
    env.ok(&["role", "create", "role1"]);
    env.ok(&["role", "create", "role2"]);
    env.ok(&["user", "update", "admin", "-a", "role1", "role2"]);
    env.ok(&[
        "user",
        "create",
        "service-account@example.com",
        "-r",
        "osmo-backend",
    ]);
    env.ok(&[
        "user",
        "create",
        "other-user@example.com",
        "-r",
        "osmo-user",
    ]);
    let date = in_days(160);

    let out = env.ok(&["token", "set", "my-token", "--expires-at", &date]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        "Note: Save the token in a secure location as it will not be shown again"
    );
    assert_token_shape(&access_token(&out));

    let out = env.ok(&[
        "token",
        "set",
        "my-token-2",
        "-e",
        &date,
        "-d",
        "My token description",
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");
    let out = env.ok(&["token", "set", "my-token-3", "-r", "role1", "-r", "role2"]);
    assert_eq!(out.lines().nth(2), Some("Roles: role1, role2"), "{out}");
    let out = env.ok(&[
        "token",
        "set",
        "service-token",
        "--user",
        "service-account@example.com",
        "--roles",
        "osmo-backend",
    ]);
    let tail: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(
        tail,
        [
            "Created for user: service-account@example.com",
            "Roles: osmo-backend"
        ]
    );

    assert_eq!(
        env.ok(&["token", "delete", "my-token"]),
        "Access token my-token deleted\n"
    );
    env.ok(&[
        "token",
        "set",
        "old-token",
        "--user",
        "other-user@example.com",
    ]);
    assert_eq!(
        env.ok(&[
            "token",
            "delete",
            "old-token",
            "--user",
            "other-user@example.com"
        ]),
        "Access token old-token deleted for user other-user@example.com\n"
    );

    let listing = env.ok(&["token", "list"]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
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
    assert!(lines[1].chars().all(|c| c == '='));
    assert!(lines[2].starts_with("my-token-2 ") && lines[2].contains("My token description"));
    assert!(
        lines[2].contains(&date) && lines[2].contains(" Active "),
        "{listing}"
    );
    assert!(lines[3].starts_with("my-token-3 ") && lines[3].ends_with("role1, role2"));
    let listing = env.ok(&["token", "list", "--user", "service-account@example.com"]);
    assert!(
        listing.starts_with("Tokens for user: service-account@example.com\n\nName"),
        "{listing}"
    );
    assert!(listing.contains("service-token"), "{listing}");

    let out = env.ok(&["token", "roles", "my-token-3"]);
    let today = Utc::now().format("%Y-%m-%d");
    assert_eq!(
        out,
        format!(
            "Token: my-token-3\nOwner: admin\n\nRoles:\n  - role1 (assigned by admin on {today})\n  \
             - role2 (assigned by admin on {today})\n"
        )
    );
}

#[test]
fn seed_001_and_002_examples() {
    let env = Env::new();
    let date = in_days(40);
    let out = env.ok(&[
        "token",
        "set",
        "--expires-at",
        &date,
        "--description",
        "My Token",
        "my-token",
    ]);
    assert_token_shape(&access_token(&out));
    env.ok(&[
        "token",
        "set",
        "ci-token",
        "--expires-at",
        &in_days(39),
        "--description",
        "CI/CD pipeline",
    ]);
    let listing = env.ok(&["token", "list"]);
    assert!(
        listing.contains("My Token") && listing.contains("CI/CD pipeline"),
        "{listing}"
    );
    assert_eq!(
        env.ok(&["token", "delete", "my-token"]),
        "Access token my-token deleted\n"
    );
    let listing: Vec<Listed> = env.json(&["token", "list"]);
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].token_name, "ci-token");
    assert_eq!(
        listing[0].roles,
        ["osmo-admin", "osmo-user"],
        "tokens inherit the owner's roles"
    );
}

#[test]
fn seed_003_service_account_tokens() {
    let env = Env::new();
    env.ok(&[
        "user",
        "create",
        "backend-operator",
        "--roles",
        "osmo-backend",
    ]);
    let out = env.ok(&[
        "token",
        "set",
        "backend-token",
        "--user",
        "backend-operator",
        "--expires-at",
        &in_days(40),
        "--description",
        "Backend Operator Token",
        "--roles",
        "osmo-backend",
    ]);
    assert_eq!(
        out.lines().skip(2).collect::<Vec<_>>(),
        ["Created for user: backend-operator", "Roles: osmo-backend"]
    );
    let old = access_token(&out);
    env.ok(&["token", "list", "--user", "backend-operator"]);

    // The seed's 2028-01-01 is past the default 365-day maximum until an admin raises it.
    let far = in_days(400);
    let args = [
        "token",
        "set",
        "new-backend-token",
        "--user",
        "backend-operator",
        "--expires-at",
        &far,
    ];
    let err = fails_unchanged(&env, &args, 2);
    assert!(err.contains("max-token-lifetime"), "{err}");
    env.ok(&["config", "set", "max-token-lifetime", "2Y"]);
    let new = access_token(&env.ok(&args));

    assert_eq!(
        env.ok(&[
            "token",
            "delete",
            "backend-token",
            "--user",
            "backend-operator"
        ]),
        "Access token backend-token deleted for user backend-operator\n"
    );
    assert_eq!(check(&env, &old).unwrap_err(), Rejection::Unknown);
    assert_eq!(check(&env, &new).unwrap().user_name, "backend-operator");

    env.ok(&["user", "create", "monitoring", "--roles", "osmo-user"]);
    env.ok(&[
        "token",
        "set",
        "monitoring-token",
        "--user",
        "monitoring",
        "--expires-at",
        &in_days(40),
        "--description",
        "Monitoring System",
        "--roles",
        "osmo-user",
    ]);
    env.ok(&["user", "delete", "backend-operator", "--force"]);
    assert_eq!(check(&env, &new).unwrap_err(), Rejection::Unknown);
}

#[test]
fn seed_004_apitoken_examples() {
    let env = Env::new();
    let out = env.ok(&["apitoken", "create"]);
    let (head, token) = out.trim_end().split_once(", your token is: ").unwrap();
    let id = head
        .strip_prefix("ApiToken with id: ")
        .unwrap()
        .strip_suffix(" has been created")
        .unwrap();
    let token = token.strip_suffix(" please keep it safe").unwrap();
    assert_token_shape(token);
    assert_eq!(&token[5..17], id);
    let listed: Vec<Listed> = env.json(&["token", "list"]);
    assert_eq!(listed[0].token_name, "admin_api_token");
    let expected = (Utc::now().date_naive() + Days::new(31))
        .format("%Y-%m-%dT00:00:00Z")
        .to_string();
    assert_eq!(
        listed[0].expires_at, expected,
        "default lifetime, date-rounded"
    );

    env.ok(&["user", "create", "adminjb", "-r", "osmo-user"]);
    let before = Utc::now().timestamp();
    let issued: Issued = env.json(&[
        "apitoken",
        "create",
        "--name",
        "AWS_TOKEN",
        "--expiry-date",
        "1D",
        "--owner",
        "adminjb",
    ]);
    assert_eq!(
        (issued.token_name.as_str(), issued.user_name.as_str()),
        ("AWS_TOKEN", "adminjb")
    );
    let expires = chrono::DateTime::parse_from_rfc3339(&issued.expires_at)
        .unwrap()
        .timestamp();
    assert!((before + 86_400..=Utc::now().timestamp() + 86_400).contains(&expires));
    let issued: Issued = env.json(&[
        "apitoken",
        "create",
        "--expiry-date",
        "180D",
        "--owner",
        "adminjb",
    ]);
    assert_eq!(issued.token_name, "adminjb_api_token");
    fails_unchanged(&env, &["apitoken", "create", "--expiry-date", "1.5D"], 2);
    fails_unchanged(&env, &["apitoken", "create", "--owner", "nobody"], 4);
}

#[test]
fn json_contract() {
    let env = Env::new();
    let date = in_days(30);
    let issued: Issued = env.json(&["token", "set", "t1", "-e", &date, "-d", "desc"]);
    assert_token_shape(&issued.token);
    assert_eq!(issued.id, &issued.token[5..17]);
    assert_eq!(
        (issued.token_name.as_str(), issued.user_name.as_str()),
        ("t1", "admin")
    );
    assert_eq!(issued.description, "desc");
    assert_eq!(issued.roles, ["osmo-admin", "osmo-user"]);
    assert_eq!(issued.expires_at, format!("{date}T00:00:00Z"));
    assert!(chrono::DateTime::parse_from_rfc3339(&issued.created_at).is_ok());

    let listed: Vec<Listed> = env.json(&["token", "list"]);
    assert_eq!(listed.len(), 1);
    let t = &listed[0];
    assert_eq!(
        (t.id.as_str(), t.status.as_str(), t.active),
        (issued.id.as_str(), "active", true)
    );
    assert_eq!(t.last_used_at, None);
    assert_eq!(t.created_at, issued.created_at);
    assert_eq!(
        (t.user_name.as_str(), t.description.as_str()),
        ("admin", "desc")
    );

    let roles: Roles = env.json(&["token", "roles", "t1"]);
    assert_eq!(
        (roles.user_name.as_str(), roles.token_name.as_str()),
        ("admin", "t1")
    );
    assert_eq!(roles.roles.len(), 2);
    assert_eq!(roles.roles[0].role_name, "osmo-admin");
    assert_eq!(roles.roles[0].assigned_by, "admin");
    assert!(chrono::DateTime::parse_from_rfc3339(&roles.roles[0].assigned_at).is_ok());

    let rotated: Issued = env.json(&["token", "rotate", "t1"]);
    assert_ne!(rotated.token, issued.token);
    assert_eq!(
        (rotated.description.as_str(), rotated.roles.clone()),
        ("desc", issued.roles.clone())
    );

    let deleted: Deleted = env.json(&["token", "delete", "t1"]);
    assert_eq!(
        (deleted.id.as_str(), deleted.token_name.as_str()),
        (rotated.id.as_str(), "t1")
    );
    assert_eq!(deleted.user_name, "admin");
    assert!(deleted.deleted);

    assert_eq!(env.ok(&["token", "list", "-t", "json"]), "[]\n");
    assert_eq!(env.ok(&["token", "list"]), "No tokens found\n");
    env.ok(&["user", "create", "empty"]);
    assert_eq!(
        env.ok(&["token", "list", "-u", "empty"]),
        "No tokens found for user empty\n"
    );
}

#[test]
fn expired_tokens_show_as_expired_and_do_not_count_against_the_limit() {
    let env = Env::new();
    for i in 0..5 {
        env.ok(&["token", "set", &format!("t{i}")]);
    }
    let err = fails_unchanged(&env, &["token", "set", "t5"], 5);
    assert!(err.contains("max-tokens-per-user"), "{err}");
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 't0'");
    let listed: Vec<Listed> = env.json(&["token", "list"]);
    assert_eq!(
        (listed[0].status.as_str(), listed[0].active),
        ("expired", false)
    );
    assert!(
        env.ok(&["token", "list"])
            .lines()
            .nth(2)
            .unwrap()
            .contains(" Expired ")
    );
    env.ok(&["token", "set", "t5"]);
    fails_unchanged(&env, &["token", "set", "t6"], 5);
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["token", "set", "t6"]);
    // An expired token still holds its name.
    let err = fails_unchanged(&env, &["token", "set", "t0"], 5);
    assert_eq!(err, "error: Token name t0 already exists.\n");
}

#[test]
fn roles_default_narrow_and_are_checked() {
    let env = Env::new();
    env.ok(&["role", "create", "team-a"]);
    env.ok(&["user", "create", "u1", "-r", "osmo-user", "team-a"]);
    let issued: Issued = env.json(&["token", "set", "all", "-u", "u1"]);
    assert_eq!(issued.roles, ["osmo-user", "team-a"]);
    let issued: Issued = env.json(&["token", "set", "some", "-u", "u1", "-r", "team-a", "team-a"]);
    assert_eq!(issued.roles, ["team-a"], "duplicates collapse");
    let err = fails_unchanged(
        &env,
        &["token", "set", "more", "-u", "u1", "-r", "osmo-admin"],
        2,
    );
    assert_eq!(err, "error: User u1 does not have role osmo-admin.\n");
    let err = fails_unchanged(
        &env,
        &["token", "set", "typo", "-u", "u1", "-r", "team-b"],
        4,
    );
    assert!(err.contains("Did you mean team-a?"), "{err}");
    env.ok(&["user", "create", "bare"]);
    let err = fails_unchanged(&env, &["token", "set", "none", "-u", "bare"], 2);
    assert_eq!(
        err,
        "error: At least one role must be specified for the access token. User bare has no roles: osmo user update bare --add-roles ROLE\n"
    );

    // Removing a role from the user removes it from the user's tokens; adding it back
    // does not give it back.
    env.ok(&["user", "update", "u1", "-r", "team-a"]);
    let listed: Vec<Listed> = env.json(&["token", "list", "-u", "u1"]);
    let roles: Vec<(&str, Vec<String>)> = listed
        .iter()
        .map(|t| (t.token_name.as_str(), t.roles.clone()))
        .collect();
    assert_eq!(
        roles,
        [("all", vec!["osmo-user".to_string()]), ("some", vec![])]
    );
    env.ok(&["user", "update", "u1", "-a", "team-a"]);
    assert_eq!(
        env.ok(&["token", "roles", "some", "-u", "u1"])
            .lines()
            .last(),
        Some("Roles: None")
    );

    // Token roles cannot be changed, even from SQL.
    let err = env.exec_fails("UPDATE token_roles SET role = 'team-a'");
    assert!(err.contains("immutable"), "{err}");
}

#[test]
fn bad_dates_durations_and_names_exit_2() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let today = in_days(0);
    let yesterday = (Utc::now().date_naive() - Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    for date in [
        "2027-02-30",
        "2027-5-1",
        "05/01/2027",
        &today,
        &yesterday,
        &in_days(366),
    ] {
        fails_unchanged(&env, &["token", "set", "t", "-e", date], 2);
    }
    for span in ["0d", "1", "d", "1.5d", "1 d", "-1d", "+1d", "2y", "366d"] {
        fails_unchanged(
            &env,
            &["token", "set", "t", &format!("--expires-in={span}")],
            2,
        );
    }
    let err = env.run(&["token", "set", "t", "-e", &in_days(3), "--expires-in", "3d"]);
    assert_eq!(err.code, 2, "{err}");
    for name in ["1token", "-t", "t-", "t.x", "t x", &"t".repeat(65)] {
        fails_unchanged(&env, &["token", "set", "--", name], 2);
    }
    fails_unchanged(&env, &["token", "set", "t", "-d", "tab\there"], 2);
    fails_unchanged(&env, &["token", "set", "t", "-u", "bad id"], 2);
    fails_unchanged(&env, &["token", "set", "t", "-u", "nobody"], 4);
    fails_unchanged(&env, &["token", "delete", "nope"], 4);
    fails_unchanged(&env, &["token", "roles", "nope"], 4);
    fails_unchanged(&env, &["token", "rotate", "nope"], 4);
    fails_unchanged(&env, &["token", "list", "-u", "nobody"], 4);
    // The longest expiry allowed and the shortest both work.
    env.ok(&["token", "set", "far", "-e", &in_days(365)]);
    env.ok(&["token", "set", "near", "--expires-in", "90s"]);
}

#[test]
fn the_library_check_accepts_live_tokens_only() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t1"]);
    let verified = check(&env, &issued.token).unwrap();
    assert_eq!(
        (verified.token_name.as_str(), verified.user_name.as_str()),
        ("t1", "admin")
    );
    assert_eq!(verified.roles, ["osmo-admin", "osmo-user"]);

    let mut typo = issued.token.clone().into_bytes();
    typo[30] = if typo[30] == b'x' { b'y' } else { b'x' };
    assert_eq!(
        check(&env, &String::from_utf8(typo).unwrap()).unwrap_err(),
        Rejection::Malformed
    );

    let rotated: Issued = env.json(&["token", "rotate", "t1"]);
    assert_eq!(check(&env, &issued.token).unwrap_err(), Rejection::Unknown);
    assert!(check(&env, &rotated.token).is_ok());

    env.exec("UPDATE tokens SET expires_at = 1000");
    assert_eq!(check(&env, &rotated.token).unwrap_err(), Rejection::Expired);

    env.ok(&["token", "delete", "t1"]);
    assert_eq!(check(&env, &rotated.token).unwrap_err(), Rejection::Unknown);
}

#[test]
fn the_plaintext_never_reaches_the_database_files() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let holder = env.hold_open();
    let mut secrets = Vec::new();
    for i in 0..3 {
        let issued: Issued = env.json(&["token", "set", &format!("t{i}")]);
        secrets.push(issued.token);
    }
    let rotated: Issued = env.json(&["token", "rotate", "t0"]);
    secrets.push(rotated.token);
    let apitoken: Issued = env.json(&["apitoken", "create"]);
    secrets.push(apitoken.token);
    // Every stored row, as the database hands it out (on both backends); and on SQLite,
    // every byte of its files.
    let mut stored = vec![(String::from("the rows"), env.every_row().into_bytes())];
    if !env.on_server() {
        let mut files = vec![env.db()];
        for suffix in ["-wal", "-shm"] {
            let mut path = env.db().into_os_string();
            path.push(suffix);
            files.push(path.into());
        }
        assert!(files[1].exists(), "the -wal file should still be there");
        for file in &files {
            if let Ok(bytes) = fs::read(file) {
                stored.push((file.display().to_string(), bytes));
            }
        }
    }
    for (what, bytes) in &stored {
        for token in &secrets {
            for needle in [token.as_str(), &token[18..50]] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{what} hold a secret"
                );
            }
        }
    }
    drop(holder);
}

#[test]
fn a_hash_with_older_parameters_is_replaced_on_verify() {
    use argon2::password_hash::PasswordHasher;
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "t"]);
    let secret = &issued.token[18..50];
    let old_params = argon2::Params::new(4096, 2, 1, None).unwrap();
    let old = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        old_params,
    )
    .hash_password(secret.as_bytes())
    .unwrap()
    .to_string();
    env.exec(&format!("UPDATE tokens SET secret_hash = '{old}'"));
    let run = env.run_stdin(&issued.token, &["token", "verify"]);
    assert_eq!(run.code, 0, "{run}");
    let stored = env.text("SELECT secret_hash FROM tokens");
    assert!(
        stored.starts_with(&format!(
            "$argon2id$v=19$m={},t={},p={}$",
            osmo_local::tokens::format::ARGON2_M_KIB,
            osmo_local::tokens::format::ARGON2_T,
            osmo_local::tokens::format::ARGON2_P
        )),
        "{stored}"
    );
    assert_eq!(env.run_stdin(&issued.token, &["token", "verify"]).code, 0);
}
