//! A team's registry of client profiles: a git repository (or a directory) holding
//! `assume-role-registry.toml`, whose profiles are written into one marked block of
//! `~/.aws/config` per registry, pinned to the commit they came from.
//!
//! What a security team asks of it, and where each answer lives:
//! - a registry describes roles and runs nothing: [`file`] refuses every key but the few that
//!   describe a role, with the line and column;
//! - a sync never deletes or shadows what the user wrote: only its own block changes, byte for
//!   byte ([`crate::config::block`]), and a profile of the same name outside it is an error;
//! - nothing changes unseen: the changes are shown, profile by profile, before anything is
//!   written, and written only on `--yes` or a `y` on a terminal;
//! - a failed fetch, a broken file or a refused key changes nothing: everything is checked
//!   before the block is touched, and the pin moves only with a write.

pub mod fetch;
pub mod file;
mod state;
mod values;

pub use state::{Entry, State};

use crate::config::{ConfigFiles, Profiles};
use crate::context::Context;
use crate::exit::{Diagnose, Exit};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot fetch the registry from `{from}`: {detail}")]
    Fetch { from: String, detail: String },

    #[error("the registry at `{from}` has no usable file: {detail}")]
    NoFile { from: String, detail: String },

    #[error("`git` is not installed (or not on `PATH`); a registry in a git repository needs it")]
    GitMissing,

    #[error("{origin}, line {line}, column {column}: {problem}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        problem: String,
    },

    #[error(
        "profile `{profile}` of registry `{registry}` uses `{{{name}}}`, which the registry's `[values]` does not declare"
    )]
    UnknownValue {
        registry: String,
        profile: String,
        name: String,
    },

    #[error(
        "registry `{registry}` needs your value for `{name}` ({description}), and there is no terminal to ask on"
    )]
    MissingValue {
        registry: String,
        name: String,
        description: String,
    },

    #[error("`{key}` of profile `{profile}` in registry `{registry}` would be {problem}")]
    BadValue {
        registry: String,
        profile: String,
        key: String,
        problem: &'static str,
    },

    #[error("registry `{registry}` defines profile `{profile}`, which is already defined {place}")]
    Clash {
        registry: String,
        profile: String,
        place: String,
    },

    #[error("there is no registry `{name}`{}", names_known(.known))]
    Unknown { name: String, known: Vec<String> },

    #[error("registry `{name}` is already added (from `{from}`)")]
    Exists { name: String, from: String },

    #[error("`{name}` cannot name a registry: {reason}")]
    BadName { name: String, reason: &'static str },

    #[error("registry `{name}`: nothing was written ({why})")]
    NotConfirmed {
        name: String,
        why: &'static str,
        command: String,
    },

    #[error("cannot {what} `{}`: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

fn names_known(names: &[String]) -> String {
    if names.is_empty() {
        " (none is added yet)".to_owned()
    } else {
        format!(" (there are: {})", names.join(", "))
    }
}

impl Diagnose for RegistryError {
    fn exit(&self) -> Exit {
        match self {
            RegistryError::Fetch { .. } => Exit::Network,
            RegistryError::GitMissing
            | RegistryError::NotConfirmed { .. }
            | RegistryError::Io { .. } => Exit::Failure,
            RegistryError::Config(e) => e.exit(),
            _ => Exit::Config,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            RegistryError::Fetch { .. } => vec![
                "check the URL and your access to it (`git ls-remote URL` tells); the config was not changed".into(),
            ],
            RegistryError::GitMissing => vec!["install git, or use a local directory as the source".into()],
            RegistryError::NoFile { .. } => vec![format!(
                "a registry holds `{}` at its root (its maintainers add it); the config was not changed",
                file::FILE_NAME
            )],
            RegistryError::Invalid { .. } | RegistryError::UnknownValue { .. } | RegistryError::BadValue { .. } => vec![
                "fix the registry (its maintainers), then sync again; the config keeps the last good profiles until then".into(),
            ],
            RegistryError::MissingValue { registry, name, .. } => vec![format!(
                "give it once: `--set {name}=VALUE` (kept in the settings file for later syncs of `{registry}`)"
            )],
            RegistryError::Clash { .. } => vec![
                "rename or remove your own profile, or add the registry with a prefix: `--prefix acme-`".into(),
            ],
            RegistryError::Unknown { .. } => vec!["`assume-role registry list` shows them; `assume-role registry add NAME SOURCE` adds one".into()],
            RegistryError::Exists { name, .. } => vec![format!(
                "sync it: `assume-role registry sync {name}`, or remove it first: `assume-role registry remove {name}`"
            )],
            RegistryError::BadName { .. } => vec!["use letters, digits, `-` and `_`".into()],
            RegistryError::NotConfirmed { command, .. } => vec![format!("to write these changes: `{command}`")],
            RegistryError::Io { .. } => vec!["check the file's directory: it must exist and be yours".into()],
            RegistryError::Config(e) => e.hints(),
        }
    }
}

/// The marker of a registry's block in the config file.
pub fn marker(name: &str) -> String {
    format!("registry {name} (do not edit inside: `assume-role registry sync {name}` rewrites it)")
}

/// One profile's change, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Add(String),
    Remove(String),
    /// The profile, and each key whose value differs: old, new (external IDs masked).
    Update(String, Vec<(String, Option<String>, Option<String>)>),
}

/// A sync, worked out and checked, ready to write.
#[derive(Debug)]
pub struct Prepared {
    pub name: String,
    pub entry: Entry,
    pub changes: Vec<Change>,
    /// The block's new text, and the profiles in it.
    body: String,
    names: Vec<String>,
    /// The files as they were when the clash check ran.
    seen: crate::config::Fingerprint,
    /// Values given with `--set` or typed, to keep in the settings file.
    new_values: BTreeMap<String, String>,
}

/// How a sync finds what it needs.
pub struct Request<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub git_ref: Option<&'a str>,
    pub prefix: Option<&'a str>,
    /// `--set name=value`.
    pub sets: &'a BTreeMap<String, String>,
}

/// Fetches, checks and renders `request`'s registry against the config as it is now, without
/// writing anything.
pub fn prepare(request: &Request, ctx: &Context) -> Result<Prepared, RegistryError> {
    check_name(request.name)?;
    let fetched = fetch::fetch(request.source, request.git_ref)?;
    let origin = format!(
        "registry `{}` ({} at {})",
        request.name,
        file::FILE_NAME,
        fetch::short(&fetched.commit)
    );
    let registry = file::parse(&fetched.text, &origin)?;
    let (values, new_values) = values::resolve(request, &registry, ctx)?;
    let rendered = render(request, &registry, &values)?;
    let files = ConfigFiles::locate(ctx);
    // Taken before the files are read: `apply` looks again only if they changed after this.
    let seen = files.fingerprint();
    let before = in_block(&files, request.name)?;
    check_clashes(
        request.name,
        rendered.keys(),
        &before,
        &Profiles::load_from(&files)?,
    )?;
    let changes = diff(&before, &rendered);
    let body = body(&rendered);
    Ok(Prepared {
        name: request.name.to_owned(),
        entry: Entry {
            source: request.source.to_owned(),
            git_ref: request.git_ref.map(str::to_owned),
            prefix: request.prefix.map(str::to_owned),
            commit: fetched.commit,
            synced: crate::keystore::now_secs(),
            profiles: rendered.len(),
        },
        changes,
        body,
        names: rendered.keys().cloned().collect(),
        seen,
        new_values,
    })
}

/// The profiles registry `name`'s block holds now.
fn in_block(files: &ConfigFiles, name: &str) -> Result<Profiles, RegistryError> {
    let marker = marker(name);
    let current = match std::fs::read(&files.config) {
        Ok(bytes) => crate::config::block::read(&bytes, &marker)
            .map_err(|damaged| damaged.error(&files.config, &marker))?
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok(Profiles::from_texts(&current, "")?)
}

/// A sync never shadows what the user wrote: a profile the registry would add that the files
/// already have outside its block is refused, with where it is.
fn check_clashes<'a>(
    registry: &str,
    names: impl IntoIterator<Item = &'a String>,
    before: &Profiles,
    profiles: &Profiles,
) -> Result<(), RegistryError> {
    for name in names {
        if before.get(name).is_none() && profiles.get(name).is_some() {
            let place = profiles.location(name, None).map_or_else(
                || "in the AWS config or credentials file".to_owned(),
                |l| format!("at {l}"),
            );
            return Err(RegistryError::Clash {
                registry: registry.to_owned(),
                profile: name.clone(),
                place,
            });
        }
    }
    Ok(())
}

/// Writes a prepared sync: the block, the values, then the pin. The clash check runs again
/// under the edit lock if the files changed since `prepare` (and the prompt between them):
/// another command may have added a profile of one of these names.
pub fn apply(prepared: &Prepared, ctx: &Context) -> Result<(), RegistryError> {
    let files = ConfigFiles::locate(ctx);
    crate::config::block::write_checked(
        &files.config,
        &marker(&prepared.name),
        &prepared.body,
        || {
            let Some(now) = Profiles::reload_if_changed(&files, &prepared.seen)? else {
                return Ok(());
            };
            let before = in_block(&files, &prepared.name)?;
            check_clashes(&prepared.name, &prepared.names, &before, &now)
        },
    )?;
    values::keep(&prepared.name, &prepared.new_values, ctx)?;
    state::update(ctx, |all| {
        all.insert(prepared.name.clone(), prepared.entry.clone());
    })
}

/// Removes registry `name`: its block (the config is then what it was without it) and its pin.
pub fn remove(name: &str, ctx: &Context) -> Result<Entry, RegistryError> {
    let all = state::read(ctx)?;
    let entry = all
        .get(name)
        .cloned()
        .ok_or_else(|| RegistryError::Unknown {
            name: name.to_owned(),
            known: all.keys().cloned().collect(),
        })?;
    let files = ConfigFiles::locate(ctx);
    crate::config::block::write(&files.config, &marker(name), "")?;
    state::update(ctx, |all| {
        all.remove(name);
    })?;
    Ok(entry)
}

/// The registries added, by name.
pub fn list(ctx: &Context) -> Result<State, RegistryError> {
    state::read(ctx)
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 64 {
        Some("it is longer than 64 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("it may hold only letters, digits, `-` and `_`")
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| {
        Err(RegistryError::BadName {
            name: crate::rules::printable(name).into_owned(),
            reason,
        })
    })
}

/// Each profile, named with the prefix, its keys in [`file::ALLOWED`] order with the values
/// filled in and checked.
type Rendered = BTreeMap<String, Vec<(String, String)>>;

fn render(
    request: &Request,
    registry: &file::Registry,
    values: &BTreeMap<String, String>,
) -> Result<Rendered, RegistryError> {
    let mut rendered = Rendered::new();
    for (profile, keys) in &registry.profiles {
        let name = format!("{}{profile}", request.prefix.unwrap_or_default());
        let bad = |key: &str, problem: &'static str| RegistryError::BadValue {
            registry: request.name.to_owned(),
            profile: name.clone(),
            key: key.to_owned(),
            problem,
        };
        if let Some(problem) = unsafe_text(&name) {
            return Err(bad("the profile name", problem));
        }
        // `default` is what every AWS tool uses when no profile is named: a registry must not
        // decide that for its users.
        if name == "default" {
            return Err(bad(
                "the profile name",
                "`default`, which every AWS tool uses when no profile is named (add the registry with a `--prefix`)",
            ));
        }
        let mut lines = Vec::new();
        for key in file::ALLOWED {
            let Some(raw) = keys.get(*key) else { continue };
            let mut value = raw.clone();
            for placeholder in file::placeholders(raw) {
                let filled =
                    values
                        .get(placeholder)
                        .ok_or_else(|| RegistryError::UnknownValue {
                            registry: request.name.to_owned(),
                            profile: profile.clone(),
                            name: placeholder.to_owned(),
                        })?;
                value = value.replace(&format!("{{{placeholder}}}"), filled);
            }
            if let Some(problem) = unsafe_text(&value) {
                return Err(bad(key, problem));
            }
            lines.push(((*key).to_owned(), value));
        }
        rendered.insert(name, lines);
    }
    Ok(rendered)
}

/// Why `text` cannot go into the INI file as it is: a line break would start a section of its
/// own (a way to smuggle in `credential_process`), and ` #` or ` ;` would cut the value short.
fn unsafe_text(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        Some("empty")
    } else if text.chars().any(char::is_control) {
        Some("a text with a line break or a control character")
    } else if text.contains(" #") || text.contains(" ;") || text.contains("\t#") {
        Some("cut short by a comment (` #` or ` ;`)")
    } else if text.trim() != text {
        Some("a text with spaces around it")
    } else if text.contains(['[', ']']) {
        Some("a text with a bracket")
    } else {
        None
    }
}

fn body(rendered: &Rendered) -> String {
    let mut body = String::new();
    for (name, lines) in rendered {
        if !body.is_empty() {
            body.push('\n');
        }
        let _ = writeln!(body, "[profile {name}]");
        for (key, value) in lines {
            let _ = writeln!(body, "{key} = {value}");
        }
    }
    body
}

fn diff(before: &Profiles, rendered: &Rendered) -> Vec<Change> {
    let shown = |key: &str, value: Option<&str>| {
        value.map(|v| {
            if key == crate::config::keys::EXTERNAL_ID {
                crate::secret::mask_external_id(v)
            } else {
                v.to_owned()
            }
        })
    };
    let mut changes = Vec::new();
    for (name, lines) in rendered {
        let Some(old) = before.get(name) else {
            changes.push(Change::Add(name.clone()));
            continue;
        };
        let new: BTreeMap<&str, &str> = lines
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let differs: Vec<(String, Option<String>, Option<String>)> = file::ALLOWED
            .iter()
            .filter(|key| old.get(key) != new.get(*key).copied())
            .map(|key| {
                (
                    (*key).to_owned(),
                    shown(key, old.get(key)),
                    shown(key, new.get(*key).copied()),
                )
            })
            .collect();
        if !differs.is_empty() {
            changes.push(Change::Update(name.clone(), differs));
        }
    }
    for name in before.names() {
        if !rendered.contains_key(name) {
            changes.push(Change::Remove(name.to_owned()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_filled_in_checked_and_changes_named_key_by_key() {
        let registry = file::parse(
            "version = 1\n[values]\nsrc = \"your profile\"\n[profiles.prod]\nrole_arn = \"arn:aws:iam::333333333333:role/c\"\nsource_profile = \"{src}\"\nexternal_id = \"abcdefghijkl\"\n",
            "test",
        )
        .unwrap();
        let sets = BTreeMap::new();
        let request = Request {
            name: "acme",
            source: "x",
            git_ref: None,
            prefix: Some("acme-"),
            sets: &sets,
        };
        let values = BTreeMap::from([("src".to_owned(), "me".to_owned())]);
        let rendered = render(&request, &registry, &values).unwrap();
        assert_eq!(
            body(&rendered),
            "[profile acme-prod]\nrole_arn = arn:aws:iam::333333333333:role/c\nexternal_id = abcdefghijkl\nsource_profile = me\n"
        );
        let before = Profiles::from_texts(
            "[profile acme-prod]\nrole_arn = arn:aws:iam::333333333333:role/c\nexternal_id = zzzzzzzzzzzz\nsource_profile = me\n\n[profile acme-old]\nregion = x\n",
            "",
        )
        .unwrap();
        let changes = diff(&before, &rendered);
        assert_eq!(changes.len(), 2, "{changes:?}");
        let Change::Update(name, keys) = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!(name, "acme-prod");
        assert_eq!(keys[0].0, "external_id");
        assert!(!format!("{keys:?}").contains("abcdefghijkl"));
        assert_eq!(changes[1], Change::Remove("acme-old".into()));

        let smuggled = BTreeMap::from([(
            "src".to_owned(),
            "me\n[profile x]\ncredential_process = sh".to_owned(),
        )]);
        assert!(matches!(
            render(&request, &registry, &smuggled),
            Err(RegistryError::BadValue { .. })
        ));
        assert!(matches!(
            render(&request, &registry, &BTreeMap::new()),
            Err(RegistryError::UnknownValue { .. })
        ));
        assert!(check_name("../x").is_err() && check_name("acme_1").is_ok());
    }
}
