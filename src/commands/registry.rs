//! `assume-role registry`: add, sync, list and remove team registries.

use crate::cli::RegistryCommand;
use crate::context::Context;
use crate::error::Error;
use crate::registry::{self, Change, Prepared, RegistryError, Request};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn run(command: RegistryCommand, ctx: &Context) -> Result<ExitCode, Error> {
    match command {
        RegistryCommand::Add {
            name,
            source,
            git_ref,
            prefix,
            set,
            yes,
        } => add(
            &name,
            source,
            git_ref.as_deref(),
            prefix.as_deref(),
            set,
            yes,
            ctx,
        ),
        RegistryCommand::Sync {
            name,
            yes,
            dry_run,
            set,
        } => sync(name, yes, dry_run, set, ctx),
        RegistryCommand::List { json } => list(json, ctx),
        RegistryCommand::Remove { name, yes } => remove(&name, yes, ctx),
    }
}

fn add(
    name: &str,
    source: String,
    git_ref: Option<&str>,
    prefix: Option<&str>,
    set: Vec<(String, String)>,
    yes: bool,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let all = registry::list(ctx)?;
    if let Some(entry) = all.get(name) {
        return Err(RegistryError::Exists {
            name: name.to_owned(),
            from: entry.source.clone(),
        }
        .into());
    }
    // A relative directory is kept absolute: later syncs run from anywhere.
    let source = match std::path::Path::new(&source) {
        dir if dir.is_dir() => {
            std::path::absolute(dir).map_or(source.clone(), |p| p.to_string_lossy().into_owned())
        }
        _ => source,
    };
    let sets: BTreeMap<String, String> = set.into_iter().collect();
    let prepared = registry::prepare(
        &Request {
            name,
            source: &source,
            git_ref,
            prefix,
            sets: &sets,
        },
        ctx,
    )?;
    let mut again = format!("assume-role registry add {name} {source}");
    for (flag, value) in [("--ref", git_ref), ("--prefix", prefix)] {
        if let Some(value) = value {
            let _ = write!(again, " {flag} {value}");
        }
    }
    for (key, value) in &sets {
        let _ = write!(again, " --set {key}={value}");
    }
    again.push_str(" --yes");
    write(&prepared, yes, false, &crate::rules::printable(&again), ctx)
}

fn sync(
    name: Option<String>,
    yes: bool,
    dry_run: bool,
    set: Vec<(String, String)>,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let all = registry::list(ctx)?;
    let names: Vec<String> = match name {
        Some(name) if all.contains_key(&name) => vec![name],
        Some(name) => {
            return Err(RegistryError::Unknown {
                name,
                known: all.keys().cloned().collect(),
            }
            .into());
        }
        None => all.keys().cloned().collect(),
    };
    if names.is_empty() {
        eprintln!(
            "assume-role: no registry is added; `assume-role registry add NAME SOURCE` adds one"
        );
    }
    let sets: BTreeMap<String, String> = set.into_iter().collect();
    // Every registry is tried: one that cannot be fetched does not hold the others back. The
    // first failure is the run's answer, after the rest have had their turn.
    let mut first_failure: Option<Error> = None;
    let several = names.len() > 1;
    for name in names {
        let entry = &all[&name];
        let done = registry::prepare(
            &Request {
                name: &name,
                source: &entry.source,
                git_ref: entry.git_ref.as_deref(),
                prefix: entry.prefix.as_deref(),
                sets: &sets,
            },
            ctx,
        )
        .map_err(Error::from)
        .and_then(|prepared| {
            write(
                &prepared,
                yes,
                dry_run,
                &format!("assume-role registry sync {name} --yes"),
                ctx,
            )
        });
        if let Err(err) = done {
            if several {
                eprintln!(
                    "assume-role: registry `{name}`: {}",
                    crate::rules::printable(&err.to_string())
                );
            }
            first_failure.get_or_insert(err);
        }
    }
    first_failure.map_or(Ok(ExitCode::SUCCESS), Err)
}

fn list(json: bool, ctx: &Context) -> Result<ExitCode, Error> {
    let all = registry::list(ctx)?;
    if json {
        let mut text = serde_json::to_string_pretty(&all).expect("the list serializes");
        text.push('\n');
        return super::print(&text);
    }
    let synced = |secs: u64| {
        crate::time::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    };
    let rows: Vec<[String; 6]> = all
        .iter()
        .map(|(name, e)| {
            [
                name.clone(),
                e.source.clone(),
                e.git_ref.clone().unwrap_or_else(|| "(default)".into()),
                registry::fetch::short(&e.commit).to_owned(),
                synced(e.synced),
                e.profiles.to_string(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 6]> = rows
        .iter()
        .map(|r| r.each_ref().map(String::as_str))
        .collect();
    let header = ["NAME", "SOURCE", "REF", "COMMIT", "SYNCED", "PROFILES"];
    super::print(&super::list::table(header, &rows))
}

fn remove(name: &str, yes: bool, ctx: &Context) -> Result<ExitCode, Error> {
    if !yes
        && !confirmed(&format!(
            "Remove registry `{name}` and its profiles? [y/N] "
        ))
    {
        return Err(RegistryError::NotConfirmed {
            name: name.to_owned(),
            why: "not confirmed (no terminal, or not `y`)",
            command: format!("assume-role registry remove {name} --yes"),
        }
        .into());
    }
    let entry = registry::remove(name, ctx)?;
    eprintln!(
        "assume-role: removed registry `{name}` and its {} profiles from the config",
        entry.profiles
    );
    Ok(ExitCode::SUCCESS)
}

fn confirmed(question: &str) -> bool {
    crate::terminal::in_foreground()
        && crate::terminal::visible(question)
            .is_ok_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Shows `prepared`'s changes, then writes them on `yes` or a `y` on a terminal.
fn write(
    prepared: &Prepared,
    yes: bool,
    dry_run: bool,
    command: &str,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let name = &prepared.name;
    let commit = registry::fetch::short(&prepared.entry.commit);
    if prepared.changes.is_empty() {
        eprintln!(
            "assume-role: registry `{name}` at {commit}: its {} profiles are up to date",
            prepared.entry.profiles
        );
        if !dry_run {
            registry::apply(prepared, ctx)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("assume-role: registry `{name}` at {commit} would change the config:");
    eprint!("{}", report(&prepared.changes));
    if dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if !yes && !confirmed("Write these changes? [y/N] ") {
        return Err(RegistryError::NotConfirmed {
            name: name.clone(),
            why: if crate::terminal::in_foreground() {
                "not confirmed"
            } else {
                "there is no terminal to confirm on, and no `--yes`"
            },
            command: command.to_owned(),
        }
        .into());
    }
    registry::apply(prepared, ctx)?;
    eprintln!(
        "assume-role: wrote {} profiles of registry `{name}` (pinned at {commit})",
        prepared.entry.profiles
    );
    Ok(ExitCode::SUCCESS)
}

/// A line per profile; a changed one lists each key that differs.
fn report(changes: &[Change]) -> String {
    let mut out = String::new();
    let shown = |v: &Option<String>| {
        v.as_deref().map_or("(none)".to_owned(), |v| {
            crate::rules::printable(v).into_owned()
        })
    };
    for change in changes {
        match change {
            Change::Add(name) => {
                let _ = writeln!(out, "  + {}", crate::rules::printable(name));
            }
            Change::Remove(name) => {
                let _ = writeln!(out, "  - {}", crate::rules::printable(name));
            }
            Change::Update(name, keys) => {
                let _ = writeln!(out, "  ~ {}", crate::rules::printable(name));
                for (key, old, new) in keys {
                    let _ = writeln!(out, "      {key}: {} → {}", shown(old), shown(new));
                }
            }
        }
    }
    out
}
