//! The values STS and IAM accept, as data, and pure checks against them: one set of rules for a
//! profile read from a file (`config`), a profile written by `profile add`, and the client's
//! documents (`onboard`). A check says only what is wrong ([`Broken`]); the caller says where
//! the value came from (a profile key, or the flag the user typed), with [`Broken::at`].

use crate::exit::{Diagnose, Exit};

/// A value that breaks a rule, and where it was found: the one error of this layer. Every
/// layer above wraps it unchanged, so a bad ARN reads the same from `config`, `onboard` or a
/// flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: `{value}` is not a valid {what}: {reason}", where_(.profile.as_deref(), .key))]
pub struct InvalidValue {
    pub profile: Option<String>,
    pub key: String,
    pub what: &'static str,
    pub value: String,
    pub reason: String,
}

impl Diagnose for InvalidValue {
    fn exit(&self) -> Exit {
        Exit::Config
    }

    fn hints(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Where a value was found, for messages: a profile key, or the flag or variable it came from.
pub fn where_(profile: Option<&str>, key: &str) -> String {
    match profile {
        Some(profile) => format!("`{key}` in profile `{profile}`"),
        // A flag as typed (`--role-arn`) or a positional argument (`NAME`) is shown as it is.
        // An environment variable (`AWS_ENDPOINT_URL`) too.
        None if key.starts_with("--")
            || key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
        {
            format!("`{key}`")
        }
        None => format!("`--{}`", flag_for(key)),
    }
}

/// The command-line flag that sets what `key` sets in a profile.
fn flag_for(key: &str) -> String {
    match key {
        "duration_seconds" => "duration".into(),
        "role_session_name" => "session-name".into(),
        other => other.replace('_', "-"),
    }
}

/// Why a value breaks a rule: what it was meant to be, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub what: &'static str,
    pub reason: String,
}

/// Values longer than this are shortened in messages: a 100,000-character ARN must not flood the
/// terminal, and its start is enough to recognise it.
const SHOWN_MAX: usize = 100;

impl Broken {
    fn new(what: &'static str, reason: impl Into<String>) -> Self {
        Self {
            what,
            reason: reason.into(),
        }
    }

    /// The error for `value` found at `key` of `profile`, or, with no profile, given as the
    /// flag `key` (`--role-arn`, or a profile key that [`InvalidValue`] turns into its flag).
    pub fn at(self, profile: Option<&str>, key: &str, value: &str) -> InvalidValue {
        InvalidValue {
            profile: profile.map(str::to_owned),
            key: key.to_owned(),
            what: self.what,
            value: shown(value),
            reason: self.reason,
        }
    }
}

/// `value` as a message may show it: at most [`SHOWN_MAX`] characters, and the length when cut.
pub fn shown(value: &str) -> String {
    let len = value.chars().count();
    if len <= SHOWN_MAX {
        return value.to_owned();
    }
    let start: String = value.chars().take(SHOWN_MAX / 2).collect();
    format!("{start}… ({len} characters)")
}

/// `text` with every control character escaped (`\u{1b}`, `\n`): a message quotes values from
/// files and variables that someone else may have written, and an escape sequence in one must
/// not drive the reader's terminal (retitle it, hide lines, fake a prompt).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// An STS text parameter's rules: length and the `[\w<extra>]` alphabet.
pub struct StsText {
    pub what: &'static str,
    pub min: usize,
    pub max: usize,
    pub extra: &'static str,
}

/// `RoleSessionName` of `AssumeRole`.
pub const SESSION_NAME: StsText = StsText {
    what: "session name",
    min: 2,
    max: 64,
    extra: "+=,.@-",
};
/// `SourceIdentity` of `AssumeRole`.
pub const SOURCE_IDENTITY: StsText = StsText {
    what: "source identity",
    ..SESSION_NAME
};
/// `ExternalId` of `AssumeRole`.
pub const EXTERNAL_ID: StsText = StsText {
    what: "external ID",
    min: 2,
    max: 1224,
    extra: "+=,.@:/-",
};
/// An IAM role's name (`CreateRole`'s `RoleName`).
pub const ROLE_NAME: StsText = StsText {
    what: "role name",
    min: 1,
    max: IAM_NAME_MAX,
    extra: "+=,.@-",
};
/// The name of a managed policy, or the path and name after `policy/` in its ARN.
pub const MANAGED_POLICY_NAME: StsText = StsText {
    what: "managed policy",
    min: 1,
    max: ARN_MAX,
    extra: "+=,.@/-",
};
/// `SerialNumber` of `AssumeRole` and `GetSessionToken`.
pub const MFA_SERIAL: StsText = StsText {
    what: "MFA serial",
    min: 9,
    max: 256,
    extra: "+=/:,.@-",
};

impl StsText {
    pub fn verify(&self, value: &str) -> Result<(), Broken> {
        let len = value.chars().count();
        if len < self.min || len > self.max {
            return Err(Broken::new(
                self.what,
                format!(
                    "it must be {} to {} characters long, not {len}",
                    self.min, self.max
                ),
            ));
        }
        if let Some(bad) = value.chars().find(|c| !self.allows(*c)) {
            return Err(Broken::new(
                self.what,
                format!(
                    "{bad:?} is not allowed; use letters, digits and `_{}`",
                    self.extra
                ),
            ));
        }
        Ok(())
    }

    pub fn allows(&self, c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_' || self.extra.contains(c)
    }

    /// The same alphabet as a CloudFormation `AllowedPattern` (`[\w+=,.@-]*`): generated from
    /// the rule, so the template cannot accept what STS refuses or refuse what it accepts. A
    /// `-` is last in every rule's `extra`, where a character class takes it literally.
    pub fn cloudformation_pattern(&self) -> String {
        debug_assert!(!self.extra.contains('-') || self.extra.ends_with('-'));
        format!("[\\w{}]*", self.extra)
    }

    /// What the pattern allows, in words, for CloudFormation's `ConstraintDescription`.
    pub fn constraint_description(&self) -> String {
        format!(
            "{} to {} letters, digits and _{}",
            self.min, self.max, self.extra
        )
    }

    /// [`verify`](Self::verify), naming `key` of `profile` (or the flag `key`) on failure.
    pub fn check(&self, value: &str, profile: Option<&str>, key: &str) -> Result<(), InvalidValue> {
        self.verify(value).map_err(|b| b.at(profile, key, value))
    }
}

/// IAM's limit on any ARN.
pub const ARN_MAX: usize = 2048;
/// IAM's limits on a user's or role's name and path.
pub const IAM_NAME_MAX: usize = 64;
pub const IAM_PATH_MAX: usize = 512;
/// Characters of IAM names (and, here, of paths).
const IAM_NAME_EXTRA: &str = "+=,.@_-";

/// The parts of `arn:<partition>:iam::<account>:<resource>`. The account is 12 digits, or `aws`
/// for AWS managed policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IamArn<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Splits an IAM ARN, or `None` if `value` is not one.
pub fn iam_arn(value: &str) -> Option<IamArn<'_>> {
    if value.len() > ARN_MAX {
        return None;
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return None;
    };
    let ok = arn == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && (is_account_id(account) || account == "aws");
    ok.then_some(IamArn {
        partition,
        account,
        resource,
    })
}

pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `<kind>/<path/>name` of a user or role, within IAM's alphabet and limits; `None` if it is
/// something else.
fn iam_entity<'a>(resource: &'a str, kind: &str) -> Option<Result<&'a str, String>> {
    let rest = resource.strip_prefix(kind)?.strip_prefix('/')?;
    let (path, name) = rest.rsplit_once('/').map_or(("", rest), |(p, n)| (p, n));
    let alphabet = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || IAM_NAME_EXTRA.contains(c) || c == '/')
    };
    Some(if name.is_empty() || !alphabet(rest) {
        Err(format!(
            "the {kind} name must be letters, digits and `{IAM_NAME_EXTRA}`"
        ))
    } else if name.len() > IAM_NAME_MAX {
        Err(format!(
            "a {kind} name is at most {IAM_NAME_MAX} characters, not {}",
            name.len()
        ))
    } else if path.len() + 2 > IAM_PATH_MAX {
        // The path as IAM stores it has a `/` at each end.
        Err(format!("an IAM path is at most {IAM_PATH_MAX} characters"))
    } else {
        Ok(name)
    })
}

const ROLE_ARN_SHAPE: &str = "a role ARN looks like `arn:aws:iam::123456789012:role/RoleName`";

/// A role: `arn:<partition>:iam::<12 digits>:role/<path/>name`, within IAM's limits.
pub fn role_arn(value: &str) -> Result<IamArn<'_>, Broken> {
    let broken = |reason: String| Broken::new("role ARN", reason);
    if value.len() > ARN_MAX {
        return Err(broken(format!(
            "an ARN is at most {ARN_MAX} characters, not {}",
            value.chars().count()
        )));
    }
    let arn = iam_arn(value)
        .filter(|a| is_account_id(a.account))
        .ok_or_else(|| broken(ROLE_ARN_SHAPE.into()))?;
    match iam_entity(arn.resource, "role") {
        Some(Ok(_)) => Ok(arn),
        Some(Err(reason)) => Err(broken(reason)),
        None => Err(broken(ROLE_ARN_SHAPE.into())),
    }
}

/// An IAM principal for a trust policy: an account's root, a user or a role.
pub fn principal_arn(value: &str) -> Result<IamArn<'_>, Broken> {
    const SHAPE: &str = "use `arn:aws:iam::123456789012:user/NAME`, `…:role/NAME` or `…:root`";
    let broken = |reason: String| Broken::new("principal ARN", reason);
    let arn = iam_arn(value)
        .filter(|a| is_account_id(a.account))
        .ok_or_else(|| broken(SHAPE.into()))?;
    if arn.resource == "root" {
        return Ok(arn);
    }
    match iam_entity(arn.resource, "user").or_else(|| iam_entity(arn.resource, "role")) {
        Some(Ok(_)) => Ok(arn),
        Some(Err(reason)) => Err(broken(reason)),
        None => Err(broken(SHAPE.into())),
    }
}

/// An AWS partition, and how its region names begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub name: &'static str,
    /// Region names of this partition start with one of these; `aws` takes every other.
    pub region_prefixes: &'static [&'static str],
    /// An example region, for messages.
    pub example_region: &'static str,
}

/// Every partition, from the SDK's endpoint rules (`partitions.json`). No prefix is a prefix of
/// another (`us-iso-` does not match `us-isob-east-1`), so the order does not matter.
pub const PARTITIONS: &[Partition] = &[
    Partition {
        name: "aws",
        region_prefixes: &[],
        example_region: "us-east-1",
    },
    Partition {
        name: "aws-cn",
        region_prefixes: &["cn-"],
        example_region: "cn-north-1",
    },
    Partition {
        name: "aws-us-gov",
        region_prefixes: &["us-gov-"],
        example_region: "us-gov-west-1",
    },
    Partition {
        name: "aws-iso",
        region_prefixes: &["us-iso-"],
        example_region: "us-iso-east-1",
    },
    Partition {
        name: "aws-iso-b",
        region_prefixes: &["us-isob-"],
        example_region: "us-isob-east-1",
    },
    Partition {
        name: "aws-iso-e",
        region_prefixes: &["eu-isoe-"],
        example_region: "eu-isoe-west-1",
    },
    Partition {
        name: "aws-iso-f",
        region_prefixes: &["us-isof-"],
        example_region: "us-isof-south-1",
    },
    Partition {
        name: "aws-eusc",
        region_prefixes: &["eusc-"],
        example_region: "eusc-de-east-1",
    },
];

/// The names of every partition, for messages: `aws`, `aws-cn`, ….
pub fn partition_names() -> String {
    PARTITIONS
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn partition(name: &str) -> Result<&'static Partition, Broken> {
    PARTITIONS.iter().find(|p| p.name == name).ok_or_else(|| {
        Broken::new(
            "partition",
            format!("it must be one of {}", partition_names()),
        )
    })
}

/// The partition a region belongs to (`aws` for any region no other partition claims).
pub fn partition_of_region(region: &str) -> &'static Partition {
    PARTITIONS
        .iter()
        .find(|p| p.region_prefixes.iter().any(|pre| region.starts_with(pre)))
        .unwrap_or(&PARTITIONS[0])
}

/// The console sign-in host of a partition (`getSigninToken` and `login` go there), or `None`
/// where there is no public one: the ISO partitions have none, and the European Sovereign
/// Cloud's is not verified yet, so a console there is refused rather than guessed.
pub fn signin_host(partition: &Partition) -> Option<&'static str> {
    match partition.name {
        "aws" => Some("signin.aws.amazon.com"),
        "aws-cn" => Some("signin.amazonaws.cn"),
        "aws-us-gov" => Some("signin.amazonaws-us-gov.com"),
        _ => None,
    }
}

/// The console's own host in a partition that has a sign-in host; a region other than the
/// partition's first gets its regional host (`eu-west-1.console.aws.amazon.com`).
pub fn console_host(partition: &Partition, region: &str) -> Option<String> {
    let (domain, home_region) = match partition.name {
        "aws" => ("console.aws.amazon.com", "us-east-1"),
        "aws-cn" => ("console.amazonaws.cn", "cn-north-1"),
        "aws-us-gov" => ("console.amazonaws-us-gov.com", "us-gov-west-1"),
        _ => return None,
    };
    Some(if region == home_region {
        domain.to_owned()
    } else {
        format!("{region}.{domain}")
    })
}

/// A region becomes part of a host name (`sts.<region>.amazonaws.com`), so it must at least be
/// a DNS label. This is the rule for a region read from a profile or the environment, which may
/// name a private or future region.
pub fn is_host_label(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A region as AWS names them: lower-case words joined by `-`, ending in a number
/// (`eu-west-1`, `us-gov-west-1`, `eusc-de-east-1`). For values we write or print ourselves.
pub fn region(value: &str) -> Result<(), Broken> {
    let words: Vec<&str> = value.split('-').collect();
    let ok = is_host_label(value)
        && words.len() >= 3
        && words[..words.len() - 1]
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && words.last().is_some_and(|n| {
            !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(Broken::new(
            "region",
            "a region looks like `eu-west-1`; `aws ec2 describe-regions` lists them",
        ))
    }
}

/// `region` belongs to `partition`.
pub fn region_in_partition(region: &str, partition: &Partition) -> Result<(), Broken> {
    let actual = partition_of_region(region);
    if actual.name == partition.name {
        Ok(())
    } else {
        Err(Broken::new(
            "region",
            format!(
                "it belongs to partition `{}`, not `{}`; give `--partition {}`, or a region of `{}` such as `{}`",
                actual.name, partition.name, actual.name, partition.name, partition.example_region
            ),
        ))
    }
}

/// An ARN in `partition`.
pub fn arn_in_partition(arn: &IamArn<'_>, partition: &Partition) -> Result<(), Broken> {
    if arn.partition == partition.name {
        Ok(())
    } else {
        Err(Broken::new(
            "ARN",
            format!(
                "it is in partition `{}`, but the role is made in `{}` (`--partition`)",
                arn.partition, partition.name
            ),
        ))
    }
}

/// A profile name the AWS config parser accepts (it ignores other sections).
pub fn profile_name(value: &str) -> Result<(), Broken> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Broken::new(
            "profile name",
            "use letters, digits and `_-/.%@:+` (the AWS config parser ignores other names)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_text_limits_and_alphabets() {
        SESSION_NAME.verify("alice@acme").unwrap();
        assert!(SESSION_NAME.verify("a").is_err());
        assert!(SESSION_NAME.verify(&"a".repeat(65)).is_err());
        EXTERNAL_ID.verify("ab:/").unwrap();
        assert!(EXTERNAL_ID.verify(&"a".repeat(1225)).is_err());
        let err = EXTERNAL_ID.verify("has space").unwrap_err();
        assert_eq!(err.what, "external ID");
        assert!(err.reason.contains("' ' is not allowed"), "{err:?}");
        MFA_SERIAL
            .verify("arn:aws:iam::111111111111:mfa/me")
            .unwrap();
        assert!(MFA_SERIAL.verify("GAHT1234").is_err());
    }

    #[test]
    fn role_arns_are_held_to_iam_limits() {
        let arn = role_arn("arn:aws-cn:iam::111111111111:role/path/to/ci").unwrap();
        assert_eq!(
            (arn.partition, arn.account, arn.resource),
            ("aws-cn", "111111111111", "role/path/to/ci")
        );
        for bad in [
            "arn:aws:iam::111:role/x",
            "arn:aws:iam::111111111111:user/x",
            "arn:aws:iam::111111111111:role/",
            "arn:aws:iam::aws:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::111111111111:role/a b",
        ] {
            assert!(role_arn(bad).is_err(), "{bad}");
        }
        let long_name = format!("arn:aws:iam::111111111111:role/{}", "n".repeat(65));
        assert!(role_arn(&long_name).unwrap_err().reason.contains("64"));
        let long_path = format!("arn:aws:iam::111111111111:role/{}/n", "p".repeat(511));
        assert!(role_arn(&long_path).unwrap_err().reason.contains("512"));
        let huge = format!("arn:aws:iam::111111111111:role/{}", "n".repeat(100_000));
        assert!(role_arn(&huge).unwrap_err().reason.contains("2048"));
    }

    #[test]
    fn principals() {
        principal_arn("arn:aws:iam::111111111111:root").unwrap();
        principal_arn("arn:aws:iam::111111111111:user/alice").unwrap();
        principal_arn("arn:aws:iam::111111111111:role/path/ci").unwrap();
        assert!(principal_arn("arn:aws:iam::111111111111:group/devs").is_err());
        assert!(principal_arn("arn:aws:iam::aws:root").is_err());
    }

    #[test]
    fn signin_hosts_only_where_there_is_a_public_console() {
        let host = |name| signin_host(partition(name).unwrap());
        assert_eq!(host("aws"), Some("signin.aws.amazon.com"));
        assert_eq!(host("aws-cn"), Some("signin.amazonaws.cn"));
        assert_eq!(host("aws-us-gov"), Some("signin.amazonaws-us-gov.com"));
        for none in ["aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"] {
            assert_eq!(host(none), None, "{none}");
        }
        let aws = partition("aws").unwrap();
        assert_eq!(
            console_host(aws, "eu-west-1").as_deref(),
            Some("eu-west-1.console.aws.amazon.com")
        );
        assert_eq!(
            console_host(aws, "us-east-1").as_deref(),
            Some("console.aws.amazon.com")
        );
    }

    #[test]
    fn partitions_and_regions() {
        assert!(
            partition("aws-foo")
                .unwrap_err()
                .reason
                .contains("`aws-iso-f`")
        );
        for (r, name) in [
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            region(r).unwrap();
            assert_eq!(partition_of_region(r).name, name);
            region_in_partition(r, partition(name).unwrap()).unwrap();
        }
        let err = region_in_partition("cn-north-1", partition("aws").unwrap()).unwrap_err();
        assert!(err.reason.contains("partition `aws-cn`"), "{err:?}");
        for bad in ["eu-west", "EU-WEST-1", "eu west 1", "eu--1", "1-2-3", "x"] {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let err = role_arn(&"a".repeat(100_000))
            .unwrap_err()
            .at(None, "--role-arn", &"a".repeat(100_000))
            .to_string();
        assert!(err.len() < 400, "{err}");
        assert!(err.contains("(100000 characters)"), "{err}");
    }
}
