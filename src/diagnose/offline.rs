//! The checks made without the network: a profile resolved into the [`Plan`] a run would make,
//! and the problems that can be seen in it (a plan that cannot be made, a program that cannot
//! be run, an old stored key, missing `AWS_*` variables); every profile at once, one line
//! each; and the AWS files' own permissions. Kept apart from the report on one profile
//! (`explain`) because the list of every profile needs the problems, not the report.

use super::programs::Programs;
use super::{LABEL, Problem};
use crate::config::{Base, ConfigFiles, Overrides, Plan, Profiles};
use crate::context::Context;
use crate::exit::Exit;
use crate::process::HelperKind;
use crate::secret::mask_access_key;
use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

/// What the offline checks need besides a profile, kept across profiles: each program is
/// looked up once, however many profiles share it.
pub struct Checks<'c> {
    ctx: &'c Context,
    programs: Programs<'c>,
}

impl<'c> Checks<'c> {
    pub fn new(ctx: &'c Context) -> Self {
        Self {
            ctx,
            programs: Programs::new(ctx),
        }
    }

    /// The plan of `name` and the problems seen without the network.
    pub fn check(
        &mut self,
        profiles: &Profiles,
        name: &str,
        overrides: &Overrides,
    ) -> (Option<Plan>, Vec<Problem>) {
        let (programs, ctx) = (&mut self.programs, self.ctx);
        let plan = match Plan::resolve(profiles, name, overrides, ctx) {
            Ok(plan) => plan,
            Err(err) => return (None, vec![Problem::of(&err)]),
        };
        let mut problems: Vec<Problem> = profiles
            .misspellings_of(&plan)
            .into_iter()
            .map(|(profile, m)| Problem::advice(format!("profile `{profile}`: {m}"), vec![
                format!("rename it to `{}` if that is what it says; until then the profile runs without it", m.meant),
            ]))
            .collect();
        match &plan.base {
            Base::CredentialProcess { profile, command } => problems.extend(programs.check(
                HelperKind::CredentialProcess,
                profile,
                command,
                profiles,
            )),
            Base::StoredKeys { profile, .. } => {
                if let Some(entry) = profiles.stored_keys().get(profile) {
                    let days = entry.age_days(SystemTime::now());
                    if days > crate::keystore::ROTATE_AFTER_DAYS {
                        problems.push(Problem {
                            what: format!(
                                "the stored key {} of profile `{profile}` is {days} days old (over {})",
                                mask_access_key(&entry.access_key_id),
                                crate::keystore::ROTATE_AFTER_DAYS
                            ),
                            fixes: vec![format!(
                                "rotate it: `assume-role keys rotate {profile}` creates a new key, stores it, checks it and deletes the old one"
                            )],
                            exit: None,
                        });
                    }
                }
            }
            Base::Environment { profile } => {
                if let Err(err) = crate::assume::source::environment(profile, ctx) {
                    problems.push(Problem::of(&err));
                }
            }
            _ => {}
        }
        for hop in &plan.hops {
            if let Some(command) = hop.mfa.as_ref().and_then(|m| m.process.as_deref()) {
                problems.extend(programs.check(
                    HelperKind::MfaProcess,
                    &hop.profile,
                    command,
                    profiles,
                ));
            }
        }
        (Some(plan), problems)
    }

    /// Every profile, one line each, then the problems of the files themselves: the text to
    /// print and the exit code.
    pub fn every(&mut self, profiles: &Profiles, file_problems: &[Problem]) -> (String, Exit) {
        let names = profiles.names();
        let width = names.iter().map(|n| n.len()).fold(LABEL, usize::max);
        let mut out = String::new();
        let mut failing = 0;
        for name in &names {
            let (plan, problems) = self.check(profiles, name, &Overrides::default());
            match (problems.first(), &plan) {
                (None, Some(plan)) => {
                    let _ = writeln!(out, "{name:<width$} ok       {}", summary(plan));
                }
                (Some(first), _) => {
                    failing += 1;
                    let more = match problems.len() {
                        1 => String::new(),
                        n => format!(" (and {} more)", n - 1),
                    };
                    let _ = writeln!(out, "{name:<width$} problem  {}{more}", first.what);
                }
                (None, None) => unreachable!("a profile without a plan has a problem"),
            }
        }
        if names.is_empty() {
            let _ = writeln!(out, "no profiles in {}", profiles.files());
        }
        for problem in file_problems {
            out.push('\n');
            problem.render(&mut out);
        }
        let _ = writeln!(
            out,
            "\n{} checked: {} ok, {failing} with problems{}",
            counted(names.len(), "profile"),
            names.len() - failing,
            if failing > 0 {
                "; `assume-role doctor PROFILE` explains one"
            } else {
                ""
            }
        );
        // A list mixes profiles that fail in different ways: one code cannot say which.
        let exit = if failing > 0 || !file_problems.is_empty() {
            Exit::Failure
        } else {
            Exit::Success
        };
        (out, exit)
    }
}

fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// One line on what a plan does, for the list of every profile.
fn summary(plan: &Plan) -> String {
    let source = format!("{} of `{}`", plan.base.describe(), plan.base.profile());
    let mfa = if plan.hops.iter().any(|h| h.mfa.is_some()) {
        ", MFA"
    } else {
        ""
    };
    match plan.hops.len() {
        0 => format!("{source}, no role"),
        n => format!("{} from {source}{mfa}", counted(n, "role")),
    }
}

/// The AWS files, if other users can read or change them: the credentials file holds keys, and
/// the config file commands this tool runs (`credential_process`, `mfa_process`).
pub fn file_problems(files: &ConfigFiles) -> Vec<Problem> {
    let mut problems = Vec::new();
    for path in [&files.config, &files.credentials] {
        if let Some(what) = loose(path) {
            problems.push(Problem {
                what: format!("`{}` {what}", path.display()),
                fixes: vec![format!("make it private: `chmod 600 {}`", path.display())],
                exit: None,
            });
        }
    }
    problems
}

#[cfg(unix)]
fn loose(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    let who = match (mode & 0o044 != 0, mode & 0o022 != 0) {
        (_, true) => "can be changed by other users",
        (true, false) => "can be read by other users",
        (false, false) => return None,
    };
    Some(format!("{who} (mode {mode:o})"))
}

#[cfg(not(unix))]
fn loose(_path: &Path) -> Option<String> {
    // The per-user profile directory's ACL keeps the files private on Windows.
    None
}
