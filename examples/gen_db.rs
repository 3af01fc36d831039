//! Fills a database for the benchmark: USERS users, TOKENS filler tokens spread over them
//! (each with two roles), and one real token per measured user.
//!
//! `cargo run --release --example gen_db -- DB USERS TOKENS TOKEN_FILE`
//!
//! Users, roles, settings and the measured token go through the library's own functions.
//! Filler tokens reuse one precomputed Argon2id hash and are inserted in large
//! transactions, since a million `token set` calls would take hours and measure nothing.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use osmo_local::identity::{self, Presented};
use osmo_local::settings::{self, Settings};
use osmo_local::store::Store;
use osmo_local::time::{self, Expiry};
use osmo_local::token::{self, Token};
use osmo_local::tokens::{self, Announce, NewToken};
use osmo_local::{roles, users};

const BATCH: usize = 50_000;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, users_arg, tokens_arg, token_file] = args.as_slice() else {
        return Err("usage: gen_db DB USERS TOKENS TOKEN_FILE".into());
    };
    let (user_count, token_count): (usize, usize) = (users_arg.parse()?, tokens_arg.parse()?);
    let started = Instant::now();
    let mut store = Store::open(Path::new(db))?;
    let settings = Settings::load(store.conn())?;
    let caller = identity::resolve(&mut store, &settings, &Presented::Nothing)?;
    settings::set(&mut store, &caller, "max-tokens-per-user", "0")?;
    settings::set(&mut store, &caller, "max-token-lifetime", "5Y")?;
    roles::create(&mut store, &caller, "bench-team", "Benchmark team")?;
    let grants = ["osmo-user".to_string(), "bench-team".to_string()];
    for i in 0..user_count {
        users::create(&mut store, &caller, &user_id(i), &grants)?;
    }
    eprintln!("{user_count} users in {:?}", started.elapsed());

    let hash = Token::generate()?.hash()?;
    let now = time::now();
    let expires = now + 4 * 365 * time::DAY;
    let mut made = 0;
    while made < token_count {
        let batch = BATCH.min(token_count - made);
        store.write(|tx| {
            let mut token = tx.prepare_cached(
                "INSERT INTO tokens (public_id, user_id, name, description, secret_hash, created_at, created_by, expires_at)
                 VALUES (?1, ?2, ?3, 'filler', ?4, ?5, 'admin', ?6)",
            )?;
            let mut grant = tx.prepare_cached(
                "INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
                 VALUES (?1, ?2, ?3, 'admin', ?4)",
            )?;
            for n in made..made + batch {
                let owner = user_id(n % user_count);
                let public_id = token::random_base62(token::PUBLIC_ID_LEN)?;
                let name = format!("filler-{}", n / user_count);
                token.execute((&public_id, &owner, &name, &hash, now, expires))?;
                let row = tx.last_insert_rowid();
                for role in &grants {
                    grant.execute((row, &owner, role, now))?;
                }
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
    let settings = Settings::load(store.conn())?;
    let issued = tokens::issue(&mut store, &caller, &settings, &req, Announce::Vast)?;
    std::fs::write(token_file, issued.token.reveal() + "\n")?;
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    eprintln!("done in {:?}: measured user {owner}", started.elapsed());
    println!("{owner}");
    Ok(())
}

fn user_id(i: usize) -> String {
    format!("user{i:05}")
}
