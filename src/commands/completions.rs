//! `assume-role completions SHELL`, and the other half of it: answering the script when it
//! asks the binary for candidates at Tab time.
//!
//! bash, zsh, fish, PowerShell and elvish get clap's dynamic scripts: at each Tab they run
//! `_ASSUME_ROLE_COMPLETE=<shell> assume-role -- <words>`, and clap completes from the same
//! definitions that parse the command line, with profile names from the config (through the
//! cached index `list` keeps, so ten thousand profiles stay quick). nushell gets clap's
//! `extern` declarations, whose profile arguments call `assume-role list --json`.

use super::print;
use crate::cli::Cli;
use crate::config::ProfileSummary;
use crate::context::Context;
use crate::env_vars;
use crate::error::Error;
use crate::shell::CompletionShell;
use clap::CommandFactory;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::EnvCompleter;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::process::ExitCode;

/// The command the scripts complete.
const BIN_NAME: &str = "assume-role";

/// Arguments that name a profile, whichever subcommand has them (those added later too).
const PROFILE_ARGS: [&str; 2] = ["profile", "source_profile"];

/// The nushell completer's name for profile arguments.
const NU_PROFILE_COMPLETER: &str = "nu-complete assume-role profile";

pub fn run(shell: CompletionShell) -> Result<ExitCode, Error> {
    let completer = completer_path();
    let adapter: &dyn EnvCompleter = match shell {
        CompletionShell::Bash => &clap_complete::env::Bash,
        CompletionShell::Zsh => &clap_complete::env::Zsh,
        CompletionShell::Fish => &clap_complete::env::Fish,
        CompletionShell::Powershell => &clap_complete::env::Powershell,
        CompletionShell::Elvish => &clap_complete::env::Elvish,
        CompletionShell::Nushell => return print(&nushell(&completer)),
    };
    let mut script = Vec::new();
    adapter
        .write_registration(
            env_vars::ASSUME_ROLE_COMPLETE,
            BIN_NAME,
            BIN_NAME,
            &completer,
            &mut script,
        )
        .map_err(crate::output::OutputError::Output)?;
    print(&String::from_utf8_lossy(&script))
}

/// Answers a completion script's request and exits, if this run is one (the script sets
/// `_ASSUME_ROLE_COMPLETE`); otherwise returns at once. Called by `main` before parsing.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(command)
        .var(env_vars::ASSUME_ROLE_COMPLETE)
        .bin(BIN_NAME)
        .complete();
}

/// The binary the scripts call back: this one, by absolute path, unless its path needs
/// quoting (clap's bash script embeds it in double quotes), then `assume-role` on `PATH`.
fn completer_path() -> String {
    let path = super::init::this_binary();
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
    {
        path
    } else {
        BIN_NAME.to_owned()
    }
}

/// The command line definitions, with profile names completed from the config.
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // Built first: a subcommand's arguments are deferred until then (`cli::Command`), and the
    // completer is added to the profile arguments themselves.
    cmd.build();
    with_profile_completion(cmd)
}

fn with_profile_completion(cmd: clap::Command) -> clap::Command {
    // In place: `mut_arg` would move the argument last, after `exec`'s trailing command.
    cmd.mut_args(|arg| {
        if PROFILE_ARGS.contains(&arg.get_id().as_str()) {
            arg.add(ArgValueCompleter::new(profile_candidates))
        } else {
            arg
        }
    })
    .mut_subcommands(with_profile_completion)
}

/// Profile names starting with what is typed, each with its role (or kind) as help. A config
/// that cannot be read completes nothing: Tab is no place for an error message.
fn profile_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str() else {
        return Vec::new();
    };
    let Ok(ctx) = Context::from_process() else {
        return Vec::new();
    };
    super::list::with_summaries(&ctx, |summaries, _| {
        Ok(summaries
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            // Only names the AWS config parser accepts: none of them holds a character a shell
            // acts on (`;`, `$`, a quote, a space) or a terminal does (a control character),
            // so a candidate is inserted as plain text whatever the shell's completion quotes.
            .filter(|s| crate::rules::profile_name(&s.name).is_ok())
            .map(candidate)
            .collect())
    })
    .unwrap_or_default()
}

fn candidate(summary: &ProfileSummary<'_>) -> CompletionCandidate {
    let help = summary
        .role_arn
        .as_deref()
        .filter(|arn| !arn.chars().any(char::is_control))
        .unwrap_or(summary.kind.as_str());
    CompletionCandidate::new(&*summary.name).help(Some(help.to_owned().into()))
}

/// clap's nushell declarations, with a completer for every profile argument.
fn nushell(bin: &str) -> String {
    let mut cmd = Cli::command();
    let mut generated = Vec::new();
    clap_complete::generate(
        clap_complete_nushell::Nushell,
        &mut cmd,
        BIN_NAME,
        &mut generated,
    );
    let generated = String::from_utf8_lossy(&generated);
    let profile_lines: Vec<String> = PROFILE_ARGS
        .iter()
        .flat_map(|id| {
            let long = id.replace('_', "-");
            [
                format!("    {id}: string"),
                format!("    {id}?: string"),
                format!("    --{long}: string"),
            ]
        })
        .collect();
    let mut out = String::with_capacity(generated.len() + 512);
    for line in generated.lines() {
        if profile_lines.iter().any(|p| line.starts_with(p.as_str())) {
            out.push_str(&line.replacen(
                ": string",
                &format!(": string@\"{NU_PROFILE_COMPLETER}\""),
                1,
            ));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if line.starts_with("module completions {") {
            // The completer must be in the module whose declarations use it.
            let _ = write!(
                out,
                r#"
  # Profile names (and their roles) from the AWS config, through `list`'s cached index.
  export def "{NU_PROFILE_COMPLETER}" [] {{
    let listed = (^{bin} list --json | complete)
    if $listed.exit_code != 0 {{ return [] }}
    $listed.stdout | from json | each {{|p| {{value: $p.name, description: ($p.role_arn? | default $p.kind)}} }}
  }}
"#,
                bin = crate::output::nu_quote(bin),
            );
        }
    }
    out
}
