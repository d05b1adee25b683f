//! `assume-role cache list|clear`: what is cached, never a secret. A session belongs to a chain,
//! not to the profile whose run created it: `PROFILE` here means every session that profile
//! would use, whoever made it.

use super::print;
use crate::cache::id::Key;
use crate::cache::sessions::{Entry, Kind, Removed, Store};
use crate::cli::CacheCommand;
use crate::config::{ConfigFiles, Profiles};
use crate::context::Context;
use crate::credentials::rfc3339;
use crate::duration;
use crate::error::Error;
use crate::obtain::{Serving, plan_of, sessions_served};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::SystemTime;

#[derive(Serialize)]
struct Row<'a> {
    /// The profile whose run created it (its name in the table only when no profile serves it).
    profile: &'a str,
    /// The profiles, as configured now, that use it; empty when none does.
    serves: Vec<String>,
    role_arn: Option<&'a str>,
    mfa_serial: Option<&'a str>,
    kind: &'a str,
    expiration: String,
    remaining_seconds: u64,
}

pub fn run(command: CacheCommand, ctx: &Context) -> Result<ExitCode, Error> {
    match command {
        CacheCommand::List { profile, json } => list(profile.as_deref(), json, ctx),
        CacheCommand::Clear { profile: None, .. } => clear_all(ctx),
        CacheCommand::Clear {
            profile: Some(name),
            mfa_session,
        } => clear_profile(&name, mfa_session, ctx),
    }
}

fn no_cache_dir() -> ExitCode {
    eprintln!("assume-role: there is no cache directory (set `ASSUME_ROLE_CACHE_DIR`)");
    ExitCode::SUCCESS
}

fn cache_error(store: &Store, source: std::io::Error) -> Error {
    crate::cache::CacheError::Cache {
        path: store.root().to_path_buf(),
        source,
    }
    .into()
}

fn load_profiles(ctx: &Context) -> Result<Profiles, Error> {
    Profiles::load_from(&ConfigFiles::locate(ctx)).map_err(Into::into)
}

/// A warning on stderr: what follows from `err`, then the error and its hints.
fn warn(consequence: &str, err: &dyn crate::exit::Diagnose) {
    let mut text = format!("assume-role: warning: {consequence}: {err}\n");
    for hint in err.hints() {
        let _ = writeln!(text, "  hint: {hint}");
    }
    eprint!("{text}");
}

/// The sessions `PROFILE` selects: those its chain uses as configured now, and those its runs
/// created.
struct Selection<'a> {
    name: &'a str,
    serving: Serving,
}

impl Selection<'_> {
    /// Which kind of session `key` is for this profile, if it is one of its sessions.
    fn kind_of(&self, key: &Key, entry: Option<&Entry>) -> Option<Kind> {
        self.serving.kind_of(key).or_else(|| {
            // Sessions made with flags such as `--duration` (or before the profile was edited)
            // have keys that no plan resolved here gives: they are found by the name of the
            // profile whose run created them.
            entry.filter(|e| e.profile == self.name).map(|e| e.kind)
        })
    }
}

/// What `name` selects. A profile not in the config is an error (with "did you mean"); one whose
/// chain cannot be followed, or a config that cannot be read, leaves only the sessions its runs
/// created, with a warning saying why. `done` is what happens to them ("cleared", "listed").
fn select<'a>(
    name: &'a str,
    profiles: &Result<Profiles, Error>,
    ctx: &Context,
    done: &str,
) -> Result<Selection<'a>, Error> {
    let fallback = format!("only the sessions created by runs of `{name}` are {done}");
    let mut selection = Selection {
        name,
        serving: Serving::default(),
    };
    let profiles = match profiles {
        Ok(profiles) => profiles,
        Err(e) => {
            warn(
                &format!("could not read the AWS config files, so {fallback}"),
                e,
            );
            return Ok(selection);
        }
    };
    if profiles.get(name).is_none() {
        // A profile that has left the config still has the sessions its runs created: those
        // are found by its name, and cleared or listed as such.
        let created = Store::open(ctx)
            .is_some_and(|store| store.entries().iter().any(|(_, e)| e.profile == name));
        if created {
            eprintln!(
                "assume-role: profile `{name}` is no longer in the AWS config; only the sessions its runs created are {done}"
            );
            return Ok(selection);
        }
        return Err(profiles.unknown(name, None).into());
    }
    match plan_of(profiles, name, ctx) {
        Ok(plan) => selection.serving = Serving::of(&plan, ctx),
        Err(e) => warn(
            &format!("cannot follow the chain of profile `{name}`, so {fallback}"),
            &e,
        ),
    }
    if selection.serving.role_sessions.is_none() {
        // Only a `credential_source = Environment` base has no identity without credentials.
        eprintln!(
            "assume-role: warning: the sessions of profile `{name}` are named after the access key in `AWS_ACCESS_KEY_ID` (its `credential_source = Environment`), which is not set, so {fallback}\n  hint: set `AWS_ACCESS_KEY_ID` as it was when the sessions were made"
        );
    }
    Ok(selection)
}

fn clear_all(ctx: &Context) -> Result<ExitCode, Error> {
    let Some(store) = Store::open(ctx) else {
        return Ok(no_cache_dir());
    };
    let removed = store.clear_all().map_err(|e| cache_error(&store, e))?;
    eprintln!(
        "assume-role: removed {}",
        counted(removed, "cached session")
    );
    Ok(ExitCode::SUCCESS)
}

fn clear_profile(name: &str, mfa_session: bool, ctx: &Context) -> Result<ExitCode, Error> {
    let profiles = load_profiles(ctx);
    let selection = select(name, &profiles, ctx, "cleared")?;
    let Some(store) = Store::open(ctx) else {
        return Ok(no_cache_dir());
    };
    // An MFA session other profiles use too is theirs as much as this one's: clearing it would
    // cost each of them a new code. Kept unless `--mfa-session` says otherwise.
    let served = match &profiles {
        Ok(profiles) if !mfa_session => sessions_served(profiles, ctx),
        _ => HashMap::new(),
    };
    let mut kept: Vec<String> = Vec::new();
    let removed: Removed = store
        .remove_where(|key, entry| {
            let kind = selection.kind_of(key, entry)?;
            let others: Vec<&String> = served
                .get(key)
                .into_iter()
                .flatten()
                .filter(|p| p.as_str() != name)
                .collect();
            if kind == Kind::MfaSession && !others.is_empty() {
                kept.extend(others.into_iter().cloned());
                return None;
            }
            Some(kind)
        })
        .map_err(|e| cache_error(&store, e))?;
    if !kept.is_empty() {
        kept.sort();
        kept.dedup();
        let names: Vec<String> = kept.iter().map(|p| format!("`{p}`")).collect();
        eprintln!(
            "assume-role: kept the MFA session profile `{name}` shares with {}; `--mfa-session` clears it too",
            names.join(", ")
        );
    }
    if removed.total() == 0 {
        if kept.is_empty() {
            eprintln!("assume-role: no cached session serves profile `{name}`");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let kinds: Vec<String> = [
        (removed.role_sessions, Kind::RoleSession),
        (removed.mfa_sessions, Kind::MfaSession),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, kind)| counted(n, kind.as_str()))
    .collect();
    eprintln!(
        "assume-role: removed {} serving profile `{name}`: {}",
        counted(removed.total(), "cached session"),
        kinds.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `1 role session`, `2 role sessions`.
fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn list(profile: Option<&str>, json: bool, ctx: &Context) -> Result<ExitCode, Error> {
    let store = Store::open(ctx);
    let entries = store.as_ref().map(Store::entries).unwrap_or_default();
    // Reading the config only to label an empty list would be wasted; a named profile is
    // checked whatever the cache holds.
    let profiles = (profile.is_some() || !entries.is_empty()).then(|| load_profiles(ctx));
    let selection = match (profile, &profiles) {
        (Some(name), Some(profiles)) => Some(select(name, profiles, ctx, "listed")?),
        _ => None,
    };
    if store.is_none() {
        return Ok(no_cache_dir());
    }
    let served: HashMap<Key, Vec<String>> = match &profiles {
        Some(Ok(profiles)) => sessions_served(profiles, ctx),
        Some(Err(e)) if selection.is_none() => {
            warn(
                "could not read the AWS config files, so each session is shown with the profile that created it",
                e,
            );
            HashMap::new()
        }
        _ => HashMap::new(),
    };
    let now = SystemTime::now();
    let mut rows: Vec<Row> = entries
        .iter()
        .filter(|(key, e)| {
            selection
                .as_ref()
                .is_none_or(|s| s.kind_of(key, Some(e)).is_some())
        })
        .map(|(key, e)| Row {
            profile: &e.profile,
            serves: served.get(key).cloned().unwrap_or_default(),
            role_arn: e.role_arn.as_deref(),
            mfa_serial: e.mfa_serial.as_deref(),
            kind: e.kind.as_str(),
            expiration: rfc3339(e.expires()),
            remaining_seconds: e.remaining(now).as_secs(),
        })
        .collect();
    rows.sort_by_key(|r| (shown(r), r.remaining_seconds));
    if json {
        let mut text = serde_json::to_string_pretty(&rows).expect("rows serialize");
        text.push('\n');
        return print(&text);
    }
    // As wide as the longest list of profiles, so that the columns stay aligned.
    let width = rows.iter().map(|r| shown(r).len()).fold(24, usize::max);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<width$} {:<13} {:<22} {:<10} ROLE / MFA DEVICE",
        "PROFILE", "KIND", "EXPIRES", "LEFT"
    );
    for row in &rows {
        let left = if row.remaining_seconds == 0 {
            "expired".to_owned()
        } else {
            duration::display(std::time::Duration::from_secs(
                row.remaining_seconds / 60 * 60,
            ))
        };
        let target = row.role_arn.or(row.mfa_serial).unwrap_or("-");
        let _ = writeln!(
            text,
            "{:<width$} {:<13} {:<22} {:<10} {target}",
            shown(row),
            row.kind,
            row.expiration,
            left
        );
    }
    let printed = print(&text);
    if rows.iter().any(|r| r.serves.is_empty()) {
        // A note for people, so on stderr: the table on stdout keeps its shape.
        eprintln!(
            "assume-role: `*`: no profile as configured now uses this session (it was made with flags such as `--duration`, or before its profile changed); the name is the profile whose run made it"
        );
    }
    printed
}

/// The table's PROFILE column: the profiles a session serves, or its creator marked `*`.
fn shown(row: &Row) -> String {
    if row.serves.is_empty() {
        format!("{}*", row.profile)
    } else {
        row.serves.join(",")
    }
}
