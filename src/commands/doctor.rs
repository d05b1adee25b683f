//! `assume-role doctor [PROFILE]`: why a profile will or will not work.
//!
//! The checks and the report are [`crate::diagnose`]'s; this is the command around them: the
//! arguments in, the report printed to stdout in order (the live check's lines as they come),
//! and the exit code of the problems found.

use super::print;
use crate::cli::DoctorArgs;
use crate::config::{ConfigFiles, Overrides, Profiles};
use crate::context::Context;
use crate::diagnose::{self, Checks};
use crate::error::Error;
use std::process::ExitCode;

pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<ExitCode, Error> {
    let mfa_token = super::mfa_token_flag(args.mfa_token.as_ref())?;
    let overrides = Overrides {
        mfa_token: mfa_token.clone(),
        duration: args.duration,
        session_name: args.session_name.clone(),
        external_id: args.external_id.clone(),
        region: args.region.clone(),
        no_session: false,
    };
    let files = ConfigFiles::locate(ctx);
    let profiles = Profiles::load_from(&files)?;
    let file_problems = diagnose::file_problems(&files);
    let mut checks = Checks::new(ctx);
    let Some(name) = &args.profile else {
        let (out, exit) = checks.every(&profiles, &file_problems);
        print(&out)?;
        return Ok(exit.into());
    };
    if profiles.get(name).is_none() {
        return Err(profiles.unknown(name, None).into());
    }
    let (plan, mut problems) = checks.check(&profiles, name, &overrides);
    print(&diagnose::explain(
        name,
        plan.as_ref(),
        &profiles,
        &overrides,
        args.live,
        ctx,
    ))?;
    if args.live {
        match &plan {
            Some(plan) => {
                let mut show = |text: &str| print(text).map(drop);
                problems.extend(diagnose::live(plan, &profiles, mfa_token, ctx, &mut show)?);
            }
            None => {
                print("\n`--live` skipped: the profile has a problem to fix first\n")?;
            }
        }
    }
    problems.extend(file_problems);
    print(&diagnose::problems_text(&problems))?;
    Ok(diagnose::exit_for(&problems).into())
}
