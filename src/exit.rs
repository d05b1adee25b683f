//! Exit codes, and the one trait every error type of the crate implements: what a script sees
//! (the code) and what a person reads (the hints). Each layer's error answers both beside its
//! own variants; the top-level [`crate::error::Error`] only asks.

use std::process::ExitCode;

/// Exit codes, documented in the README. `exec` passes the child's own code through instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    /// Anything not covered below, such as an unwritable stdout.
    Failure = 1,
    /// Bad command-line usage (clap uses 2 as well).
    Usage = 2,
    /// The AWS config or a profile in it is wrong.
    Config = 3,
    /// No usable MFA code.
    Mfa = 4,
    /// STS or the source credentials said no.
    Denied = 5,
    /// STS or a credential source could not be reached.
    Network = 6,
    /// `exec`: the command exists but could not be run.
    NotExecutable = 126,
    /// `exec`: the command does not exist.
    NotFound = 127,
}

impl Exit {
    /// The exit of a code one of these produced (as recorded for another run); any other code
    /// is a failure.
    pub fn from_code(code: u8) -> Self {
        [
            Exit::Success,
            Exit::Usage,
            Exit::Config,
            Exit::Mfa,
            Exit::Denied,
            Exit::Network,
            Exit::NotExecutable,
            Exit::NotFound,
        ]
        .into_iter()
        .find(|exit| *exit as u8 == code)
        .unwrap_or(Exit::Failure)
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// What every error of the crate tells besides its message.
pub trait Diagnose: std::error::Error {
    /// The process's exit code when this error ends the run.
    fn exit(&self) -> Exit;

    /// How to fix it: one line each, most likely first.
    fn hints(&self) -> Vec<String>;
}

/// An error and its causes as one line, `outer: inner: root`, skipping a cause whose text its
/// wrapper already repeats. The SDK's own `DisplayErrorContext` appends a `Debug` dump, which
/// is for developers, not for the person at the terminal.
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The innermost error's text: for a refused connection that is "Connection refused", not the
/// SDK's layers of wrapping (whose outer text may quote a whole request).
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    match current
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
    {
        Some(std::io::ErrorKind::ConnectionRefused) => "the connection was refused".to_owned(),
        Some(std::io::ErrorKind::ConnectionReset) => "the connection was reset".to_owned(),
        Some(std::io::ErrorKind::TimedOut) => "the connection timed out".to_owned(),
        // "(os error 111)" means nothing to a person; the words before it do.
        _ => {
            let text = current.to_string();
            match text.rfind(" (os error ") {
                Some(at) if text.ends_with(')') => text[..at].to_owned(),
                _ => text,
            }
        }
    }
}
