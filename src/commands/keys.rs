//! `assume-role keys`: store, list and remove the contractor's own long-term keys.

use crate::cli::KeysCommand;
use crate::config::{Base, ConfigFiles, DEFAULT_REGION, Plan, Profiles, RegionOrigin};
use crate::context::Context;
use crate::error::Error;
use crate::keys::{self, Backend, KeyError, StoredKey};
use crate::secret::{Secret, mask_access_key};
use std::fmt::Write as _;
use std::process::ExitCode;

/// Keys older than this are flagged: the usual rotation period in security questionnaires.
pub(super) const ROTATE_AFTER_DAYS: u64 = 90;

pub fn run(command: KeysCommand, ctx: &Context) -> Result<ExitCode, Error> {
    match command {
        KeysCommand::Add {
            profile,
            from_env,
            no_check,
            backend,
        } => add(&profile, from_env, no_check, backend, ctx).map_err(Error::Keys),
        KeysCommand::List => list(ctx),
        KeysCommand::Remove { profile } => {
            let entry = keys::remove(&profile, ctx).map_err(Error::Keys)?;
            say(&format!(
                "removed the stored key `{}` of profile `{profile}` ({} backend)",
                mask_access_key(&entry.access_key_id),
                entry.backend
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A line for people, on stderr.
fn say(text: &str) {
    eprintln!("assume-role: {text}");
}

fn add(
    profile: &str,
    from_env: bool,
    no_check: bool,
    backend: Option<Backend>,
    ctx: &Context,
) -> Result<ExitCode, KeyError> {
    let backend = keys::choose(backend, ctx)?;
    let (access_key_id, secret) = if from_env {
        let creds = ctx.env_credentials.as_ref().ok_or(KeyError::EnvMissing {
            missing: "`AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY`",
        })?;
        if creds.session_token.is_some() {
            tracing::warn!(
                "`AWS_SESSION_TOKEN` is set: these look like temporary credentials, which expire; store a long-term key (AKIA…)"
            );
        }
        (creds.access_key_id.clone(), creds.secret_access_key.clone())
    } else {
        ask()?
    };
    if !no_check {
        let (account, arn) = check(profile, &access_key_id, &secret, ctx)?;
        say(&format!(
            "key `{}` works: account `{account}`, `{arn}`",
            mask_access_key(&access_key_id)
        ));
    }
    let key = StoredKey {
        access_key_id,
        secret_access_key: secret,
        created: keys::now_secs(),
    };
    keys::store(profile, &key, backend, ctx)?;
    say(&format!(
        "stored key `{}` for profile `{profile}` ({} backend)",
        mask_access_key(&key.access_key_id),
        backend
    ));
    Ok(ExitCode::SUCCESS)
}

/// The pair, typed on the terminal: the ID with echo, the secret without.
fn ask() -> Result<(String, Secret), KeyError> {
    let prompt = |what, source| KeyError::Prompt { what, source };
    let id =
        keys::prompt::visible("Access key ID: ").map_err(|e| prompt("the access key ID", e))?;
    if id.is_empty() {
        return Err(KeyError::EmptyInput {
            what: "the access key ID",
        });
    }
    let secret = keys::prompt::hidden("Secret access key: ")
        .map_err(|e| prompt("the secret access key", e))?;
    if secret.expose().trim().is_empty() {
        return Err(KeyError::EmptyInput {
            what: "the secret access key",
        });
    }
    Ok((id, Secret::new(secret.expose().trim())))
}

/// One `GetCallerIdentity` with the pair, through the same STS client setup as every other
/// call (so endpoint overrides apply), in the profile's region if it names one.
fn check(
    profile: &str,
    access_key_id: &str,
    secret: &Secret,
    ctx: &Context,
) -> Result<(String, String), KeyError> {
    let region = Profiles::load_from(&ConfigFiles::locate(ctx))
        .ok()
        .and_then(|p| {
            p.get(profile)
                .and_then(|p| p.get("region"))
                .map(str::to_owned)
        })
        .or_else(|| ctx.env_region.clone())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let plan = Plan {
        profile: profile.to_owned(),
        region,
        region_origin: RegionOrigin::Default,
        base: Base::StoredKeys {
            profile: profile.to_owned(),
            backend: Backend::File,
        },
        hops: Vec::new(),
        sdk_settings: None,
    };
    let source = StoredKey {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: secret.clone(),
        created: 0,
    }
    .credentials();
    let failed = |detail: String, unreachable: bool| KeyError::CheckFailed {
        profile: profile.to_owned(),
        access_key: mask_access_key(access_key_id),
        detail,
        unreachable,
    };
    let runtime = crate::assume::runtime().map_err(|e| failed(e.to_string(), false))?;
    runtime.block_on(async {
        let sts = crate::sts::Sts::new(&plan, ctx)
            .await
            .map_err(|e| failed(e.to_string(), false))?;
        // The same call `whoami` makes; its error says what failed, and whether STS answered.
        sts.get_caller_identity(&source, profile)
            .await
            .map(|identity| (identity.account, identity.arn))
            .map_err(|err| match err {
                Error::Identity {
                    detail, failure, ..
                } => failed(detail, failure == crate::error::RemoteFailure::Unreachable),
                other => failed(other.to_string(), false),
            })
    })
}

fn list(ctx: &Context) -> Result<ExitCode, Error> {
    let index = keys::index(ctx);
    let now = std::time::SystemTime::now();
    let mut text = String::new();
    if !index.is_empty() {
        let _ = writeln!(
            text,
            "{:<24} {:<22} {:<8} AGE",
            "PROFILE", "ACCESS KEY", "BACKEND"
        );
    }
    for (profile, entry) in index {
        let days = entry.age_days(now);
        let flag = if days > ROTATE_AFTER_DAYS {
            format!("  over {ROTATE_AFTER_DAYS} days: rotate it")
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "{profile:<24} {:<22} {:<8} {days}d{flag}",
            mask_access_key(&entry.access_key_id),
            entry.backend.as_str()
        );
    }
    if index.is_empty() {
        say("no stored keys; store one with `assume-role keys add PROFILE`");
    }
    super::print(&text)
}
