//! `assume-role profile add`: append a role profile, check it resolves, keep a backup.

use crate::cli::ProfileCommand;
use crate::config::edit::{self, NewProfile};
use crate::config::{
    ConfigFiles, Context, Overrides, Plan, Profiles, check_flag_mfa_serial, check_flag_region,
    check_flag_session_name, is_valid_profile_name,
};
use crate::error::Error;
use crate::onboard::validate;
use std::process::ExitCode;

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
    for (option, value) in [("name", &name), ("source_profile", &source_profile)] {
        if !is_valid_profile_name(value) {
            return Err(Error::InvalidValue {
                profile: None,
                key: option.into(),
                what: "profile name",
                value: value.clone(),
                reason:
                    "use letters, digits and `_-/.%@:+` (the AWS config parser ignores other names)"
                        .into(),
            });
        }
    }
    // Every value is checked on its own first: a line break in one would otherwise smuggle
    // extra keys, or a whole section, into the file.
    validate::role_arn(&role_arn, "--role-arn")?;
    mfa_serial
        .as_deref()
        .map(check_flag_mfa_serial)
        .transpose()?;
    region.as_deref().map(check_flag_region).transpose()?;
    session_name
        .as_deref()
        .map(check_flag_session_name)
        .transpose()?;
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

    let files = ConfigFiles::locate(ctx);
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
    Plan::resolve(&trial, &trial_profile.name, &Overrides::default(), ctx)?;

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
