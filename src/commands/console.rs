//! `assume-role console`: the client's web console, signed in as the role, in a browser
//! identity of the profile's own (or the sign-in link on stdout with `--print`).

use super::{print, session_for};
use crate::cli::{ConsoleArgs, CredentialOptions};
use crate::config::{ConfigFiles, Overrides, Plan, Profiles};
use crate::console::{self, Origin};
use crate::context::Context;
use crate::error::Error;
use crate::rules;
use std::process::ExitCode;

pub fn run(args: &ConsoleArgs, ctx: &Context) -> Result<ExitCode, Error> {
    let profile = args.profile.as_str();
    // Everything that can be wrong with the command line or the environment is found before any
    // credentials are obtained, so that a typo costs no MFA code.
    let choice = (!args.print)
        .then(|| console::choose(args.browser, ctx))
        .transpose()?;
    let mfa_token = super::mfa_token_flag(args.mfa_token.as_ref())?;
    let overrides = Overrides {
        mfa_token,
        ..Overrides::default()
    };
    let plan = Plan::resolve(
        &Profiles::load_from(&ConfigFiles::locate(ctx))?,
        profile,
        &overrides,
        ctx,
    )?;
    let origin = console::origin(&plan, ctx);
    if origin == Origin::NoRole && is_long_term(&plan) {
        return Err(crate::console::ConsoleError::ConsoleNeedsRole {
            profile: profile.to_owned(),
        }
        .into());
    }
    let region = console_region(args.region.as_deref(), &plan)?;
    let partition = rules::partition_of_region(&region);
    let endpoint = console::federation_endpoint(profile, partition, &region, ctx)?;
    let destination = console::destination(profile, partition, &region, args.service.as_deref())?;
    let (sent, lifetime) = console::session_duration(profile, origin, args.duration)?;

    let options = CredentialOptions {
        mfa_token: args.mfa_token.clone(),
        no_cache: args.no_cache,
        ..CredentialOptions::default()
    };
    if let Some(choice) = &choice {
        console::ensure_available(choice, profile, ctx)?;
    }
    let session = session_for(profile, &options, ctx, crate::audit::Via::Console)?;
    if session.credentials.session_token.is_none() {
        return Err(crate::console::ConsoleError::ConsoleNeedsRole {
            profile: profile.to_owned(),
        }
        .into());
    }
    let token = crate::assume::runtime()?.block_on(console::signin_token(
        &endpoint,
        &session.credentials,
        sent,
        profile,
    ))?;
    let url = console::login_url(&endpoint, &destination, &token);
    eprintln!("assume-role: {lifetime}");
    match choice {
        None => {
            let mut line = url.expose().to_owned();
            line.push('\n');
            print(&line)
        }
        Some(choice) => {
            let mut launches = console::launches(&choice, profile, &url, ctx)?;
            // The browser gets a private page that opens the link, never the link itself.
            let page = console::LinkPage::write(&mut launches, &choice.setting, ctx)?;
            console::open(&choice, &launches)?;
            page.remove_once_read();
            eprintln!(
                "assume-role: opened the console of profile `{profile}` with {}",
                choice.setting
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--region`, checked and in the partition of the plan's credentials, else the plan's region.
fn console_region(flag: Option<&str>, plan: &Plan) -> Result<String, Error> {
    let Some(region) = flag else {
        return Ok(plan.region.clone());
    };
    rules::region(region).map_err(|b| b.at(None, "--region", region))?;
    // The credentials are valid in their own partition only.
    let partition = rules::partition_of_region(&plan.region);
    rules::region_in_partition(region, partition).map_err(|b| {
        let mut err = b.at(None, "--region", region);
        err.reason = format!(
            "profile `{}` has credentials for partition `{}`, and `{region}` is not in it",
            plan.profile, partition.name
        );
        err
    })?;
    Ok(region.to_owned())
}

/// Whether a profile without a role holds long-term keys (which the console cannot take).
fn is_long_term(plan: &Plan) -> bool {
    matches!(
        plan.base,
        crate::config::Base::StaticKeys {
            session_token: None,
            ..
        }
    )
}
