//! Fills a database for the benchmark: USERS users, TOKENS filler tokens spread over them
//! (each with two roles), and one real token per measured user.
//!
//! `cargo run --release --example gen_db -- DB USERS TOKENS TOKEN_FILE [AUDIT HEAVY RARE]`
//!
//! The optional counts make the database of DESIGN §8's scaling lines: AUDIT audit
//! events (nine in ten by `admin`), HEAVY expired filler tokens for one more user, `heavy`, and
//! RARE users holding the role `rare`.
//!
//! Users, roles, settings and the measured token go through the library's own functions.
//! Filler tokens reuse one precomputed Argon2id hash and are inserted through the store's
//! own `insert_token` in large transactions, since a million `token set` calls would take
//! hours and measure nothing.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use osmo_local::identity::{self, Presented};
use osmo_local::settings::{self, Settings};
use osmo_local::store::{Create, NewEvent, NewTokenRow, RoleGrant, Store};
use osmo_local::time::{self, Expiry, Timestamp};
use osmo_local::tokens::format::{self as token, Token};
use osmo_local::tokens::{self, Announce, NewToken};
use osmo_local::{roles, setup, users};

const BATCH: usize = 50_000;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (db, users_arg, tokens_arg, token_file, extra) = match args.as_slice() {
        [_, db, users, tokens, file, extra @ ..] if extra.is_empty() || extra.len() == 3 => {
            (db, users, tokens, file, extra)
        }
        _ => return Err("usage: gen_db DB USERS TOKENS TOKEN_FILE [AUDIT HEAVY RARE]".into()),
    };
    let (user_count, token_count): (usize, usize) = (users_arg.parse()?, tokens_arg.parse()?);
    let count = |i: usize| -> Result<usize, Box<dyn Error>> {
        Ok(extra.get(i).map_or(Ok(0), |n| n.parse())?)
    };
    let (audit_count, heavy_count, rare_count) = (count(0)?, count(1)?, count(2)?);
    let started = Instant::now();
    let now = time::now();
    let (mut store, _) = setup::open(Path::new(db), Create::File, now)?;
    let settings = Settings::load(&mut store)?;
    let caller = identity::resolve(&mut store, &settings, &Presented::Nothing, now)?;
    settings::set(&mut store, &caller, "max-tokens-per-user", "1000000", now)?;
    settings::set(&mut store, &caller, "max-token-lifetime", "5Y", now)?;
    roles::create(&mut store, &caller, "bench-team", "Benchmark team", now)?;
    roles::create(&mut store, &caller, "rare", "Held by few", now)?;
    let roles = ["osmo-user".to_string(), "bench-team".to_string()];
    let rare_step = (user_count / rare_count.max(1)).max(1);
    // Users in large transactions through the store's own methods: at 100,000 users one
    // `user create` each would take minutes.
    for first in (0..user_count).step_by(BATCH) {
        store.write(|tx| {
            for i in first..user_count.min(first + BATCH) {
                let id = user_id(i);
                tx.insert_user(&id, now, "admin")?;
                for role in &roles {
                    tx.grant_role(&id, role, "admin", now)?;
                }
                if rare_count > 0 && i % rare_step == 0 && i / rare_step < rare_count {
                    tx.grant_role(&id, "rare", "admin", now)?;
                }
            }
            Ok(())
        })?;
    }
    let grants = roles.clone().map(|role_name| RoleGrant {
        role_name,
        assigned_by: "admin".to_string(),
        assigned_at: Timestamp(now),
    });
    eprintln!("{user_count} users in {:?}", started.elapsed());

    let hash = Token::generate()?.hash()?;
    let expires = now + 4 * 365 * time::DAY;
    let spread = |n: usize| {
        (
            user_id(n % user_count),
            format!("filler-{}", n / user_count),
        )
    };
    fill_tokens(
        &mut store,
        token_count,
        spread,
        &hash,
        now,
        expires,
        &grants,
    )?;
    eprintln!("{token_count} tokens in {:?}", started.elapsed());

    if heavy_count > 0 {
        users::create(&mut store, &caller, "heavy", &roles, now)?;
        // An automation account that kept every token it ever had: all of them expired.
        let heavy = |n: usize| ("heavy".to_string(), format!("filler-{n}"));
        let expired = now - time::DAY;
        fill_tokens(&mut store, heavy_count, heavy, &hash, now, expired, &grants)?;
        eprintln!("{heavy_count} tokens for heavy in {:?}", started.elapsed());
    }
    for first in (0..audit_count).step_by(BATCH) {
        store.write(|tx| {
            for n in first..audit_count.min(first + BATCH) {
                let subject = user_id(n % user_count.max(1));
                let actor = if n % 10 == 0 {
                    subject.as_str()
                } else {
                    "admin"
                };
                let target = format!("{subject}/filler-{}", n % 7);
                tx.append_audit(&NewEvent {
                    at: now - (audit_count - n) as i64,
                    actor,
                    action: "token.create",
                    target: &target,
                    subject: Some(&subject),
                    outcome: "ok",
                })?;
            }
            Ok(())
        })?;
    }
    if audit_count > 0 {
        eprintln!("{audit_count} audit events in {:?}", started.elapsed());
    }

    // The measured token is real: made by the same code as `token set`.
    let owner = user_id(user_count / 2);
    let req = NewToken {
        name: Some("measured"),
        owner: Some(&owner),
        description: "benchmark",
        roles: &[],
        expiry: Expiry::In("1Y"),
    };
    let settings = Settings::load(&mut store)?;
    let issued = tokens::issue(&mut store, &caller, &settings, &req, Announce::Vast, now)?;
    std::fs::write(token_file, issued.token.reveal() + "\n")?;
    store.checkpoint()?;
    eprintln!("done in {:?}: measured user {owner}", started.elapsed());
    println!("{owner}");
    Ok(())
}

/// Inserts `count` filler tokens, token `n` owned and named by `owner_and_name(n)`, in
/// large transactions through the store's own `insert_token`.
fn fill_tokens(
    store: &mut Store,
    count: usize,
    owner_and_name: impl Fn(usize) -> (String, String),
    hash: &str,
    now: i64,
    expires: i64,
    grants: &[RoleGrant],
) -> Result<(), Box<dyn Error>> {
    for first in (0..count).step_by(BATCH) {
        store.write(|tx| {
            for n in first..count.min(first + BATCH) {
                let (owner, name) = owner_and_name(n);
                let public_id = token::random_base62(token::PUBLIC_ID_LEN)?;
                let row = NewTokenRow {
                    public_id: &public_id,
                    owner: &owner,
                    name: &name,
                    description: "filler",
                    secret_hash: hash,
                    created_at: now,
                    created_by: "admin",
                    expires_at: expires,
                };
                tx.insert_token(&row, grants)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn user_id(i: usize) -> String {
    format!("user{i:05}")
}
