//! RFC 3339 times, the one format on every wire we speak (STS answers, `credential_process`
//! JSON, `AWS_CREDENTIAL_EXPIRATION`, the audit log, `aws:CurrentTime` in a trust policy):
//! written one way and read one way, through the SDK's own `DateTime`, never by hand.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use std::time::{SystemTime, UNIX_EPOCH};

/// RFC 3339 in UTC with `Z`, to the second, as botocore and the SDKs expect.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// An RFC 3339 time as seconds since the epoch; `None` for anything else.
pub fn parse_epoch_secs(text: &str) -> Option<i64> {
    DateTime::from_str(text, Format::DateTime)
        .ok()
        .map(|t| t.secs())
}

/// An RFC 3339 time; `None` for anything else, or a time `SystemTime` cannot hold.
pub fn parse(text: &str) -> Option<SystemTime> {
    SystemTime::try_from(DateTime::from_str(text, Format::DateTime).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_it_reads() {
        let time = UNIX_EPOCH + std::time::Duration::from_hours(500_000);
        assert_eq!(rfc3339(time), "2027-01-15T08:00:00Z");
        assert_eq!(parse("2027-01-15T08:00:00Z"), Some(time));
        assert_eq!(
            parse_epoch_secs("2027-01-15T08:00:00Z"),
            Some(1_800_000_000)
        );
        for bad in ["", "tomorrow", "2027-01-15", "2027-01-15T08:00:00"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
