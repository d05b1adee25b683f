//! The sign-in itself: the partition's federation endpoint (or its override), the console page
//! to land on, the `getSigninToken` exchange of a session's keys for a sign-in token, and the
//! `login` URL built from that token.

use super::http::get;
use super::{ConsoleError, encode};
use crate::aws::RemoteFailure;
use crate::context::Context;
use crate::credentials::Credentials;
use crate::env_vars;
use crate::rules::{self, Partition};
use crate::secret::Secret;
use std::time::Duration;

/// What the console shows as the sign-in's origin.
pub const ISSUER: &str = "assume-role";
/// The federation call, connection and answer together: a dead endpoint fails, never hangs.
pub const FEDERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The partition's federation endpoint (`https://<sign-in host>/federation`), or
/// `ASSUME_ROLE_FEDERATION_ENDPOINT`. A partition without a public console is refused.
pub fn federation_endpoint(
    profile: &str,
    partition: &Partition,
    region: &str,
    ctx: &Context,
) -> Result<String, ConsoleError> {
    let Some(host) = rules::signin_host(partition) else {
        return Err(ConsoleError::ConsoleUnavailable {
            profile: profile.to_owned(),
            partition: partition.name,
            region: region.to_owned(),
        });
    };
    match &ctx.env.federation_endpoint {
        Some(url) => check_endpoint_override(url).map(|()| url.clone()),
        None => Ok(format!("https://{host}/federation")),
    }
}

/// The override carries credentials in its query: `https://`, or plain `http://` to this
/// machine only (a test stub), as botocore allows for its container endpoint.
fn check_endpoint_override(url: &str) -> Result<(), ConsoleError> {
    let bad = |reason: &'static str| crate::env_vars::InvalidEnvVar {
        name: env_vars::ASSUME_ROLE_FEDERATION_ENDPOINT,
        value: rules::shown(url),
        reason,
        expected: "an `https://` URL such as `https://signin.aws.amazon.com/federation`, or `http://127.0.0.1:PORT/…` for a local stub",
    };
    let uri: hyper::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if uri.query().is_some() {
        return Err(bad("a URL with a query, to which another could not be added").into());
    }
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some(host)) if is_loopback(host) => Ok(()),
        (Some("http"), Some(_)) => Err(bad(
            "plain `http://` to another machine, which would send the credentials in the clear",
        )
        .into()),
        _ => Err(bad("not an `https://` URL").into()),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The console page to land on: a service's home (`s3`, `ec2/v2`) or the console's, in
/// `region`.
pub fn destination(
    profile: &str,
    partition: &Partition,
    region: &str,
    service: Option<&str>,
) -> Result<String, ConsoleError> {
    let host =
        rules::console_host(partition, region).ok_or_else(|| ConsoleError::ConsoleUnavailable {
            profile: profile.to_owned(),
            partition: partition.name,
            region: region.to_owned(),
        })?;
    let path = match service {
        Some(service) => {
            let ok = !service.is_empty()
                && !service.starts_with('/')
                && !service.contains("//")
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-/".contains(&b));
            if !ok {
                return Err(crate::rules::InvalidValue {
                    profile: None,
                    key: "--service".into(),
                    what: "console service",
                    value: rules::shown(service),
                    reason: "it is the service's part of the console's address, such as `s3`, `ec2`, `cloudformation` or `iam`: lower-case letters, digits, `-` and `/`".into(),
                }.into());
            }
            service.trim_end_matches('/')
        }
        None => "console",
    };
    Ok(format!("https://{host}/{path}/home?region={region}"))
}

/// The `getSigninToken` request: the session's keys in `Session`, `SessionDuration` if sent.
fn signin_token_request(endpoint: &str, creds: &Credentials, duration: Option<Duration>) -> Secret {
    #[derive(serde::Serialize)]
    struct Session<'a> {
        #[serde(rename = "sessionId")]
        id: &'a str,
        #[serde(rename = "sessionKey")]
        key: &'a str,
        #[serde(rename = "sessionToken")]
        token: &'a str,
    }
    let session = serde_json::to_string(&Session {
        id: &creds.access_key_id,
        key: creds.secret_access_key.expose(),
        token: creds
            .session_token
            .as_ref()
            .map(Secret::expose)
            .unwrap_or_default(),
    })
    .expect("plain strings serialize");
    let duration = duration
        .map(|d| format!("&SessionDuration={}", d.as_secs()))
        .unwrap_or_default();
    Secret::new(format!(
        "{endpoint}?Action=getSigninToken{duration}&Session={}",
        encode(&session)
    ))
}

/// The `login` URL that signs the browser in and lands on `destination`.
pub fn login_url(endpoint: &str, destination: &str, token: &Secret) -> Secret {
    let encoded = encode(token.expose());
    // The encoded form is what a line would show: remembered for redaction too.
    let _ = Secret::new(encoded.clone());
    Secret::new(format!(
        "{endpoint}?Action=login&Issuer={}&Destination={}&SigninToken={encoded}",
        encode(ISSUER),
        encode(destination)
    ))
}

/// What `getSigninToken` answers.
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(rename = "SigninToken")]
    token: String,
}

/// Exchanges `creds` for a sign-in token.
pub async fn signin_token(
    endpoint: &str,
    creds: &Credentials,
    duration: Option<Duration>,
    profile: &str,
) -> Result<Secret, ConsoleError> {
    let fail = |failure: RemoteFailure, detail: String| ConsoleError::Federation {
        profile: profile.to_owned(),
        endpoint: endpoint.to_owned(),
        detail,
        failure,
        sent_duration: duration.is_some(),
    };
    tracing::info!(
        endpoint,
        session_duration = ?duration.map(|d| d.as_secs()),
        "getSigninToken"
    );
    let request = signin_token_request(endpoint, creds, duration);
    let (status, body) = match tokio::time::timeout(FEDERATION_TIMEOUT, get(request.expose())).await
    {
        Ok(Ok(answer)) => answer,
        Ok(Err(detail)) => return Err(fail(RemoteFailure::Unreachable, detail)),
        Err(_) => {
            return Err(fail(
                RemoteFailure::Unreachable,
                format!(
                    "no answer within {}",
                    crate::duration::display(FEDERATION_TIMEOUT)
                ),
            ));
        }
    };
    tracing::debug!(status, bytes = body.len(), "getSigninToken answered");
    match status {
        200 => {}
        // AWS answers 400 to credentials it will not take (long-term keys, an expired or
        // revoked session, `SessionDuration` for a chained one). The body is not shown: it
        // is not ours to trust, and it might echo the request.
        400..=499 => {
            return Err(fail(
                RemoteFailure::Refused,
                format!("HTTP {status}: it does not accept these credentials"),
            ));
        }
        _ => {
            return Err(fail(RemoteFailure::BadAnswer, format!("HTTP {status}")));
        }
    }
    match serde_json::from_slice::<Answer>(&body) {
        Ok(answer) if !answer.token.is_empty() => Ok(Secret::new(answer.token)),
        _ => Err(fail(
            RemoteFailure::BadAnswer,
            "the answer is not the `{\"SigninToken\": …}` JSON of a sign-in endpoint".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE000000001".into(),
            secret_access_key: Secret::new("secret/with+chars"),
            session_token: Some(Secret::new("token=")),
            expiration: None,
            account_id: None,
        }
    }

    #[test]
    fn the_request_carries_the_session_and_duration_only_when_asked() {
        let with = signin_token_request(
            "https://s/federation",
            &creds(),
            Some(Duration::from_hours(2)),
        );
        assert_eq!(
            with.expose(),
            "https://s/federation?Action=getSigninToken&SessionDuration=7200&Session=%7B%22sessionId%22%3A%22ASIAEXAMPLE000000001%22%2C%22sessionKey%22%3A%22secret%2Fwith%2Bchars%22%2C%22sessionToken%22%3A%22token%3D%22%7D"
        );
        let without = signin_token_request("https://s/federation", &creds(), None);
        assert!(!without.expose().contains("SessionDuration"));
        assert!(format!("{with:?}").contains("redacted"));
    }

    #[test]
    fn destinations_and_login_urls() {
        let aws = rules::partition("aws").unwrap();
        assert_eq!(
            destination("p", aws, "eu-west-1", Some("s3")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination("p", aws, "us-east-1", None).unwrap(),
            "https://console.aws.amazon.com/console/home?region=us-east-1"
        );
        for bad in ["S3", "s3?x=1", "/s3", "s3 x", "a//b", ""] {
            assert!(
                destination("p", aws, "eu-west-1", Some(bad)).is_err(),
                "{bad}"
            );
        }
        let url = login_url(
            "https://s/federation",
            "https://d/s3/home?region=r",
            &Secret::new("tok&en"),
        );
        assert_eq!(
            url.expose(),
            "https://s/federation?Action=login&Issuer=assume-role&Destination=https%3A%2F%2Fd%2Fs3%2Fhome%3Fregion%3Dr&SigninToken=tok%26en"
        );
    }

    #[test]
    fn partitions_without_a_console_are_refused_and_overrides_checked() {
        let ctx = Context::default();
        let iso = rules::partition("aws-iso").unwrap();
        assert!(matches!(
            federation_endpoint("p", iso, "us-iso-east-1", &ctx),
            Err(ConsoleError::ConsoleUnavailable { .. })
        ));
        let cn = rules::partition("aws-cn").unwrap();
        assert_eq!(
            federation_endpoint("p", cn, "cn-north-1", &ctx).unwrap(),
            "https://signin.amazonaws.cn/federation"
        );
        for good in [
            "http://127.0.0.1:8080/federation",
            "http://[::1]:1/f",
            "https://signin.example/federation",
        ] {
            check_endpoint_override(good).unwrap();
        }
        for bad in [
            "http://example.com/federation",
            "ftp://x/",
            "https://x/f?a=b",
            "nonsense",
        ] {
            assert!(check_endpoint_override(bad).is_err(), "{bad}");
        }
    }
}
