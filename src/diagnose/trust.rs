//! What a role's trust policy must say, when STS refuses an `AssumeRole`. STS says only
//! "access denied"; the live check knows more by then (who asked, from `GetCallerIdentity`,
//! and what was sent), so the hints can name the exact external ID, principal and permission
//! to look at instead of listing every possible cause.

use super::at;
use crate::aws::sts::CallerIdentity;
use crate::config::{Plan, Profiles};

/// A refused `AssumeRole`, explained with what is known now: who asked (from
/// `GetCallerIdentity`), what was sent, and so what the role's trust policy and the caller's own
/// policies must say. Most likely first: the external ID, then MFA, the principal, the
/// permission.
pub(super) fn trust_hints(
    plan: &Plan,
    index: usize,
    caller: &CallerIdentity,
    profiles: &Profiles,
) -> Vec<String> {
    let hop = &plan.hops[index];
    let p = hop.profile.as_str();
    let principal = match index {
        0 => role_of_session(&caller.arn).unwrap_or_else(|| caller.arn.clone()),
        i => plan.hops[i - 1].role_arn.clone(),
    };
    let account = crate::rules::iam_arn(&principal)
        .map_or_else(|| caller.account.clone(), |a| a.account.to_owned());
    let partition = crate::rules::iam_arn(&principal).map_or("aws", |a| a.partition);
    let mut hints = Vec::new();
    hints.push(match &hop.external_id {
        Some(value) => format!(
            "the external ID sent, {}, must equal the `sts:ExternalId` of the role's trust policy exactly: it is case-sensitive (`external_id`{})",
            crate::secret::mask_external_id(value),
            at(profiles, p, "external_id")
        ),
        None => format!(
            "no external ID was sent: if the trust policy has an `sts:ExternalId` condition, add `external_id = …` to profile `{p}`"
        ),
    });
    hints.push(match &hop.mfa {
        Some(mfa) => format!(
            "MFA was used (`{}`), so a trust-policy condition on `aws:MultiFactorAuthPresent` is met",
            mfa.serial
        ),
        None => format!(
            "no MFA was used: if the trust policy requires `aws:MultiFactorAuthPresent`, add `mfa_serial` (and `mfa_process`) to profile `{p}`"
        ),
    });
    hints.push(format!(
        "the trust policy's `Principal` must name `{principal}` or its account (`arn:{partition}:iam::{account}:root`)"
    ));
    hints.push(format!(
        "`{principal}` needs a policy of its own allowing `sts:AssumeRole` on `{}`: `assume-role onboard contractor-policy --role-arn {}` prints one",
        hop.role_arn, hop.role_arn
    ));
    hints
}

/// The role of an assumed-role session ARN (`arn:aws:sts::1:assumed-role/R/s` →
/// `arn:aws:iam::1:role/R`), which is what a trust policy names.
fn role_of_session(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "sts", _, account, resource] = parts[..] else {
        return None;
    };
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_arn_names_its_role() {
        assert_eq!(
            role_of_session("arn:aws:sts::222222222222:assumed-role/admin/tester").as_deref(),
            Some("arn:aws:iam::222222222222:role/admin")
        );
        assert_eq!(role_of_session("arn:aws:iam::111111111111:user/me"), None);
    }
}
