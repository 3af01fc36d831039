//! Times one Argon2id hash and one verify of a token secret with the parameters osmo uses.
//!
//! `cargo run --release --example hash_timing`

use std::time::Instant;

use osmo_local::tokens::format::{self as token, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const ROUNDS: u32 = 200;
    let token = Token::generate()?;
    let hash = token.hash()?;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        token.hash()?;
    }
    let hash_time = start.elapsed() / ROUNDS;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        assert!(token.matches(&hash));
    }
    let verify_time = start.elapsed() / ROUNDS;
    println!(
        "argon2id m={} KiB t={} p={}: hash {:?}, verify {:?} (mean of {ROUNDS})",
        token::ARGON2_M_KIB,
        token::ARGON2_T,
        token::ARGON2_P,
        hash_time,
        verify_time
    );
    Ok(())
}
