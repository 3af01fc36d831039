//! Instants, expiry dates and VAST-style durations (DESIGN §3).
//!
//! Instants are whole seconds since the Unix epoch, UTC, everywhere in the crate.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

pub const DAY: i64 = 86_400;

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// An instant that prints as RFC 3339 in JSON and as a date in tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// `YYYY-MM-DD`, as OSMO shows dates.
    pub fn date(self) -> String {
        self.to_utc().format("%Y-%m-%d").to_string()
    }

    /// `YYYY-MM-DD at HH:MM UTC`, for warnings where the hour matters.
    pub fn date_time(self) -> String {
        self.to_utc().format("%Y-%m-%d at %H:%M UTC").to_string()
    }

    /// `YYYY-MM-DD HH:MM`, for "last used".
    pub fn minute(self) -> String {
        self.to_utc().format("%Y-%m-%d %H:%M").to_string()
    }

    pub fn rfc3339(self) -> String {
        self.to_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

/// A positive span written as a whole number and a unit: `180D`, `1Y`, `2w`, `90s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub seconds: i64,
    text: String,
}

impl Span {
    pub fn parse(text: &str) -> Result<Span> {
        let bad = || {
            Error::invalid(format!(
                "Invalid duration {}: use a positive whole number and a unit, Y (365 days), M (30 days), w, d, h, m (minutes) or s, as in 180D or 2w.",
                crate::validate::quoted(text)
            ))
        };
        let unit = text.chars().last().ok_or_else(bad)?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let unit_seconds = match unit {
            'Y' => 365 * DAY,
            'M' => 30 * DAY,
            'w' | 'W' => 7 * DAY,
            'd' | 'D' => DAY,
            'h' | 'H' => 3_600,
            'm' => 60,
            's' | 'S' => 1,
            _ => return Err(bad()),
        };
        let count: i64 = digits.parse().map_err(|_| bad())?;
        let seconds = count
            .checked_mul(unit_seconds)
            .filter(|s| *s > 0 && *s <= 1_000 * 365 * DAY)
            .ok_or_else(bad)?;
        Ok(Span {
            seconds,
            text: text.to_string(),
        })
    }

    /// Whole days, when the span is a whole number of days.
    pub fn whole_days(&self) -> Option<i64> {
        (self.seconds % DAY == 0).then_some(self.seconds / DAY)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses exactly `YYYY-MM-DD`; chrono alone would take `2026-5-1`.
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "Invalid date {}: {why}",
            crate::validate::quoted(text)
        ))
    };
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(bad("use the format YYYY-MM-DD."));
    }
    let part = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    NaiveDate::from_ymd_opt(part(0..4) as i32, part(5..7), part(8..10))
        .ok_or_else(|| bad("no such day in the calendar."))
}

/// Midnight UTC at the start of `date`.
pub fn midnight(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(i64::MAX)
}

fn today(now: i64) -> NaiveDate {
    Timestamp(now).to_utc().date_naive()
}

/// When a token should expire, from the flags given and the lifetime settings.
pub enum Expiry<'a> {
    /// `--expires-at YYYY-MM-DD`: 00:00 UTC that day.
    Date(&'a str),
    /// `--expires-in` / `--expiry-date`: an exact instant from now.
    In(&'a str),
    /// Nothing given: `default-token-lifetime`.
    Default,
}

impl Expiry<'_> {
    pub fn resolve(&self, now: i64, default: &Span, max: &Span) -> Result<i64> {
        let latest = now.saturating_add(max.seconds);
        let beyond_max = || {
            Error::invalid(format!(
                "Expiry is too far away: tokens may live at most {max} (the max-token-lifetime setting), that is until {}.",
                Timestamp(latest).date_time()
            ))
        };
        match self {
            Expiry::Date(text) => {
                let date = parse_date(text)?;
                if date <= today(now) {
                    return Err(Error::invalid(format!(
                        "Invalid date {text}: the expiry date must be after today ({}).",
                        today(now)
                    )));
                }
                let at = midnight(date);
                if at > latest {
                    return Err(beyond_max());
                }
                Ok(at)
            }
            Expiry::In(text) => {
                let at = now.saturating_add(Span::parse(text)?.seconds);
                if at > latest {
                    return Err(beyond_max());
                }
                Ok(at)
            }
            // OSMO rounds a default of whole days to midnight UTC.
            Expiry::Default => Ok(match default.whole_days() {
                Some(days) => midnight(today(now)) + days * DAY,
                None => now + default.seconds,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z

    fn span(s: &str) -> Span {
        Span::parse(s).unwrap()
    }

    #[test]
    fn spans_follow_vast() {
        assert_eq!(span("180D").seconds, 180 * DAY);
        assert_eq!(span("1Y").seconds, 365 * DAY);
        assert_eq!(span("2M").seconds, 60 * DAY);
        assert_eq!(span("2w").seconds, 14 * DAY);
        assert_eq!(span("3W").seconds, 21 * DAY);
        assert_eq!(span("5h").seconds, 5 * 3600);
        assert_eq!(span("10m").seconds, 600);
        assert_eq!(span("90s").seconds, 90);
        assert_eq!(span("31d").to_string(), "31d");
        for bad in [
            "",
            "0d",
            "-1d",
            "+1d",
            "1",
            "d",
            "1.5d",
            "1 d",
            " 1d",
            "1y",
            "1x",
            "1dd",
            "١d",
            "99999999999999999999d",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2026-05-01").unwrap(),
            NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()
        );
        for bad in [
            "2026-5-1",
            "2026-02-30",
            "2026/05/01",
            "26-05-01",
            "2026-05-01T00:00",
            "",
            "2026-13-01",
            "+026-05-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expiry_dates() {
        let (def, max) = (span("31d"), span("365d"));
        let at = Expiry::Date("2027-02-01").resolve(NOW, &def, &max).unwrap();
        assert_eq!(Timestamp(at).rfc3339(), "2027-02-01T00:00:00Z");
        for bad in ["2027-01-15", "2027-01-14", "2028-01-16", "2027-02-30"] {
            assert!(Expiry::Date(bad).resolve(NOW, &def, &max).is_err(), "{bad}");
        }
        assert!(Expiry::Date("2027-01-16").resolve(NOW, &def, &max).is_ok());
    }

    #[test]
    fn expiry_default_rounds_whole_days() {
        let max = span("365d");
        let at = Expiry::Default.resolve(NOW, &span("31d"), &max).unwrap();
        assert_eq!(Timestamp(at).rfc3339(), "2027-02-15T00:00:00Z");
        let at = Expiry::Default.resolve(NOW, &span("12h"), &max).unwrap();
        assert_eq!(at, NOW + 12 * 3600);
    }

    #[test]
    fn expiry_in_is_exact_and_bounded() {
        let (def, max) = (span("31d"), span("365d"));
        assert_eq!(
            Expiry::In("1D").resolve(NOW, &def, &max).unwrap(),
            NOW + DAY
        );
        assert!(Expiry::In("366d").resolve(NOW, &def, &max).is_err());
        assert!(Expiry::In("1Y").resolve(NOW, &def, &max).is_ok());
    }

    proptest! {
        #[test]
        fn span_round_trips(n in 1i64..1_000, unit in "[YMwWdDhHmsS]") {
            let text = format!("{n}{unit}");
            let parsed = Span::parse(&text).unwrap();
            prop_assert!(parsed.seconds >= n);
            prop_assert_eq!(parsed.to_string(), text);
        }

        #[test]
        fn span_never_panics(text in "\\PC{0,12}") {
            let _ = Span::parse(&text);
        }

        #[test]
        fn dates_round_trip(days in 0i64..200_000) {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let text = date.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_date(&text).unwrap(), date);
        }

        #[test]
        fn date_parser_never_panics(text in "\\PC{0,14}") {
            let _ = parse_date(&text);
        }
    }
}
