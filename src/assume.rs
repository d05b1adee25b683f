//! Carrying out a plan: base credentials, then one `AssumeRole` per hop. This is the only place
//! that builds an async runtime, and only when the plan needs the network.

use crate::config::{Base, Plan};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::{mfa, source, sts};

/// The credentials the plan leads to.
pub fn credentials_for(plan: &Plan) -> Result<Credentials, Error> {
    // Every code the chain will need must be obtainable before the first request is sent.
    for hop in &plan.hops {
        mfa::ensure_obtainable(hop)?;
    }
    if plan.hops.is_empty() {
        tracing::info!(profile = %plan.profile, source = plan.base.describe(), "profile assumes no role; handing over its own credentials");
        // Keys in the file need no runtime, no TLS and no SDK.
        if let Base::StaticKeys { .. } = plan.base {
            return pollster::block_on(source::base_credentials(&plan.base, &plan.region));
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(obtain(plan))
}

/// The credentials the plan leads to, for callers that already run an async runtime. Unlike
/// [`credentials_for`], this does not check up front that every MFA code is obtainable.
pub async fn obtain(plan: &Plan) -> Result<Credentials, Error> {
    let mut credentials = source::base_credentials(&plan.base, &plan.region).await?;
    if plan.hops.is_empty() {
        return Ok(credentials);
    }
    let sts = sts::Sts::new(&plan.profile, &plan.region, plan.sdk_settings).await;
    let mut source_profile = plan.base.profile();
    for hop in &plan.hops {
        let code = match &hop.mfa {
            Some(m) => Some(mfa::code_for(hop, m)?),
            None => None,
        };
        credentials = sts
            .assume_role(&credentials, source_profile, hop, code)
            .await?;
        source_profile = &hop.profile;
    }
    Ok(credentials)
}
