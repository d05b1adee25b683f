//! `assume-role credential-process`: the JSON that AWS SDKs read from a `credential_process`.
//! stdout carries exactly one object and nothing else; SDKs capture stderr, so any prompt goes
//! to the terminal device.

use super::{print, session_for};
use crate::cli::CredentialOptions;
use crate::context::Context;
use crate::credentials::{Session, rfc3339};
use crate::error::Error;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output<'a> {
    /// botocore rejects any other version.
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    /// Without it, SDKs treat the credentials as never expiring and never refresh them.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

pub fn run(profile: &str, options: &CredentialOptions, ctx: &Context) -> Result<ExitCode, Error> {
    let session = session_for(profile, options, ctx, crate::audit::Via::CredentialProcess)
        .map_err(for_an_sdk)?;
    print_session(&session)
}

/// `session` as one `credential_process` object on stdout, from the front too.
pub(super) fn print_session(session: &Session) -> Result<ExitCode, Error> {
    let creds = &session.credentials;
    let output = Output {
        version: 1,
        access_key_id: &creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose(),
        session_token: creds
            .session_token
            .as_ref()
            .map(crate::secret::Secret::expose),
        expiration: creds.expiration.map(rfc3339),
        account_id: creds.account_id.as_deref(),
    };
    let mut json = serde_json::to_string(&output).expect("plain strings serialize");
    json.push('\n');
    print(&json)
}

/// An SDK runs this command and cannot pass `--mfa-token` or answer a prompt: when a code is
/// needed and none can be had, the hints say what works from an SDK instead.
fn for_an_sdk(err: Error) -> Error {
    use crate::assume::AssumeError;
    use crate::mfa::MfaError;
    match err {
        Error::Assume(AssumeError::Mfa(MfaError::MfaUnavailable { profile, serial })) => {
            Error::MfaUnavailableForSdk { profile, serial }
        }
        other => other,
    }
}
