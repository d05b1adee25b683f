//! The top-level error: every layer's error, wrapped unchanged, plus the few that only a
//! command can meet (no shell to start, no session to report). Each layer's error carries its
//! own hints and exit code beside its variants ([`crate::exit::Diagnose`]); this one only
//! asks, so it knows nothing of their insides.

pub use crate::exit::{Diagnose, Exit};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no command was given, and {}", shell_problem(.var, .value.as_deref(), .source.as_ref()))]
    ShellUnusable {
        /// `SHELL`, or `COMSPEC` on Windows.
        var: &'static str,
        /// `None` when the variable is unset.
        value: Option<String>,
        profile: String,
        /// Why the shell could not be started; `None` when there is nothing to start.
        source: Option<std::io::Error>,
    },

    #[error(
        "`whoami` was given no profile, and this shell is not inside a session (neither `ASSUME_ROLE_PROFILE` nor `AWS_ACCESS_KEY_ID` is set)"
    )]
    NoSession,

    #[error("this shell has no session of assume-role (`ASSUME_ROLE_PROFILE` is not set)")]
    NotInSession,

    /// The front (`src/main.rs`) could not hand the command line to the whole program.
    #[error("cannot run {}: {source}", .path.as_ref().map_or_else(|| format!("`{}`", crate::process::FULL_PROGRAM), |p| format!("`{}`", p.display())))]
    FullProgram {
        /// `None` when the front cannot tell its own directory.
        path: Option<std::path::PathBuf>,
        source: std::io::Error,
    },

    /// `MfaUnavailable`, met by `credential-process`, whose caller is an SDK.
    #[error(
        "profile `{profile}` needs an MFA code for `{serial}`, and the AWS SDK running `credential-process` has no terminal to ask on"
    )]
    MfaUnavailableForSdk { profile: String, serial: String },

    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),

    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),

    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),

    #[error(transparent)]
    Mfa(#[from] crate::mfa::MfaError),

    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),

    #[error(transparent)]
    Keys(#[from] crate::keystore::KeyError),

    #[error(transparent)]
    Invalid(#[from] crate::rules::InvalidValue),

    #[error(transparent)]
    InvalidEnv(#[from] crate::env_vars::InvalidEnvVar),

    #[error(transparent)]
    Assume(#[from] crate::assume::AssumeError),

    #[error(transparent)]
    Sso(#[from] crate::sso::SsoError),

    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),

    #[error(transparent)]
    Console(#[from] crate::console::ConsoleError),

    #[error(transparent)]
    Onboard(#[from] crate::onboard::OnboardError),

    #[error(transparent)]
    Server(#[from] crate::server::ServerError),

    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

fn shell_problem(var: &str, value: Option<&str>, source: Option<&std::io::Error>) -> String {
    match (value, source) {
        (None, _) => format!("`${var}` is not set, so there is no shell to start"),
        (Some(""), _) => format!("`${var}` is empty, so there is no shell to start"),
        (Some(value), Some(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("the shell in `${var}`, `{value}`, does not exist")
        }
        (Some(value), Some(e)) => format!("the shell in `${var}`, `{value}`, cannot be run: {e}"),
        (Some(value), None) => format!("the shell in `${var}`, `{value}`, cannot be run"),
    }
}

impl Diagnose for Error {
    fn exit(&self) -> Exit {
        match self {
            // Nothing to run is "not found"; a shell that exists but will not start is not.
            Error::ShellUnusable {
                source: Some(e), ..
            } if e.kind() != std::io::ErrorKind::NotFound => Exit::NotExecutable,
            Error::ShellUnusable { .. } => Exit::NotFound,
            Error::NoSession => Exit::Usage,
            Error::MfaUnavailableForSdk { .. } => Exit::Mfa,
            // Nothing to show (`prompt --status`) is an answer, not a usage mistake.
            Error::NotInSession | Error::FullProgram { .. } => Exit::Failure,
            Error::Config(e) => e.exit(),
            Error::Settings(e) => e.exit(),
            Error::Aws(e) => e.exit(),
            Error::Cache(e) => e.exit(),
            Error::Mfa(e) => e.exit(),
            Error::Process(e) => e.exit(),
            Error::Keys(e) => e.exit(),
            Error::Invalid(e) => e.exit(),
            Error::InvalidEnv(e) => e.exit(),
            Error::Assume(e) => e.exit(),
            Error::Sso(e) => e.exit(),
            Error::Registry(e) => e.exit(),
            Error::Console(e) => e.exit(),
            Error::Onboard(e) => e.exit(),
            Error::Server(e) => e.exit(),
            Error::Output(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            Error::ShellUnusable { var, profile, .. } => vec![
                format!("name the command to run: `assume-role exec {profile} -- bash`"),
                if *var == "SHELL" {
                    "or set `SHELL` to your shell's full path, e.g. `export SHELL=/bin/bash`".into()
                } else {
                    format!("or set `{var}` to your shell's full path")
                },
            ],
            Error::MfaUnavailableForSdk { profile, .. } => vec![
                format!("start the MFA session from a terminal: `assume-role exec {profile} -- true` asks for the code once, and the SDK then uses the cached session until it expires"),
                format!("or set `mfa_process` in profile `{profile}` to a command that prints the code"),
            ],
            Error::NoSession => vec![
                "name a profile: `assume-role whoami PROFILE`".into(),
                "or ask inside a session: `assume-role exec PROFILE -- assume-role whoami`".into(),
            ],
            Error::FullProgram { path: Some(_), .. } => vec![
                format!("`assume-role` hands every command but a warm `env`, `credential-process` and `prompt` to `{}`, installed beside it; reinstall so that both are in the same directory (the release archive, `install.sh`, Homebrew and `cargo install` all install both)", crate::process::FULL_PROGRAM),
            ],
            Error::FullProgram { path: None, .. } => vec![
                format!("`assume-role` could not tell which directory it was started from (on Linux it reads `/proc/self/exe`: is `/proc` mounted?); run `{}` from the same directory instead, or start `assume-role` by its full path", crate::process::FULL_PROGRAM),
            ],
            Error::NotInSession => vec![
                "start one in this shell: `assume PROFILE` (set up with `eval \"$(assume-role init bash)\"`, or `zsh`, `fish`, `powershell`)".into(),
                "or start a shell inside one: `assume-role exec PROFILE`".into(),
            ],
            Error::Config(e) => e.hints(),
            Error::Settings(e) => e.hints(),
            Error::Aws(e) => e.hints(),
            Error::Cache(e) => e.hints(),
            Error::Mfa(e) => e.hints(),
            Error::Process(e) => e.hints(),
            Error::Keys(e) => e.hints(),
            Error::Invalid(e) => e.hints(),
            Error::InvalidEnv(e) => e.hints(),
            Error::Assume(e) => e.hints(),
            Error::Sso(e) => e.hints(),
            Error::Registry(e) => e.hints(),
            Error::Console(e) => e.hints(),
            Error::Onboard(e) => e.hints(),
            Error::Server(e) => e.hints(),
            Error::Output(e) => e.hints(),
        }
    }
}

impl Error {
    /// The exit code (the trait's, without importing it).
    pub fn exit(&self) -> Exit {
        Diagnose::exit(self)
    }

    /// The hints (the trait's, without importing it).
    pub fn hints(&self) -> Vec<String> {
        Diagnose::hints(self)
    }
}

/// Prints an error and its hints to stderr, for people.
pub fn report(err: &dyn Diagnose) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(report_text(err).as_bytes());
}

/// What [`report`] prints.
pub fn report_text(err: &dyn Diagnose) -> String {
    use std::fmt::Write as _;
    let mut text = format!("assume-role: {}\n", printable(&err.to_string()));
    for hint in err.hints() {
        let _ = writeln!(text, "  hint: {}", printable(&hint));
    }
    text
}

pub use crate::rules::printable;

pub use crate::exit::{causes, root_cause};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_cannot_drive_the_terminal() {
        let err = crate::rules::InvalidValue {
            profile: Some("p\u{1b}]0;owned\u{7}".into()),
            key: "region".into(),
            what: "region",
            value: "eu\u{1b}[2Jwest\r\nfake prompt $ ".into(),
            reason: "bad".into(),
        };
        let text = report_text(&err);
        assert!(
            !text.trim_end_matches('\n').chars().any(char::is_control),
            "{text:?}"
        );
        assert!(text.contains("eu\\u{1b}[2Jwest\\r\\nfake prompt"), "{text}");
    }
}
