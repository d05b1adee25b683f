//! `assume-role keys`: store, list and remove the contractor's own long-term keys.

use crate::cli::KeysCommand;
use crate::config::edit::{self, FileKind};
use crate::config::keys::{
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SECURITY_TOKEN, AWS_SESSION_TOKEN,
};
use crate::config::{ConfigFiles, DEFAULT_REGION, Profiles, check_key_text};
use crate::context::Context;
use crate::error::Error;
use crate::keystore::{self, Backend, KeyError, StoredKey};
use crate::secret::{Secret, mask_access_key};
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn run(command: KeysCommand, ctx: &Context) -> Result<ExitCode, Error> {
    match command {
        KeysCommand::Add {
            profile,
            from_env,
            no_check,
            backend,
        } => add(&profile, from_env, no_check, backend, ctx).map_err(Error::Keys),
        KeysCommand::List => list(ctx),
        KeysCommand::Import {
            profiles,
            all,
            remove_plaintext,
            no_check,
            backend,
        } => import(&profiles, all, remove_plaintext, no_check, backend, ctx),
        KeysCommand::Rotate {
            profile,
            mfa_token,
            yes,
        } => rotate(&profile, mfa_token.as_ref(), yes, ctx),
        KeysCommand::Remove { profile, yes } => {
            if !yes {
                confirm_removal(&profile, ctx)?;
            }
            let entry = keystore::remove(&profile, ctx).map_err(Error::Keys)?;
            say(&format!(
                "removed the stored key `{}` of profile `{profile}` ({} backend)",
                mask_access_key(&entry.access_key_id),
                entry.backend
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn rotate(
    profile: &str,
    mfa_token: Option<&crate::mfa::MfaToken>,
    yes: bool,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let mfa_token = super::mfa_token_flag(mfa_token)?;
    let done = crate::rotate::rotate(profile, mfa_token, yes, ctx)?;
    let evicted = done.evicted.total();
    say(&format!(
        "rotated the key of profile `{profile}` (IAM user `{}`): the new key `{}` is stored ({}) and works; the old key `{}` is deleted{}; took {:.1} s",
        done.user,
        mask_access_key(&done.new_key),
        done.home,
        mask_access_key(&done.old_key),
        match evicted {
            0 => String::new(),
            1 => ", and the 1 session cached from it removed".to_owned(),
            n => format!(", and the {n} sessions cached from it removed"),
        },
        done.elapsed.as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

/// A line for people, on stderr.
/// Asks on the terminal before the stored key of `profile` goes, naming it (masked) and saying
/// whether a copy is left in the credentials file; without a terminal, refuses: `--yes` is how
/// a script says it means it. Nothing is removed on a refusal.
fn confirm_removal(profile: &str, ctx: &Context) -> Result<(), Error> {
    let index = keystore::read_index(ctx);
    let Some(entry) = index.get(profile) else {
        // Not stored: `remove` says so, with its hint.
        return Ok(());
    };
    let in_file = Profiles::load_from(&ConfigFiles::locate(ctx))
        .ok()
        .and_then(|p| {
            p.get(profile)
                .and_then(|s| s.get("aws_access_key_id"))
                .map(|id| id == entry.access_key_id)
        })
        .unwrap_or(false);
    let copy = if in_file {
        "a copy is in the credentials file"
    } else {
        "this is the only copy here, and AWS cannot show its secret again"
    };
    let question = format!(
        "Remove the stored key `{}` of profile `{profile}` ({copy})? [y/N] ",
        mask_access_key(&entry.access_key_id)
    );
    match crate::terminal::visible(&question) {
        Ok(answer) if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") => Ok(()),
        Ok(_) => Err(KeyError::RemoveDeclined {
            profile: profile.to_owned(),
        }
        .into()),
        Err(_) => Err(KeyError::RemoveUnconfirmed {
            profile: profile.to_owned(),
            access_key_id: entry.access_key_id.clone(),
            only_copy: !in_file,
        }
        .into()),
    }
}

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
    let backend = keystore::choose(backend, ctx)?;
    let (access_key_id, secret) = if from_env {
        let creds = ctx
            .env
            .env_credentials
            .as_ref()
            .ok_or(KeyError::EnvMissing {
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
        created: keystore::now_secs(),
    };
    keystore::store(profile, &key, backend, ctx)?;
    say(&format!(
        "stored key `{}` for profile `{profile}` ({} backend)",
        mask_access_key(&key.access_key_id),
        backend
    ));
    warn_if_in_plain_text(profile, &key.access_key_id, ctx);
    Ok(ExitCode::SUCCESS)
}

/// `keys import`: each key stored (and checked, unless `--no-check`) before any file changes,
/// then, with `--remove-plaintext`, the files rewritten without them and read back to prove it.
fn import(
    names: &[String],
    all: bool,
    remove_plaintext: bool,
    no_check: bool,
    backend: Option<Backend>,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let files = ConfigFiles::locate(ctx);
    let profiles = Profiles::load_from(&files)?;
    let has_key = |name: &str| {
        profiles
            .get(name)
            .is_some_and(|p| p.get(AWS_ACCESS_KEY_ID).is_some())
    };
    let chosen: Vec<&str> = if all {
        profiles
            .names()
            .into_iter()
            .filter(|n| has_key(n))
            .collect()
    } else {
        names.iter().map(String::as_str).collect()
    };
    if chosen.is_empty() {
        return Err(Error::Keys(if all {
            KeyError::NothingToImport {
                profile: "(any)".into(),
                path: files.credentials.clone(),
            }
        } else {
            KeyError::NoProfilesNamed
        }));
    }
    // Every key is read and checked before anything is stored or changed.
    let mut found = Vec::with_capacity(chosen.len());
    for &name in &chosen {
        let profile = profiles
            .get(name)
            .ok_or_else(|| profiles.unknown(name, None))?;
        let (Some(id), Some(secret)) = (
            profile.get(AWS_ACCESS_KEY_ID),
            profile.get(AWS_SECRET_ACCESS_KEY),
        ) else {
            return Err(Error::Keys(KeyError::NothingToImport {
                profile: name.to_owned(),
                path: files.credentials.clone(),
            }));
        };
        if profile.get(AWS_SESSION_TOKEN).is_some() || profile.get(AWS_SECURITY_TOKEN).is_some() {
            return Err(Error::Keys(KeyError::TemporaryKeys {
                profile: name.to_owned(),
            }));
        }
        check_key_text(name, AWS_ACCESS_KEY_ID, id)?;
        check_key_text(name, AWS_SECRET_ACCESS_KEY, secret)?;
        let secret = Secret::new(secret);
        if !no_check {
            let (account, arn) = check(name, id, &secret, ctx).map_err(Error::Keys)?;
            say(&format!(
                "key `{}` of profile `{name}` works: account `{account}`, `{arn}`",
                mask_access_key(id)
            ));
        }
        found.push((name, id.to_owned(), secret));
    }
    let backend = keystore::choose(backend, ctx).map_err(Error::Keys)?;
    for (name, id, secret) in found {
        let key = StoredKey {
            access_key_id: id,
            secret_access_key: secret,
            created: keystore::now_secs(),
        };
        keystore::store(name, &key, backend, ctx).map_err(Error::Keys)?;
        say(&format!(
            "stored key `{}` for profile `{name}` ({backend} backend)",
            mask_access_key(&key.access_key_id)
        ));
    }
    if !remove_plaintext {
        say(&format!(
            "the keys are still in plain text as well; `assume-role keys import {} --remove-plaintext` removes them",
            chosen.join(" ")
        ));
        return Ok(ExitCode::SUCCESS);
    }
    remove_plaintext_keys(&files, &chosen)
}

/// The key lines of `chosen` out of both AWS files, then the files read back as the SDK reads
/// them: a key the rewrite missed must not go unnoticed.
fn remove_plaintext_keys(files: &ConfigFiles, chosen: &[&str]) -> Result<ExitCode, Error> {
    for (path, kind) in [
        (&files.credentials, FileKind::Credentials),
        (&files.config, FileKind::Config),
    ] {
        let removed = edit::remove_keys(path, kind, chosen)?;
        if !removed.is_empty() {
            say(&format!(
                "removed the keys of {} from `{}` (rewritten in place, no backup kept)",
                removed.join(", "),
                path.display()
            ));
        }
    }
    let after = Profiles::load_from(files)?;
    if let Some(name) = chosen.iter().find(|n| {
        after
            .get(n)
            .is_some_and(|p| p.get(AWS_ACCESS_KEY_ID).is_some())
    }) {
        return Err(Error::Keys(KeyError::StillInPlainText {
            profile: (*name).to_owned(),
            path: files.credentials.clone(),
        }));
    }
    Ok(ExitCode::SUCCESS)
}

/// A stored key only serves a profile with none in the files: say so at once, not on the
/// profile's next run.
fn warn_if_in_plain_text(profile: &str, stored_id: &str, ctx: &Context) {
    let files = ConfigFiles::locate(ctx);
    let Ok(profiles) = Profiles::load_from(&files) else {
        return;
    };
    match profiles.get(profile).and_then(|p| p.get(AWS_ACCESS_KEY_ID)) {
        Some(id) if id == stored_id => say(&format!(
            "the same key is still in plain text in `{}`: `assume-role keys import {profile} --remove-plaintext` removes that copy",
            files.credentials.display()
        )),
        Some(_) => say(&format!(
            "profile `{profile}` also has another key in `{}`, and will refuse to run until one goes: `assume-role keys import {profile} --remove-plaintext` replaces the stored key with the file's and removes it from the file; deleting the file's lines keeps the stored one",
            files.credentials.display()
        )),
        None => {}
    }
}

/// The pair, typed on the terminal: the ID with echo, the secret without.
fn ask() -> Result<(String, Secret), KeyError> {
    let prompt = |what, source| KeyError::Prompt { what, source };
    let id =
        crate::terminal::visible("Access key ID: ").map_err(|e| prompt("the access key ID", e))?;
    if id.is_empty() {
        return Err(KeyError::EmptyInput {
            what: "the access key ID",
        });
    }
    let secret = crate::terminal::hidden("Secret access key: ")
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
        .or_else(|| ctx.env.env_region.clone())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let plan = crate::config::Plan::for_stored_key(profile, access_key_id, region);
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
        let sts = crate::aws::sts::Sts::new(&plan, ctx)
            .await
            .map_err(|e| failed(e.to_string(), false))?;
        // The same call `whoami` makes; its error says what failed, and whether STS answered.
        sts.get_caller_identity(&source, profile)
            .await
            .map(|identity| (identity.account, identity.arn))
            .map_err(|err| match err {
                crate::aws::AwsError::Identity {
                    detail, failure, ..
                } => failed(detail, failure == crate::aws::RemoteFailure::Unreachable),
                other => failed(other.to_string(), false),
            })
    })
}

fn list(ctx: &Context) -> Result<ExitCode, Error> {
    let index = keystore::read_index(ctx);
    let now = std::time::SystemTime::now();
    let mut text = String::new();
    if !index.is_empty() {
        let _ = writeln!(
            text,
            "{:<24} {:<22} {:<8} AGE",
            "PROFILE", "ACCESS KEY", "BACKEND"
        );
    }
    for (profile, entry) in &index {
        let days = entry.age_days(now);
        let flag = if days > keystore::ROTATE_AFTER_DAYS {
            format!("  over {} days: rotate it", keystore::ROTATE_AFTER_DAYS)
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
