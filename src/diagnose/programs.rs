//! Whether the programs of `mfa_process` and `credential_process` can be run, told without
//! running them: a run would start them (an MFA code asked for, keys fetched), which an
//! offline check must not. The command is split as `sh` would split it and the program
//! looked up on `PATH` as `sh` would; what cannot be told that way (a variable, a builtin) is
//! left alone rather than guessed at.

use super::{Problem, at};
use crate::config::Profiles;
use crate::context::Context;
use crate::exit::Exit;
use crate::process::HelperKind;
use std::collections::HashMap;
use std::path::PathBuf;

/// The programs of `mfa_process` and `credential_process` lines: whether each can be run. Each
/// command is looked at once, however many profiles share it.
pub(super) struct Programs<'c> {
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
    pub(super) fn new(ctx: &'c Context) -> Self {
        Self {
            ctx,
            seen: HashMap::new(),
        }
    }

    /// The problem with `command`, the `kind` line of `profile`, if it cannot be run.
    pub(super) fn check(
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

// Windows leaves the lookup to `cmd /C`, so doctor checks no programs there.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

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
}
