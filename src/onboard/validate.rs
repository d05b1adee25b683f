//! Checks for what the client's documents are built from. Each error names the bad value and
//! the option it came from.

use crate::error::Error;
use crate::rules;

/// `option` is the flag as the user typed it (`--contractor-principal`).
fn invalid(option: &str, value: &str, what: &'static str, reason: impl Into<String>) -> Error {
    rules::Broken {
        what,
        reason: reason.into(),
    }
    .at(None, option, value)
}

pub fn account_id(value: &str) -> Result<(), Error> {
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

/// An IAM principal: the account root, a user or a role.
pub fn principal_arn(value: &str) -> Result<(), Error> {
    rules::principal_arn(value)
        .map(drop)
        .map_err(|b| b.at(None, "--contractor-principal", value))
}

/// A role ARN, as the contractor's own policy names it.
pub fn role_arn(value: &str, option: &str) -> Result<(), Error> {
    rules::role_arn(value)
        .map(drop)
        .map_err(|b| b.at(None, option, value))
}

pub fn external_id(value: &str) -> Result<(), Error> {
    rules::EXTERNAL_ID.check(value, None, "--external-id")
}

/// An IPv4 or IPv6 network in CIDR notation, for `aws:SourceIp`.
pub fn cidr(value: &str) -> Result<(), Error> {
    let bad = || {
        invalid(
            "--source-ip",
            value,
            "CIDR block",
            "write an address and a prefix length, e.g. `203.0.113.0/24` or `2001:db8::/32`",
        )
    };
    let (addr, prefix) = value.split_once('/').ok_or_else(bad)?;
    let addr: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(bad());
    }
    Ok(())
}

/// An RFC 3339 time in UTC, for `aws:CurrentTime`.
pub fn not_after(value: &str) -> Result<(), Error> {
    aws_smithy_types::DateTime::from_str(value, aws_smithy_types::date_time::Format::DateTime)
        .map(drop)
        .map_err(|_| {
            invalid(
                "--not-after",
                value,
                "time",
                "write RFC 3339 in UTC, e.g. `2027-06-30T23:59:59Z`",
            )
        })
}

pub fn role_name(value: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
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

/// A managed policy: a bare AWS managed policy name, or a policy ARN.
pub fn managed_policy(value: &str) -> Result<(), Error> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    };
    let ok = match value.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            parts.len() == 5
                && parts[0].starts_with("aws")
                && parts[1] == "iam"
                && parts[2].is_empty()
                && (parts[3] == "aws"
                    || (parts[3].len() == 12 && parts[3].bytes().all(|b| b.is_ascii_digit())))
                && parts[4].strip_prefix("policy/").is_some_and(name_ok)
        }
        None => name_ok(value) && !value.contains('/'),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "--managed-policy",
            value,
            "managed policy",
            "give an AWS managed policy name such as `ReadOnlyAccess`, or a policy ARN",
        ))
    }
}

/// CloudFormation's rule: a letter, then up to 127 letters, digits and hyphens.
pub fn stack_name(value: &str) -> Result<(), Error> {
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

pub fn bucket(value: &str) -> Result<(), Error> {
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

    #[test]
    fn accepts_good_values() {
        account_id("111111111111").unwrap();
        principal_arn("arn:aws:iam::111111111111:root").unwrap();
        principal_arn("arn:aws:iam::111111111111:user/alice").unwrap();
        principal_arn("arn:aws-cn:iam::111111111111:role/path/ci").unwrap();
        cidr("203.0.113.0/24").unwrap();
        cidr("2001:db8::/32").unwrap();
        not_after("2027-06-30T23:59:59Z").unwrap();
        managed_policy("ReadOnlyAccess").unwrap();
        managed_policy("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").unwrap();
        managed_policy("arn:aws:iam::222222222222:policy/Deploy").unwrap();
        bucket("contractor-templates").unwrap();
    }

    #[test]
    fn rejects_bad_values_naming_them() {
        for (result, needle) in [
            (
                account_id("11111111111"),
                "`--contractor-account`: `11111111111` is not a valid AWS account ID",
            ),
            (account_id("11111111111a"), "12 digits"),
            (
                principal_arn("arn:aws:iam::111:user/alice"),
                "`--contractor-principal`: `arn:aws:iam::111:user/alice`",
            ),
            (principal_arn("arn:aws:s3:::bucket"), "principal ARN"),
            (
                principal_arn("arn:aws:iam::111111111111:group/devs"),
                "principal ARN",
            ),
            (
                role_arn("arn:aws:iam::111111111111:user/x", "--role-arn"),
                "`--role-arn`",
            ),
            (external_id("a"), "2 to 1224"),
            (external_id("has space"), "' ' is not allowed"),
            (cidr("10.0.0.0/33"), "`--source-ip`"),
            (cidr("10.0.0.0"), "CIDR"),
            (not_after("tomorrow"), "RFC 3339"),
            (
                managed_policy("arn:aws:iam::aws:role/x"),
                "`--managed-policy`",
            ),
            (bucket("Bad_Bucket"), "`--bucket`"),
        ] {
            let err = result.unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should contain {needle}");
        }
    }
}
