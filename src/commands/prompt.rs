//! `assume-role prompt`: this shell's session for a prompt, `client-prod (42m)`, or nothing.
//!
//! A prompt runs it before every command line, so it reads the environment and nothing else:
//! no config file, no cache, no network, no async runtime.

use super::print;
use crate::context::Context;
use crate::error::Error;
use crate::shell::{self, PromptSession};
use std::process::ExitCode;
use std::time::SystemTime;

pub fn run(format: Option<&str>, status: bool, ctx: &Context) -> Result<ExitCode, Error> {
    let Some(profile) = ctx.env.outer_session.as_deref() else {
        return if status {
            Err(Error::NotInSession)
        } else {
            Ok(ExitCode::SUCCESS)
        };
    };
    let session = PromptSession {
        profile,
        expiration: ctx
            .env
            .session_expiration
            .as_deref()
            .and_then(shell::parse_expiration),
        region: ctx.env.session_region.as_deref(),
        account: ctx.env.session_account.as_deref(),
    };
    let now = SystemTime::now();
    let mut text = if status {
        shell::status_line(&session, now)
    } else {
        shell::render_prompt(format, &session, now)
    };
    text.push('\n');
    print(&text)
}
