//! `assume-role whoami`: whose credentials a profile (or the session this shell is in) holds,
//! as STS sees them (`GetCallerIdentity`), and how long they last.

use super::{print, session_for};
use crate::aws::sts::{CallerIdentity, Sts};
use crate::cli::CredentialOptions;
use crate::config::{Base, ConfigFiles, DEFAULT_REGION, Overrides, Plan, Profiles, RegionOrigin};
use crate::context::Context;
use crate::credentials::{Credentials, rfc3339};
use crate::error::Error;
use crate::secret::mask_access_key;
use serde::Serialize;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::SystemTime;

/// What is reported, as text or JSON.
#[derive(Serialize)]
struct Report<'a> {
    /// The profile, or `None` for `AWS_*` variables that belong to no session of ours.
    profile: Option<&'a str>,
    account: &'a str,
    arn: &'a str,
    user_id: &'a str,
    session_name: Option<&'a str>,
    /// Masked: it identifies a person.
    access_key_id: String,
    expiration: Option<String>,
    remaining_seconds: Option<u64>,
}

pub fn run(
    profile: Option<&str>,
    json: bool,
    options: &CredentialOptions,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let (label, plan, credentials) =
        match (profile, &ctx.env.outer_session, &ctx.env.env_credentials) {
            (Some(name), _, _) => of_profile(name, options, ctx)?,
            // Inside one of our sessions, the shell's own variables are what it uses: report those.
            (None, Some(outer), Some(creds)) => (
                Some(outer.clone()),
                environment_plan(outer, ctx),
                with_session_expiry(creds, ctx),
            ),
            // A session of ours with no keys in the environment (`exec --server`): ask again.
            (None, Some(outer), None) => of_profile(&outer.clone(), options, ctx)?,
            (None, None, Some(creds)) => (
                None,
                environment_plan("environment", ctx),
                with_session_expiry(creds, ctx),
            ),
            (None, None, None) => return Err(Error::NoSession),
        };
    let who = match &label {
        Some(name) => format!("profile `{name}`"),
        None => "the `AWS_*` variables of this shell".to_owned(),
    };
    let identity = crate::assume::runtime()?.block_on(async {
        let sts = Sts::new(&plan, ctx).await?;
        sts.get_caller_identity(&credentials, &who).await
    })?;
    let report = report(label.as_deref(), &identity, &credentials, SystemTime::now());
    if json {
        let mut text = serde_json::to_string_pretty(&report).expect("plain values serialize");
        text.push('\n');
        print(&text)
    } else {
        print(&text(&report))
    }
}

fn of_profile(
    name: &str,
    options: &CredentialOptions,
    ctx: &Context,
) -> Result<(Option<String>, Plan, Credentials), Error> {
    let session = session_for(name, options, ctx, crate::audit::Via::Whoami)?;
    // The STS client follows the profile's own endpoint settings, as the call that made the
    // credentials did.
    let plan = Plan::resolve(
        &Profiles::load_from(&ConfigFiles::locate(ctx))?,
        name,
        &Overrides::default(),
        ctx,
    )?;
    Ok((Some(session.profile), plan, session.credentials))
}

/// A plan for credentials taken from the environment: the session's region, no files.
fn environment_plan(label: &str, ctx: &Context) -> Plan {
    let (region, region_origin) = match &ctx.env.session_region {
        Some(region) if crate::rules::is_host_label(region) => {
            (region.clone(), RegionOrigin::Environment)
        }
        _ => (DEFAULT_REGION.to_owned(), RegionOrigin::Default),
    };
    Plan {
        profile: label.to_owned(),
        region,
        region_origin,
        base: Base::Environment {
            profile: label.to_owned(),
        },
        hops: Vec::new(),
        sdk_settings: None,
        session: None,
    }
}

/// The environment's credentials, with the expiry the session announced
/// (`AWS_CREDENTIAL_EXPIRATION`), if it is readable.
fn with_session_expiry(creds: &Credentials, ctx: &Context) -> Credentials {
    let expiration = ctx
        .env
        .session_expiration
        .as_deref()
        .and_then(crate::time::parse);
    Credentials {
        expiration,
        ..creds.clone()
    }
}

/// The session name of an assumed role's ARN (`…:assumed-role/<role>/<session>`), or a
/// federated user's name.
fn session_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        return rest.split_once('/').map(|(_, session)| session);
    }
    resource.strip_prefix("federated-user/")
}

fn report<'a>(
    profile: Option<&'a str>,
    identity: &'a CallerIdentity,
    creds: &Credentials,
    now: SystemTime,
) -> Report<'a> {
    Report {
        profile,
        account: &identity.account,
        arn: &identity.arn,
        user_id: &identity.user_id,
        session_name: session_name(&identity.arn),
        access_key_id: mask_access_key(&creds.access_key_id),
        expiration: creds.expiration.map(rfc3339),
        remaining_seconds: creds
            .expiration
            .map(|e| e.duration_since(now).map_or(0, |d| d.as_secs())),
    }
}

fn text(report: &Report) -> String {
    let expires = match (&report.expiration, report.remaining_seconds) {
        (Some(at), Some(0)) => format!("{at} (expired)"),
        (Some(at), Some(left)) => format!(
            "{at} ({} left)",
            crate::duration::display(std::time::Duration::from_secs(left))
        ),
        _ if report.access_key_id.starts_with("AKIA") => "never (long-term keys)".to_owned(),
        _ => "unknown".to_owned(),
    };
    let rows = [
        (
            "profile",
            report.profile.unwrap_or("(environment)").to_owned(),
        ),
        ("account", report.account.to_owned()),
        ("arn", report.arn.to_owned()),
        ("session", report.session_name.unwrap_or("-").to_owned()),
        ("key", report.access_key_id.clone()),
        ("expires", expires),
    ];
    rows.iter().fold(String::new(), |mut out, (name, value)| {
        let _ = writeln!(out, "{name:<8} {value}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::time::Duration;

    #[test]
    fn session_names_come_from_the_arn() {
        assert_eq!(
            session_name("arn:aws:sts::222222222222:assumed-role/client/tester"),
            Some("tester")
        );
        assert_eq!(
            session_name("arn:aws:sts::1:federated-user/bob"),
            Some("bob")
        );
        assert_eq!(session_name("arn:aws:iam::111111111111:user/me"), None);
    }

    #[test]
    fn the_report_shows_time_left_and_masks_the_key() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_hours(1000);
        let creds = Credentials {
            access_key_id: "ASIAEXAMPLE000000001".into(),
            secret_access_key: Secret::new("s3cr3t-value"),
            session_token: None,
            expiration: Some(now + Duration::from_mins(59)),
            account_id: None,
        };
        let identity = CallerIdentity {
            account: "222222222222".into(),
            arn: "arn:aws:sts::222222222222:assumed-role/client/tester".into(),
            user_id: "AROA:tester".into(),
        };
        let out = text(&report(Some("client"), &identity, &creds, now));
        assert!(out.contains("session  tester\n"), "{out}");
        assert!(out.contains("(59m left)"), "{out}");
        assert!(!out.contains("ASIAEXAMPLE000000001"), "{out}");
    }
}
