//! Checks for what the client's documents are built from. Each error names the bad value and
//! the option it came from.

use crate::onboard::OnboardError;
use crate::rules;

/// `option` is the flag as the user typed it (`--contractor-principal`).
fn invalid(
    option: &str,
    value: &str,
    what: &'static str,
    reason: impl Into<String>,
) -> OnboardError {
    rules::Broken {
        what,
        reason: reason.into(),
    }
    .at(None, option, value)
    .into()
}

pub fn account_id(value: &str) -> Result<(), OnboardError> {
    if rules::is_account_id(value) {
        Ok(())
    } else {
        Err(invalid(
            "--contractor-account",
            value,
            "AWS account ID",
            "an account ID is exactly 12 digits, e.g. `111111111111`",
        ))
    }
}

/// The partition the client's role is made in (`--partition`).
pub fn partition(value: &str) -> Result<&'static rules::Partition, OnboardError> {
    rules::partition(value)
        .map_err(|b| b.at(None, "--partition", value))
        .map_err(Into::into)
}

/// An IAM principal in `partition`: the account root, a user or a role.
pub fn principal_arn(value: &str, partition: &rules::Partition) -> Result<(), OnboardError> {
    rules::principal_arn(value)
        .and_then(|arn| rules::arn_in_partition(&arn, partition))
        .map_err(|b| b.at(None, "--contractor-principal", value))
        .map_err(Into::into)
}

/// A role ARN in `partition`, as the contractor's own policy names it.
pub fn role_arn_in(
    value: &str,
    option: &str,
    partition: &rules::Partition,
) -> Result<(), OnboardError> {
    rules::role_arn(value)
        .and_then(|arn| rules::arn_in_partition(&arn, partition))
        .map_err(|b| b.at(None, option, value))
        .map_err(Into::into)
}

/// A role ARN of any partition.
pub fn role_arn(value: &str, option: &str) -> Result<(), OnboardError> {
    rules::role_arn(value)
        .map(drop)
        .map_err(|b| b.at(None, option, value))
        .map_err(Into::into)
}

/// The client's region (`--region`), which must be in the role's partition.
pub fn region(value: &str, partition: &rules::Partition) -> Result<(), OnboardError> {
    rules::region(value)
        .and_then(|()| rules::region_in_partition(value, partition))
        .map_err(|b| b.at(None, "--region", value))
        .map_err(Into::into)
}

pub fn external_id(value: &str) -> Result<(), OnboardError> {
    rules::EXTERNAL_ID
        .check(value, None, "--external-id")
        .map_err(Into::into)
}

/// An IPv4 or IPv6 network for `aws:SourceIp`, in the form IAM expects: CIDR notation, a single
/// address becoming `/32` (IPv4) or `/128` (IPv6).
pub fn source_ip(value: &str) -> Result<String, OnboardError> {
    let bad = || {
        invalid(
            "--source-ip",
            value,
            "address or CIDR block",
            "write an address, or an address and a prefix length, e.g. `203.0.113.7`, `203.0.113.0/24` or `2001:db8::/32`",
        )
    };
    let (addr, prefix) = match value.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (value, None),
    };
    let addr: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = match prefix {
        // Digits only: `u8::from_str` would also take `+24`.
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
        None => max,
    };
    if prefix > max {
        return Err(bad());
    }
    Ok(format!("{addr}/{prefix}"))
}

/// An RFC 3339 time for `aws:CurrentTime`, after `now`: a condition that is already false
/// would make a role nobody can ever assume.
pub fn not_after(value: &str, now: std::time::SystemTime) -> Result<(), OnboardError> {
    let secs = crate::time::parse_epoch_secs(value).ok_or_else(|| {
        invalid(
            "--not-after",
            value,
            "time",
            "write RFC 3339 in UTC, e.g. `2027-06-30T23:59:59Z`",
        )
    })?;
    // Before the epoch is in the past too.
    let past = u64::try_from(secs).map_or(true, |s| {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(s) <= now
    });
    if past {
        return Err(invalid(
            "--not-after",
            value,
            "time",
            "it is in the past, which would make a role nobody can ever assume; give a time to come",
        ));
    }
    Ok(())
}

/// An S3 object key: 1 to 1024 bytes, no control characters (they do not survive a URL).
pub fn object_key(value: &str) -> Result<(), OnboardError> {
    let ok = (1..=1024).contains(&value.len()) && !value.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "--key",
            value,
            "object key",
            "1 to 1024 bytes without control characters, e.g. `assume-role/acme.yaml`",
        ))
    }
}

pub fn role_name(value: &str) -> Result<(), OnboardError> {
    if rules::ROLE_NAME.verify(value).is_ok() {
        Ok(())
    } else {
        Err(invalid(
            "--role-name",
            value,
            "role name",
            "1 to 64 letters, digits and `+=,.@_-`",
        ))
    }
}

/// A managed policy: a bare AWS managed policy name, or a policy ARN in `partition`.
pub fn managed_policy(value: &str, partition: &rules::Partition) -> Result<(), OnboardError> {
    let name_ok = |n: &str| rules::MANAGED_POLICY_NAME.verify(n).is_ok();
    let bad = |reason: &str| invalid("--managed-policy", value, "managed policy", reason);
    if !value.starts_with("arn:") {
        return if name_ok(value) && !value.contains('/') {
            Ok(())
        } else {
            Err(bad(
                "give an AWS managed policy name such as `ReadOnlyAccess`, or a policy ARN",
            ))
        };
    }
    match rules::iam_arn(value) {
        Some(arn) if arn.resource.strip_prefix("policy/").is_some_and(name_ok) => {
            rules::arn_in_partition(&arn, partition)
                .map_err(|b| b.at(None, "--managed-policy", value))
                .map_err(Into::into)
        }
        _ => Err(bad(
            "a policy ARN looks like `arn:aws:iam::aws:policy/ReadOnlyAccess` or `arn:aws:iam::123456789012:policy/NAME`",
        )),
    }
}

/// CloudFormation's rule: a letter, then up to 127 letters, digits and hyphens.
pub fn stack_name(value: &str) -> Result<(), OnboardError> {
    let ok = value.len() <= 128
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "--stack-name",
            value,
            "stack name",
            "a letter, then up to 127 letters, digits and `-`",
        ))
    }
}

pub fn bucket(value: &str) -> Result<(), OnboardError> {
    let ok = (3..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "--bucket",
            value,
            "bucket name",
            "3 to 63 lower-case letters, digits, `-` and `.`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn aws() -> &'static rules::Partition {
        rules::partition("aws").unwrap()
    }

    #[test]
    fn accepts_good_values() {
        account_id("111111111111").unwrap();
        principal_arn("arn:aws:iam::111111111111:root", aws()).unwrap();
        principal_arn("arn:aws:iam::111111111111:user/alice", aws()).unwrap();
        principal_arn(
            "arn:aws-cn:iam::111111111111:role/path/ci",
            rules::partition("aws-cn").unwrap(),
        )
        .unwrap();
        assert_eq!(source_ip("203.0.113.0/24").unwrap(), "203.0.113.0/24");
        assert_eq!(source_ip("2001:db8::/32").unwrap(), "2001:db8::/32");
        assert_eq!(source_ip("10.0.0.1").unwrap(), "10.0.0.1/32");
        assert_eq!(source_ip("2001:db8::1").unwrap(), "2001:db8::1/128");
        not_after("2027-06-30T23:59:59Z", SystemTime::UNIX_EPOCH).unwrap();
        managed_policy("ReadOnlyAccess", aws()).unwrap();
        managed_policy("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", aws()).unwrap();
        managed_policy("arn:aws:iam::222222222222:policy/Deploy", aws()).unwrap();
        bucket("contractor-templates").unwrap();
        region("eu-west-1", aws()).unwrap();
        region("cn-north-1", rules::partition("aws-cn").unwrap()).unwrap();
        object_key("assume-role/a.yaml").unwrap();
    }

    #[test]
    fn rejects_bad_values_naming_them() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_hours(500_000);
        for (result, needle) in [
            (
                account_id("11111111111"),
                "`--contractor-account`: `11111111111` is not a valid AWS account ID",
            ),
            (account_id("11111111111a"), "12 digits"),
            (
                principal_arn("arn:aws:iam::111:user/alice", aws()),
                "`--contractor-principal`: `arn:aws:iam::111:user/alice`",
            ),
            (principal_arn("arn:aws:s3:::bucket", aws()), "principal ARN"),
            (
                principal_arn("arn:aws:iam::111111111111:group/devs", aws()),
                "principal ARN",
            ),
            (
                principal_arn("arn:aws-cn:iam::111111111111:root", aws()),
                "partition `aws-cn`",
            ),
            (
                role_arn("arn:aws:iam::111111111111:user/x", "--role-arn"),
                "`--role-arn`",
            ),
            (
                role_arn_in(
                    "arn:aws-us-gov:iam::111111111111:role/x",
                    "--role-arn",
                    aws(),
                ),
                "`--role-arn`",
            ),
            (external_id("a"), "2 to 1224"),
            (external_id("has space"), "' ' is not allowed"),
            (source_ip("10.0.0.0/33").map(drop), "`--source-ip`"),
            (source_ip("10.0.0.0/").map(drop), "`--source-ip`"),
            (source_ip("10.0.0.0/+8").map(drop), "`--source-ip`"),
            (source_ip("10.0.0/8").map(drop), "CIDR"),
            (not_after("tomorrow", now), "RFC 3339"),
            (
                not_after("2020-01-01T00:00:00Z", now),
                "nobody can ever assume",
            ),
            (
                managed_policy("arn:aws:iam::aws:role/x", aws()),
                "`--managed-policy`",
            ),
            (
                managed_policy("arn:aws-cn:iam::aws:policy/ReadOnlyAccess", aws()),
                "partition `aws-cn`",
            ),
            (bucket("Bad_Bucket"), "`--bucket`"),
            (region("cn-north-1", aws()), "belongs to partition `aws-cn`"),
            (region("eu-west", aws()), "`--region`"),
            (partition("aws-moon").map(drop), "`--partition`"),
            (object_key(""), "`--key`"),
        ] {
            let err = result.unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should contain {needle}");
        }
    }
}
