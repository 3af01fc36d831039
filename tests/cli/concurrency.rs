//! Many `osmo` processes at once: nothing is lost, limits hold, readers never fail
//! (DESIGN §7).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use chrono::Utc;
use osmo_local::tokens;

use crate::util::{Env, Issued, Run};

/// `db check`'s verdict: the engine's own check, references and osmo's invariants.
fn integrity(env: &Env) -> String {
    env.ok(&["db", "check"]).trim().to_string()
}

#[test]
fn sixteen_writers_lose_nothing_while_readers_keep_reading() {
    let env = Env::new();
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    for w in 0..16 {
        env.ok(&["user", "create", &format!("w{w}"), "-r", "osmo-user"]);
    }
    let probe: Issued = env.json(&["token", "set", "probe"]);
    let done = AtomicBool::new(false);
    let (writes, reads) = thread::scope(|s| {
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let env = &env;
                s.spawn(move || {
                    let user = format!("w{w}");
                    (0..25)
                        .map(|i| {
                            env.run(&["token", "set", &format!("t{i}"), "-u", &user, "-t", "json"])
                        })
                        .collect::<Vec<Run>>()
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let (env, done, probe) = (&env, &done, &probe.token);
                s.spawn(move || {
                    let mut runs = Vec::new();
                    while !done.load(Ordering::Relaxed) {
                        runs.push(if r == 0 {
                            env.run(&["token", "list", "-u", "w0"])
                        } else {
                            env.run_stdin(probe, &["token", "verify"])
                        });
                    }
                    runs
                })
            })
            .collect();
        let writes: Vec<Run> = writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        done.store(true, Ordering::Relaxed);
        let reads: Vec<Run> = readers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        (writes, reads)
    });

    assert_eq!(writes.len(), 400);
    let failed: Vec<&Run> = writes.iter().filter(|r| r.code != 0).collect();
    assert!(
        failed.is_empty(),
        "{} writes failed, first:{}",
        failed.len(),
        failed[0]
    );
    assert!(writes.iter().all(|r| !r.stderr.contains("locked")));
    let failed_reads: Vec<&Run> = reads.iter().filter(|r| r.code != 0).collect();
    assert!(!reads.is_empty());
    assert!(
        failed_reads.is_empty(),
        "a reader failed:{}",
        failed_reads[0]
    );

    let mut store = env.store();
    let now = Utc::now().timestamp();
    for run in &writes {
        let issued: Issued = serde_json::from_str(&run.stdout).unwrap();
        let verified = tokens::check(&mut store, &issued.token, now).unwrap();
        assert!(verified.is_ok(), "{} does not verify", issued.token_name);
    }
    let count: i64 = env.count("SELECT count(*) FROM tokens");
    assert_eq!(count, 401);
    assert_eq!(integrity(&env), "ok");
}

#[test]
fn the_token_limit_holds_under_a_race() {
    let env = Env::new();
    env.ok(&["user", "create", "racer", "-r", "osmo-user"]);
    let runs: Vec<Run> = thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let env = &env;
                s.spawn(move || env.run(&["token", "set", &format!("r{i}"), "-u", "racer"]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = runs.iter().filter(|r| r.code == 0).count();
    let limited = runs.iter().filter(|r| r.code == 5).count();
    assert_eq!(
        (ok, limited),
        (5, 15),
        "{}",
        runs.iter().map(|r| r.to_string()).collect::<String>()
    );
    let count: i64 = env.count("SELECT count(*) FROM tokens WHERE user_id = 'racer'");
    assert_eq!(count, 5);
}

#[test]
fn two_admins_demoting_each_other_leave_one() {
    for _ in 0..5 {
        let env = Env::new();
        env.ok(&["user", "create", "alice", "-r", "osmo-admin"]);
        env.ok(&["user", "create", "bob", "-r", "osmo-admin"]);
        let alice: Issued = env.json(&["token", "set", "a", "-u", "alice"]);
        let bob: Issued = env.json(&["token", "set", "b", "-u", "bob"]);
        env.ok(&["user", "update", "admin", "-r", "osmo-admin"]);
        let runs: Vec<Run> = thread::scope(|s| {
            let a = s.spawn(|| {
                env.run_env(
                    &[("OSMO_TOKEN", &alice.token)],
                    &["user", "update", "bob", "-r", "osmo-admin"],
                )
            });
            let b = s.spawn(|| {
                env.run_env(
                    &[("OSMO_TOKEN", &bob.token)],
                    &["user", "update", "alice", "-r", "osmo-admin"],
                )
            });
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        let admins: i64 = env.count("SELECT count(*) FROM user_roles WHERE role = 'osmo-admin'");
        assert_eq!(admins, 1, "{}{}", runs[0], runs[1]);
        let ok = runs.iter().filter(|r| r.code == 0).count();
        assert_eq!(ok, 1, "{}{}", runs[0], runs[1]);
        assert!(runs.iter().all(|r| [0, 3, 5].contains(&r.code)));
    }
}
