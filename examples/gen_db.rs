//! Fills a database for the benchmark: USERS users, TOKENS filler tokens spread over them
//! (each with two roles), and one real token per measured user.
//!
//! `cargo run --release --example gen_db -- DB USERS TOKENS TOKEN_FILE`
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
use osmo_local::store::{NewTokenRow, RoleGrant};
use osmo_local::time::{self, Expiry, Timestamp};
use osmo_local::tokens::format::{self as token, Token};
use osmo_local::tokens::{self, Announce, NewToken};
use osmo_local::{roles, setup, users};

const BATCH: usize = 50_000;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, users_arg, tokens_arg, token_file] = args.as_slice() else {
        return Err("usage: gen_db DB USERS TOKENS TOKEN_FILE".into());
    };
    let (user_count, token_count): (usize, usize) = (users_arg.parse()?, tokens_arg.parse()?);
    let started = Instant::now();
    let now = time::now();
    let mut store = setup::open(Path::new(db), now)?;
    let settings = Settings::load(&mut store)?;
    let caller = identity::resolve(&mut store, &settings, &Presented::Nothing, now)?;
    settings::set(&mut store, &caller, "max-tokens-per-user", "0", now)?;
    settings::set(&mut store, &caller, "max-token-lifetime", "5Y", now)?;
    roles::create(&mut store, &caller, "bench-team", "Benchmark team", now)?;
    let roles = ["osmo-user".to_string(), "bench-team".to_string()];
    for i in 0..user_count {
        users::create(&mut store, &caller, &user_id(i), &roles, now)?;
    }
    let grants = roles.map(|role_name| RoleGrant {
        role_name,
        assigned_by: "admin".to_string(),
        assigned_at: Timestamp(now),
    });
    eprintln!("{user_count} users in {:?}", started.elapsed());

    let hash = Token::generate()?.hash()?;
    let expires = now + 4 * 365 * time::DAY;
    let mut made = 0;
    while made < token_count {
        let batch = BATCH.min(token_count - made);
        store.write(|tx| {
            for n in made..made + batch {
                let owner = user_id(n % user_count);
                let public_id = token::random_base62(token::PUBLIC_ID_LEN)?;
                let name = format!("filler-{}", n / user_count);
                let row = NewTokenRow {
                    public_id: &public_id,
                    owner: &owner,
                    name: &name,
                    description: "filler",
                    secret_hash: &hash,
                    created_at: now,
                    created_by: "admin",
                    expires_at: expires,
                };
                tx.insert_token(&row, &grants)?;
            }
            Ok(())
        })?;
        made += batch;
        eprintln!("{made} tokens in {:?}", started.elapsed());
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

fn user_id(i: usize) -> String {
    format!("user{i:05}")
}
