//! The client's web console: a role's credentials exchanged for a sign-in token at the
//! partition's federation endpoint (`getSigninToken`), the `login` URL built from it, and the
//! browser that opens it with one identity per profile, so that one client's console never
//! logs another's out.
//!
//! The sign-in URL is a bearer credential for about 15 minutes, and the `getSigninToken`
//! request carries the session's keys: neither is ever logged, and both are held as
//! [`Secret`]s so that [`crate::secret::redact`] takes them out of any line that might.

mod error;
pub use error::ConsoleError;

use crate::aws::RemoteFailure;
use crate::config::{Base, Plan};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::env_vars;
use crate::rules::{self, Partition};
use crate::secret::Secret;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// What the console shows as the sign-in's origin.
pub const ISSUER: &str = "assume-role";
/// The federation call, connection and answer together: a dead endpoint fails, never hangs.
pub const FEDERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// A `getSigninToken` answer is a few hundred bytes; anything much larger is not one.
const ANSWER_MAX: usize = 64 * 1024;
/// How long an opener (`xdg-open`, `$BROWSER`) is given to say it failed. A browser started
/// directly may run until its window closes, so still running after this counts as opened.
pub const OPENER_WAIT: Duration = Duration::from_secs(3);
/// `SessionDuration`'s bounds, and the console's lifetime when it is not sent.
pub const SESSION_DURATION_MIN: Duration = Duration::from_mins(15);
pub const SESSION_DURATION_MAX: Duration = Duration::from_hours(12);
pub const DEFAULT_LIFETIME: Duration = Duration::from_hours(1);

/// RFC 3986's unreserved characters stay as they are; everything else is encoded.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY).to_string()
}

/// Where the final session's credentials come from, as AWS judges it for `SessionDuration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A role assumed from long-term keys: `SessionDuration` is allowed.
    LongTermKeys,
    /// AWS counts the session as chained, and answers 400 to `SessionDuration`; why.
    Chained(&'static str),
    /// The profile assumes no role: its own credentials are handed over.
    NoRole,
}

/// Where the plan's final session comes from. When in doubt (a `credential_process` that may
/// print temporary keys), it counts as chained: leaving `SessionDuration` out costs a shorter
/// console; sending it wrongly costs the sign-in.
pub fn origin(plan: &Plan, ctx: &Context) -> Origin {
    let Some(last) = plan.hops.last() else {
        return Origin::NoRole;
    };
    if plan.hops.len() > 1 || last.chained {
        return Origin::Chained("it is assumed from another role's credentials");
    }
    if crate::assume::first_hop_mfa_session_key(plan, ctx).is_some() {
        return Origin::Chained(
            "it is assumed from an MFA session (GetSessionToken), which AWS counts as role chaining",
        );
    }
    let long_term = match &plan.base {
        Base::StaticKeys { session_token, .. } => session_token.is_none(),
        Base::Environment { .. } => ctx
            .env
            .env_credentials
            .as_ref()
            .is_some_and(|c| c.session_token.is_none()),
        _ => false,
    };
    if long_term {
        Origin::LongTermKeys
    } else {
        Origin::Chained(
            "its source credentials are not long-term keys, and AWS counts a role assumed from temporary ones as chained",
        )
    }
}

/// What is sent as `SessionDuration` (if anything), and a sentence for the person saying how
/// long the console will last.
pub fn session_duration(
    profile: &str,
    origin: Origin,
    asked: Option<Duration>,
) -> Result<(Option<Duration>, String), ConsoleError> {
    use crate::duration::display;
    if let Some(d) = asked
        && !(SESSION_DURATION_MIN..=SESSION_DURATION_MAX).contains(&d)
    {
        return Err(crate::rules::InvalidValue {
            profile: None,
            key: "--duration".into(),
            what: "console session length",
            value: display(d),
            reason: format!(
                "the console takes {} to {}",
                display(SESSION_DURATION_MIN),
                display(SESSION_DURATION_MAX)
            ),
        }
        .into());
    }
    let default = display(DEFAULT_LIFETIME);
    Ok(match (origin, asked) {
        (Origin::LongTermKeys, Some(d)) => {
            (Some(d), format!("the console session lasts {}", display(d)))
        }
        (Origin::LongTermKeys, None) => (
            None,
            format!(
                "the console session lasts {default} (up to {} with `--duration`)",
                display(SESSION_DURATION_MAX)
            ),
        ),
        (Origin::Chained(why), Some(d)) => (
            None,
            format!(
                "`--duration {}` cannot be sent for profile `{profile}`: {why}, and AWS then refuses `SessionDuration`; the console session lasts {default}",
                display(d)
            ),
        ),
        (Origin::Chained(why), None) => (
            None,
            format!(
                "the console session lasts {default}: for profile `{profile}` AWS allows no other, because {why}"
            ),
        ),
        (Origin::NoRole, _) => (
            None,
            format!(
                "the console session lasts {default}: profile `{profile}` assumes no role, so AWS allows no other"
            ),
        ),
    })
}

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

/// One GET, its status and body. Errors are described by their root cause only: the outer
/// layers of an HTTP client's error may quote the request, and this one carries credentials.
async fn get(url: &str) -> Result<(u16, Vec<u8>), String> {
    use http_body_util::{BodyExt, Empty, Limited};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::{Connect, HttpConnector};
    use hyper_util::rt::TokioExecutor;

    async fn send<C: Connect + Clone + Send + Sync + 'static>(
        connector: C,
        uri: hyper::Uri,
    ) -> Result<(u16, Vec<u8>), String> {
        let client: Client<C, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let request = hyper::Request::get(uri)
            .header(
                hyper::header::USER_AGENT,
                concat!("assume-role/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|_| "the request could not be made".to_owned())?;
        let response = client
            .request(request)
            .await
            .map_err(|e| crate::exit::root_cause(&e))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), ANSWER_MAX)
            .collect()
            .await
            .map_err(|_| "the answer could not be read, or was too large".to_owned())?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| "the endpoint is not a valid URL".to_owned())?;
    if uri.scheme_str() == Some("http") {
        // Loopback only (checked before): no TLS, and no root certificates to load.
        return send(HttpConnector::new(), uri).await;
    }
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no root certificates to check the endpoint with: {e}"))?
        .https_only()
        .enable_http1()
        .build();
    send(connector, uri).await
}

pub use crate::settings::choices::BrowserKind;

/// The browser chosen, and where the choice came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub kind: BrowserKind,
    pub setting: String,
}

/// `--browser`, else `ASSUME_ROLE_BROWSER`, else `browser` in the settings file, else the
/// default.
pub fn choose(flag: Option<BrowserKind>, ctx: &Context) -> Result<Choice, ConsoleError> {
    if let Some(kind) = flag {
        return Ok(Choice {
            kind,
            setting: format!("`--browser {}`", kind.name()),
        });
    }
    match &ctx.env.browser {
        Some(text) => BrowserKind::parse(text)
            .map(|kind| Choice {
                kind,
                setting: format!("`{}={}`", env_vars::ASSUME_ROLE_BROWSER, kind.name()),
            })
            .ok_or_else(|| crate::env_vars::InvalidEnvVar {
                name: env_vars::ASSUME_ROLE_BROWSER,
                value: rules::shown(text),
                reason: "not a browser assume-role knows",
                expected: BrowserKind::NAMES,
            })
            .map_err(Into::into),
        None => Ok(match ctx.settings.browser {
            Some(kind) => Choice {
                kind,
                setting: match &ctx.settings.file {
                    Some(file) => {
                        format!("`browser = \"{}\"` in `{}`", kind.name(), file.display())
                    }
                    None => format!("`browser = \"{}\"`", kind.name()),
                },
            },
            None => Choice {
                kind: BrowserKind::Default,
                setting: "the default browser".into(),
            },
        }),
    }
}

/// One way to start the browser: a program and its arguments, the URL among them. `Debug`
/// shows the URL's place, not the URL.
#[derive(Clone)]
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Which argument holds the URL (or the container link that wraps it).
    url_arg: Option<usize>,
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if Some(i) == self.url_arg {
                    "<sign-in URL>".to_owned()
                } else {
                    a.to_string_lossy().into_owned()
                }
            })
            .collect();
        write!(f, "`{} {}`", self.program.to_string_lossy(), args.join(" "))
    }
}

/// The directory of a profile's own browser identity. The name is the profile's, encoded, so
/// that two profiles never share one and no name can climb out of the directory.
pub fn user_data_dir(ctx: &Context, profile: &str) -> Option<PathBuf> {
    Some(
        ctx.paths
            .data_dir
            .as_ref()?
            .join("browser")
            .join(encode(profile)),
    )
}

/// The ways to start `choice` for `profile` with `url`, in the order to try them.
pub fn launches(
    choice: &Choice,
    profile: &str,
    url: &Secret,
    ctx: &Context,
) -> Result<Vec<Launch>, ConsoleError> {
    let url = url.expose();
    let programs = |kind: BrowserKind| -> Vec<OsString> {
        match ctx
            .env
            .browser_path
            .as_ref()
            .or(ctx.settings.browser_path.as_ref())
        {
            Some(path) => vec![path.clone().into_os_string()],
            None => kind.executables().iter().map(OsString::from).collect(),
        }
    };
    let with = |programs: Vec<OsString>, before: Vec<OsString>, last: String| -> Vec<Launch> {
        programs
            .into_iter()
            .map(|program| {
                let mut args = before.clone();
                args.push(last.clone().into());
                Launch {
                    program,
                    url_arg: Some(args.len() - 1),
                    args,
                }
            })
            .collect()
    };
    Ok(match choice.kind {
        BrowserKind::Chrome | BrowserKind::Chromium | BrowserKind::Brave | BrowserKind::Edge => {
            let dir = user_data_dir(ctx, profile).ok_or_else(|| ConsoleError::Browser {
                setting: choice.setting.clone(),
                reason: "there is no data directory for the profile's browser identity (set `XDG_DATA_HOME`)".into(),
            })?;
            create_private_dir(&dir).map_err(|e| ConsoleError::Browser {
                setting: choice.setting.clone(),
                reason: format!("cannot create `{}`: {e}", dir.display()),
            })?;
            let mut flag = OsString::from("--user-data-dir=");
            flag.push(dir.as_os_str());
            with(
                programs(choice.kind),
                vec![
                    flag,
                    "--no-first-run".into(),
                    "--no-default-browser-check".into(),
                ],
                url.to_owned(),
            )
        }
        BrowserKind::Firefox => with(
            programs(choice.kind),
            vec!["--new-tab".into()],
            // The URL scheme of the "Open external links in a container" extension: one
            // container per profile, made on first use.
            format!("ext+container:name={}&url={}", encode(profile), encode(url)),
        ),
        BrowserKind::Default => default_launches(url, ctx),
    })
}

/// `$BROWSER` (a `:`-separated list of commands, `%s` standing for the URL), else the
/// platform's opener.
fn default_launches(url: &str, ctx: &Context) -> Vec<Launch> {
    let mut launches = Vec::new();
    if let Some(commands) = &ctx.env.browser_command {
        let separator = if cfg!(windows) { ';' } else { ':' };
        for command in commands.split(separator) {
            let mut words = command.split_whitespace();
            let Some(program) = words.next() else {
                continue;
            };
            let mut args: Vec<OsString> = Vec::new();
            let mut url_arg = None;
            for word in words {
                if word.contains("%s") {
                    url_arg = Some(args.len());
                    args.push(word.replace("%s", url).into());
                } else {
                    args.push(word.into());
                }
            }
            if url_arg.is_none() {
                url_arg = Some(args.len());
                args.push(url.into());
            }
            launches.push(Launch {
                program: program.into(),
                args,
                url_arg,
            });
        }
        if !launches.is_empty() {
            return launches;
        }
    }
    let (program, mut args): (&str, Vec<OsString>) = if cfg!(windows) {
        // Not `cmd /c start`: cmd would read the `&`s of the URL as command separators.
        ("rundll32.exe", vec!["url.dll,FileProtocolHandler".into()])
    } else if cfg!(target_os = "macos") {
        ("open", vec![])
    } else {
        ("xdg-open", vec![])
    };
    args.push(url.into());
    vec![Launch {
        program: program.into(),
        url_arg: Some(args.len() - 1),
        args,
    }]
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Starts the first of `launches` that exists. Its output goes nowhere: an opener's complaint
/// may quote the URL. An opener that fails within [`OPENER_WAIT`] is an error; one still running
/// then is the browser itself, left to run.
pub fn open(choice: &Choice, launches: &[Launch]) -> Result<(), ConsoleError> {
    use std::process::{Command, Stdio};
    let mut tried = Vec::new();
    for launch in launches {
        tracing::info!(browser = ?launch, "opening the console");
        let spawned = Command::new(&launch.program)
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tried.push(format!("`{}`", launch.program.to_string_lossy()));
                continue;
            }
            Err(e) => {
                return Err(ConsoleError::Browser {
                    setting: choice.setting.clone(),
                    reason: format!("`{}` cannot be run: {e}", launch.program.to_string_lossy()),
                });
            }
        };
        let started = std::time::Instant::now();
        while started.elapsed() < OPENER_WAIT {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(ConsoleError::Browser {
                        setting: choice.setting.clone(),
                        reason: format!("`{}` failed ({status})", launch.program.to_string_lossy()),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => return Ok(()),
            }
        }
        return Ok(());
    }
    Err(ConsoleError::Browser {
        setting: choice.setting.clone(),
        reason: if tried.is_empty() {
            "there is no command to start".into()
        } else {
            format!("none of {} was found", tried.join(", "))
        },
    })
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

    #[test]
    fn session_duration_only_for_roles_assumed_from_long_term_keys() {
        let hour = Some(Duration::from_hours(1));
        let (sent, _) = session_duration("p", Origin::LongTermKeys, hour).unwrap();
        assert_eq!(sent, hour);
        let (sent, note) = session_duration("p", Origin::Chained("why"), hour).unwrap();
        assert_eq!(sent, None);
        assert!(note.contains("lasts 1h"), "{note}");
        assert!(
            session_duration("p", Origin::LongTermKeys, Some(Duration::from_hours(13))).is_err()
        );
    }

    #[test]
    fn each_profile_gets_its_own_identity() {
        let ctx = Context {
            env: crate::env::Env {
                browser_path: Some("/bin/true".into()),
                ..crate::env::Env::default()
            },
            paths: crate::paths::Paths {
                data_dir: Some(
                    std::env::temp_dir().join(format!("assume-role-test-{}", std::process::id())),
                ),
                ..crate::paths::Paths::default()
            },
            ..Context::default()
        };
        let url = Secret::new("https://s/federation?Action=login&SigninToken=x");
        let chrome = choose(Some(BrowserKind::Chrome), &ctx).unwrap();
        let a = launches(&chrome, "client-a", &url, &ctx).unwrap();
        let b = launches(&chrome, "client/b", &url, &ctx).unwrap();
        assert_ne!(a[0].args[0], b[0].args[0]);
        assert!(b[0].args[0].to_string_lossy().ends_with("client%2Fb"));
        assert!(!format!("{:?}", a[0]).contains("SigninToken"));
        let firefox = choose(Some(BrowserKind::Firefox), &ctx).unwrap();
        let f = launches(&firefox, "client-a", &url, &ctx).unwrap();
        assert_eq!(
            f[0].args[1],
            "ext+container:name=client-a&url=https%3A%2F%2Fs%2Ffederation%3FAction%3Dlogin%26SigninToken%3Dx"
        );
        let _ = std::fs::remove_dir_all(ctx.paths.data_dir.unwrap());
    }

    #[test]
    fn browser_is_flag_then_environment_then_settings_then_default() {
        let ctx = |env: Option<&str>, settings: Option<BrowserKind>| Context {
            env: crate::env::Env {
                browser: env.map(str::to_owned),
                ..crate::env::Env::default()
            },
            settings: crate::settings::Settings {
                file: Some(std::path::PathBuf::from("/s/config.toml")),
                browser: settings,
                ..crate::settings::Settings::default()
            },
            ..Context::default()
        };
        let cases = [
            (
                Some(BrowserKind::Chrome),
                Some("edge"),
                Some(BrowserKind::Firefox),
                BrowserKind::Chrome,
            ),
            (
                None,
                Some("edge"),
                Some(BrowserKind::Firefox),
                BrowserKind::Edge,
            ),
            (None, None, Some(BrowserKind::Firefox), BrowserKind::Firefox),
            (None, None, None, BrowserKind::Default),
        ];
        for (flag, env, settings, expected) in cases {
            assert_eq!(
                choose(flag, &ctx(env, settings)).unwrap().kind,
                expected,
                "{flag:?} {env:?} {settings:?}"
            );
        }
        assert_eq!(
            choose(None, &ctx(None, Some(BrowserKind::Brave)))
                .unwrap()
                .setting,
            "`browser = \"brave\"` in `/s/config.toml`"
        );
    }
}
