//! `assume-role profile add`: append a role profile, check it resolves, keep a backup.

use crate::cli::ProfileCommand;
use crate::config::edit::{self, NewProfile};
use crate::config::{ConfigFiles, Context, Overrides, Plan, Profiles};
use crate::error::Error;
use crate::onboard::validate;
use crate::rules;
use std::process::ExitCode;

pub fn run(command: ProfileCommand) -> Result<ExitCode, Error> {
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
    for (option, value) in [("name", &name), ("source_profile", &source_profile)] {
        rules::profile_name(value).map_err(|b| b.at(None, option, value))?;
    }
    // Every value is checked on its own first: a line break in one would otherwise smuggle
    // extra keys, or a whole section, into the file.
    validate::role_arn(&role_arn, "--role-arn")?;
    if let Some(v) = &mfa_serial {
        rules::MFA_SERIAL.check(v, None, "mfa_serial")?;
    }
    if let Some(v) = &region
        && !rules::is_host_label(v)
    {
        return Err(Error::InvalidRegion {
            region: v.clone(),
            origin: "`--region`".into(),
        });
    }
    if let Some(v) = &session_name {
        rules::SESSION_NAME.check(v, None, "role_session_name")?;
    }
    external_id
        .as_deref()
        .map(validate::external_id)
        .transpose()?;
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

    let files = ConfigFiles::locate();
    let profiles = Profiles::load_from(&files)?;
    let exists = profiles.get(&profile.name).is_some();
    // A trial run on the text as it will be: the profile must resolve before the file changes.
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
    .reported_as(&files);
    Plan::resolve(
        &trial,
        &trial_profile.name,
        &Overrides::default(),
        &Context::from_env(),
    )?;

    let added = edit::add(&files.config, &profile, exists, force)?;
    let verb = if added.replaced { "replaced" } else { "added" };
    let backup = added
        .backup
        .map(|b| format!(" (the previous file is kept as `{}`)", b.display()))
        .unwrap_or_default();
    eprintln!(
        "assume-role: {verb} profile `{}` in `{}`{backup}\n  try it: assume-role exec {} -- aws sts get-caller-identity",
        profile.name,
        added.path.display(),
        profile.name
    );
    Ok(ExitCode::SUCCESS)
}
