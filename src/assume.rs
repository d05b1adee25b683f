//! Carrying out a plan: base credentials, then one `AssumeRole` per hop. This is the only place
//! that builds an async runtime, and only when the plan needs the network.

use crate::config::{Base, Plan};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::{mfa, source, sts};

/// The credentials the plan leads to.
pub fn credentials_for(plan: &Plan) -> Result<Credentials, Error> {
    if plan.hops.is_empty() {
        if let Base::StaticKeys {
            session_token: None,
            ..
        } = plan.base
        {
            tracing::warn!(
                "profile `{}` assumes no role: handing over its long-term keys as they are",
                plan.profile
            );
        }
        // Keys in the file need no runtime, no TLS and no SDK.
        if let Base::StaticKeys { .. } = plan.base {
            return pollster::block_on(source::base_credentials(&plan.base, &plan.region));
        }
    }
    let codes = collect_codes(plan)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(run(plan, codes))
}

/// The credentials the plan leads to, for callers that already run an async runtime. A prompt
/// for an MFA code blocks the calling thread.
pub async fn obtain(plan: &Plan) -> Result<Credentials, Error> {
    let codes = collect_codes(plan)?;
    run(plan, codes).await
}

/// Every code the chain needs, checked, before the first request: asking after a first hop
/// would leave half a chain in the client's `CloudTrail`, and fail slowly where it could fail
/// at once.
fn collect_codes(plan: &Plan) -> Result<Vec<Option<String>>, Error> {
    plan.hops
        .iter()
        .map(|hop| hop.mfa.as_ref().map(|m| mfa::code_for(hop, m)).transpose())
        .collect()
}

async fn run(plan: &Plan, codes: Vec<Option<String>>) -> Result<Credentials, Error> {
    let mut credentials = source::base_credentials(&plan.base, &plan.region).await?;
    if plan.hops.is_empty() {
        return Ok(credentials);
    }
    let sts = sts::Sts::new(&plan.profile, &plan.region, plan.sdk_settings).await;
    let mut source_profile = plan.base.profile();
    for (hop, code) in plan.hops.iter().zip(codes) {
        credentials = sts
            .assume_role(&credentials, source_profile, hop, code)
            .await?;
        source_profile = &hop.profile;
    }
    Ok(credentials)
}
