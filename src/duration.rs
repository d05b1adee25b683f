//! Session durations as people write them: `3600`, `90m`, `2h`, `1h30m`, `45s`.

use std::fmt::{self, Write as _};
use std::time::Duration;

/// The bounds STS puts on `AssumeRole`'s `DurationSeconds`.
pub const ASSUME_ROLE_MIN: Duration = Duration::from_mins(15);
pub const ASSUME_ROLE_MAX: Duration = Duration::from_hours(12);
/// AWS caps a session made from another role's credentials (role chaining) at one hour.
pub const CHAINED_MAX: Duration = Duration::from_hours(1);
/// The bounds of `GetSessionToken`'s `DurationSeconds`, and our default: a working day.
pub const SESSION_TOKEN_MIN: Duration = Duration::from_mins(15);
pub const SESSION_TOKEN_MAX: Duration = Duration::from_hours(36);
pub const MFA_SESSION_DEFAULT: Duration = Duration::from_hours(12);

/// The longest duration any flag, variable or setting takes: longer than every session AWS
/// issues and every wait we make, and short enough that adding it to a time or a deadline can
/// never overflow (`--min-valid 18446744073709551615s` used to panic in that addition).
pub const MAX: Duration = Duration::from_hours(24 * 366);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError(String);

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseDurationError {}

/// Parses plain seconds or a sequence of `<number><unit>` parts with units `h`, `m` and `s`,
/// each unit at most once and in that order.
pub fn parse(text: &str) -> Result<Duration, ParseDurationError> {
    let text = text.trim();
    let bad = || {
        ParseDurationError(format!(
            "`{text}` is not a duration; write seconds (`3600`) or hours and minutes (`2h`, `90m`, `1h30m`)"
        ))
    };
    if text.is_empty() {
        return Err(bad());
    }
    let too_long = || {
        ParseDurationError(format!(
            "`{}` is longer than {}, which no session or wait needs",
            crate::rules::shown(text),
            display(MAX)
        ))
    };
    let bounded = |secs: u64| {
        let duration = Duration::from_secs(secs);
        if duration > MAX {
            Err(too_long())
        } else {
            Ok(duration)
        }
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // Past u64, the number is too long too.
        return text.parse().map_or_else(|_| Err(too_long()), bounded);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit_rank = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, factor) = match c.to_ascii_lowercase() {
            'h' => (1, 3600),
            'm' => (2, 60),
            's' => (3, 1),
            _ => return Err(bad()),
        };
        if number.is_empty() || rank <= last_unit_rank {
            return Err(bad());
        }
        let value: u64 = number.parse().map_err(|_| bad())?;
        total = value
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(too_long)?;
        number.clear();
        last_unit_rank = rank;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    bounded(total)
}

/// An age, as `--since` takes it: what [`parse`] reads, optionally after a number of days
/// (`7d`, `1d12h`), since "the last week" is how a log is asked about.
pub fn parse_age(text: &str) -> Result<Duration, ParseDurationError> {
    let trimmed = text.trim();
    let Some((days, rest)) = trimmed.split_once(['d', 'D']) else {
        return parse(trimmed).map_err(|_| bad_age(trimmed));
    };
    let days: u64 = (!days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()))
        .then(|| days.parse().ok())
        .flatten()
        .ok_or_else(|| bad_age(trimmed))?;
    let rest = if rest.is_empty() {
        Duration::ZERO
    } else if rest.bytes().all(|b| b.is_ascii_digit()) {
        // `1d30` reads as a typo, not as 30 seconds.
        return Err(bad_age(trimmed));
    } else {
        parse(rest).map_err(|_| bad_age(trimmed))?
    };
    days.checked_mul(86_400)
        .and_then(|secs| rest.as_secs().checked_add(secs))
        .map(Duration::from_secs)
        .ok_or_else(|| bad_age(trimmed))
}

fn bad_age(text: &str) -> ParseDurationError {
    ParseDurationError(format!(
        "`{text}` is not an age; write minutes, hours or days (`30m`, `12h`, `7d`, `1d12h`)"
    ))
}

/// Formats a duration the way [`parse`] reads it, for messages: `1h30m`, `15m`, `45s`.
pub fn display(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 || out.is_empty() {
        let _ = write!(out, "{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        for (text, secs) in [
            ("3600", 3600),
            ("90m", 5400),
            ("2h", 7200),
            ("1h30m", 5400),
            ("1h30m15s", 5415),
            ("45s", 45),
            (" 12H ", 43_200),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn refuses_more_than_any_session_or_wait_could_need() {
        assert_eq!(parse("8784h"), Ok(MAX));
        for text in [
            "8785h",
            "18446744073709551615s",
            "18446744073709551615",
            "99999999999999999999",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains("is longer than 8784h"), "{text}: {err}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for text in [
            "",
            "h",
            "1x",
            "30m1h",
            "1h1h",
            "1.5h",
            "-5",
            "1h 30m",
            "99999999999999999999h",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains("is not a duration"), "{text}: {err}");
        }
    }

    #[test]
    fn ages_take_days_too() {
        for (text, secs) in [
            ("30m", 1800),
            ("12h", 43_200),
            ("7d", 604_800),
            ("1d12h", 129_600),
            ("3600", 3600),
        ] {
            assert_eq!(parse_age(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for text in [
            "",
            "d",
            "7dd",
            "1d30",
            "x7d",
            "7d1x",
            "99999999999999999999d",
        ] {
            let err = parse_age(text).unwrap_err().to_string();
            assert!(err.contains("is not an age"), "{text}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for secs in [45, 900, 3600, 5400, 43_200, 5415, 0] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse(&display(d)), Ok(d));
        }
        assert_eq!(display(Duration::from_mins(90)), "1h30m");
    }
}
