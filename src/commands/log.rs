//! `assume-role log`: the audit log, as a table to paste into a reply to a client's security
//! team, or as its raw JSON lines.

use super::list::table;
use super::print;
use crate::audit::{self, Entry};
use crate::cli::LogArgs;
use crate::context::Context;
use crate::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn run(args: &LogArgs, ctx: &Context) -> Result<ExitCode, Error> {
    if !ctx.audit_on() {
        eprintln!(
            "assume-role: the audit log is switched off (`ASSUME_ROLE_AUDIT`); showing what it holds from before"
        );
    }
    let Some(dir) = ctx.paths.state_dir.as_deref() else {
        eprintln!(
            "assume-role: there is no state directory to keep an audit log in\n  hint: set `ASSUME_ROLE_STATE_DIR` to a private directory"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let (entries, skipped) = audit::read(dir)?;
    for s in &skipped {
        // The reason quotes the line, which anyone who could write the file chose.
        eprintln!(
            "assume-role: skipping `{}:{}`: not an audit record ({})",
            crate::error::printable(&s.path.display().to_string()),
            s.line,
            crate::error::printable(&s.reason)
        );
    }
    let now = SystemTime::now();
    let since = args
        .since
        .map(|age| epoch(now.checked_sub(age).unwrap_or(UNIX_EPOCH)));
    let shown: Vec<&Entry> = entries
        .iter()
        .filter(|e| args.profile.as_ref().is_none_or(|p| *p == e.record.profile))
        .filter(|e| since.is_none_or(|since| e.record.epoch_secs().is_some_and(|t| t >= since)))
        .collect();
    if shown.is_empty() {
        let mut what = String::new();
        if let Some(profile) = &args.profile {
            let _ = write!(what, " for profile `{profile}`");
        }
        if let Some(age) = args.since {
            let days = age.as_secs() / 86_400;
            let age = if days > 0 && age.as_secs() % 86_400 == 0 {
                format!("{days}d")
            } else {
                crate::duration::display(age)
            };
            let _ = write!(what, " in the last {age}");
        }
        eprintln!(
            "assume-role: no audit records{what} in `{}`",
            dir.join(audit::FILE).display()
        );
    }
    if args.json {
        let mut text = String::new();
        for entry in &shown {
            text.push_str(&entry.line);
            text.push('\n');
        }
        return print(&text);
    }
    print(&render(&shown))
}

fn epoch(time: SystemTime) -> i64 {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

const HEADER: [&str; 10] = [
    "TIME (UTC)",
    "PROFILE",
    "WHO",
    "ROLE",
    "ACCOUNT",
    "VALID UNTIL (UTC)",
    "COMMAND",
    "FROM",
    "OUTCOME",
    "DETAIL",
];

/// The table: one row per record, times in UTC as written (the header says so), so that a
/// reader in another time zone reads the same times as CloudTrail shows.
fn render(entries: &[&Entry]) -> String {
    let rows: Vec<[String; 10]> = entries.iter().map(|e| row(e)).collect();
    let rows: Vec<[&str; 10]> = rows
        .iter()
        .map(|r| r.each_ref().map(String::as_str))
        .collect();
    table(HEADER, &rows)
}

fn row(entry: &Entry) -> [String; 10] {
    let r = &entry.record;
    let dash = || "-".to_owned();
    let who = match (&r.session_name, &r.source_identity) {
        (Some(name), Some(identity)) => format!("{name} (source identity {identity})"),
        (Some(name), None) => name.clone(),
        (None, Some(identity)) => format!("(source identity {identity})"),
        (None, None) => dash(),
    };
    let until = r.expires.as_deref().map_or_else(dash, |expires| {
        let lifetime = audit::epoch_secs(expires)
            .zip(r.epoch_secs())
            .and_then(|(end, start)| u64::try_from(end - start).ok())
            // To the minute: seconds of clock skew are not what a reader asks about.
            .map(|secs| Duration::from_secs(secs.div_ceil(60) * 60));
        match lifetime {
            Some(lifetime) => format!(
                "{} ({})",
                readable(expires),
                crate::duration::display(lifetime)
            ),
            None => readable(expires),
        }
    });
    let command = match &r.program {
        Some(program) => format!("{} {program}", r.command),
        None => r.command.clone(),
    };
    [
        readable(&r.time),
        r.profile.clone(),
        who,
        r.role_arn.clone().unwrap_or_else(dash),
        r.account.clone().unwrap_or_else(dash),
        until,
        command,
        r.served.map_or_else(dash, |s| s.as_str().to_owned()),
        r.outcome.as_str().to_owned(),
        r.error.clone().unwrap_or_default(),
    ]
}

/// `2026-11-30T20:31:02Z` as `2026-11-30 20:31:02`: the header says UTC.
fn readable(time: &str) -> String {
    time.trim_end_matches('Z').replacen('T', " ", 1)
}
