//! `assume-role doctor [PROFILE]`: why a profile will or will not work.
//!
//! Offline by default: it resolves the same [`Plan`] a run would (no network, no code asked)
//! and explains it hop by hop, with where each value came from (`file:line`, a flag, the
//! environment, a default), the duration cap that applies and why, and what the cache holds.
//! Then it names every problem it can see without the network, each with its fix. `--live`
//! then tries it: `GetCallerIdentity` with the source credentials, and the chain as a run
//! with `--no-cache` makes it, explaining a refusal with what the trust policy must say.
//!
//! The exit code is that of the first problem a real run would fail with (so a loop is 3, an
//! `mfa_process` that is not installed 4, a refused role 5), or 1 for problems a run would
//! not fail on (a file others can read, an old key); 0 when there is none.

use super::print;
use crate::assume;
use crate::assume::AssumeError;
use crate::aws::StsCall;
use crate::aws::StsFailure;
use crate::aws::sts::{CallerIdentity, Sts};
use crate::cache::id::{self, Key};
use crate::cache::sessions::{Entry, Store};
use crate::cli::DoctorArgs;
use crate::config::{Base, ConfigFiles, Overrides, Plan, Profiles, RegionOrigin};
use crate::context::Context;
use crate::credentials::rfc3339;
use crate::duration::{self, CHAINED_MAX};
use crate::error::Error;
use crate::exit::Diagnose;
use crate::exit::Exit;
use crate::process::HelperKind;
use crate::secret::mask_access_key;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Labels are padded to this width, so that values line up.
const LABEL: usize = 13;

/// Something that would stop a profile or weakens it, and how to fix it.
struct Problem {
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

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "problem: {}", self.what);
        for fix in &self.fixes {
            let _ = writeln!(out, "  fix: {fix}");
        }
    }
}

/// The exit code for `problems`: the first a real run would fail with, else 1 if there are any.
fn exit_for<'a>(problems: impl IntoIterator<Item = &'a Problem>) -> Exit {
    let mut any = false;
    for problem in problems {
        if let Some(exit) = problem.exit {
            return exit;
        }
        any = true;
    }
    if any { Exit::Failure } else { Exit::Success }
}

pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<ExitCode, Error> {
    let mfa_token = super::mfa_token_flag(args.mfa_token.as_deref())?;
    let overrides = Overrides {
        mfa_token: mfa_token.clone(),
        duration: args.duration,
        session_name: args.session_name.clone(),
        external_id: args.external_id.clone(),
        region: args.region.clone(),
        no_session: false,
    };
    let files = ConfigFiles::locate(ctx);
    let profiles = Profiles::load_from(&files)?;
    let file_problems = file_problems(&files);
    let mut programs = Programs::new(ctx);
    let Some(name) = &args.profile else {
        return every(&profiles, &file_problems, &mut programs, ctx);
    };
    if profiles.get(name).is_none() {
        return Err(profiles.unknown(name, None).into());
    }
    let (plan, mut problems) = check(&profiles, name, &overrides, &mut programs, ctx);
    let mut out = String::new();
    match &plan {
        Some(plan) => explain(&mut out, plan, &profiles, &overrides, ctx),
        None => {
            let _ = writeln!(
                out,
                "profile `{name}` cannot be resolved into a plan; nothing is sent"
            );
        }
    }
    print(&out)?;
    if args.live {
        match &plan {
            Some(plan) => problems.extend(live(plan, &profiles, mfa_token, ctx)?),
            None => {
                print("\n`--live` skipped: the profile has a problem to fix first\n")?;
            }
        }
    }
    problems.extend(file_problems);
    let mut out = String::from("\n");
    if problems.is_empty() {
        out.push_str("no problems found\n");
    }
    for problem in &problems {
        problem.render(&mut out);
    }
    print(&out)?;
    Ok(exit_for(&problems).into())
}

/// Every profile, one line each, then the problems of the files themselves.
fn every(
    profiles: &Profiles,
    file_problems: &[Problem],
    programs: &mut Programs,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let names = profiles.names();
    let width = names.iter().map(|n| n.len()).fold(LABEL, usize::max);
    let mut out = String::new();
    let mut failing = 0;
    for name in &names {
        let (plan, problems) = check(profiles, name, &Overrides::default(), programs, ctx);
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
    print(&out)?;
    // A list mixes profiles that fail in different ways: one code cannot say which.
    Ok(if failing > 0 || !file_problems.is_empty() {
        Exit::Failure
    } else {
        Exit::Success
    }
    .into())
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

/// The plan of `name` and the problems seen without the network.
fn check(
    profiles: &Profiles,
    name: &str,
    overrides: &Overrides,
    programs: &mut Programs,
    ctx: &Context,
) -> (Option<Plan>, Vec<Problem>) {
    let plan = match Plan::resolve(profiles, name, overrides, ctx) {
        Ok(plan) => plan,
        Err(err) => return (None, vec![Problem::of(&err)]),
    };
    let mut problems = Vec::new();
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
                if days > super::keys::ROTATE_AFTER_DAYS {
                    problems.push(Problem {
                        what: format!(
                            "the stored key {} of profile `{profile}` is {days} days old (over {})",
                            mask_access_key(&entry.access_key_id),
                            super::keys::ROTATE_AFTER_DAYS
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

/// What the offline report is made from.
struct View<'a> {
    plan: &'a Plan,
    profiles: &'a Profiles,
    overrides: &'a Overrides,
    ctx: &'a Context,
    /// Whether there is a usable cache directory, and every session in it.
    store: bool,
    entries: HashMap<Key, Entry>,
    /// One key per hop; `None` when the source's identity is not known offline.
    keys: Option<Vec<Key>>,
    /// The MFA session the first hop is assumed from, if it takes that route.
    mfa_session: Option<Key>,
    now: SystemTime,
}

/// The plan, hop by hop: the whole offline report but its problems.
fn explain(
    out: &mut String,
    plan: &Plan,
    profiles: &Profiles,
    overrides: &Overrides,
    ctx: &Context,
) {
    let _ = writeln!(
        out,
        "profile `{}`, offline: nothing is sent and no MFA code is asked (`--live` tries it)\n",
        plan.profile
    );
    source_lines(out, plan, profiles, ctx);
    let store = Store::open(ctx);
    let view = View {
        plan,
        profiles,
        overrides,
        ctx,
        store: store.is_some(),
        entries: store
            .as_ref()
            .map(|s| s.entries().into_iter().collect())
            .unwrap_or_default(),
        keys: id::chain(plan, ctx),
        mfa_session: assume::first_hop_mfa_session_key(plan, ctx),
        now: SystemTime::now(),
    };
    for index in 0..plan.hops.len() {
        out.push('\n');
        view.hop_lines(out, index);
    }
    out.push('\n');
    let region_origin = match plan.region_origin {
        RegionOrigin::Flag => "`--region`".to_owned(),
        RegionOrigin::Profile => format!("`region`{}", at(profiles, &plan.profile, "region")),
        RegionOrigin::Environment => "`AWS_REGION` or `AWS_DEFAULT_REGION`".to_owned(),
        RegionOrigin::Settings => "`region` in the settings file (config.toml)".to_owned(),
        RegionOrigin::Default => {
            "the default, as nothing sets one (`--region`, `region` in the profile, `AWS_REGION`)"
                .to_owned()
        }
    };
    line(out, "region", &format!("{}: {region_origin}", plan.region));
}

impl View<'_> {
    /// Whether a flag given for the target applies to hop `index`.
    fn flag_applies(&self, index: usize) -> bool {
        index + 1 == self.plan.hops.len()
    }

    fn hop_lines(&self, out: &mut String, index: usize) {
        let (hop, profiles, overrides) = (&self.plan.hops[index], self.profiles, self.overrides);
        let p = hop.profile.as_str();
        let section = profiles
            .location(p, None)
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        line(
            out,
            &format!("hop {}", index + 1),
            &format!("profile `{p}`{section}"),
        );
        let account = crate::rules::role_arn(&hop.role_arn)
            .map(|a| format!(", in account {}", a.account))
            .unwrap_or_default();
        line(
            out,
            "role",
            &format!(
                "{}{account}: `role_arn`{}",
                hop.role_arn,
                at(profiles, p, "role_arn")
            ),
        );
        let external_id = match &hop.external_id {
            Some(value) if self.flag_applies(index) && overrides.external_id.is_some() => {
                format!(
                    "{}: `--external-id`",
                    crate::secret::mask_external_id(value)
                )
            }
            Some(value) => format!(
                "{}: `external_id`{}",
                crate::secret::mask_external_id(value),
                at(profiles, p, "external_id")
            ),
            None => "none".to_owned(),
        };
        line(out, "external ID", &external_id);
        self.mfa_lines(out, index);
        line(out, "duration", &self.duration_text(index));
        let session_name = if self.flag_applies(index) && overrides.session_name.is_some() {
            "`--session-name`".to_owned()
        } else if key_of(profiles, p, "role_session_name").is_some() {
            format!(
                "`role_session_name`{}",
                at(profiles, p, "role_session_name")
            )
        } else if crate::config::default_session_name(self.ctx.env.user_name.as_deref())
            == crate::config::default_session_name(None)
        {
            "the default, as `USER` gives no usable name".to_owned()
        } else {
            "your user name (`USER`), the default".to_owned()
        };
        line(
            out,
            "session name",
            &format!("{}: {session_name}", hop.session_name),
        );
        let cached = match (self.store, &self.keys) {
            (false, _) => "nothing: there is no cache directory".to_owned(),
            (true, None) => {
                "unknown: sessions are named after `AWS_ACCESS_KEY_ID`, which is not set".to_owned()
            }
            (true, Some(keys)) => cached(self.entries.get(&keys[index]), "role session", self.now),
        };
        line(out, "cache", &cached);
    }

    /// Whether hop `index` is assumed from an MFA session (only the first hop can be).
    fn assumed_from_mfa_session(&self, index: usize) -> bool {
        index == 0 && self.mfa_session.is_some()
    }
}

/// Where the base credentials come from.
fn source_lines(out: &mut String, plan: &Plan, profiles: &Profiles, ctx: &Context) {
    let p = plan.base.profile();
    let section = || {
        profiles
            .location(p, None)
            .map(|l| format!(" at {l}"))
            .unwrap_or_default()
    };
    match &plan.base {
        Base::StaticKeys {
            access_key_id,
            session_token,
            ..
        } => {
            line(
                out,
                "source",
                &format!(
                    "keys of profile `{p}`: `aws_access_key_id`{}",
                    at(profiles, p, "aws_access_key_id")
                ),
            );
            let kind = if session_token.is_some() {
                "temporary, with a session token"
            } else {
                "long-term"
            };
            line(
                out,
                "",
                &format!(
                    "access key {} ({kind}; its account shows with `--live`)",
                    mask_access_key(access_key_id)
                ),
            );
        }
        Base::StoredKeys { backend, .. } => {
            line(
                out,
                "source",
                &format!(
                    "the key stored for profile `{p}` by `assume-role keys` ({backend} backend)"
                ),
            );
            if let Some(entry) = profiles.stored_keys().get(p) {
                line(
                    out,
                    "",
                    &format!(
                        "access key {}, stored {} days ago",
                        mask_access_key(&entry.access_key_id),
                        entry.age_days(SystemTime::now())
                    ),
                );
            }
        }
        Base::Environment { .. } => environment_lines(out, p, profiles, ctx),
        Base::Ec2InstanceMetadata { .. } | Base::EcsContainer { .. } => line(
            out,
            "source",
            &format!(
                "{}: `credential_source`{}",
                plan.base.describe(),
                at(profiles, p, "credential_source")
            ),
        ),
        Base::CredentialProcess { command, .. } => line(
            out,
            "source",
            &format!(
                "`credential_process` of profile `{p}`{} (program `{}`)",
                at(profiles, p, "credential_process"),
                crate::process::program_name(command)
            ),
        ),
        Base::Sso { .. } => line(out, "source", &format!("SSO, profile `{p}`{}", section())),
        Base::WebIdentity { .. } => line(
            out,
            "source",
            &format!(
                "web identity: `web_identity_token_file`{}",
                at(profiles, p, "web_identity_token_file")
            ),
        ),
    }
}

/// `credential_source = Environment`, and whether the variables are there.
fn environment_lines(out: &mut String, p: &str, profiles: &Profiles, ctx: &Context) {
    line(
        out,
        "source",
        &format!(
            "`AWS_*` variables: `credential_source = Environment`{}",
            at(profiles, p, "credential_source")
        ),
    );
    let keys = match &ctx.env.env_credentials {
        Some(c) => format!(
            "access key {} from `AWS_ACCESS_KEY_ID`",
            mask_access_key(&c.access_key_id)
        ),
        None => "`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are not set".to_owned(),
    };
    line(out, "", &keys);
}

impl View<'_> {
    /// The MFA device of hop `index`, where its code comes from, and where the code goes.
    fn mfa_lines(&self, out: &mut String, index: usize) {
        let (plan, profiles) = (self.plan, self.profiles);
        let hop = &plan.hops[index];
        let p = hop.profile.as_str();
        let Some(mfa) = &hop.mfa else {
            line(out, "MFA", "none");
            return;
        };
        line(
            out,
            "MFA",
            &format!(
                "{}: `mfa_serial`{}",
                mfa.serial,
                at(profiles, p, "mfa_serial")
            ),
        );
        let first_code = plan.hops.iter().position(|h| h.mfa.is_some());
        let code = if self.overrides.mfa_token.is_some() && first_code == Some(index) {
            "`--mfa-token`".to_owned()
        } else if let Some(command) = &mfa.process {
            format!(
                "`mfa_process`{} (program `{}`)",
                at(profiles, p, "mfa_process"),
                crate::process::program_name(command)
            )
        } else {
            "a prompt on the terminal (or `--mfa-token`)".to_owned()
        };
        line(out, "MFA code", &format!("from {code}"));
        if !self.assumed_from_mfa_session(index) {
            let why = if hop.chained {
                "its source is a role session, which cannot make an MFA session"
            } else if hop.duration.is_some_and(|d| d > CHAINED_MAX) {
                "over 1h is asked for, more than a role assumed from an MFA session may have"
            } else {
                "its source keys are not long-term keys, which an MFA session needs"
            };
            line(out, "", &format!("it goes to AssumeRole itself: {why}"));
            return;
        }
        let length = match key_of(profiles, p, "mfa_session_duration") {
            Some(_) => format!(
                "`mfa_session_duration`{}",
                at(profiles, p, "mfa_session_duration")
            ),
            None => "the default".to_owned(),
        };
        line(
            out,
            "",
            &format!(
                "it buys an MFA session (GetSessionToken) of {} ({length}); roles with this device are then assumed from it without a code",
                duration::display(mfa.session_duration)
            ),
        );
        let entry = self.mfa_session.as_ref().and_then(|k| self.entries.get(k));
        line(out, "MFA session", &cached(entry, "MFA session", self.now));
    }

    /// The session length hop `index` asks for, where that came from, and the cap that
    /// applies.
    fn duration_text(&self, index: usize) -> String {
        let plan = self.plan;
        let hop = &plan.hops[index];
        let asked = match hop.duration {
            Some(d) if self.flag_applies(index) && self.overrides.duration.is_some() => {
                format!("{}: `--duration`", duration::display(d))
            }
            Some(d) => format!(
                "{}: `duration_seconds`{}",
                duration::display(d),
                at(self.profiles, &hop.profile, "duration_seconds")
            ),
            None => "1h: STS's default (no `duration_seconds`)".to_owned(),
        };
        let cap = if hop.chained {
            let from = match index {
                0 => format!("{} credentials, which are a role's", plan.base.describe()),
                i => format!("the session of hop {i}"),
            };
            format!("at most 1h: role chaining, as it is assumed from {from}")
        } else if self.assumed_from_mfa_session(index) {
            "at most 1h: it is assumed from an MFA session, which AWS counts as role chaining (ask for more and the code goes to AssumeRole itself)".to_owned()
        } else {
            "at most 12h, and no more than the role's MaxSessionDuration (the client sets it; 1h unless raised)".to_owned()
        };
        format!("{asked}; {cap}")
    }
}

/// What the cache holds for one session, and whether a run would use it.
fn cached(entry: Option<&Entry>, what: &str, now: SystemTime) -> String {
    let Some(entry) = entry else {
        return "nothing".to_owned();
    };
    let left = entry.remaining(now);
    if left.is_zero() {
        return format!("a {what} that has expired; a run makes a new one");
    }
    let until = rfc3339(entry.expires());
    let left_text = duration::display(Duration::from_secs(left.as_secs() / 60 * 60));
    if left <= entry.margin() {
        format!(
            "a {what} until {until} ({left_text} left): too close to expiry, a run makes a new one"
        )
    } else {
        format!("a {what} until {until} ({left_text} left): a run uses it")
    }
}

/// The programs of `mfa_process` and `credential_process` lines: whether each can be run. Each
/// command is looked at once, however many profiles share it.
struct Programs<'c> {
    ctx: &'c Context,
    seen: HashMap<String, Option<(String, String)>>,
}

/// Shell words that are not programs to find: builtins and keywords of `sh`.
const SHELL_WORDS: &[&str] = &[
    ".", ":", "[", "!", "{", "(", "alias", "break", "case", "cd", "echo", "eval", "exit", "export",
    "false", "for", "if", "printf", "pwd", "read", "set", "source", "test", "true", "type",
    "ulimit", "umask", "unset", "until", "while",
];

impl<'c> Programs<'c> {
    fn new(ctx: &'c Context) -> Self {
        Self {
            ctx,
            seen: HashMap::new(),
        }
    }

    /// The problem with `command`, the `kind` line of `profile`, if it cannot be run.
    fn check(
        &mut self,
        kind: HelperKind,
        profile: &str,
        command: &str,
        profiles: &Profiles,
    ) -> Option<Problem> {
        let ctx = self.ctx;
        let (what, fix) = self
            .seen
            .entry(command.to_owned())
            .or_insert_with(|| program_problem(command, ctx))
            .clone()?;
        let key = match kind {
            HelperKind::MfaProcess => "mfa_process",
            HelperKind::CredentialProcess => "credential_process",
        };
        Some(Problem {
            what: format!(
                "{kind} of profile `{profile}`{}: {what}",
                at(profiles, profile, key)
            ),
            fixes: vec![fix.replace("{key}", key)],
            // What the run's own error for a helper that cannot start would exit with.
            exit: Some(match kind {
                HelperKind::MfaProcess => Exit::Mfa,
                HelperKind::CredentialProcess => Exit::Denied,
            }),
        })
    }
}

/// Why the program `command` starts cannot be run, and the fix (`{key}` names the setting);
/// `None` when it can, or when that cannot be told without running it (a variable, a shell
/// builtin). Only the program is named, never its arguments: they may hold a TOTP seed.
fn program_problem(command: &str, ctx: &Context) -> Option<(String, String)> {
    // `cmd /C` on Windows finds programs by rules of its own.
    if cfg!(windows) {
        return None;
    }
    let Some(words) = shlex::split(command) else {
        return Some((
            "it is not a complete shell command (a quote is not closed)".into(),
            "close the quote in `{key}`".into(),
        ));
    };
    let mut words = words
        .into_iter()
        .skip_while(|w| is_assignment(w))
        .peekable();
    let mut program = words.next()?;
    if program == "exec" || program == "command" {
        program = words.find(|w| !w.starts_with('-'))?;
    }
    if SHELL_WORDS.contains(&program.as_str()) || program.contains(['$', '`', '*', '?']) {
        return None;
    }
    let path = if let Some(rest) = program.strip_prefix("~/") {
        ctx.paths.home.as_ref()?.join(rest)
    } else if program.contains('/') {
        PathBuf::from(&program)
    } else {
        let found = ctx.env.path.as_ref().and_then(|dirs| {
            std::env::split_paths(dirs)
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(|dir| dir.join(&program))
                .find(|candidate| candidate.is_file())
        });
        match found {
            Some(path) => path,
            None => {
                return Some((
                    format!("the program `{program}` is not on `PATH`"),
                    format!("install `{program}`, or write its full path in `{{key}}`"),
                ));
            }
        }
    };
    let shown = path.display().to_string();
    match std::fs::metadata(&path) {
        Err(_) => Some((
            format!("the program `{shown}` does not exist"),
            "fix the path in `{key}`".into(),
        )),
        Ok(meta) if !meta.is_file() || !is_executable(&meta) => Some((
            format!("the program `{shown}` is not executable"),
            format!("make it executable: `chmod +x {shown}`"),
        )),
        Ok(_) => None,
    }
}

/// `NAME=value`, which `sh` takes as a variable for the command that follows.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

/// The AWS files, if other users can read or change them: the credentials file holds keys, and
/// the config file commands this tool runs (`credential_process`, `mfa_process`).
fn file_problems(files: &ConfigFiles) -> Vec<Problem> {
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

/// `--live`: the source's identity, then the chain made as a run with `--no-cache` makes it.
/// Returns the problem that stopped it, if any.
fn live(
    plan: &Plan,
    profiles: &Profiles,
    mfa_token: Option<crate::secret::OneTimeCode>,
    ctx: &Context,
) -> Result<Option<Problem>, Error> {
    let runtime = assume::runtime()?;
    runtime.block_on(async {
        let sts = match Sts::new(plan, ctx).await {
            Ok(sts) => sts,
            Err(err) => return Ok(Some(Problem::of(&err))),
        };
        print(&format!(
            "\nlive          calls to STS at {}: GetCallerIdentity, then the chain\n",
            sts.endpoint()
        ))?;
        let source =
            match crate::assume::source::base_credentials(&plan.base, &plan.region, ctx).await {
                Ok(creds) => creds,
                Err(err) => {
                    print("source        cannot be had\n")?;
                    return Ok(Some(Problem::of(&err)));
                }
            };
        let who = format!("profile `{}`", plan.base.profile());
        let caller = match sts.get_caller_identity(&source, &who).await {
            Ok(identity) => identity,
            Err(err) => {
                print("source        refused\n")?;
                return Ok(Some(Problem::of(&err)));
            }
        };
        print(&format!(
            "source        works: {}, account {}\n",
            caller.arn, caller.account
        ))?;
        if plan.hops.is_empty() {
            return Ok(None);
        }
        let store = Store::open(ctx);
        let opts = assume::Options {
            no_cache: true,
            min_valid: Duration::ZERO,
            mfa_token,
            prepared: None,
        };
        match assume::obtain(plan, store.as_ref(), &opts, ctx).await {
            Ok((creds, _)) => {
                let mut out = String::new();
                for (index, hop) in plan.hops.iter().enumerate() {
                    line(
                        &mut out,
                        &format!("hop {}", index + 1),
                        &format!("assumed {}", hop.role_arn),
                    );
                }
                let who = format!("profile `{}`", plan.profile);
                match sts.get_caller_identity(&creds, &who).await {
                    Ok(identity) => {
                        let until = creds.expiration.map(rfc3339).unwrap_or_default();
                        line(
                            &mut out,
                            "result",
                            &format!("{}, until {until}", identity.arn),
                        );
                        print(&out)?;
                        Ok(None)
                    }
                    Err(err) => {
                        print(&out)?;
                        Ok(Some(Problem::of(&err)))
                    }
                }
            }
            Err(err) => chain_failed(&err, plan, &caller, profiles).map(Some),
        }
    })
}

/// The hops that worked, the one that failed, and the fix: for a refused `AssumeRole`, what
/// the trust policy must say for this caller.
fn chain_failed(
    err: &AssumeError,
    plan: &Plan,
    caller: &CallerIdentity,
    profiles: &Profiles,
) -> Result<Problem, Error> {
    let failed = failed_hop(err, plan);
    let mut out = String::new();
    for index in 0..failed.unwrap_or(0) {
        line(
            &mut out,
            &format!("hop {}", index + 1),
            &format!("assumed {}", plan.hops[index].role_arn),
        );
    }
    if let Some(index) = failed {
        line(&mut out, &format!("hop {}", index + 1), "failed");
    }
    print(&out)?;
    let fixes = match (err, failed) {
        (
            AssumeError::Aws(crate::aws::AwsError::Sts {
                call: StsCall::AssumeRole,
                failure: StsFailure::AccessDenied,
                ..
            }),
            Some(index),
        ) => trust_hints(plan, index, caller, profiles),
        _ => err.hints(),
    };
    Ok(Problem {
        what: err.to_string(),
        fixes,
        exit: Some(err.exit()),
    })
}

/// Which hop an error of the chain is about, by the profile it names.
fn failed_hop(err: &AssumeError, plan: &Plan) -> Option<usize> {
    use crate::aws::AwsError as Aws;
    use crate::mfa::MfaError as Mfa;
    use crate::process::ProcessError as Process;
    let (AssumeError::Aws(
        Aws::Sts { profile, .. }
        | Aws::Unreachable { profile, .. }
        | Aws::BadResponse { profile, .. },
    )
    | AssumeError::Mfa(
        Mfa::MfaUnavailable { profile, .. }
        | Mfa::MfaProcess { profile, .. }
        | Mfa::Process(
            Process::HelperFailed { profile, .. } | Process::HelperTimeout { profile, .. },
        ),
    )
    | AssumeError::Process(
        Process::HelperFailed { profile, .. } | Process::HelperTimeout { profile, .. },
    )) = err
    else {
        return None;
    };
    plan.hops.iter().position(|h| &h.profile == profile)
}

/// A refused `AssumeRole`, explained with what is known now: who asked (from
/// `GetCallerIdentity`), what was sent, and so what the role's trust policy and the caller's own
/// policies must say. Most likely first: the external ID, then MFA, the principal, the
/// permission.
fn trust_hints(
    plan: &Plan,
    index: usize,
    caller: &CallerIdentity,
    profiles: &Profiles,
) -> Vec<String> {
    let hop = &plan.hops[index];
    let p = hop.profile.as_str();
    let principal = match index {
        0 => role_of_session(&caller.arn).unwrap_or_else(|| caller.arn.clone()),
        i => plan.hops[i - 1].role_arn.clone(),
    };
    let account = crate::rules::iam_arn(&principal)
        .map_or_else(|| caller.account.clone(), |a| a.account.to_owned());
    let partition = crate::rules::iam_arn(&principal).map_or("aws", |a| a.partition);
    let mut hints = Vec::new();
    hints.push(match &hop.external_id {
        Some(value) => format!(
            "the external ID sent, {}, must equal the `sts:ExternalId` of the role's trust policy exactly: it is case-sensitive (`external_id`{})",
            crate::secret::mask_external_id(value),
            at(profiles, p, "external_id")
        ),
        None => format!(
            "no external ID was sent: if the trust policy has an `sts:ExternalId` condition, add `external_id = …` to profile `{p}`"
        ),
    });
    hints.push(match &hop.mfa {
        Some(mfa) => format!(
            "MFA was used (`{}`), so a trust-policy condition on `aws:MultiFactorAuthPresent` is met",
            mfa.serial
        ),
        None => format!(
            "no MFA was used: if the trust policy requires `aws:MultiFactorAuthPresent`, add `mfa_serial` (and `mfa_process`) to profile `{p}`"
        ),
    });
    hints.push(format!(
        "the trust policy's `Principal` must name `{principal}` or its account (`arn:{partition}:iam::{account}:root`)"
    ));
    hints.push(format!(
        "`{principal}` needs a policy of its own allowing `sts:AssumeRole` on `{}`: `assume-role onboard contractor-policy --role-arn {}` prints one",
        hop.role_arn, hop.role_arn
    ));
    hints
}

/// The role of an assumed-role session ARN (`arn:aws:sts::1:assumed-role/R/s` →
/// `arn:aws:iam::1:role/R`), which is what a trust policy names.
fn role_of_session(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "sts", _, account, resource] = parts[..] else {
        return None;
    };
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_masked() {
        assert_eq!(
            crate::secret::mask_external_id("abcdefghijklmnopqrstuvwx"),
            "set (ab…wx, 24 chars)"
        );
        assert_eq!(crate::secret::mask_external_id("short"), "set (5 chars)");
    }

    // Windows leaves the lookup to `cmd /C`, so doctor checks no programs there.
    #[cfg(unix)]
    #[test]
    fn programs_are_found_as_sh_would() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            env: crate::env::Env {
                path: Some(dir.path().as_os_str().to_owned()),
                ..crate::env::Env::default()
            },
            ..Context::default()
        };
        assert_eq!(program_problem("echo 123456", &ctx), None);
        assert_eq!(program_problem("X=1 $HOME/bin/totp", &ctx), None);
        let missing = program_problem("FOO=bar totp-cli --seed s3cr3t", &ctx).unwrap();
        assert!(
            missing.0.contains("`totp-cli` is not on `PATH`"),
            "{missing:?}"
        );
        assert!(!missing.0.contains("s3cr3t") && !missing.1.contains("s3cr3t"));
        assert!(
            program_problem("'unclosed", &ctx)
                .unwrap()
                .0
                .contains("quote")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let program = dir.path().join("totp");
            std::fs::write(&program, "#!/bin/sh\necho 123456\n").unwrap();
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                program_problem("totp", &ctx)
                    .unwrap()
                    .0
                    .contains("not executable")
            );
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(program_problem("exec totp now", &ctx), None);
        }
    }

    #[test]
    fn a_session_arn_names_its_role() {
        assert_eq!(
            role_of_session("arn:aws:sts::222222222222:assumed-role/admin/tester").as_deref(),
            Some("arn:aws:iam::222222222222:role/admin")
        );
        assert_eq!(role_of_session("arn:aws:iam::111111111111:user/me"), None);
    }
}
