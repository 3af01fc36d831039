//! The token parser never panics, and whatever it accepts prints back exactly as given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osmo_local::token::Token;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = Token::parse(text) {
        assert_eq!(token.reveal(), text);
        assert_eq!(token.public_id(), &text[5..17]);
    }
});
