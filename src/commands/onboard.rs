//! `assume-role onboard …`: the client's documents on stdout, notes for people on stderr.

use super::{print, session_for};
use crate::cli::{CredentialOptions, OnboardCommand, Preset, TemplateArgs, TrustArgs};
use crate::config::{Overrides, Plan, Profiles};
use crate::context::Context;
use crate::error::Error;
use crate::onboard::cloudformation::Template;
use crate::onboard::policy::{self, Trust};
use crate::onboard::{generate_external_id, publish, validate};
use crate::output::sh_quote;
use serde_json::json;
use std::process::ExitCode;

pub fn run(command: OnboardCommand, ctx: &Context) -> Result<ExitCode, Error> {
    match command {
        OnboardCommand::TrustPolicy(args) => {
            let trust = trust(&args)?;
            trust.validate()?;
            let external_id = external_id_or_new(args.external_id.as_deref())?;
            print_json(&trust.document(&json!(external_id)))
        }
        OnboardCommand::Permissions {
            preset,
            bucket,
            partition,
        } => match preset {
            Preset::ReadOnly => {
                // The policy AWS maintains is the honest answer: a copy of its document would
                // go stale, and an invented one would not be `ReadOnlyAccess`.
                let arn = policy::managed_policy_arn("ReadOnlyAccess", &partition)?;
                eprintln!(
                    "note: this is the ARN of an AWS managed policy, not a policy document: attach it to the role \
                     (`aws iam attach-role-policy --role-name ROLE --policy-arn {arn}`, or `--managed-policy ReadOnlyAccess` \
                     for `onboard cloudformation`). It reads almost everything, data included (S3 objects, DynamoDB items); \
                     for less, write a policy of your own."
                );
                print(&format!("{arn}\n"))
            }
            Preset::S3Put => print_json(&policy::s3_put(
                bucket.as_deref().unwrap_or_default(),
                &partition,
            )?),
        },
        OnboardCommand::ContractorPolicy {
            role_arns,
            partition,
        } => print_json(&policy::contractor_policy(&role_arns, &partition)?),
        OnboardCommand::Cloudformation(args) => {
            let mut template = template(&args)?;
            template.validate()?;
            // The parameter gets a default the client need not invent; the contractor must
            // know it, so it is shown.
            template.external_id = Some(external_id_or_new(template.external_id.as_deref())?);
            print(&template.yaml()?)
        }
        OnboardCommand::Publish {
            bucket,
            key,
            stack_name,
            region,
            profile,
            template: args,
        } => publish_template(bucket, key, stack_name, region, profile, &args, ctx),
    }
}

/// The trust as given, with each `--source-ip` written as the CIDR block IAM expects.
fn trust(args: &TrustArgs) -> Result<Trust, Error> {
    Ok(Trust {
        accounts: args.accounts.clone(),
        principals: args.principals.clone(),
        require_mfa: args.require_mfa,
        source_ips: args
            .source_ips
            .iter()
            .map(|ip| validate::source_ip(ip))
            .collect::<Result<_, _>>()?,
        not_after: args.not_after.clone(),
        partition: args.partition.clone(),
    })
}

fn template(args: &TemplateArgs) -> Result<Template, Error> {
    Ok(Template {
        trust: trust(&args.trust)?,
        managed_policies: args.managed_policies.clone(),
        role_name: args.role_name.clone(),
        max_session_duration: args.max_session_duration,
        external_id: args.trust.external_id.clone(),
        no_permissions: args.no_permissions,
    })
}

/// The given external ID, checked, or a new one, shown on stderr so it can be recorded.
fn external_id_or_new(given: Option<&str>) -> Result<String, Error> {
    if let Some(id) = given {
        validate::external_id(id)?;
        return Ok(id.to_owned());
    }
    let id = generate_external_id()?;
    eprintln!("external ID (generated; give it to the client and keep it in your profile): {id}");
    Ok(id)
}

fn print_json(value: &serde_json::Value) -> Result<ExitCode, Error> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    print(&text)
}

fn publish_template(
    bucket: String,
    key: Option<String>,
    stack_name: String,
    region: Option<String>,
    profile: Option<String>,
    args: &TemplateArgs,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    let template = template(args)?;
    template.validate()?;
    validate::stack_name(&stack_name)?;
    let partition = validate::partition(&args.trust.partition)?;
    if let Some(r) = &region {
        validate::region(r, partition)?;
    }
    let key = key.unwrap_or_else(|| format!("assume-role/{stack_name}.yaml"));
    // Before any call: an empty key would otherwise reach S3 as a malformed request.
    validate::object_key(&key)?;
    validate::bucket(&bucket)?;
    let profile = profile
        .or_else(|| ctx.env.aws_profile.clone())
        .unwrap_or_else(|| "default".to_owned());
    // The upload uses your profile's own region (where your bucket is); `--region` is the
    // client's, for the console link and the profile line.
    let (bucket_region, credentials) = own_credentials(&profile, ctx)?;
    let request = publish::Request {
        key,
        bucket,
        stack_name,
        region: region.unwrap_or_else(|| bucket_region.clone()),
        bucket_region,
        profile: profile.clone(),
        template,
        endpoint_url_s3: ctx.env.endpoint_url_s3.clone(),
        sdk_env: ctx.env.sdk_env(),
    };
    let published = crate::assume::runtime()?.block_on(publish::publish(&request, &credentials))?;

    let mut add = format!(
        "assume-role profile add {} --role-arn <RoleArn from the client> --source-profile {} --external-id {} --region {}",
        sh_quote(&request.stack_name),
        sh_quote(&profile),
        sh_quote(&published.external_id),
        sh_quote(&request.region),
    );
    if args.trust.require_mfa {
        add.push_str(" --mfa-serial <your MFA device ARN>");
    }
    let lifetime = published
        .link_expires
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    if lifetime < std::time::Duration::from_hours(24) {
        eprintln!(
            "warning: the link expires in {}, with the credentials that signed it; for a link that lasts days, publish with a profile of long-term keys",
            crate::duration::display(std::time::Duration::from_secs(lifetime.as_secs() / 60 * 60))
        );
    }
    let text = format!(
        "Template:    {}\nExternal ID: {}\n\nSend this link to the client (it works until {}):\n{}\n\nWhen the client sends back the stack's RoleArn output, run:\n{add}\n",
        published.object,
        published.external_id,
        crate::credentials::rfc3339(published.link_expires),
        published.launch_url,
    );
    print(&text)
}

/// Your own profile's region and credentials, for the upload. They are used here, not handed
/// over: a profile of long-term keys is read directly, without the warning `exec` and `env` give
/// about passing such keys on (and its keys make the longest-lived link).
fn own_credentials(
    profile: &str,
    ctx: &Context,
) -> Result<(String, crate::credentials::Credentials), Error> {
    let files = crate::config::ConfigFiles::locate(ctx);
    let plan = Plan::resolve(
        &Profiles::load_from(&files)?,
        profile,
        &Overrides::default(),
        ctx,
    )?;
    if plan.hops.is_empty() {
        let credentials = crate::assume::runtime()?.block_on(
            crate::assume::source::base_credentials(&plan.base, &plan.region, ctx),
        )?;
        return Ok((plan.region, credentials));
    }
    let session = session_for(
        profile,
        &CredentialOptions::default(),
        ctx,
        crate::audit::Via::OnboardPublish,
    )?;
    Ok((session.region, session.credentials))
}
