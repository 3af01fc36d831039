//! Identities and permissions: OSMO_TOKEN, login sessions, the permission matrix,
//! escalation, token verify, profile and audit (DESIGN §2, §5).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde::Deserialize;

use crate::util::{Env, Event, Issued, Listed, Run, access_token, in_days, token_for, with_token};

/// Writes `token` to a 0600 file under the test's root and returns its path.
fn token_file(env: &Env, name: &str, token: &str) -> String {
    let path = env.root().join(name);
    fs::write(&path, format!("{token}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    path.to_str().unwrap().to_string()
}

struct Matrix {
    env: Env,
    identities: Vec<(&'static str, Option<String>)>,
}

/// One world per identity column, so what one identity changes cannot affect another.
fn world() -> (Env, Vec<(&'static str, String)>) {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "create", "root2", "-r", "osmo-admin", "osmo-user"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user", "team"]);
    env.ok(&["user", "create", "bob", "-r", "osmo-user"]);
    let mut tokens = vec![
        ("admin token", token_for(&env, "root2", "root-t", &[])),
        ("alice token", token_for(&env, "alice", "alice-t", &[])),
        ("bob token", token_for(&env, "bob", "bob-t", &[])),
        ("expired token", token_for(&env, "alice", "alice-old", &[])),
        ("deleted token", token_for(&env, "alice", "alice-gone", &[])),
    ];
    for name in ["alice-del", "alice-rot"] {
        token_for(&env, "alice", name, &[]);
    }
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'alice-old'");
    env.ok(&["token", "delete", "alice-gone", "-u", "alice"]);
    let malformed = tokens[1].1.replace("osmo_", "osmo-");
    tokens.push(("malformed token", malformed));
    (env, tokens)
}

impl Matrix {
    fn new(identity: usize) -> Matrix {
        let (env, tokens) = world();
        let identities = std::iter::once(("operator", None))
            .chain(tokens.into_iter().map(|(name, token)| (name, Some(token))))
            .collect::<Vec<_>>();
        let chosen = identities[identity].clone();
        Matrix {
            env,
            identities: vec![chosen],
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        match &self.identities[0].1 {
            None => self.env.run(args),
            Some(token) => with_token(&self.env, token, args),
        }
    }
}

const IDENTITIES: [&str; 7] = [
    "operator",
    "admin token",
    "alice token",
    "bob token",
    "expired token",
    "deleted token",
    "malformed token",
];

/// Every command × every identity, with the exit code DESIGN §2 and §6 give. Commands
/// run in this order in each identity's own world; later rows may depend on earlier ones.
const MATRIX: &[(&[&str], [i32; 7])] = &[
    (&["token", "list"], [0, 0, 0, 0, 6, 6, 6]),
    (&["token", "list", "--user", "alice"], [0, 0, 0, 3, 6, 6, 6]),
    (&["token", "list", "--all"], [0, 0, 3, 3, 6, 6, 6]),
    (
        &["token", "list", "--user", "nobody"],
        [4, 4, 3, 3, 6, 6, 6],
    ),
    (&["token", "set", "mine"], [0, 0, 0, 0, 6, 6, 6]),
    (
        &["token", "set", "m2", "--user", "alice"],
        [0, 0, 0, 3, 6, 6, 6],
    ),
    (
        &["token", "roles", "alice-t", "--user", "alice"],
        [0, 0, 0, 3, 6, 6, 6],
    ),
    // The admin token lacks alice's `team`, so rotating (minting) her token would escalate.
    (
        &["token", "rotate", "alice-rot", "--user", "alice"],
        [0, 3, 0, 3, 6, 6, 6],
    ),
    (
        &["token", "delete", "alice-del", "--user", "alice"],
        [0, 0, 0, 3, 6, 6, 6],
    ),
    (
        &["token", "delete", "alice-del", "--user", "nobody"],
        [4, 4, 3, 3, 6, 6, 6],
    ),
    (
        &["apitoken", "create", "--owner", "alice"],
        [0, 0, 0, 3, 6, 6, 6],
    ),
    (
        &["apitoken", "create", "--owner", "bob"],
        [0, 0, 3, 0, 6, 6, 6],
    ),
    (&["user", "create", "newbie"], [0, 0, 3, 3, 6, 6, 6]),
    (&["user", "list"], [0, 0, 3, 3, 6, 6, 6]),
    (&["user", "get", "alice"], [0, 0, 0, 3, 6, 6, 6]),
    (&["user", "get", "nobody"], [4, 4, 3, 3, 6, 6, 6]),
    (
        &["user", "update", "bob", "-a", "team"],
        [0, 0, 3, 3, 6, 6, 6],
    ),
    (&["role", "list"], [0, 0, 0, 0, 6, 6, 6]),
    (&["role", "create", "r-new"], [0, 0, 3, 3, 6, 6, 6]),
    (&["config", "list"], [0, 0, 0, 0, 6, 6, 6]),
    (
        &["config", "get", "max-tokens-per-user"],
        [0, 0, 0, 0, 6, 6, 6],
    ),
    (
        &["config", "set", "session-idle-timeout", "1h"],
        [0, 0, 3, 3, 6, 6, 6],
    ),
    (&["audit", "list"], [0, 0, 3, 3, 6, 6, 6]),
    (&["profile", "list"], [0, 0, 0, 0, 6, 6, 6]),
    (&["user", "delete", "newbie", "-f"], [0, 0, 3, 3, 6, 6, 6]),
    (&["role", "delete", "r-new", "-f"], [0, 0, 3, 3, 6, 6, 6]),
];

#[test]
fn permission_matrix() {
    let mut failures = Vec::new();
    for (column, identity) in IDENTITIES.iter().enumerate() {
        let matrix = Matrix::new(column);
        assert_eq!(matrix.identities[0].0, *identity);
        for (args, expected) in MATRIX {
            let run = matrix.run(args);
            let want = expected[column];
            let one_error_line = run
                .stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .count()
                == 1;
            if run.code != want || (want != 0 && !one_error_line) {
                failures.push(format!("{identity}: want {want}{run}"));
            }
            if want == 3 {
                assert!(
                    run.stderr.starts_with("error: permission denied (403): "),
                    "{run}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_bad_token_never_falls_through_to_the_operator() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let run = with_token(&env, "not-a-token", &["user", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert_eq!(
        run.stderr,
        "error: invalid token in OSMO_TOKEN (malformed)\n"
    );
    // Not even a value that is not UTF-8 falls through.
    let mut cmd = env.cmd(&["user", "list"]);
    cmd.env(
        "OSMO_TOKEN",
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"osmo_\xff"),
    );
    let run = env.run_with(cmd, &["user", "list"]);
    assert_eq!(run.code, 6, "{run}");
    let missing = env.root().join("missing");
    let run = env.run_env(
        &[("OSMO_TOKEN_FILE", missing.to_str().unwrap())],
        &["user", "list"],
    );
    assert_eq!(run.code, 2, "{run}");
    let admin = token_for(&env, "admin", "admin-t", &[]);
    let run = with_token(&env, &admin, &["config", "set", "operator-access", "false"]);
    assert_eq!(run.code, 0, "{run}");
    let run = env.run(&["user", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert!(
        run.stderr.contains("Operator access is turned off"),
        "{run}"
    );
}

#[test]
fn operator_access_off_needs_an_admin_token() {
    let env = Env::new();
    let admin = token_for(&env, "admin", "admin-t", &[]);
    let run = with_token(&env, &admin, &["config", "set", "operator-access", "false"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(env.run(&["token", "list"]).code, 6);
    let run = with_token(&env, &admin, &["user", "create", "carl"]);
    assert_eq!(run.code, 0, "{run}");
    let run = with_token(&env, &admin, &["config", "set", "operator-access", "true"]);
    assert_eq!(run.code, 0, "{run}");
    env.ok(&["token", "list"]);
}

#[test]
fn token_callers_cannot_escalate() {
    let env = Env::new();
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user", "team"]);
    env.ok(&["user", "create", "root2", "-r", "osmo-admin", "osmo-user"]);
    let narrow = token_for(&env, "alice", "narrow", &["osmo-user"]);

    // A token mints within its own roles only, even where the owner holds more.
    let run = with_token(&env, &narrow, &["token", "set", "wider", "-r", "team"]);
    assert_eq!(run.code, 3, "{run}");
    let run = with_token(&env, &narrow, &["token", "set", "same", "-t", "json"]);
    assert_eq!(run.code, 0, "{run}");
    let issued: Issued = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        issued.roles,
        ["osmo-user"],
        "defaults narrow to the caller token's roles"
    );
    let run = with_token(&env, &narrow, &["apitoken", "create", "-t", "json"]);
    let issued: Issued = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(issued.roles, ["osmo-user"], "{run}");

    // A plain user cannot grant itself roles.
    for args in [
        &["user", "update", "alice", "-a", "osmo-admin"][..],
        &["token", "set", "adm", "-r", "osmo-admin"],
        &["token", "set", "x", "-u", "root2"],
        &["config", "set", "max-tokens-per-user", "0"],
        &["role", "create", "mine"],
    ] {
        let run = with_token(&env, &narrow, args);
        assert!(run.code == 3 || run.code == 2, "{run}");
    }

    // An admin token without a role cannot hand that role out, even to someone who holds it.
    let admin_only = token_for(&env, "root2", "admin-only", &["osmo-admin"]);
    let run = with_token(
        &env,
        &admin_only,
        &["token", "set", "t", "-u", "alice", "-r", "team"],
    );
    assert_eq!(run.code, 3, "{run}");
    let run = with_token(&env, &admin_only, &["token", "set", "t", "-u", "alice"]);
    assert_eq!(
        run.code, 2,
        "no role of alice is within the caller token's roles{run}"
    );
    // An admin's token without osmo-admin is not an admin.
    let user_only = token_for(&env, "root2", "user-only", &["osmo-user"]);
    assert_eq!(with_token(&env, &user_only, &["user", "list"]).code, 3);
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    user: ProfileUser,
    login: String,
    token: Option<ProfileToken>,
    roles: Vec<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileUser {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToken {
    name: String,
    expires_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    user_name: String,
    token_name: String,
    expires_at: String,
}

#[test]
fn seed_001_and_002_login_and_profile() {
    let env = Env::new();
    let out = env.ok(&[
        "token",
        "set",
        "--expires-at",
        &in_days(40),
        "--description",
        "My Token",
        "my-token",
    ]);
    let token = access_token(&out);
    assert_eq!(
        env.ok(&[
            "login",
            "https://osmo.example.com",
            "--method",
            "token",
            "--token",
            &token
        ]),
        "Successfully logged in. Welcome admin.\n"
    );
    let date = in_days(40);
    assert_eq!(
        env.ok(&["profile", "list"]),
        format!(
            "user:\n  name: admin\nlogin: token\nurl: https://osmo.example.com\ntoken:\n  name: my-token\n  \
             expires_at: {date}\nroles:\n  - osmo-admin\n  - osmo-user\n"
        )
    );
    let profile: Profile = env.json(&["profile", "list"]);
    assert_eq!(
        (profile.user.name.as_str(), profile.login.as_str()),
        ("admin", "token")
    );
    let t = profile.token.unwrap();
    assert_eq!(
        (t.name.as_str(), t.expires_at),
        ("my-token", format!("{date}T00:00:00Z"))
    );
    assert_eq!(profile.roles, ["osmo-admin", "osmo-user"]);
    assert_eq!(profile.url.as_deref(), Some("https://osmo.example.com"));
    assert_eq!(env.ok(&["logout"]), "Successfully logged out.\n");

    // Seed 002: `--method=token --token=...`, and a token file under `~`.
    let login: Login = env.json(&[
        "login",
        "https://osmo.example.com",
        "--method=token",
        &format!("--token={token}"),
    ]);
    assert_eq!(
        (login.user_name.as_str(), login.token_name.as_str()),
        ("admin", "my-token")
    );
    assert_eq!(login.expires_at, format!("{date}T00:00:00Z"));
    let home = env.root().join("home");
    fs::create_dir_all(&home).unwrap();
    token_file(&env, "home/.osmo-token", &token);
    env.ok(&[
        "login",
        "https://osmo.example.com",
        "--method=token",
        "--token-file=~/.osmo-token",
    ]);
    assert_eq!(env.ok(&["logout"]), "Successfully logged out.\n");
    assert_eq!(
        env.ok(&["logout"]),
        "Not logged in: there is no session for this database.\n"
    );
    let profile: Profile = env.json(&["profile", "list"]);
    assert_eq!(profile.login, "operator");
    assert!(profile.token.is_none());
}

/// Seed 003's monitoring script: log in with a token file, then list tokens as JSON.
#[test]
fn seed_003_monitoring_script() {
    let env = Env::new();
    env.ok(&["user", "create", "monitoring", "--roles", "osmo-user"]);
    let out = env.ok(&[
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
    let file = token_file(&env, "monitoring-token", &access_token(&out));
    env.ok(&[
        "login",
        "https://osmo.example.com",
        "--method=token",
        &format!("--token-file={file}"),
    ]);
    let listed: Vec<Listed> = env.json(&["token", "list"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_name, "monitoring-token");
    assert_eq!(listed[0].user_name, "monitoring");
    assert!(
        listed[0].last_used_at.is_some(),
        "login and use record last_used_at"
    );
    // The monitoring user may not list users or other users' tokens.
    assert_eq!(env.run(&["user", "list"]).code, 3);
    assert_eq!(env.run(&["token", "list", "--user", "admin"]).code, 3);
}

#[test]
fn login_refuses_bad_tokens_and_other_methods() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    let session = env.config_dir().join("login.json");
    for (args, code) in [
        (&["login", "--token", "osmo_nope"][..], 6),
        (&["login", "--method", "password", "--token", "x"], 2),
        (&["login", "--token-file", "/nonexistent/file"], 2),
    ] {
        let run = env.run(args);
        assert_eq!(run.code, code, "{run}");
        assert!(!session.exists(), "no session file after a failed login");
    }
    let run = env.run_stdin("", &["login"]);
    assert_eq!(run.code, 2, "{run}");
    let issued: Issued = env.json(&["token", "set", "t"]);
    let run = env.run_stdin(&format!("  {}  \n", issued.token), &["login"]);
    assert_eq!(run.code, 0, "a token on stdin, whitespace trimmed{run}");
}

#[test]
fn sessions_hold_no_pat_and_follow_their_token() {
    let env = Env::new();
    env.ok(&["role", "create", "team"]);
    env.ok(&[
        "user",
        "create",
        "root2",
        "-r",
        "osmo-admin",
        "osmo-user",
        "team",
    ]);
    let token = token_for(&env, "root2", "root-t", &[]);
    env.ok(&["login", "--token", &token]);
    let session = env.config_dir().join("login.json");
    assert_eq!(
        fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = fs::read_to_string(&session).unwrap();
    assert!(
        !text.contains(&token) && !text.contains(&token[18..50]),
        "{text}"
    );

    // The session acts as root2, an admin.
    env.ok(&["user", "list"]);
    // Removing a role from the user narrows the session at once.
    env.as_operator(&["user", "update", "root2", "-r", "team"]);
    let profile: Profile = env.json(&["profile", "list"]);
    assert_eq!(profile.roles, ["osmo-admin", "osmo-user"]);
    env.as_operator(&["user", "update", "root2", "-r", "osmo-admin"]);
    assert_eq!(env.run(&["user", "list"]).code, 3);

    // Rotating the token ends the session.
    env.as_operator(&["token", "rotate", "root-t", "-u", "root2"]);
    let run = env.run(&["token", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert!(run.stderr.contains("session has ended"), "{run}");
    // A new login, then deleting the token ends it too.
    let token = token_for(&env, "root2", "second", &[]);
    env.ok(&["login", "--token", &token]);
    env.ok(&["token", "list"]);
    env.as_operator(&["token", "delete", "second", "-u", "root2"]);
    assert_eq!(env.run(&["token", "list"]).code, 6);
    env.ok(&["logout"]);
    env.ok(&["token", "list"]);
}

#[test]
fn sessions_end_when_idle_or_when_the_token_expires() {
    let env = Env::new();
    let token = token_for(&env, "admin", "t", &[]);
    env.ok(&["login", "--token", &token]);
    env.ok(&["token", "list"]);
    // Unused for longer than session-idle-timeout (12h).
    let past = chrono::Utc::now().timestamp() - 13 * 3600;
    env.exec(&format!("UPDATE sessions SET last_used_at = {past}"));
    let run = env.run(&["token", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert!(run.stderr.contains("session-idle-timeout"), "{run}");
    // Use refreshes the session.
    env.ok(&["login", "--token", &token]);
    let recent = chrono::Utc::now().timestamp() - 11 * 3600;
    env.exec(&format!("UPDATE sessions SET last_used_at = {recent}"));
    env.ok(&["token", "list"]);
    env.ok(&["token", "list"]);
    // The token expiring ends the session.
    env.exec("UPDATE tokens SET expires_at = 1000");
    let run = env.run(&["token", "list"]);
    assert_eq!(run.code, 6, "{run}");
    assert!(run.stderr.contains("expired"), "{run}");
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Valid {
    valid: bool,
    id: String,
    token_name: String,
    user_name: String,
    roles: Vec<String>,
    expires_at: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalid {
    valid: bool,
    reason: String,
}

#[test]
fn verify_reports_valid_tokens_and_reasons() {
    let env = Env::new();
    let date = in_days(30);
    let issued: Issued = env.json(&["token", "set", "ci", "-e", &date]);
    let file = token_file(&env, "ci-token", &issued.token);

    let run = env.run(&["token", "verify", "--token-file", &file]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.stdout,
        format!("valid: ci of admin, expires {date}, roles osmo-admin, osmo-user\n")
    );
    let valid: Valid = env.json(&[
        "token",
        "verify",
        "--token-file",
        &file,
        "--role",
        "osmo-user",
    ]);
    assert!(valid.valid);
    assert_eq!(
        (valid.id.as_str(), valid.token_name.as_str()),
        (issued.id.as_str(), "ci")
    );
    assert_eq!(
        (valid.user_name.as_str(), valid.expires_at),
        ("admin", format!("{date}T00:00:00Z"))
    );
    assert_eq!(valid.roles, ["osmo-admin", "osmo-user"]);
    let run = env.run_env(&[("OSMO_TOKEN", &issued.token)], &["token", "verify"]);
    assert_eq!(run.code, 0, "from $OSMO_TOKEN{run}");
    let run = env.run_stdin(&format!("{}\n", issued.token), &["token", "verify"]);
    assert_eq!(run.code, 0, "from stdin{run}");
    let listed: Vec<Listed> = env.json(&["token", "list"]);
    assert!(listed[0].last_used_at.is_some());

    // Roles: lacking one, or naming one that does not exist, is exit 3.
    env.ok(&["role", "create", "team"]);
    for role in ["team", "no-such-role"] {
        let run = env.run(&["token", "verify", "--token-file", &file, "--role", role]);
        assert_eq!(run.code, 3, "{run}");
    }

    let forged = {
        let other: Issued = env.json(&["token", "set", "other"]);
        env.ok(&["token", "delete", "other"]);
        other.token
    };
    let rotated: Issued = env.json(&["token", "rotate", "ci"]);
    let expired: Issued = env.json(&["token", "set", "old"]);
    env.exec("UPDATE tokens SET expires_at = 1000 WHERE name = 'old'");
    for (token, reason) in [
        ("osmo_garbage", "malformed"),
        (issued.token.as_str(), "unknown"),
        (forged.as_str(), "unknown"),
        (expired.token.as_str(), "expired"),
    ] {
        let run = env.run_stdin(token, &["token", "verify"]);
        assert_eq!(run.code, 6, "{run}");
        assert_eq!(run.stderr, format!("error: invalid token ({reason})\n"));
        assert!(run.stdout.is_empty());
        let run = env.run_stdin(token, &["token", "verify", "-t", "json"]);
        assert_eq!(run.code, 6, "{run}");
        let invalid: Invalid = serde_json::from_str(&run.stdout).unwrap();
        assert!(!invalid.valid);
        assert_eq!(invalid.reason, reason);
    }
    assert_eq!(env.run_stdin(&rotated.token, &["token", "verify"]).code, 0);

    // No token, or a file that cannot give one: exit 2.
    assert_eq!(env.run_stdin("", &["token", "verify"]).code, 2);
    let empty = token_file(&env, "empty", "");
    let dir = env.root().to_str().unwrap().to_string();
    for path in [empty.as_str(), "/nonexistent/token", &dir] {
        let run = env.run(&["token", "verify", "--token-file", path]);
        assert_eq!(run.code, 2, "{run}");
        assert_eq!(run.stderr.lines().count(), 1, "{run}");
    }
}

#[test]
fn open_token_files_and_expiring_tokens_warn() {
    let env = Env::new();
    let issued: Issued = env.json(&["token", "set", "soon", "--expires-in", "3d"]);
    let file = token_file(&env, "open-token", &issued.token);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["token", "verify", "--token-file", &file]);
    assert_eq!(run.code, 0, "{run}");
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{run}");
    assert!(
        warnings[0].starts_with("warning: token file ") && warnings[0].contains("chmod 600"),
        "{run}"
    );
    let expires = chrono::DateTime::parse_from_rfc3339(&issued.expires_at).unwrap();
    assert_eq!(
        warnings[1],
        format!(
            "warning: access token soon expires on {}",
            expires.format("%Y-%m-%d at %H:%M UTC")
        )
    );
    let run = env.run_env(&[("OSMO_TOKEN_FILE", &file)], &["token", "list"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr.contains("warning: access token soon expires on"),
        "{run}"
    );
    // A token far from expiry gets no warning.
    let later: Issued = env.json(&["token", "set", "later"]);
    let run = env.run_env(&[("OSMO_TOKEN", &later.token)], &["token", "list"]);
    assert!(run.stderr.is_empty(), "{run}");
}

#[test]
fn audit_records_changes_and_failures_without_secrets() {
    let env = Env::new();
    let mut secrets = Vec::new();
    env.ok(&["role", "create", "team"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    env.ok(&["user", "update", "alice", "-a", "team"]);
    env.ok(&["user", "update", "alice", "-r", "team"]);
    let issued: Issued = env.json(&["token", "set", "t", "-u", "alice"]);
    secrets.push(issued.token.clone());
    env.ok(&["login", "--token", &issued.token]);
    env.ok(&["logout"]);
    let rotated: Issued = env.json(&["token", "rotate", "t", "-u", "alice"]);
    secrets.push(rotated.token.clone());
    assert_eq!(env.run(&["login", "--token", &issued.token]).code, 6);
    assert_eq!(env.run_stdin("osmo_bad", &["token", "verify"]).code, 6);
    env.ok(&["config", "set", "max-tokens-per-user", "7"]);
    env.ok(&["token", "delete", "t", "-u", "alice"]);
    env.ok(&["user", "delete", "alice", "-f"]);
    env.ok(&["role", "delete", "team", "-f"]);

    let events: Vec<Event> = env.json(&["audit", "list"]);
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| (e.action.as_str(), e.target.as_str(), e.outcome.as_str()))
        .collect();
    for expected in [
        ("role.create", "team", "ok"),
        ("user.create", "alice", "ok"),
        ("user.role.add", "alice:team", "ok"),
        ("user.role.remove", "alice:team", "ok"),
        ("token.create", "alice/t", "ok"),
        ("login", "alice/t", "ok"),
        ("token.rotate", "alice/t", "ok"),
        ("login", &issued.id, "failed: unknown"),
        ("token.verify", "-", "failed: malformed"),
        ("config.set", "max-tokens-per-user=7", "ok"),
        ("token.delete", "alice/t", "ok"),
        ("user.delete", "alice", "ok"),
        ("role.delete", "team", "ok"),
    ] {
        assert!(
            seen.contains(&expected),
            "missing {expected:?} in {seen:#?}"
        );
    }
    assert_eq!(events[0].action, "role.delete", "newest first");
    assert!(
        events
            .iter()
            .all(|e| chrono::DateTime::parse_from_rfc3339(&e.at).is_ok())
    );
    assert!(events.iter().any(|e| e.actor == "admin"));

    let for_alice: Vec<Event> = env.json(&["audit", "list", "-u", "alice", "-c", "3"]);
    assert_eq!(for_alice.len(), 3);
    assert!(
        for_alice
            .iter()
            .all(|e| e.actor == "alice" || e.target.starts_with("alice")),
        "{for_alice:?}"
    );

    let text = env.ok(&["audit", "list"]);
    let json = env.ok(&["audit", "list", "-t", "json"]);
    for secret in &secrets {
        assert!(!text.contains(&secret[18..50]) && !json.contains(&secret[18..50]));
    }
}
