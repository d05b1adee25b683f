//! `assume-role`: assume a client's AWS role with an external ID and MFA, and hand the
//! temporary credentials to a command, a shell, or any AWS SDK.
//!
//! The flow reads top to bottom: command-line arguments → a resolved [`config::Plan`] (pure
//! data) → credentials (from STS) → a sink (`exec`, shell exports, `credential_process` JSON).

pub mod assume;
pub mod audit;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod context;
pub mod credentials;
pub mod duration;
pub mod env_vars;
pub mod error;
pub mod fanout;
pub mod iam;
pub mod keys;
pub mod logging;
pub mod mfa;
pub mod onboard;
pub mod output;
pub mod process;
pub mod rules;
pub mod secret;
pub mod server;
pub mod session;
pub mod settings;
pub mod shell;
pub mod source;
pub mod sts;

/// Prints an error and its hints to stderr, for people.
pub fn report(err: &error::Error) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(report_text(err).as_bytes());
}

/// What [`report`] prints.
pub fn report_text(err: &error::Error) -> String {
    use std::fmt::Write as _;
    let mut text = format!("assume-role: {err}\n");
    for hint in err.hints() {
        let _ = writeln!(text, "  hint: {hint}");
    }
    text
}
