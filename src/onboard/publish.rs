//! `onboard publish`: one link for the client. A fresh external ID, the template uploaded to the
//! contractor's own bucket with the contractor's own profile (so S3 endpoint overrides apply),
//! and a CloudFormation quick-create link that carries a presigned template URL, the stack name
//! and the external ID, so the client's side is one click and one ARN sent back.

use super::cloudformation::Template;
use super::validate;
use crate::aws::sdk_error::{self, Answer, Failure};
use crate::credentials::Credentials;
use crate::onboard::OnboardError;
use crate::onboard::PublishFailure;
use aws_config::BehaviorVersion;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::Duration;

/// The longest a SigV4 presigned URL may live; it also ends when the signing credentials do.
pub const LINK_LIFETIME: Duration = Duration::from_hours(7 * 24);

/// Bounds on the upload, so that an endpoint that never answers fails instead of hanging: a
/// template is a few kilobytes, which any working link moves in well under the attempt bound.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct Request {
    pub bucket: String,
    pub key: String,
    pub stack_name: String,
    /// The client's region, for the console link.
    pub region: String,
    /// Where the bucket is: the contractor profile's region.
    pub bucket_region: String,
    /// The contractor profile whose credentials upload the template.
    pub profile: String,
    pub template: Template,
    /// `AWS_ENDPOINT_URL_S3`, from the context.
    pub endpoint_url_s3: Option<String>,
    /// The environment the SDK's loader reads (endpoints, retries, the profile files), from our
    /// snapshot ([`crate::env::Env::sdk_env`]) rather than from the process.
    pub sdk_env: aws_types::os_shim_internal::Env,
}

#[derive(Debug, Clone)]
pub struct Published {
    pub external_id: String,
    pub object: String,
    pub launch_url: String,
    /// When the presigned template URL, and so the link, stops working.
    pub link_expires: std::time::SystemTime,
}

/// The S3 client that uploads with `credentials`, and the endpoint it talks to (for messages).
async fn client(request: &Request, credentials: &Credentials) -> (aws_sdk_s3::Client, String) {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .env(request.sdk_env.clone())
        .profile_name(&request.profile)
        .region(Region::new(request.bucket_region.clone()))
        .credentials_provider(credentials.to_sdk())
        .load()
        .await;
    let override_url = request
        .endpoint_url_s3
        .clone()
        .or_else(|| config.endpoint_url().map(str::to_owned));
    let endpoint = override_url
        .clone()
        .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", request.bucket_region));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            // A custom endpoint (an emulator, a gateway) rarely resolves bucket subdomains.
            .force_path_style(override_url.is_some())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .build(),
    );
    (s3, endpoint)
}

/// Uploads the template and builds the link. `credentials` are the contractor's.
pub async fn publish(
    request: &Request,
    credentials: &Credentials,
) -> Result<Published, OnboardError> {
    validate::bucket(&request.bucket)?;
    validate::object_key(&request.key)?;
    let external_id = match &request.template.external_id {
        Some(id) => id.clone(),
        None => super::generate_external_id()?,
    };
    // The ID travels in the link, not in the template: one template serves any number of clients.
    let template = Template {
        external_id: None,
        ..request.template.clone()
    };
    let body = template.yaml()?;
    let (s3, endpoint) = client(request, credentials).await;
    let fail = |failure: PublishFailure, detail: String| OnboardError::Publish {
        bucket: request.bucket.clone(),
        detail,
        failure,
        profile: request.profile.clone(),
    };
    s3.put_object()
        .bucket(&request.bucket)
        .key(&request.key)
        .content_type("text/yaml")
        .body(body.into_bytes().into())
        .send()
        .await
        .map_err(|e| {
            let failed = sdk_error::classify(&format!("PutObject to `{endpoint}`"), &e);
            let (failure, detail) = upload_failure(failed, request, &endpoint);
            fail(failure, detail)
        })?;
    let lifetime = credentials
        .expiration
        .and_then(|e| e.duration_since(std::time::SystemTime::now()).ok())
        .map_or(LINK_LIFETIME, |left| left.min(LINK_LIFETIME));
    let presigned = s3
        .get_object()
        .bucket(&request.bucket)
        .key(&request.key)
        .presigned(PresigningConfig::expires_in(lifetime).map_err(|e| {
            fail(
                PublishFailure::Other,
                format!(
                    "cannot sign a link for {}: {e}",
                    crate::duration::display(lifetime)
                ),
            )
        })?)
        .await
        .map_err(|_| {
            // Signing is local: it fails only on a request that cannot be built.
            fail(
                PublishFailure::Other,
                "cannot sign a link to the uploaded template".into(),
            )
        })?;
    let template_url = presigned.uri().to_owned();
    Ok(Published {
        launch_url: launch_url(
            &request.region,
            &template_url,
            &request.stack_name,
            &external_id,
        ),
        external_id,
        object: format!("s3://{}/{}", request.bucket, request.key),
        link_expires: std::time::SystemTime::now() + lifetime,
    })
}

/// One sentence for a failed upload. Never the SDK's `Debug` form or its metadata's `Display`
/// (`OnboardError { code: …, aws_request_id: … }`), which say nothing a person can act on.
fn upload_failure(failure: Failure, request: &Request, endpoint: &str) -> (PublishFailure, String) {
    let object = format!("s3://{}/{}", request.bucket, request.key);
    match failure {
        Failure::NoAnswer => (
            PublishFailure::Unreachable,
            format!(
                "no answer from `{endpoint}` (the upload gives up after {})",
                crate::duration::display(OPERATION_TIMEOUT)
            ),
        ),
        Failure::ConnectTimeout => (
            PublishFailure::Unreachable,
            format!(
                "cannot reach `{endpoint}`: no connection within {}",
                crate::duration::display(CONNECT_TIMEOUT)
            ),
        ),
        Failure::Connect(_) => (
            PublishFailure::Unreachable,
            format!("cannot reach `{endpoint}`: the connection failed"),
        ),
        Failure::Service(answer) => refused(answer, request, &object, endpoint),
        Failure::Unreadable(_) => (
            PublishFailure::Other,
            format!("the answer from `{endpoint}` could not be read as an S3 response"),
        ),
        Failure::NotBuilt(_) => (
            PublishFailure::Other,
            format!("the upload request for `{object}` could not be built"),
        ),
    }
}

/// What S3's error code means for the upload.
fn refused(
    answer: Answer,
    request: &Request,
    object: &str,
    endpoint: &str,
) -> (PublishFailure, String) {
    let code = answer.code.unwrap_or_default();
    match code.as_str() {
        "NoSuchBucket" => (
            PublishFailure::NoSuchBucket,
            format!(
                "bucket `{}` does not exist (or is not in your account)",
                request.bucket
            ),
        ),
        "AccessDenied" | "AllAccessDisabled" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" => (
            PublishFailure::AccessDenied,
            format!(
                "S3 refused profile `{}` to write `{object}` ({code})",
                request.profile
            ),
        ),
        "" => (
            PublishFailure::Other,
            format!("`{endpoint}` refused to store `{object}`, giving no reason"),
        ),
        other => (
            PublishFailure::Other,
            format!(
                "S3 refused to store `{object}`: {other}{}",
                Some(answer.message.as_str())
                    .filter(|m| !m.is_empty())
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// The console's quick-create page for the stack, in the partition of `region`.
pub fn launch_url(region: &str, template_url: &str, stack_name: &str, external_id: &str) -> String {
    let console = match crate::rules::partition_of_region(region).name {
        "aws-cn" => "console.amazonaws.cn",
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    };
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    format!(
        "https://{console}/cloudformation/home?region={}#/stacks/quickcreate?templateURL={}&stackName={}&param_ExternalId={}",
        enc(region),
        enc(template_url),
        enc(stack_name),
        enc(external_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_url_carries_everything_encoded() {
        let url = launch_url(
            "eu-west-1",
            "https://b.s3.amazonaws.com/k.yaml?X-Amz-Signature=a&b=c",
            "acme-access",
            "id/with+chars",
        );
        assert!(url.starts_with("https://console.aws.amazon.com/cloudformation/home?region=eu%2Dwest%2D1#/stacks/quickcreate?templateURL=https%3A%2F%2Fb"), "{url}");
        assert!(url.contains("%3FX%2DAmz%2DSignature%3Da%26b%3Dc&stackName=acme%2Daccess&param_ExternalId=id%2Fwith%2Bchars"), "{url}");
        assert!(
            launch_url("cn-north-1", "u", "s", "e").starts_with("https://console.amazonaws.cn/")
        );
    }
}
