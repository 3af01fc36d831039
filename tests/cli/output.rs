//! Output contract: JSON errors, exit codes, broken pipes, version, help (DESIGN §6).

use std::io::Read;
use std::process::Stdio;

use serde::Deserialize;

use crate::util::Env;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorDoc {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorBody {
    code: String,
    status: u16,
    message: String,
}

#[test]
fn errors_follow_format_type_json() {
    let env = Env::new();
    env.ok(&["user", "create", "dup"]);
    for (args, exit, code, status) in [
        (&["user", "create", "bad!"][..], 2, "invalid_input", 400),
        (&["user", "get", "nobody"], 4, "not_found", 404),
        (&["user", "create", "dup"], 5, "conflict", 409),
        (&["role", "delete", "osmo-admin", "-f"], 5, "conflict", 409),
    ] {
        let mut all = args.to_vec();
        all.extend(["--format-type", "json"]);
        let run = env.run(&all);
        assert_eq!(run.code, exit, "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        let doc: ErrorDoc =
            serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{e}{run}"));
        assert_eq!(
            (doc.error.code.as_str(), doc.error.status),
            (code, status),
            "{run}"
        );
        assert!(!doc.error.message.is_empty());
    }
}

#[test]
fn version_and_usage_errors() {
    let env = Env::new();
    assert_eq!(
        env.ok(&["--version"]),
        format!("osmo {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(env.run(&["user", "create"]).code, 2);
    assert_eq!(env.run(&["user", "list", "--bogus"]).code, 2);
    assert_eq!(env.run(&["user", "list", "-t", "yaml"]).code, 2);
    let help = env.ok(&["user", "create", "--help"]);
    assert!(
        help.contains("Ex. osmo user create backend-operator --roles osmo-backend"),
        "{help}"
    );
    // Help and version do not create a database.
    assert!(!env.db_exists());
}

#[test]
fn a_closed_stdout_pipe_is_success() {
    let env = Env::new();
    env.ok(&["role", "list"]);
    // More than a pipe buffer (64 KiB) of output.
    env.exec(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
         INSERT INTO roles (name, description) SELECT 'role-' || i, '{}' FROM n",
        "x".repeat(200)
    ));
    let mut child = env
        .std_cmd(&["role", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then hang up, as `| head -c1` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status}, stderr: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
