//! The live check (`doctor --live`): the source credentials' identity (`GetCallerIdentity`),
//! then the chain made as a run with `--no-cache` makes it, through the same engine
//! ([`assume::obtain`]), so that what works here works in a run. A failure is pinned to its
//! hop; a refused `AssumeRole` is explained by what the trust policy must say (`trust`).
//!
//! Unlike the offline report, this one is shown as it goes, through a sink the caller passes:
//! a step can take seconds (STS, an MFA prompt on the terminal), and the lines already shown
//! say how far it got. The sink is a plain `FnMut(&str)` whose error is the caller's own, so
//! that a failed write stops the check at once, as a failed `print` always did, and this
//! module needs to know neither stdout nor the command's error type; `E: From<AssumeError>`
//! only carries a runtime that cannot start.

use super::trust::trust_hints;
use super::{Problem, line};
use crate::assume;
use crate::assume::AssumeError;
use crate::aws::sts::{CallerIdentity, Sts};
use crate::aws::{StsCall, StsFailure};
use crate::cache::sessions::Store;
use crate::config::{Plan, Profiles};
use crate::context::Context;
use crate::credentials::{Credentials, rfc3339};
use crate::exit::Diagnose;
use crate::secret::OneTimeCode;
use std::time::Duration;

/// Where the live check's lines go as they are made, each ending with a newline.
pub type Sink<'s, E> = dyn FnMut(&str) -> Result<(), E> + 's;

/// The source's identity, then the chain made as a run with `--no-cache` makes it, each step
/// shown through `show` once it is done. Returns the problem that stopped it, if any.
pub fn live<E: From<AssumeError>>(
    plan: &Plan,
    profiles: &Profiles,
    mfa_token: Option<OneTimeCode>,
    ctx: &Context,
    show: &mut Sink<'_, E>,
) -> Result<Option<Problem>, E> {
    let runtime = assume::runtime()?;
    runtime.block_on(async {
        let sts = match Sts::new(plan, ctx).await {
            Ok(sts) => sts,
            Err(err) => return Ok(Some(Problem::of(&err))),
        };
        show(&format!(
            "\nlive          calls to STS at {}: GetCallerIdentity, then the chain\n",
            sts.endpoint()
        ))?;
        let source =
            match crate::assume::source::base_credentials(&plan.base, &plan.region, ctx).await {
                Ok(creds) => creds,
                Err(err) => {
                    show("source        cannot be had\n")?;
                    return Ok(Some(Problem::of(&err)));
                }
            };
        let who = format!("profile `{}`", plan.base.profile());
        let caller = match sts.get_caller_identity(&source, &who).await {
            Ok(identity) => identity,
            Err(err) => {
                show("source        refused\n")?;
                return Ok(Some(Problem::of(&err)));
            }
        };
        show(&format!(
            "source        works: {}, account {}\n",
            caller.arn, caller.account
        ))?;
        if plan.hops.is_empty() {
            return Ok(None);
        }
        let store = Store::open(ctx);
        let opts = assume::Options {
            no_cache: true,
            min_valid: Duration::ZERO,
            mfa_token,
            prepared: None,
        };
        match assume::obtain(plan, store.as_ref(), &opts, ctx).await {
            Ok((creds, _)) => chain_worked(&sts, plan, &creds, show).await,
            Err(err) => chain_failed(&err, plan, &caller, profiles, show).map(Some),
        }
    })
}

/// Every hop assumed: the hops, then who the final credentials are and until when.
async fn chain_worked<E>(
    sts: &Sts,
    plan: &Plan,
    creds: &Credentials,
    show: &mut Sink<'_, E>,
) -> Result<Option<Problem>, E> {
    let mut out = String::new();
    for (index, hop) in plan.hops.iter().enumerate() {
        line(
            &mut out,
            &format!("hop {}", index + 1),
            &format!("assumed {}", hop.role_arn),
        );
    }
    let who = format!("profile `{}`", plan.profile);
    match sts.get_caller_identity(creds, &who).await {
        Ok(identity) => {
            let until = creds.expiration.map(rfc3339).unwrap_or_default();
            line(
                &mut out,
                "result",
                &format!("{}, until {until}", identity.arn),
            );
            show(&out)?;
            Ok(None)
        }
        Err(err) => {
            show(&out)?;
            Ok(Some(Problem::of(&err)))
        }
    }
}

/// The hops that worked, the one that failed, and the fix: for a refused `AssumeRole`, what
/// the trust policy must say for this caller.
fn chain_failed<E>(
    err: &AssumeError,
    plan: &Plan,
    caller: &CallerIdentity,
    profiles: &Profiles,
    show: &mut Sink<'_, E>,
) -> Result<Problem, E> {
    let failed = failed_hop(err, plan);
    let mut out = String::new();
    for index in 0..failed.unwrap_or(0) {
        line(
            &mut out,
            &format!("hop {}", index + 1),
            &format!("assumed {}", plan.hops[index].role_arn),
        );
    }
    if let Some(index) = failed {
        line(&mut out, &format!("hop {}", index + 1), "failed");
    }
    show(&out)?;
    let fixes = match (err, failed) {
        (
            AssumeError::Aws(crate::aws::AwsError::Sts {
                call: StsCall::AssumeRole,
                failure: StsFailure::AccessDenied,
                ..
            }),
            Some(index),
        ) => trust_hints(plan, index, caller, profiles),
        _ => err.hints(),
    };
    Ok(Problem {
        what: err.to_string(),
        fixes,
        exit: Some(err.exit()),
    })
}

/// Which hop an error of the chain is about, by the profile it names.
fn failed_hop(err: &AssumeError, plan: &Plan) -> Option<usize> {
    use crate::aws::AwsError as Aws;
    use crate::mfa::MfaError as Mfa;
    use crate::process::ProcessError as Process;
    let (AssumeError::Aws(
        Aws::Sts { profile, .. }
        | Aws::Unreachable { profile, .. }
        | Aws::BadResponse { profile, .. },
    )
    | AssumeError::Mfa(
        Mfa::MfaUnavailable { profile, .. }
        | Mfa::MfaProcess { profile, .. }
        | Mfa::Process(
            Process::HelperFailed { profile, .. } | Process::HelperTimeout { profile, .. },
        ),
    )
    | AssumeError::Process(
        Process::HelperFailed { profile, .. } | Process::HelperTimeout { profile, .. },
    )) = err
    else {
        return None;
    };
    plan.hops.iter().position(|h| &h.profile == profile)
}
