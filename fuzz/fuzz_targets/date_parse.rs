//! The date parser never panics, and accepts only `YYYY-MM-DD` of real calendar days;
//! expiry resolution from any accepted date never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osmo_local::time::{Expiry, Span, parse_date};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(date) = parse_date(text) {
        assert_eq!(date.format("%Y-%m-%d").to_string(), text);
    }
    let (default, max) = (Span::parse("31d").unwrap(), Span::parse("365d").unwrap());
    let _ = Expiry::Date(text).resolve(1_800_000_000, &default, &max);
});
