//! The duration parser never panics, and accepts only a positive whole number and a
//! unit, which it shows back as given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osmo_local::time::{Expiry, Span};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(span) = Span::parse(text) {
        assert!(span.seconds > 0);
        assert_eq!(span.to_string(), text);
        let digits = &text[..text.len() - 1];
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    }
    let (default, max) = (Span::parse("31d").unwrap(), Span::parse("365d").unwrap());
    let _ = Expiry::In(text).resolve(1_800_000_000, &default, &max);
});
