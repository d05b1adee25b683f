//! `assume-role list`: every profile, one row each, without resolving any chain.

use super::print;
use crate::config::Profiles;
use crate::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn run(json: bool) -> Result<ExitCode, Error> {
    let summaries = Profiles::load()?.summaries();
    if json {
        let mut text = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        text.push('\n');
        return print(&text);
    }
    let rows: Vec<[&str; 6]> = summaries
        .iter()
        .map(|s| {
            [
                s.name.as_str(),
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
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        text.push_str(&line);
        text.push('\n');
    }
    print(&text)
}
