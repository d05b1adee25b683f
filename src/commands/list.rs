//! `assume-role list`: every profile, one row each, without resolving any chain.
//!
//! Parsing ten thousand profiles takes the SDK's parser tens of milliseconds, so the rows are
//! kept in a cached index, valid while both files keep their size, times and inode.

use super::print;
use crate::cache;
use crate::config::{ConfigFiles, Fingerprint, ProfileSummary, Profiles};
use crate::context::Context;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Serialize, Deserialize)]
struct Index<'a> {
    version: u32,
    fingerprint: Fingerprint,
    #[serde(borrow)]
    profiles: Vec<ProfileSummary<'a>>,
}

pub fn run(json: bool, ctx: &Context) -> Result<ExitCode, Error> {
    let files = ConfigFiles::locate(ctx);
    // Taken before reading, so that an edit during the parse invalidates what we store.
    let fingerprint = files.fingerprint();
    let index_path = ctx
        .cache_dir
        .as_ref()
        .map(|dir| dir.join(cache::LIST_INDEX));
    if let Some(path) = &index_path
        && let Some(bytes) = cache::read_bytes(path)
        && let Some(index) = cache::parse::<Index>(path, &bytes)
        && index.version == cache::FORMAT_VERSION
        && index.fingerprint == fingerprint
    {
        return render(&index.profiles, json);
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
    render(&summaries, json)
}

fn render(summaries: &[ProfileSummary<'_>], json: bool) -> Result<ExitCode, Error> {
    if json {
        let mut text = serde_json::to_string_pretty(summaries).expect("summaries serialize");
        text.push('\n');
        return print(&text);
    }
    let rows: Vec<[&str; 6]> = summaries
        .iter()
        .map(|s| {
            [
                &*s.name,
                s.kind.as_str(),
                s.role_arn.as_deref().unwrap_or("-"),
                s.source.as_deref().unwrap_or("-"),
                if s.mfa { "yes" } else { "no" },
                s.region.as_deref().unwrap_or("-"),
            ]
        })
        .collect();
    let header = ["PROFILE", "KIND", "ROLE", "SOURCE", "MFA", "REGION"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::with_capacity((rows.len() + 1) * (widths.iter().sum::<usize>() + 12));
    for row in std::iter::once(&header).chain(&rows) {
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        text.push('\n');
    }
    print(&text)
}
