//! `onboard publish`: one link for the client. A fresh external ID, the template uploaded to the
//! contractor's own bucket with the contractor's own profile (so S3 endpoint overrides apply),
//! and a CloudFormation quick-create link that carries a presigned template URL, the stack name
//! and the external ID, so the client's side is one click and one ARN sent back.

use super::cloudformation::Template;
use super::validate;
use crate::credentials::Credentials;
use crate::error::Error;
use aws_config::BehaviorVersion;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_types::region::Region;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::Duration;

/// The longest a SigV4 presigned URL may live; it also ends when the signing credentials do.
pub const LINK_LIFETIME: Duration = Duration::from_hours(7 * 24);

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
}

#[derive(Debug, Clone)]
pub struct Published {
    pub external_id: String,
    pub object: String,
    pub launch_url: String,
    /// When the presigned template URL, and so the link, stops working.
    pub link_expires: std::time::SystemTime,
}

/// Uploads the template and builds the link. `credentials` are the contractor's.
pub async fn publish(request: &Request, credentials: &Credentials) -> Result<Published, Error> {
    validate::bucket(&request.bucket)?;
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

    let config = aws_config::defaults(BehaviorVersion::latest())
        .profile_name(&request.profile)
        .region(Region::new(request.bucket_region.clone()))
        .credentials_provider(credentials.to_sdk())
        .load()
        .await;
    let overridden = std::env::var_os(crate::env_vars::AWS_ENDPOINT_URL_S3).is_some()
        || config.endpoint_url().is_some();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            // A custom endpoint (an emulator, a gateway) rarely resolves bucket subdomains.
            .force_path_style(overridden)
            .build(),
    );
    let fail = |action: &str, err: &dyn std::error::Error| Error::Publish {
        bucket: request.bucket.clone(),
        detail: format!("{action}: {}", crate::error::causes(err)),
    };
    s3.put_object()
        .bucket(&request.bucket)
        .key(&request.key)
        .content_type("text/yaml")
        .body(body.into_bytes().into())
        .send()
        .await
        .map_err(|e| fail("upload failed", &e))?;
    let lifetime = credentials
        .expiration
        .and_then(|e| e.duration_since(std::time::SystemTime::now()).ok())
        .map_or(LINK_LIFETIME, |left| left.min(LINK_LIFETIME));
    let presigned = s3
        .get_object()
        .bucket(&request.bucket)
        .key(&request.key)
        .presigned(
            PresigningConfig::expires_in(lifetime).map_err(|e| fail("presigning failed", &e))?,
        )
        .await
        .map_err(|e| fail("presigning failed", &e))?;
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

/// The console's quick-create page for the stack, in the partition of `region`.
pub fn launch_url(region: &str, template_url: &str, stack_name: &str, external_id: &str) -> String {
    let console = match crate::cache::key::partition(region) {
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
