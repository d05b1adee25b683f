//! `assume-role each`: one command for every profile that matches, several at a time.
//!
//! Three phases, each finished before the next begins, so that nothing asks for anything once a
//! command runs and no command starts with a prompt still to come:
//! 1. every MFA code is asked for, in turn on the terminal, one per session it buys (profiles
//!    that share a source and a device share one MFA session, so one code serves them all);
//! 2. every profile's credentials are obtained, `-j` at a time, with those codes;
//! 3. the commands run, `-j` at a time, their output merged line by line.
//!
//! A profile without credentials is reported and left out, unless `--fail-fast`.

use super::exec::give_session;
use crate::assume::{self, CodeFor, CodeNeed, Prepared};
use crate::cache::codes;
use crate::cache::sessions::Store;
use crate::cli::EachArgs;
use crate::config::{ConfigFiles, Overrides, Plan, Profiles};
use crate::context::Context;
use crate::credentials::Session;
use crate::error::Error;
use crate::fanout::children::{self, Job, Outcome, Stop};
use crate::fanout::map_bounded;
use crate::fanout::summary::{self, Ending};
use crate::fanout::terminal::Console;
use crate::mfa;
use crate::secret::OneTimeCode;
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &EachArgs, ctx: &Context) -> Result<ExitCode, Error> {
    let (mut overrides, mut opts) = super::credential_inputs(&args.options)?;
    // `--mfa-token` is one code for the whole run: the first session that needs a code gets it.
    let flag = opts.mfa_token.take();
    overrides.mfa_token = None;
    let timeout = ctx.env.process_timeout()?;
    let profiles = Profiles::load_from(&ConfigFiles::locate(ctx))?;
    let names = matching(&profiles, &args.patterns)?;
    let parallel = parallelism(args.jobs, ctx.settings.jobs);
    tracing::info!(profiles = names.len(), parallel, "each");
    let mut each = Each {
        names: &names,
        endings: names.iter().map(|_| None).collect(),
        console: Arc::new(Console::for_process()),
        fail_fast: args.fail_fast,
    };
    let store = Store::open(ctx);

    let plans = each.plans(&profiles, &overrides, ctx);
    if each.stopping() {
        return Ok(each.finish(Some(Stop::Failure)));
    }
    if opts.no_cache {
        forget_sessions(&plans, store.as_ref(), ctx);
        opts.no_cache = false;
    }
    let codes = Codes {
        store: store.as_ref(),
        timeout,
        flag,
    };
    opts.prepared = Some(each.collect_codes(&plans, codes, &opts, ctx));
    if each.stopping() {
        return Ok(each.finish(Some(Stop::Failure)));
    }
    let program = args
        .command
        .first()
        .map(|p| crate::audit::program_name(p))
        .unwrap_or_default();
    let via = crate::audit::Via::Each { program: &program };
    let sessions = each.obtain(plans, store.as_ref(), &opts, parallel, via, ctx);
    if each.stopping() {
        return Ok(each.finish(Some(Stop::Failure)));
    }

    let mut words = args.command.iter();
    let program = words.next().cloned().unwrap_or_default();
    let rest: Vec<_> = words.collect();
    let (indices, jobs): (Vec<usize>, Vec<Job>) = sessions
        .into_iter()
        .enumerate()
        .filter_map(|(index, session)| {
            let session = session?;
            let mut command = crate::process::child(&program);
            command.args(&rest);
            give_session(&mut command, &session, ctx);
            let job = Job {
                name: names[index].clone(),
                command,
            };
            Some((index, job))
        })
        .unzip();
    let (outcomes, stop) = children::run_all(jobs, parallel, args.fail_fast, &each.console);
    for (index, outcome) in indices.into_iter().zip(outcomes) {
        each.endings[index] = Some(Ending::Ran(outcome));
    }
    Ok(each.finish(stop))
}

/// `--no-cache` for a whole run: every profile gets fresh sessions, but the run shares what it
/// makes, as profiles that share an MFA session must (its code cannot be used twice). So the
/// sessions the plans would use are removed first, and the run then uses the cache as usual:
/// what it finds there, it made itself.
fn forget_sessions(plans: &[Option<Plan>], store: Option<&Store>, ctx: &Context) {
    let Some(store) = store else { return };
    for plan in plans.iter().flatten() {
        let serving = crate::obtain::Serving::of(plan, ctx);
        for key in serving
            .role_sessions
            .into_iter()
            .flatten()
            .chain(serving.mfa_session)
        {
            store.remove(&key);
        }
    }
}

/// How many at once: `-j`, else the settings file's `jobs`, else the number of CPUs. Both take
/// the same range, 1 to 65535.
fn parallelism(flag: Option<u16>, setting: Option<std::num::NonZeroU16>) -> usize {
    match (flag, setting) {
        (Some(n), _) => usize::from(n),
        (None, Some(n)) => usize::from(n.get()),
        (None, None) => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    }
}

/// The profiles the patterns match, in the order of the patterns (each one's matches sorted),
/// each once. A pattern that matches nothing is an error that names it: a typo must not
/// quietly shrink the run.
fn matching(profiles: &Profiles, patterns: &[String]) -> Result<Vec<String>, Error> {
    let names = profiles.names();
    let mut seen = HashSet::new();
    let mut chosen = Vec::new();
    for pattern in patterns {
        let matcher = glob(pattern, false)?;
        let hits: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| matcher.is_match(name))
            .collect();
        if hits.is_empty() {
            return Err(no_match(profiles, &names, pattern));
        }
        for name in hits {
            if seen.insert(name) {
                chosen.push(name.to_owned());
            }
        }
    }
    Ok(chosen)
}

fn glob(pattern: &str, case_insensitive: bool) -> Result<globset::GlobMatcher, Error> {
    globset::GlobBuilder::new(pattern)
        // The same on every platform: `\*` is a literal star, not a Windows path separator.
        .backslash_escape(true)
        .case_insensitive(case_insensitive)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| crate::rules::InvalidValue {
            profile: None,
            key: "PATTERN".into(),
            what: "glob pattern",
            value: pattern.to_owned(),
            reason: e.kind().to_string(),
        })
        .map_err(Into::into)
}

/// The error for a pattern that matches nothing, with the names it most likely meant: those it
/// matches but for case, else those closest to its literal text.
fn no_match(profiles: &Profiles, names: &[&str], pattern: &str) -> Error {
    const MAX: usize = 3;
    let mut suggestions: Vec<String> = glob(pattern, true)
        .map(|m| {
            names
                .iter()
                .filter(|n| m.is_match(n))
                .take(MAX)
                .map(|n| (*n).to_owned())
                .collect()
        })
        .unwrap_or_default();
    let literal: String = pattern
        .chars()
        .filter(|c| !"*?[]{}!,\\".contains(*c))
        .collect();
    if suggestions.is_empty() && !literal.is_empty() {
        suggestions = profiles.closest(&literal, MAX);
    }
    crate::config::ConfigError::NoProfileMatches {
        pattern: pattern.to_owned(),
        files: profiles.files().clone(),
        suggestions,
    }
    .into()
}

/// Where codes come from, for [`Each::collect_codes`].
struct Codes<'a> {
    store: Option<&'a Store>,
    timeout: Duration,
    flag: Option<OneTimeCode>,
}

/// One run: the profiles, how each ended so far, and where it is reported.
struct Each<'a> {
    names: &'a [String],
    endings: Vec<Option<Ending>>,
    console: Arc<Console>,
    fail_fast: bool,
}

impl Each<'_> {
    /// Each profile's plan; a profile whose plan cannot be made ends here.
    fn plans(
        &mut self,
        profiles: &Profiles,
        overrides: &Overrides,
        ctx: &Context,
    ) -> Vec<Option<Plan>> {
        let mut plans = Vec::with_capacity(self.names.len());
        for (index, name) in self.names.iter().enumerate() {
            let plan = match Plan::resolve(profiles, name, overrides, ctx) {
                Ok(plan) => Some(plan),
                Err(err) => {
                    self.failed(index, &err);
                    None
                }
            };
            plans.push(plan);
            if self.stopping() {
                break;
            }
        }
        plans
    }

    /// Asks for every code the plans need now, one per session it buys, in the order of the
    /// profiles. A profile whose code cannot be had ends here, and so do the others that need
    /// the same one.
    fn collect_codes(
        &mut self,
        plans: &[Option<Plan>],
        mut source: Codes<'_>,
        opts: &assume::Options,
        ctx: &Context,
    ) -> Prepared {
        let mut codes: HashMap<CodeFor, (OneTimeCode, String)> = HashMap::new();
        let mut failed: HashMap<CodeFor, (String, u8)> = HashMap::new();
        let mut taken: Vec<(String, OneTimeCode)> = Vec::new();
        'profiles: for (index, plan) in plans.iter().enumerate() {
            let Some(plan) = plan else { continue };
            for need in assume::codes_needed(plan, source.store, opts, ctx) {
                if codes.contains_key(&need.for_) {
                    continue;
                }
                if let Some((reason, code)) = failed.get(&need.for_) {
                    self.endings[index] = Some(Ending::NoCredentials {
                        reason: reason.clone(),
                        code: *code,
                    });
                    continue 'profiles;
                }
                match source.one(&need, &taken) {
                    Ok(code) => {
                        taken.push((need.mfa.serial.clone(), code.value.clone()));
                        codes.insert(need.for_, (code.value, code.origin));
                    }
                    Err(err) => {
                        failed.insert(need.for_, (err.to_string(), err.exit() as u8));
                        self.failed(index, &err);
                        if self.stopping() {
                            break 'profiles;
                        }
                        continue 'profiles;
                    }
                }
            }
        }
        if source.flag.is_some() {
            tracing::warn!("`--mfa-token` was given, but no profile needs a code now; ignoring it");
        }
        tracing::debug!(codes = codes.len(), "codes collected");
        Prepared::new(codes)
    }

    /// Every profile's credentials, `parallel` at a time; a profile without them ends here.
    fn obtain(
        &mut self,
        plans: Vec<Option<Plan>>,
        store: Option<&Store>,
        opts: &assume::Options,
        parallel: usize,
        via: crate::audit::Via<'_>,
        ctx: &Context,
    ) -> Vec<Option<Session>> {
        let todo: Vec<(usize, Plan)> = plans
            .into_iter()
            .enumerate()
            .filter(|(index, _)| self.endings[*index].is_none())
            .filter_map(|(index, plan)| Some((index, plan?)))
            .collect();
        let total = todo.len();
        let console = &self.console;
        let fail_fast = self.fail_fast;
        let results = map_bounded(
            &todo,
            parallel,
            |(_, plan)| crate::obtain::for_plan(plan.clone(), store, opts, ctx, via),
            |result| fail_fast && result.is_err(),
            |done| console.progress(format!("each: credentials {done}/{total}")),
        );
        let mut sessions: Vec<Option<Session>> = self.names.iter().map(|_| None).collect();
        for ((index, _), result) in todo.iter().zip(results) {
            match result {
                Some(Ok(session)) => sessions[*index] = Some(session),
                Some(Err(err)) => self.failed(*index, &err),
                None => self.endings[*index] = Some(Ending::Ran(Outcome::NotStarted)),
            }
        }
        sessions
    }

    /// Reports a profile's error, with its hints, and ends the profile.
    fn failed(&mut self, index: usize, err: &dyn crate::exit::Diagnose) {
        self.console.message(&crate::error::report_text(err));
        self.endings[index] = Some(Ending::NoCredentials {
            reason: err.to_string(),
            code: err.exit() as u8,
        });
    }

    /// Whether `--fail-fast` has a failure to stop at.
    fn stopping(&self) -> bool {
        self.fail_fast
            && self
                .endings
                .iter()
                .flatten()
                .any(|e| e.failure_code().is_some())
    }

    /// The summary on stderr, and the exit code.
    fn finish(self, stop: Option<Stop>) -> ExitCode {
        let endings: Vec<Ending> = self
            .endings
            .into_iter()
            .map(|e| e.unwrap_or(Ending::Ran(Outcome::NotStarted)))
            .collect();
        let rows: Vec<(&str, &Ending)> = self
            .names
            .iter()
            .map(String::as_str)
            .zip(&endings)
            .collect();
        self.console.finish();
        self.console.message(&summary::render(&rows, stop));
        ExitCode::from(summary::exit_code(&endings, stop))
    }
}

impl Codes<'_> {
    /// The code for one need: `--mfa-token` for the first, else the hop's own source
    /// (`mfa_process`, the terminal). A code already taken for the device, or accepted by AWS
    /// moments ago, is not taken again: AWS refuses a code twice.
    fn one(
        &mut self,
        need: &CodeNeed,
        taken: &[(String, OneTimeCode)],
    ) -> Result<mfa::Code, Error> {
        let serial = &need.mfa.serial;
        let accepted = |code: &OneTimeCode| {
            self.store
                .is_some_and(|s| codes::recently_used(s.root(), serial, code.expose()))
        };
        let code = if let Some(value) = self.flag.take() {
            mfa::Code {
                value,
                origin: "`--mfa-token`".into(),
            }
        } else {
            let spent = |code: &OneTimeCode| {
                taken.iter().any(|(s, c)| s == serial && c == code) || accepted(code)
            };
            mfa::code_for(&need.hop.profile, &need.mfa, self.timeout, &spent)?
        };
        if accepted(&code.value) {
            return Err(crate::mfa::MfaError::MfaCodeReused {
                origin: code.origin,
                serial: serial.clone(),
            }
            .into());
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[profile client-a]\nregion = eu-west-1\n\n[profile client-b]\nregion = eu-west-1\n\n[profile Partner]\nregion = eu-west-1\n\n[profile staging]\nregion = eu-west-1\n";

    fn profiles() -> Profiles {
        Profiles::from_texts(CONFIG, "").unwrap()
    }

    fn names(patterns: &[&str]) -> Result<Vec<String>, Error> {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        matching(&profiles(), &patterns)
    }

    #[test]
    fn patterns_match_in_their_order_each_profile_once() {
        assert_eq!(names(&["client-*"]).unwrap(), ["client-a", "client-b"]);
        assert_eq!(
            names(&["staging", "client-?", "*-a"]).unwrap(),
            ["staging", "client-a", "client-b"]
        );
        assert_eq!(
            names(&["{staging,Partner}"]).unwrap(),
            ["Partner", "staging"]
        );
        assert_eq!(names(&["client-[b-z]"]).unwrap(), ["client-b"]);
    }

    #[test]
    fn a_pattern_that_matches_nothing_is_named_with_suggestions() {
        let err = names(&["client-*", "partner"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("pattern `partner` matches no profile in"),
            "{err}"
        );
        assert!(
            matches!(&err, Error::Config(crate::config::ConfigError::NoProfileMatches { suggestions, .. }) if suggestions == &["Partner"])
        );
        let err = names(&["clinet-*"]).unwrap_err();
        let Error::Config(crate::config::ConfigError::NoProfileMatches { suggestions, .. }) = &err
        else {
            panic!("{err}")
        };
        assert_eq!(suggestions[0], "client-a", "{suggestions:?}");
        assert!(
            err.hints()[0].contains("did you mean `client-a`"),
            "{:?}",
            err.hints()
        );

        let err = names(&["client-[a"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`PATTERN`: `client-[a` is not a valid glob pattern"),
            "{err}"
        );
    }

    #[test]
    fn the_default_is_the_number_of_cpus() {
        assert_eq!(parallelism(Some(3), std::num::NonZeroU16::new(5)), 3);
        assert_eq!(parallelism(None, std::num::NonZeroU16::new(5)), 5);
        assert!(parallelism(None, None) >= 1);
    }
}
