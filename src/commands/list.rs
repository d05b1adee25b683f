//! `assume-role list`: every profile, one row each, without resolving any chain.
//!
//! Parsing ten thousand profiles takes the SDK's parser tens of milliseconds, so the rows are
//! kept in a cached index, valid while both files keep their size, times and inode.

use super::print;
use crate::cache;
use crate::config::FilesRead;
use crate::config::{ConfigFiles, Fingerprint, ProfileSummary, Profiles};
use crate::context::Context;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

#[derive(Serialize, Deserialize)]
struct Index<'a> {
    version: u32,
    fingerprint: Fingerprint,
    #[serde(borrow)]
    profiles: Vec<ProfileSummary<'a>>,
}

pub fn run(json: bool, ctx: &Context) -> Result<ExitCode, Error> {
    with_summaries(ctx, |summaries, files| {
        render(&with_stored_keys(summaries, ctx), json, files, ctx)
    })
}

/// Hands `use_them` every profile's summary, from the cached index while the files are
/// unchanged (borrowed from its bytes), else parsed anew (and the index rewritten). Shell
/// completion lists profile names this way too, so a Tab on ten thousand profiles stays quick.
pub(super) fn with_summaries<T>(
    ctx: &Context,
    use_them: impl FnOnce(Vec<ProfileSummary<'_>>, &ConfigFiles) -> Result<T, Error>,
) -> Result<T, Error> {
    let files = ConfigFiles::locate(ctx);
    // Taken before reading, so that an edit during the parse invalidates what we store.
    let fingerprint = files.fingerprint();
    // Only from a cache that is ours: completion inserts these names into the command line.
    let index_path = ctx
        .paths
        .cache_dir
        .as_ref()
        .filter(|dir| cache::trusted(dir))
        .map(|dir| dir.join(cache::LIST_INDEX));
    if let Some(path) = &index_path
        && let Some(bytes) = cache::read_bytes(path)
        && let Some(index) = cache::parse::<Index>(path, &bytes)
        && index.version == cache::FORMAT_VERSION
        && index.fingerprint == fingerprint
    {
        return use_them(index.profiles, &files);
    }
    let profiles = Profiles::load_from(&files)?;
    let summaries = profiles.summaries();
    if let Some(path) = &index_path {
        cache::write(
            path,
            &Index {
                version: cache::FORMAT_VERSION,
                fingerprint,
                profiles: summaries.clone(),
            },
        );
    }
    use_them(summaries, &files)
}

/// Profiles with nothing of their own but a stored key are `stored-keys`. Applied after the
/// cached index, which knows only the files.
fn with_stored_keys<'a>(
    mut summaries: Vec<ProfileSummary<'a>>,
    ctx: &Context,
) -> Vec<ProfileSummary<'a>> {
    let stored = crate::keystore::read_index(ctx);
    for summary in &mut summaries {
        if summary.kind == crate::config::ProfileKind::None && stored.contains_key(&*summary.name) {
            summary.kind = crate::config::ProfileKind::StoredKeys;
        }
    }
    summaries
}

/// The widest a column is padded to.
const MAX_COLUMN: usize = 64;

fn render(
    summaries: &[ProfileSummary<'_>],
    json: bool,
    files: &ConfigFiles,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    if summaries.is_empty() {
        // A first run, or the wrong `AWS_CONFIG_FILE`: say where we looked and what to do, on
        // stderr, so that stdout keeps its shape: the header alone, or `[]` for `--json`.
        let read = FilesRead(
            [&files.config, &files.credentials]
                .into_iter()
                .map(|path| (path.clone(), path.is_file()))
                .collect(),
        );
        eprintln!(
            "assume-role: no profiles in {read}\n  hint: set up your own keys with `aws configure` (they become profile `default`)\n  hint: then add a client's role with `assume-role profile add NAME --role-arn ARN --source-profile default`\n  hint: if your profiles are in other files, point `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` at them"
        );
    }
    if json {
        let mut text = serde_json::to_string_pretty(summaries).expect("summaries serialize");
        text.push('\n');
        return print(&text);
    }
    // A column of its own only when a team registry wrote some of the profiles: which one, and
    // the commit it is pinned at.
    let origins: Vec<String> = if summaries.iter().any(|s| s.registry.is_some()) {
        let pins = crate::registry::list(ctx).unwrap_or_default();
        summaries
            .iter()
            .map(|s| match s.registry.as_deref() {
                Some(name) => pins.get(name).map_or_else(
                    || name.to_owned(),
                    |e| format!("{name}@{}", crate::registry::fetch::short(&e.commit)),
                ),
                None => "-".to_owned(),
            })
            .collect()
    } else {
        vec![String::new(); summaries.len()]
    };
    let rows: Vec<[&str; 7]> = summaries
        .iter()
        .zip(&origins)
        .map(|(s, origin)| row(s, origin))
        .collect();
    let registries = origins.iter().any(|o| !o.is_empty());
    let header = [
        "PROFILE",
        "KIND",
        "ROLE",
        "SOURCE",
        "MFA",
        "REGION",
        if registries { "REGISTRY" } else { "" },
    ];
    print(&table(header, &rows))
}

/// One row of the table; `origin` is the REGISTRY column's cell (empty when there is none).
fn row<'r>(s: &'r ProfileSummary<'_>, origin: &'r str) -> [&'r str; 7] {
    [
        &*s.name,
        s.kind.as_str(),
        s.role_arn.as_deref().unwrap_or("-"),
        s.source.as_deref().unwrap_or("-"),
        if s.mfa { "yes" } else { "no" },
        s.region.as_deref().unwrap_or("-"),
        origin,
    ]
}

/// Columns padded to their widest cell (up to [`MAX_COLUMN`]), the last one not padded.
pub(super) fn table<const N: usize>(header: [&str; N], rows: &[[&str; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            // One absurd value (a 100 KB line in a broken file) overflows its own column
            // instead of padding every row to its length.
            // Measured as printed: an escaped control character takes several columns.
            let shown = crate::rules::printable(cell).chars().count();
            *width = (*width).max(shown.min(MAX_COLUMN));
        }
    }
    let mut text = String::with_capacity((rows.len() + 1) * (widths.iter().sum::<usize>() + 12));
    for row in std::iter::once(&header).chain(rows) {
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let cell = crate::rules::printable(cell);
            text.push_str(&cell);
            if i + 1 < row.len() {
                // Padded by hand: `{:<width$}` panics on widths past `u16::MAX`.
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        // An empty last cell leaves the padding of the one before it.
        text.truncate(text.trim_end_matches(' ').len());
        text.push('\n');
    }
    text
}
