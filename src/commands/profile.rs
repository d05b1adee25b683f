//! `assume-role profile add`: append a role profile, check it resolves, keep a backup.

use crate::cli::ProfileCommand;
use crate::config::ConfigError;
use crate::config::edit::{self, NewProfile};
use crate::config::{ConfigFiles, Context, Overrides, Plan, Profiles};
use crate::duration::{ASSUME_ROLE_MAX, ASSUME_ROLE_MIN};
use crate::error::Error;
use crate::onboard::validate;
use crate::rules;
use crate::rules::InvalidValue;
use std::process::ExitCode;

/// A rule for one optional flag's value.
type Check = fn(&str) -> Result<(), rules::Broken>;

pub fn run(command: ProfileCommand, ctx: &Context) -> Result<ExitCode, Error> {
    let ProfileCommand::Add {
        name,
        role_arn,
        source_profile,
        external_id,
        mfa_serial,
        region,
        duration,
        session_name,
        force,
    } = command;
    let profile = NewProfile {
        name,
        role_arn,
        source_profile,
        external_id,
        mfa_serial,
        region,
        duration,
        session_name,
    };
    check_values(&profile)?;
    let files = ConfigFiles::locate(ctx);
    let seen = files.fingerprint();
    let profiles = Profiles::load_from(&files)?;
    let exists = profiles.get(&profile.name).is_some();
    try_resolving(&files, &profile, exists, ctx)?;
    let added = edit::add(&files.config, &profile, exists, force, || {
        // A sync may have written a profile of this name since it was looked up; appending a
        // second section would merge the two silently.
        if exists {
            return Ok(());
        }
        match Profiles::reload_if_changed(&files, &seen)? {
            Some(now) if now.get(&profile.name).is_some() => {
                Err(crate::config::ConfigError::ProfileExists {
                    name: profile.name.clone(),
                    path: files.config.clone(),
                })
            }
            _ => Ok(()),
        }
    })?;
    report(&added, &profile.name);
    Ok(ExitCode::SUCCESS)
}

/// Every value is checked on its own first, against STS's and IAM's limits, naming the flag
/// it came from: a line break in one would otherwise smuggle extra keys, or a whole section,
/// into the file.
fn check_values(profile: &NewProfile) -> Result<(), Error> {
    let name = &profile.name;
    rules::profile_name(name).map_err(|b| b.at(None, "NAME", name))?;
    let source_profile = &profile.source_profile;
    rules::profile_name(source_profile)
        .map_err(|b| b.at(None, "--source-profile", source_profile))?;
    validate::role_arn(&profile.role_arn, "--role-arn")?;
    let flag_checks: [(&str, Option<&String>, Check); 4] = [
        ("--external-id", profile.external_id.as_ref(), |v| {
            rules::EXTERNAL_ID.verify(v)
        }),
        ("--mfa-serial", profile.mfa_serial.as_ref(), |v| {
            rules::MFA_SERIAL.verify(v)
        }),
        ("--region", profile.region.as_ref(), rules::region),
        ("--session-name", profile.session_name.as_ref(), |v| {
            rules::SESSION_NAME.verify(v)
        }),
    ];
    for (flag, value, check) in flag_checks {
        if let Some(value) = value {
            check(value).map_err(|b| b.at(None, flag, value))?;
        }
    }
    if let Some(d) = profile.duration
        && !(ASSUME_ROLE_MIN..=ASSUME_ROLE_MAX).contains(&d)
    {
        return Err(crate::rules::InvalidValue {
            profile: None,
            key: "--duration".into(),
            what: "session duration",
            value: crate::duration::display(d),
            reason: "AssumeRole grants 15m to 12h (and at most the role's MaxSessionDuration)"
                .into(),
        }
        .into());
    }
    Ok(())
}

/// A trial run on the text as it will be: the profile must resolve before the file changes.
fn try_resolving(
    files: &ConfigFiles,
    profile: &NewProfile,
    exists: bool,
    ctx: &Context,
) -> Result<(), Error> {
    let current = std::fs::read_to_string(&files.config).unwrap_or_default();
    let credentials = std::fs::read_to_string(&files.credentials).unwrap_or_default();
    let trial_profile = if exists {
        // An existing profile would merge with the new section: the trial uses a name of its own.
        NewProfile {
            name: format!("{}.assume-role-trial", profile.name),
            ..profile.clone()
        }
    } else {
        profile.clone()
    };
    let trial = Profiles::from_texts(
        &format!("{current}\n{}", trial_profile.section()),
        &credentials,
    )?
    .reported_as(files);
    Plan::resolve(&trial, &trial_profile.name, &Overrides::default(), ctx)
        .map_err(|e| as_flags(e.into(), &trial_profile.name))?;
    Ok(())
}

/// What changed, where the old file is kept, and a command to try the profile with.
fn report(added: &edit::Added, name: &str) {
    let verb = if added.replaced { "replaced" } else { "added" };
    let backup = added
        .backup
        .as_ref()
        .map(|b| format!(" (the previous file is kept as `{}`)", b.display()))
        .unwrap_or_default();
    eprintln!(
        "assume-role: {verb} profile `{name}` in `{}`{backup}\n  try it: assume-role exec {name} -- aws sts get-caller-identity",
        added.path.display(),
    );
}

/// An error about the profile being added speaks of the flags that set its values: the trial
/// profile's name (and the keys we wrote) mean nothing to the user.
fn as_flags(err: Error, trial: &str) -> Error {
    match err {
        Error::Invalid(InvalidValue {
            profile: Some(profile),
            key,
            what,
            value,
            reason,
        })
        | Error::Config(ConfigError::Invalid(InvalidValue {
            profile: Some(profile),
            key,
            what,
            value,
            reason,
        })) if profile == trial => InvalidValue {
            profile: None,
            key,
            what,
            value,
            reason,
        }
        .into(),
        Error::Config(ConfigError::DurationOutOfRange {
            profile: Some(profile),
            requested,
            chained,
        }) if profile == trial => ConfigError::DurationOutOfRange {
            profile: None,
            requested,
            chained,
        }
        .into(),
        other => other,
    }
}
