//! `assume-role cache list|clear`: what is cached, never a secret.

use super::print;
use crate::cache::sessions::Store;
use crate::cli::CacheCommand;
use crate::context::Context;
use crate::credentials::rfc3339;
use crate::duration;
use crate::error::Error;
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::SystemTime;

#[derive(Serialize)]
struct Row<'a> {
    profile: &'a str,
    role_arn: Option<&'a str>,
    mfa_serial: Option<&'a str>,
    kind: &'a str,
    expiration: String,
    remaining_seconds: u64,
}

pub fn run(command: CacheCommand, ctx: &Context) -> Result<ExitCode, Error> {
    let Some(store) = Store::open(ctx) else {
        eprintln!("assume-role: there is no cache directory (set `ASSUME_ROLE_CACHE_DIR`)");
        return Ok(ExitCode::SUCCESS);
    };
    match command {
        CacheCommand::List { json } => list(&store, json),
        CacheCommand::Clear { profile } => {
            let removed = store
                .clear(profile.as_deref())
                .map_err(|source| Error::Cache {
                    path: store.root().to_path_buf(),
                    source,
                })?;
            let scope = profile
                .map(|p| format!(" of profile `{p}`"))
                .unwrap_or_default();
            eprintln!("assume-role: removed {removed} cached session(s){scope}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(store: &Store, json: bool) -> Result<ExitCode, Error> {
    let now = SystemTime::now();
    let entries = store.entries();
    let rows: Vec<Row> = entries
        .iter()
        .map(|(_, e)| Row {
            profile: &e.profile,
            role_arn: e.role_arn.as_deref(),
            mfa_serial: e.mfa_serial.as_deref(),
            kind: e.kind.as_str(),
            expiration: rfc3339(e.expires()),
            remaining_seconds: e.remaining(now).as_secs(),
        })
        .collect();
    if json {
        let mut text = serde_json::to_string_pretty(&rows).expect("rows serialize");
        text.push('\n');
        return print(&text);
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<24} {:<13} {:<22} {:<10} ROLE / MFA DEVICE",
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
            "{:<24} {:<13} {:<22} {:<10} {target}",
            row.profile, row.kind, row.expiration, left
        );
    }
    print(&text)
}
