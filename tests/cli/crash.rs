//! Killing `osmo` with SIGKILL in the middle of a write loses nothing that was shown and
//! leaves no half-written rows (DESIGN §7).

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use osmo_local::tokens;

use crate::util::Env;

/// A small deterministic generator, so a failing round can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn printed_token(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Access token: "))
        .filter(|t| t.len() == 56)
        .map(str::to_string)
}

#[test]
fn sigkill_during_writes_keeps_the_database_whole() {
    const KILLS: usize = 50;
    const MAX_ROUNDS: usize = 400;
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["user", "create", "alice", "-r", "osmo-user"]);
    // Kill within 1.5x the time a whole write takes here, so some die before the
    // transaction, some inside it, and some after printing.
    let started = Instant::now();
    env.ok(&["token", "set", "calibrate", "-u", "alice"]);
    let window = (started.elapsed().as_micros() as u64 * 3 / 2).max(1_000);
    let mut rng = Lcg(0x05a0_1ca1);
    let mut shown = Vec::new();
    let (mut killed, mut rounds) = (0, 0);
    for round in 0..MAX_ROUNDS {
        if killed >= KILLS {
            break;
        }
        rounds += 1;
        let args: Vec<String> = match round % 3 {
            0 => vec![
                "token".into(),
                "set".into(),
                format!("c{round}"),
                "-u".into(),
                "alice".into(),
            ],
            1 => {
                let victim = format!("victim{round}");
                env.ok(&["user", "create", &victim, "-r", "osmo-user"]);
                env.ok(&["token", "set", "v1", "-u", &victim]);
                env.ok(&["token", "set", "v2", "-u", &victim]);
                vec!["user".into(), "delete".into(), victim, "-f".into()]
            }
            _ => {
                let name = format!("rot{round}");
                env.ok(&["token", "set", &name, "-u", "alice"]);
                vec![
                    "token".into(),
                    "rotate".into(),
                    name,
                    "-u".into(),
                    "alice".into(),
                ]
            }
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = env
            .std_cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(Duration::from_micros(rng.below(window)));
        let _ = child.kill();
        if child.wait().unwrap().signal() == Some(9) {
            killed += 1;
        }
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        shown.extend(printed_token(&stdout));

        // The engine's own check, dangling rows and osmo's invariants.
        let check = env.ok(&["db", "check"]);
        assert_eq!(check.trim(), "ok", "round {round}");
        let roleless = env.count(
            "SELECT count(*) FROM tokens t
             WHERE NOT EXISTS (SELECT 1 FROM token_roles r WHERE r.token_id = t.id)",
        );
        assert_eq!(roleless, 0, "round {round}: a token without its roles");
    }
    eprintln!(
        "{killed} of {rounds} writes killed in flight; {} tokens shown",
        shown.len()
    );
    assert!(
        killed >= KILLS,
        "only {killed} of {rounds} processes were killed in flight"
    );
    let mut store = env.store();
    let now = Utc::now().timestamp();
    for token in &shown {
        assert!(
            tokens::check(&mut store, token, now).unwrap().is_ok(),
            "a shown token was lost"
        );
    }
    // The database is still fully usable.
    env.ok(&["token", "list", "-u", "alice"]);
    env.ok(&["user", "create", "after-the-storm"]);
}
