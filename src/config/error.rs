//! What can be wrong with the AWS config and credentials files and the profiles in them: each
//! error names the file and line or the profile, and its hints say what to change there.

use crate::exit::{Diagnose, Exit};
use crate::rules::{InvalidValue, where_};
use std::path::PathBuf;

/// The files a profile was looked up in, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesRead(pub Vec<(PathBuf, bool)>);

impl std::fmt::Display for FilesRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(path, exists)| {
                let missing = if *exists { "" } else { " (not found)" };
                format!("`{}`{missing}", path.display())
            })
            .collect();
        f.write_str(&parts.join(" and "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the chain of profile `{profile}` assumes more than {max} roles through `source_profile`"
    )]
    ChainTooLong { profile: String, max: usize },

    #[error("{0}")]
    ConfigParse(String),

    #[error("line {line} of `{}` {what}", .path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        what: String,
        fix: String,
    },

    #[error("`{}` is not UTF-8 text: byte {offset} (line {line}, column {column}) is not valid UTF-8", .path.display())]
    ConfigNotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
        offset: usize,
    },

    #[error("cannot read `{path}`: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} `{name}` is not in {files}", if .referenced_by.is_some() { "source profile" } else { "profile" })]
    UnknownProfile {
        name: String,
        files: FilesRead,
        suggestion: Option<String>,
        referenced_by: Option<String>,
    },

    #[error("profiles form a loop: {}", .path.join(" → "))]
    ProfileLoop { path: Vec<String> },

    #[error("profile `{profile}` has no credentials and no source of credentials")]
    NoCredentialSource { profile: String },

    #[error("profile `{profile}` names itself as its `source_profile`, but has no keys of its own")]
    SelfSource { profile: String },

    #[error("profile `{profile}` sets `{present}` but not `{missing}`")]
    IncompleteProfile {
        profile: String,
        present: &'static str,
        missing: &'static str,
    },

    #[error("profile `{profile}` sets both `source_profile` and `credential_source`")]
    ConflictingSource { profile: String },

    #[error("profile `{profile}` has `credential_source = {value}`, which is not a known source")]
    UnknownCredentialSource { profile: String, value: String },

    #[error("{origin}: `{region}` is not a valid region name")]
    InvalidRegion { region: String, origin: String },

    #[error("{}: a session of {} is {}", where_(.profile.as_deref(), "duration_seconds"), crate::duration::display(*.requested), duration_problem(*.chained))]
    DurationOutOfRange {
        profile: Option<String>,
        requested: std::time::Duration,
        chained: bool,
    },

    #[error("profile `{name}` already exists (in `{}` or the credentials file)", .path.display())]
    ProfileExists { name: String, path: PathBuf },

    #[error("cannot write `{}`: {source}", .path.display())]
    ConfigWrite {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("pattern `{pattern}` matches no profile in {files}")]
    NoProfileMatches {
        pattern: String,
        files: FilesRead,
        /// Close names, best first.
        suggestions: Vec<String>,
    },

    #[error("through `credential_process`, profiles form a loop: {}", .path.join(" → "))]
    CredentialProcessLoop { path: Vec<String> },

    #[error("{} names SSO session `{name}`, but there is no `[sso-session {name}]` section in {files}", match .profile { Some(p) => format!("profile `{p}`"), None => "the command".to_owned() })]
    SsoSessionMissing {
        name: String,
        profile: Option<String>,
        files: FilesRead,
    },

    #[error("`[{section}]` has no `{missing}`")]
    SsoIncomplete {
        section: String,
        missing: &'static str,
    },

    #[error(
        "profile `{profile}` does not use IAM Identity Center (it has neither `sso_session` nor `sso_start_url`)"
    )]
    NotSso { profile: String },

    #[error("line {line} of `{}` {what} (`# BEGIN assume-role {marker}`)", .path.display())]
    BlockDamaged {
        path: PathBuf,
        line: usize,
        what: &'static str,
        marker: String,
    },

    #[error("`{key}` of `[{section}]` is not valid: {reason}")]
    SsoInvalid {
        section: String,
        key: &'static str,
        reason: &'static str,
    },

    #[error(transparent)]
    Invalid(#[from] InvalidValue),

    #[error(transparent)]
    Keys(#[from] crate::keystore::KeyError),
}

fn duration_problem(chained: bool) -> String {
    use crate::duration::{ASSUME_ROLE_MAX, ASSUME_ROLE_MIN, display};
    if chained {
        "longer than the 1h AWS allows for a role assumed from another role's credentials"
            .to_owned()
    } else {
        format!(
            "outside the range STS accepts ({}–{})",
            display(ASSUME_ROLE_MIN),
            display(ASSUME_ROLE_MAX)
        )
    }
}

impl Diagnose for ConfigError {
    fn exit(&self) -> Exit {
        match self {
            ConfigError::ConfigWrite { .. } => Exit::Failure,
            ConfigError::Invalid(e) => e.exit(),
            ConfigError::Keys(e) => e.exit(),
            _ => Exit::Config,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ConfigError::ChainTooLong { max, .. } => vec![format!(
                "a working chain has a few hops (AWS limits a role assumed from another role to an hour each); check the `source_profile` lines of the config, which may have been generated wrong, and keep it under {max}"
            )],
            ConfigError::ConfigParse(_) => vec!["fix the line named above; the file uses the AWS CLI's INI format".into()],
            ConfigError::ConfigSyntax { fix, .. } => vec![fix.clone()],
            ConfigError::ConfigNotUtf8 { path, line, .. } => vec![
                format!("the AWS CLI and SDKs read these files as UTF-8 only: retype the character on line {line}, or convert the file (`iconv -f latin1 -t utf-8 {0} > {0}.utf8`, check it, then move it into place)", path.display()),
            ],
            ConfigError::ConfigRead { .. } => vec!["check the file's permissions, or point `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` elsewhere".into()],
            ConfigError::UnknownProfile { name, suggestion, referenced_by, .. } => {
                let mut hints = Vec::new();
                if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-/.%@:+".contains(*c))) {
                    hints.push(format!("profile names may only use letters, digits and `_-/.%@:+`; the AWS config parser ignores a section whose name has {bad:?}"));
                }
                if let Some(s) = suggestion {
                    hints.push(format!("did you mean `{s}`?"));
                }
                match referenced_by {
                    Some(by) => hints.push(format!("fix `source_profile` in profile `{by}`, or add the missing profile")),
                    None => hints.push("`assume-role list` shows the profiles there are".into()),
                }
                hints
            }
            ConfigError::ProfileLoop { path } => vec![format!(
                "change `source_profile` in one of {} so that the chain ends in a profile with credentials",
                path.iter().take(path.len().saturating_sub(1)).map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            )],
            ConfigError::NoCredentialSource { profile } => vec![format!(
                "add `role_arn` with `source_profile` (or `credential_source`) to [profile {profile}], or give it keys: `aws_access_key_id` and `aws_secret_access_key`, `credential_process`, or `sso_session`"
            )],
            ConfigError::SelfSource { profile } => vec![
                format!("a profile that is its own source is assumed with its own keys: add `aws_access_key_id` and `aws_secret_access_key` to `[{profile}]` in the credentials file"),
                format!("or point `source_profile` of profile `{profile}` at the profile that holds your keys"),
            ],
            ConfigError::IncompleteProfile { profile, missing, .. } => vec![format!("add `{missing}` to profile `{profile}`")],
            ConfigError::ConflictingSource { profile } => vec![format!("keep one of them in profile `{profile}`: `source_profile` names another profile, `credential_source` names a built-in source")],
            ConfigError::UnknownCredentialSource { .. } => vec!["use `Environment`, `Ec2InstanceMetadata` or `EcsContainer`".into()],
            ConfigError::InvalidRegion { .. } => vec!["a region looks like `eu-west-1`; `aws ec2 describe-regions` lists them".into()],
            ConfigError::DurationOutOfRange { chained: true, .. } => vec![
                "ask for 1h or less (`--duration 1h`), or assume this role directly from long-term keys".into(),
            ],
            ConfigError::DurationOutOfRange { chained: false, .. } => vec!["ask for 15m to 12h, e.g. `--duration 1h`; the role's own MaxSessionDuration may be lower".into()],
            ConfigError::ProfileExists { .. } => vec!["choose another name, or pass `--force` to replace it (the old file is kept as `.bak`)".into()],
            ConfigError::ConfigWrite { .. } => vec!["check the file's and its directory's permissions; nothing was changed".into()],
            ConfigError::NoProfileMatches { suggestions, .. } => {
                let mut hints = Vec::new();
                if !suggestions.is_empty() {
                    let names: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                    hints.push(format!("did you mean {}?", names.join(", ")));
                }
                hints.push("`assume-role list` shows the profiles there are; quote a pattern so that the shell does not expand it".into());
                hints
            }
            ConfigError::CredentialProcessLoop { path } => vec![format!(
                "the `credential_process` of profile `{}` runs `assume-role` for a profile it is itself part of; give that profile credentials of its own (keys, SSO, or a `credential_process` that prints them), or chain roles with `source_profile` instead",
                path.iter().rev().nth(1).map_or("", String::as_str)
            )],
            ConfigError::SsoSessionMissing { name, .. } => vec![format!(
                "add the section: `[sso-session {name}]` with `sso_start_url` and `sso_region` (`aws configure sso-session` writes it), or fix the name"
            )],
            ConfigError::SsoIncomplete { section, missing } => vec![format!(
                "add `{missing} = …` to `[{section}]`"
            )],
            ConfigError::BlockDamaged { .. } => vec![
                "nothing was written: make the block's `# BEGIN assume-role …` and `# END assume-role …` lines a pair again (or delete both with what is between), then run the command again".into(),
            ],
            ConfigError::SsoInvalid { section, key, .. } => vec![format!(
                "fix `{key}` in `[{section}]`; `aws configure sso` writes these values"
            )],
            ConfigError::NotSso { .. } => vec![
                "name a profile with `sso_session` (or `sso_start_url`), or the session itself: `--sso-session NAME`".into(),
            ],
            ConfigError::Invalid(e) => e.hints(),
            ConfigError::Keys(e) => e.hints(),
        }
    }
}
