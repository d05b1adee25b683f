//! The front: on Unix, the `assume-role` on `PATH` is a small program that answers the calls a
//! shell or an SDK makes most often and waits on most (a warm `env`, a warm `credential-process`,
//! `prompt`) and hands every other command line, unchanged, to the whole program beside it,
//! `assume-role-full`, by `exec`: the same process, arguments, environment and exit code.
//!
//! Why two programs: a warm `env` reads two small files, yet one 21 MB program spent most of
//! its start-up in page faults (the kernel mapping code, data and allocator pages it touched,
//! about 3 µs each), three times what a minimal reader takes. The front links only the warm path
//! (no SDK, no clap, no async runtime, no TLS) and serves it from the same library functions
//! the whole program uses, so that both print, record and exit alike.
//!
//! It serves only what it is sure of: exactly the argument forms below, a settings file that
//! reads, a cached plan for unchanged config files and a cached session with time left. Anything
//! else (another flag, a cache miss, `-v`, a completion request) goes to `assume-role-full`
//! before a byte is printed or recorded, which then does everything as it always has.

use super::{credential_process, env, prompt};
use crate::audit::Via;
use crate::context::Context;
use crate::credentials::Session;
use crate::output::Format;
use std::ffi::OsString;
use std::process::ExitCode;

/// A command line the front may answer itself.
#[derive(Debug, PartialEq, Eq)]
enum Call {
    Env {
        profile: String,
        format: Format,
    },
    CredentialProcess {
        profile: String,
    },
    Prompt {
        format: Option<String>,
        status: bool,
    },
}

/// Answers the command line (without the program name) if it is one the front serves and the
/// cache holds what it needs; `None` hands it over.
pub fn serve(args: &[OsString]) -> Option<ExitCode> {
    let call = parse(args)?;
    let env = crate::env::Env::from_process();
    if env.completion_request {
        return None;
    }
    // Nothing is logged before the front knows it serves this line: a warning (an untrusted
    // cache directory, say) would be printed again by `assume-role-full`. Until
    // `logging::init`, tracing has no subscriber and drops it.
    let result = match call {
        Call::Prompt { format, status } => {
            crate::logging::init(0);
            prompt::run(format.as_deref(), status, &Context::of(env))
        }
        Call::Env { profile, format } => {
            let (session, ctx) = warm(env, &profile, Via::Env)?;
            env::print_session(&session, &profile, format, &ctx)
        }
        Call::CredentialProcess { profile } => {
            let (session, _) = warm(env, &profile, Via::CredentialProcess)?;
            credential_process::print_session(&session)
        }
    };
    Some(super::finish(result))
}

/// `profile`'s cached session, handed over (and so recorded) for `via`, with the context it was
/// found in; `None`, with nothing logged or recorded, when the cache cannot serve it.
fn warm(env: crate::env::Env, profile: &str, via: Via<'_>) -> Option<(Session, Context)> {
    let ctx = Context::of(env).with_settings().ok()?;
    let cached = crate::obtain::cached(profile, &ctx)?;
    crate::logging::init(0);
    Some((cached.hand_over(&ctx, via), ctx))
}

/// Runs `assume-role-full` from the front's own directory in place of this process, with
/// `argv0` as its name (so that its usage lines say `assume-role`) and `args`. Returns only if
/// it cannot.
#[cfg(unix)]
pub fn hand_over(argv0: &std::ffi::OsStr, args: &[OsString]) -> ExitCode {
    use crate::error::Error;
    use crate::process::{FULL_PROGRAM, exec_as, sibling};
    // Linux tells the running program's path through `/proc`; without it (a bare chroot), the
    // path it was started by, if that names a directory.
    let exe = std::env::current_exe().or_else(|err| {
        let started = std::path::Path::new(argv0);
        if started.components().count() > 1 {
            Ok(started.to_path_buf())
        } else {
            Err(err)
        }
    });
    let path = match exe.and_then(|exe| sibling(&exe, FULL_PROGRAM)) {
        Ok(path) => path,
        Err(source) => return super::finish(Err(Error::FullProgram { path: None, source })),
    };
    let source = exec_as(&path, argv0, args);
    super::finish(Err(Error::FullProgram {
        path: Some(path),
        source,
    }))
}

/// The command line, if it is exactly one of the forms the front serves. clap decides the
/// rest: a repeated flag, a value that looks like a flag, `--`, `-fsh`, an unknown option or
/// a second profile is handed over, to be parsed (and refused) as it always was.
fn parse(args: &[OsString]) -> Option<Call> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let (command, rest) = args.split_first()?;
    let mut profile = None;
    let mut format = None;
    let mut status = false;
    let mut rest = rest.iter();
    while let Some(&arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        match (*command, flag) {
            ("env", "--format" | "-f") | ("prompt", "--format") if format.is_none() => {
                // `inline` is set only for a `--flag=value`.
                let value = match inline {
                    Some(value) => value,
                    None => *rest.next()?,
                };
                if value.starts_with('-') {
                    return None;
                }
                format = Some(value);
            }
            ("prompt", "--status") if !status && inline.is_none() => status = true,
            ("env" | "credential-process", _) if !arg.starts_with('-') && profile.is_none() => {
                profile = Some(arg.to_owned());
            }
            _ => return None,
        }
    }
    match *command {
        "env" => Some(Call::Env {
            profile: profile?,
            format: match format {
                Some(name) => <Format as clap::ValueEnum>::from_str(name, false).ok()?,
                None => Format::Sh,
            },
        }),
        "credential-process" => Some(Call::CredentialProcess { profile: profile? }),
        "prompt" if !(status && format.is_some()) => Some(Call::Prompt {
            format: format.map(str::to_owned),
            status,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parsed(line: &str) -> Option<Call> {
        let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        parse(&args)
    }

    /// What the whole program makes of the same line, as a `Call`, or `None` if clap refuses it
    /// or it is no call the front serves.
    fn clap_reading(line: &str) -> Option<Call> {
        use crate::cli::{Cli, Command};
        let cli =
            Cli::try_parse_from(std::iter::once("assume-role").chain(line.split(' '))).ok()?;
        let plain = |o: &crate::cli::CredentialOptions| {
            format!("{o:?}") == format!("{:?}", crate::cli::CredentialOptions::default())
        };
        if cli.verbose != 0 {
            return None;
        }
        match cli.command {
            Command::Env {
                profile,
                options,
                format,
            } if plain(&options) => Some(Call::Env { profile, format }),
            Command::CredentialProcess { profile, options } if plain(&options) => {
                Some(Call::CredentialProcess { profile })
            }
            Command::Prompt { format, status } => Some(Call::Prompt { format, status }),
            _ => None,
        }
    }

    #[test]
    fn the_front_serves_a_line_only_as_the_whole_program_reads_it() {
        let served = [
            "env client",
            "env client --format fish",
            "env --format=powershell client",
            "env -f nu client",
            "env --format sh client-prod",
            "credential-process client",
            "prompt",
            "prompt --status",
            "prompt --format {profile}",
            "prompt --format=",
        ];
        for line in served {
            let front = parsed(line);
            assert!(front.is_some(), "the front should serve `{line}`");
            assert_eq!(front, clap_reading(line), "`{line}`");
        }
        // Handed over: flags the front does not serve, anything clap refuses, and anything
        // written another way than the plain forms.
        let handed_over = [
            "env",
            "env client other",
            "env client --format sh --format fish",
            "env client --format",
            "env client --format -x",
            "env client --format nosuch",
            "env client -fsh",
            "env client -f=sh",
            "env -- client",
            "env -client",
            "env client --no-cache",
            "env client --min-valid 2h",
            "env client --mfa-token 123456",
            "env client --region eu-west-1",
            "env client -v",
            "-v env client",
            "env client --help",
            "credential-process",
            "credential-process client --format sh",
            "prompt --status --format x",
            "prompt --status --status",
            "prompt --status=yes",
            "prompt extra",
            "exec client",
            "list",
            "evn client",
            "--version",
            "",
        ];
        for line in handed_over {
            assert_eq!(parsed(line), None, "the front should hand over `{line}`");
        }
    }

    #[test]
    fn every_format_env_takes_is_served() {
        for value in <Format as clap::ValueEnum>::value_variants() {
            let name = clap::ValueEnum::to_possible_value(value).unwrap();
            let line = format!("env client --format {}", name.get_name());
            assert_eq!(parsed(&line), clap_reading(&line), "`{line}`");
        }
    }

    #[test]
    fn arguments_that_are_not_utf8_are_handed_over() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let args = vec![OsString::from("env"), OsString::from_vec(vec![0xff, b'x'])];
            assert_eq!(parse(&args), None);
        }
    }
}
