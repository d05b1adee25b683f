//! The contractor's own values for a registry's `{name}`s: given with `--set`, kept in the
//! settings file (`[registries.NAME.values]`), or asked once on the terminal.

use super::file::{Registry, placeholders};
use super::{RegistryError, Request};
use crate::context::Context;
use std::collections::BTreeMap;

/// Values by name.
type Values = BTreeMap<String, String>;

/// Every value the registry's profiles use, and those that are new (to keep).
pub fn resolve(
    request: &Request,
    registry: &Registry,
    ctx: &Context,
) -> Result<(Values, Values), RegistryError> {
    let kept = ctx.settings.registry_values.get(request.name);
    let mut values = BTreeMap::new();
    let mut new = BTreeMap::new();
    for (profile, keys) in &registry.profiles {
        for raw in keys.values() {
            for name in placeholders(raw) {
                if values.contains_key(name) {
                    continue;
                }
                let Some(description) = registry.values.get(name) else {
                    return Err(RegistryError::UnknownValue {
                        registry: request.name.to_owned(),
                        profile: profile.clone(),
                        name: name.to_owned(),
                    });
                };
                let value = if let Some(given) = request.sets.get(name) {
                    new.insert(name.to_owned(), given.clone());
                    given.clone()
                } else if let Some(kept) = kept.and_then(|k| k.get(name)) {
                    kept.clone()
                } else {
                    let typed = ask(request.name, name, description)?;
                    new.insert(name.to_owned(), typed.clone());
                    typed
                };
                values.insert(name.to_owned(), value);
            }
        }
    }
    Ok((values, new))
}

fn ask(registry: &str, name: &str, description: &str) -> Result<String, RegistryError> {
    let missing = || RegistryError::MissingValue {
        registry: registry.to_owned(),
        name: name.to_owned(),
        description: crate::rules::printable(description).into_owned(),
    };
    if !crate::terminal::in_foreground() {
        return Err(missing());
    }
    let prompt = format!(
        "Registry `{registry}` needs `{name}` ({}): ",
        crate::rules::printable(description)
    );
    crate::terminal::visible(&prompt)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(missing)
}

/// Keeps `new` values of `registry` in the settings file, every other byte of it as it was.
pub fn keep(
    registry: &str,
    new: &BTreeMap<String, String>,
    ctx: &Context,
) -> Result<(), RegistryError> {
    if new.is_empty() {
        return Ok(());
    }
    let Some(location) = &ctx.paths.settings_file else {
        return Ok(());
    };
    // A settings file kept in a dotfiles repository is often a symlink: write what it points to.
    let path = &std::fs::canonicalize(&location.path).unwrap_or_else(|_| location.path.clone());
    let io = |what, source| RegistryError::Io {
        what,
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        crate::fsx::ensure_private_dir(dir).map_err(|e| io("create the directory of", e))?;
    }
    // Two syncs keeping values at once must keep both.
    let lock_path = path.with_extension("toml.lock");
    let _lock = crate::fsx::lock_within(&lock_path, std::time::Duration::from_secs(30))
        .map_err(|e| io("lock", e))?
        .ok_or_else(|| {
            io(
                "lock",
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "another run has held it for 30s",
                ),
            )
        })?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("read", e)),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| {
        io(
            "read",
            std::io::Error::other(format!("it is not TOML: {e}")),
        )
    })?;
    let registries = doc
        .entry("registries")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| {
            io(
                "update",
                std::io::Error::other("`registries` is not a table"),
            )
        })?;
    let entry = registries
        .entry(registry)
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| {
            io(
                "update",
                std::io::Error::other("a registry's entry is not a table"),
            )
        })?;
    let values = entry
        .entry("values")
        .or_insert_with(toml_edit::table)
        .as_table_mut()
        .ok_or_else(|| io("update", std::io::Error::other("`values` is not a table")))?;
    for (name, value) in new {
        values.insert(name, toml_edit::value(value.as_str()));
    }
    crate::fsx::write_private(path, doc.to_string().as_bytes()).map_err(|e| io("write", e))
}
