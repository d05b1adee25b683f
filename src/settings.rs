//! The tool's own settings: defaults for every profile, in `config.toml` under the platform's
//! config directory (`$XDG_CONFIG_HOME/assume-role/config.toml` on Linux, `~/Library/Application
//! Support/assume-role/config.toml` on macOS, `%APPDATA%\assume-role\config.toml` on Windows), or
//! wherever `ASSUME_ROLE_CONFIG` points.
//!
//! Read once per run, at the edge ([`crate::context::Context::from_process`]): a missing file
//! costs one failed `open`, which keeps the warm path as fast as it was. A file that is there is
//! held to its schema: an unknown key, a value of the wrong type or out of range is an error
//! naming the file, the line and the key, never silently a default.
//!
//! A setting is the weakest source of its value: a flag beats a profile key, which beats a
//! setting, which beats the built-in default (see the README for each key's exact order).

mod error;
pub use error::SettingsError;

pub mod choices;

use crate::duration::{
    self, ASSUME_ROLE_MAX, ASSUME_ROLE_MIN, SESSION_TOKEN_MAX, SESSION_TOKEN_MIN,
};
use crate::rules::{self, SESSION_NAME};
use crate::settings::choices::Backend;
use crate::settings::choices::BrowserKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Spanned, Value};

/// The file's name inside the tool's config directory.
pub const FILE_NAME: &str = "config.toml";

/// Every key the file may hold, in the order the README lists them.
pub const KEYS: &[&str] = &[
    "session_name",
    "duration",
    "region",
    "mfa_process",
    "mfa_session_duration",
    "browser",
    "browser_path",
    "keys_backend",
    "audit",
    "jobs",
    "registries",
];

/// Where the settings are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// Named by `ASSUME_ROLE_CONFIG`: then a missing file is an error, not "no settings".
    pub explicit: bool,
}

impl Location {
    /// `ASSUME_ROLE_CONFIG`, else `config.toml` in the platform's config directory.
    pub fn of(explicit: Option<PathBuf>, config_dir: Option<PathBuf>) -> Option<Self> {
        match explicit {
            Some(path) => Some(Self {
                path,
                explicit: true,
            }),
            None => config_dir.map(|dir| Self {
                path: dir.join("assume-role").join(FILE_NAME),
                explicit: false,
            }),
        }
    }
}

/// The settings, checked. Serialized (as part of the plan cache's key, through
/// [`crate::context::Context`]) without what cannot change a plan, so that editing the file
/// invalidates exactly the cached plans it could change.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The file they were read from; `None` when there is none.
    #[serde(skip)]
    pub file: Option<PathBuf>,
    /// The session name when neither `--session-name` nor `role_session_name` gives one.
    pub session_name: Option<String>,
    /// The session length when neither `--duration` nor `duration_seconds` gives one.
    pub duration: Option<Duration>,
    /// The region when neither `--region`, `AWS_REGION` / `AWS_DEFAULT_REGION` nor the
    /// profile's `region` gives one.
    pub region: Option<String>,
    /// The command that prints an MFA code, for a profile with `mfa_serial` and no `mfa_process`.
    pub mfa_process: Option<String>,
    /// How long an MFA session lasts, for a profile without `mfa_session_duration`.
    pub mfa_session_duration: Option<Duration>,
    /// `console`'s browser when neither `--browser` nor `ASSUME_ROLE_BROWSER` names one.
    #[serde(skip)]
    pub browser: Option<BrowserKind>,
    /// `console`'s browser executable when `ASSUME_ROLE_BROWSER_PATH` names none.
    #[serde(skip)]
    pub browser_path: Option<PathBuf>,
    /// Where `keys add` stores a key when neither `--backend` nor `ASSUME_ROLE_KEYS_BACKEND`
    /// says. Part of the plan's key as `Context::keys_backend` is.
    pub keys_backend: Option<Backend>,
    /// Whether to keep an audit log; held here for the command that writes it.
    #[serde(skip)]
    pub audit: Option<bool>,
    /// How many profiles a command over several profiles works on at once; held here for it.
    #[serde(skip)]
    pub jobs: Option<std::num::NonZeroU16>,
    /// Each team registry's values, given once (`[registries.NAME.values]`); written by
    /// `assume-role registry`.
    #[serde(skip)]
    pub registry_values:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

impl std::fmt::Debug for Settings {
    /// `mfa_process` may carry a TOTP seed: only its program name prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("file", &self.file)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("region", &self.region)
            .field(
                "mfa_process",
                &self
                    .mfa_process
                    .as_deref()
                    .map(crate::process::program_name),
            )
            .field("mfa_session_duration", &self.mfa_session_duration)
            .field("browser", &self.browser)
            .field("browser_path", &self.browser_path)
            .field("keys_backend", &self.keys_backend)
            .field("audit", &self.audit)
            .field("jobs", &self.jobs)
            .field(
                "registries",
                &self.registry_values.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The file as written: every key optional, any other key an error. Values are taken as TOML
/// values with their place in the file, and typed by [`Settings::from_raw`], so that every
/// wrong value is reported with its key, which a type error from the deserializer would not
/// name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    session_name: Option<Spanned<Value>>,
    duration: Option<Spanned<Value>>,
    region: Option<Spanned<Value>>,
    mfa_process: Option<Spanned<Value>>,
    mfa_session_duration: Option<Spanned<Value>>,
    browser: Option<Spanned<Value>>,
    browser_path: Option<Spanned<Value>>,
    keys_backend: Option<Spanned<Value>>,
    audit: Option<Spanned<Value>>,
    jobs: Option<Spanned<Value>>,
    registries: Option<Spanned<Value>>,
}

const DURATION_FORMS: &str =
    "seconds (`3600`) or hours and minutes as a string (`\"2h\"`, `\"90m\"`, `\"1h30m\"`)";

impl Settings {
    /// Reads the settings at `location`. No location, or a file that is not there (unless
    /// `ASSUME_ROLE_CONFIG` named it), means no settings.
    pub fn load(location: Option<&Location>) -> Result<Self, SettingsError> {
        let Some(location) = location else {
            return Ok(Self::default());
        };
        // One `open`, no `stat` first: a missing file is the common case, and must cost no more.
        let bytes = match std::fs::read(&location.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !location.explicit => {
                return Ok(Self::default());
            }
            Err(err) => {
                return Err(SettingsError::SettingsRead {
                    path: location.path.clone(),
                    explicit: location.explicit,
                    source: err,
                });
            }
        };
        let text = String::from_utf8(bytes).map_err(|err| {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let (line, column) = line_column(&String::from_utf8_lossy(valid), valid.len());
            SettingsError::SettingsInvalid {
                path: location.path.clone(),
                line,
                column,
                key: None,
                problem: "a byte that is not UTF-8 (TOML files are UTF-8)".into(),
                expected: Expected::Keys,
            }
        })?;
        Self::parse(&text, &location.path)
    }

    /// The settings in `text`, as read from `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, SettingsError> {
        let raw: Raw = toml::from_str(text).map_err(|err| {
            let span = err.span().unwrap_or(0..0);
            let (line, column) = line_column(text, span.start);
            let message = err.message().trim_end();
            // serde names the unknown key and lists the known ones; ours says the same with
            // the place in the file, and the hints list the keys.
            let key = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
            let problem = match &key {
                Some(key) => format!("unknown key `{key}`"),
                None => one_line(message),
            };
            SettingsError::SettingsInvalid {
                path: path.to_owned(),
                line,
                column,
                key,
                problem,
                expected: Expected::Keys,
            }
        })?;
        Self::from_raw(raw, text, path)
    }

    fn from_raw(raw: Raw, text: &str, path: &Path) -> Result<Self, SettingsError> {
        let at = At { text, path };
        Ok(Self {
            file: Some(path.to_owned()),
            session_name: at.string(raw.session_name, "session_name", |value| {
                SESSION_NAME.verify(value).map_err(|b| b.reason)
            })?,
            duration: at.duration(raw.duration, "duration", ASSUME_ROLE_MIN..=ASSUME_ROLE_MAX)?,
            region: at.string(raw.region, "region", |value| {
                if rules::is_host_label(value) {
                    Ok(())
                } else {
                    Err("a region looks like `eu-west-1`".into())
                }
            })?,
            mfa_process: at.string(raw.mfa_process, "mfa_process", |value| {
                if value.trim().is_empty() {
                    Err("it is empty".into())
                } else {
                    Ok(())
                }
            })?,
            mfa_session_duration: at.duration(
                raw.mfa_session_duration,
                "mfa_session_duration",
                SESSION_TOKEN_MIN..=SESSION_TOKEN_MAX,
            )?,
            browser: at
                .string(raw.browser, "browser", |value| {
                    BrowserKind::parse(value)
                        .map(drop)
                        .ok_or_else(|| "not a browser assume-role knows".into())
                })?
                .and_then(|name| BrowserKind::parse(&name)),
            browser_path: at
                .string(raw.browser_path, "browser_path", |value| {
                    if value.is_empty() {
                        Err("it is empty".into())
                    } else {
                        Ok(())
                    }
                })?
                .map(PathBuf::from),
            keys_backend: at
                .string(raw.keys_backend, "keys_backend", |value| {
                    Backend::parse(value)
                        .map(drop)
                        .ok_or_else(|| "not a backend assume-role knows".into())
                })?
                .and_then(|name| Backend::parse(&name)),
            audit: at.boolean(raw.audit, "audit")?,
            jobs: at.jobs(raw.jobs)?,
            registry_values: at.registries(raw.registries)?,
        })
    }
}

/// What a key accepts, for the hint of a [`SettingsError::SettingsInvalid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The key itself is wrong, or the file is not TOML: the hint lists the keys.
    Keys,
    /// The key's value is wrong: the hint gives its valid forms.
    Forms(&'static str),
}

impl Expected {
    /// The valid forms of `key`'s value.
    fn of(key: &str) -> Self {
        Self::Forms(match key {
            "session_name" => {
                "a string of 2 to 64 letters, digits and `_+=,.@-`, e.g. `session_name = \"alice\"`"
            }
            "duration" => {
                "seconds (`3600`) or hours and minutes as a string (`\"2h\"`, `\"90m\"`, `\"1h30m\"`), 15m to 12h"
            }
            "mfa_session_duration" => {
                "seconds (`43200`) or hours and minutes as a string (`\"12h\"`, `\"90m\"`), 15m to 36h"
            }
            "region" => "a region name as a string, e.g. `region = \"eu-west-1\"`",
            "mfa_process" => {
                "the command that prints the MFA code, as a string, e.g. `mfa_process = \"op item get AWS --otp\"`"
            }
            "browser" => {
                "`\"chrome\"`, `\"chromium\"`, `\"brave\"`, `\"edge\"` (a user-data directory per profile), `\"firefox\"` (a container per profile) or `\"default\"`"
            }
            "browser_path" => "the browser's executable, as a string",
            "keys_backend" => "`\"os\"` (the OS secret store) or `\"file\"` (an encrypted file)",
            "audit" => "`true` or `false`",
            "jobs" => "a whole number from 1 to 65535, e.g. `jobs = 4`",
            "registries" => {
                "tables of strings, one per registry: `[registries.acme.values]` then `source_profile = \"me\"` (written by `assume-role registry`)"
            }
            _ => "",
        })
    }

    /// The hint's text.
    pub fn hint(self) -> String {
        match self {
            Expected::Keys => format!(
                "the valid keys are {}",
                KEYS.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expected::Forms(forms) => format!("write it as {forms}"),
        }
    }
}

/// Typing one value, with what an error must name.
struct At<'a> {
    text: &'a str,
    path: &'a Path,
}

impl At<'_> {
    fn error(&self, span: &std::ops::Range<usize>, key: &str, problem: String) -> SettingsError {
        let (line, column) = line_column(self.text, span.start);
        SettingsError::SettingsInvalid {
            path: self.path.to_owned(),
            line,
            column,
            key: Some(key.to_owned()),
            problem,
            expected: Expected::of(key),
        }
    }

    /// A string, checked by `check` (which says what is wrong, in a sentence's second half).
    fn string(
        &self,
        value: Option<Spanned<Value>>,
        key: &str,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, SettingsError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        match value.into_inner() {
            Value::String(text) => match check(&text) {
                Ok(()) => Ok(Some(text)),
                // `mfa_process` may carry a TOTP seed: its value is never shown.
                Err(reason) if key == "mfa_process" => {
                    Err(self.error(&span, key, format!("`{key}` is not valid: {reason}")))
                }
                Err(reason) => Err(self.error(
                    &span,
                    key,
                    format!("`{key}` is `{}`: {reason}", rules::shown(&text)),
                )),
            },
            other => Err(self.error(
                &span,
                key,
                format!("`{key}` is {}, not a string", a(other.type_str())),
            )),
        }
    }

    /// A duration: whole seconds, or a string as `--duration` takes it, within `range`.
    fn duration(
        &self,
        value: Option<Spanned<Value>>,
        key: &str,
        range: std::ops::RangeInclusive<Duration>,
    ) -> Result<Option<Duration>, SettingsError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        let parsed = match value.into_inner() {
            Value::Integer(secs) => u64::try_from(secs)
                .map(Duration::from_secs)
                .map_err(|_| format!("`{key}` is {secs}, which is not a duration")),
            Value::String(text) => duration::parse(&text).map_err(|_| {
                format!(
                    "`{key}` is `{}`, which is not a duration",
                    rules::shown(&text)
                )
            }),
            other => Err(format!(
                "`{key}` is {}, not a duration: write {DURATION_FORMS}",
                a(other.type_str())
            )),
        };
        match parsed {
            Ok(d) if range.contains(&d) => Ok(Some(d)),
            Ok(d) => Err(self.error(
                &span,
                key,
                format!(
                    "`{key}` is {}, outside {} to {}",
                    duration::display(d),
                    duration::display(*range.start()),
                    duration::display(*range.end())
                ),
            )),
            Err(problem) => Err(self.error(&span, key, problem)),
        }
    }

    /// `[registries.NAME.values]`: a table of strings per registry.
    fn registries(
        &self,
        value: Option<Spanned<Value>>,
    ) -> Result<
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
        SettingsError,
    > {
        let mut all = std::collections::BTreeMap::new();
        let Some(value) = value else {
            return Ok(all);
        };
        let span = value.span();
        let wrong = || {
            self.error(
                &span,
                "registries",
                "it is not `[registries.NAME.values]` tables of strings".into(),
            )
        };
        let Value::Table(registries) = value.into_inner() else {
            return Err(wrong());
        };
        for (name, entry) in registries {
            let Value::Table(mut entry) = entry else {
                return Err(wrong());
            };
            let values = match entry.remove("values") {
                Some(Value::Table(values)) => values,
                None => toml::Table::new(),
                Some(_) => return Err(wrong()),
            };
            if !entry.is_empty() {
                return Err(wrong());
            }
            let mut strings = std::collections::BTreeMap::new();
            for (key, value) in values {
                let Value::String(text) = value else {
                    return Err(wrong());
                };
                strings.insert(key, text);
            }
            all.insert(name, strings);
        }
        Ok(all)
    }

    fn boolean(
        &self,
        value: Option<Spanned<Value>>,
        key: &str,
    ) -> Result<Option<bool>, SettingsError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        match value.into_inner() {
            Value::Boolean(b) => Ok(Some(b)),
            other => Err(self.error(
                &span,
                key,
                format!("`{key}` is {}, not `true` or `false`", a(other.type_str())),
            )),
        }
    }

    fn jobs(
        &self,
        value: Option<Spanned<Value>>,
    ) -> Result<Option<std::num::NonZeroU16>, SettingsError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        match value.into_inner() {
            Value::Integer(n) => u16::try_from(n)
                .ok()
                .and_then(std::num::NonZeroU16::new)
                .map(Some)
                .ok_or_else(|| {
                    self.error(&span, "jobs", format!("`jobs` is {n}, outside 1 to 65535"))
                }),
            other => Err(self.error(
                &span,
                "jobs",
                format!("`jobs` is {}, not a whole number", a(other.type_str())),
            )),
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A TOML type's name with its article: `an integer`, `a string`.
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// A parser message on one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
