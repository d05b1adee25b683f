//! Why a profile will or will not work: what `assume-role doctor` checks, and what it finds.
//!
//! Offline by default: it resolves the same [`Plan`](crate::config::Plan) a run would (no network, no code asked)
//! and explains it hop by hop, with where each value came from (`file:line`, a flag, the
//! environment, a default), the duration cap that applies and why, and what the cache holds.
//! Then it names every problem it can see without the network, each with its fix. The live
//! check then tries it: `GetCallerIdentity` with the source credentials, and the chain as a
//! run with `--no-cache` makes it, explaining a refusal with what the trust policy must say.
//!
//! The exit code is that of the first problem a real run would fail with (so a loop is 3, an
//! `mfa_process` that is not installed 4, a refused role 5), or 1 for problems a run would
//! not fail on (a file others can read, an old key); 0 when there is none.
//!
//! This is the logic only, below `commands`: it returns the report as text and the problems
//! as data, and writes nothing to stdout; `commands::doctor` prints them and exits. The live
//! check, which prints as it goes, hands its lines to a sink the command passes in.
//!
//! - `offline`: a profile's plan and the problems seen without the network; every profile
//!   at once; the AWS files' permissions.
//! - `explain`: the offline report, the plan hop by hop.
//! - `programs`: whether the programs of `mfa_process` and `credential_process` can be run.
//! - `live`: the source's identity and the chain, against STS.
//! - `trust`: what a role's trust policy must say when `AssumeRole` is refused.

mod explain;
mod live;
mod offline;
mod programs;
mod trust;

pub use explain::explain;
pub use live::{Sink, live};
pub use offline::{Checks, file_problems};

use crate::config::Profiles;
use crate::exit::Diagnose;
use crate::exit::Exit;
use std::fmt::Write as _;

/// Labels are padded to this width, so that values line up.
const LABEL: usize = 13;

/// Something that would stop a profile or weakens it, and how to fix it.
pub struct Problem {
    what: String,
    fixes: Vec<String>,
    /// The code a real run fails with because of it; `None` when a run would still work.
    exit: Option<Exit>,
}

impl Problem {
    /// An error a real run would stop with: its message, hints and exit code.
    fn of(err: &dyn Diagnose) -> Self {
        Self {
            what: err.to_string(),
            fixes: err.hints(),
            exit: Some(err.exit()),
        }
    }

    /// Something to fix that a run still gets past (it may be refused for it later).
    fn advice(what: String, fixes: Vec<String>) -> Self {
        Self {
            what,
            fixes,
            exit: None,
        }
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "problem: {}", self.what);
        for fix in &self.fixes {
            let _ = writeln!(out, "  fix: {fix}");
        }
    }
}

/// The exit code for `problems`: the first a real run would fail with, else 1 if there are any.
pub fn exit_for<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> Exit {
    let mut any = false;
    for problem in problems {
        if let Some(exit) = problem.exit {
            return exit;
        }
        any = true;
    }
    if any { Exit::Failure } else { Exit::Success }
}

/// The end of the report on one profile: its problems, each with its fixes, after a blank line.
pub fn problems_text(problems: &[Problem]) -> String {
    let mut out = String::from("\n");
    if problems.is_empty() {
        out.push_str("no problems found\n");
    }
    for problem in problems {
        problem.render(&mut out);
    }
    out
}

/// `" at FILE:LINE"` for `key` of `profile`, or nothing when the line is not known.
fn at(profiles: &Profiles, profile: &str, key: &str) -> String {
    profiles
        .location(profile, Some(key))
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

/// A profile key's value, as the plan reads it (empty counts as unset).
fn key_of<'a>(profiles: &'a Profiles, profile: &str, key: &str) -> Option<&'a str> {
    profiles
        .get(profile)
        .and_then(|p| p.get(key))
        .filter(|v| !v.is_empty())
}

fn line(out: &mut String, label: &str, text: &str) {
    let _ = writeln!(out, "{label:<LABEL$} {text}");
}
