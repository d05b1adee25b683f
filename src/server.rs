//! `exec --server`: a credential endpoint on loopback that speaks the container-credentials
//! contract every AWS SDK and the AWS CLI already read (`AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! and `AWS_CONTAINER_AUTHORIZATION_TOKEN`), so that a long run never holds expired keys.
//!
//! Two threads, so that neither ever waits on the other: the HTTP server (hyper, on a
//! one-thread runtime of its own) answers from memory, holding a lock only to clone the current
//! credentials; the refresher sleeps until shortly before they expire, asks for new ones (the
//! cache, STS, an MFA code on the terminal) through the closure it was given, and swaps them in.
//! A request therefore never waits on STS, and STS sees one call per refresh whatever the
//! number of requests.

mod error;
pub use error::ServerError;

use crate::credentials::{Assignment, Credentials, EnvChanges, Session, rfc3339};
use crate::env_vars;
use crate::exit::Diagnose;
use crate::secret::Secret;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

/// How long before expiry a session is refreshed: botocore's own advisory margin, so that an
/// SDK in the child that also refreshes early always finds new credentials waiting.
pub const REFRESH_LEAD: Duration = Duration::from_mins(15);

/// Credentials with less than this left are not served: they could expire in flight.
pub const SERVE_MARGIN: Duration = Duration::from_secs(5);

/// The only path served; any other is a client that was not given our URL.
pub const PATH: &str = "/";

/// Random bytes in the token: 256 bits, more than aws-vault's 240.
const TOKEN_BYTES: usize = 32;

/// New credentials, given the least lifetime they must have: the caller's way to the cache and
/// STS. It runs on the refresher's thread, where blocking (on STS, on a prompt) is fine.
/// Its error is any layer's (the command's run may fail anywhere), told by message and hints.
pub type Refresh = Box<dyn FnMut(Duration) -> Result<Credentials, Box<dyn Diagnose + Send>> + Send>;

/// A running endpoint: where it listens, and the token a client must send.
pub struct Endpoint {
    pub url: String,
    pub token: Secret,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("token", &self.token)
            .finish()
    }
}

/// What the endpoint serves now.
struct State {
    credentials: Credentials,
    /// When the refresher next asks for new credentials.
    refresh_at: SystemTime,
    /// Why the last refresh failed, until one succeeds.
    failure: Option<String>,
}

struct Shared {
    profile: String,
    token: Secret,
    state: RwLock<State>,
}

impl Shared {
    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts serving `first` (the credentials obtained up front) on `127.0.0.1` at a random
/// port, and refreshing them with `refresh` before they expire. Both run until the process
/// exits: the endpoint dies with the `exec` that started it.
pub fn start(profile: &str, first: Credentials, refresh: Refresh) -> Result<Endpoint, ServerError> {
    if first.expiration.is_none() || first.session_token.is_none() {
        return Err(ServerError::ServerWithoutSession {
            profile: profile.to_owned(),
        });
    }
    let token = new_token()?;
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(ServerError::ServerStart)?;
    listener
        .set_nonblocking(true)
        .map_err(ServerError::ServerStart)?;
    let port = listener
        .local_addr()
        .map_err(ServerError::ServerStart)?
        .port();
    // Time as well as I/O: the idle-connection timeout and the backoff on a full descriptor
    // table sleep (without a timer the backoff panicked with "timers are disabled").
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServerError::ServerStart)?;
    let shared = Arc::new(Shared {
        profile: profile.to_owned(),
        token: token.clone(),
        state: RwLock::new(State {
            refresh_at: refresh_time(&first, SystemTime::now()),
            credentials: first,
            failure: None,
        }),
    });
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(ServerError::ServerStart)?
    };
    let serving = shared.clone();
    std::thread::Builder::new()
        .name("credential-endpoint".into())
        .spawn(move || runtime.block_on(serve(listener, serving)))
        .map_err(ServerError::ServerStart)?;
    let refreshing = shared;
    std::thread::Builder::new()
        .name("credential-refresh".into())
        .spawn(move || refresher(&refreshing, refresh))
        .map_err(ServerError::ServerStart)?;
    let url = format!("http://127.0.0.1:{port}{PATH}");
    tracing::info!(%url, "credential endpoint listening");
    Ok(Endpoint { url, token })
}

/// A fresh token: 256 random bits from the operating system, as hex (safe in a header and in
/// any shell).
fn new_token() -> Result<Secret, ServerError> {
    use std::fmt::Write as _;
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| crate::assume::AssumeError::Random(e.to_string()))?;
    let mut hex = String::with_capacity(TOKEN_BYTES * 2);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    Ok(Secret::new(hex))
}

/// What a child under `--server` gets instead of fixed keys: the endpoint and its token, with
/// everything plain `exec` sets besides the keys (region, profile, account), and everything it
/// scrubs. `AWS_CREDENTIAL_EXPIRATION` goes too: the credentials outlive it.
pub fn env_changes<'a>(
    session: &Session,
    endpoint: &Endpoint,
    inherited: impl IntoIterator<Item = &'a str>,
) -> EnvChanges {
    // Keys in the environment come first in every SDK's chain: they would hide the endpoint.
    const FIXED: [&str; 4] = [
        env_vars::AWS_ACCESS_KEY_ID,
        env_vars::AWS_SECRET_ACCESS_KEY,
        env_vars::AWS_SESSION_TOKEN,
        env_vars::AWS_CREDENTIAL_EXPIRATION,
    ];
    const OURS: [&str; 2] = [
        env_vars::AWS_CONTAINER_CREDENTIALS_FULL_URI,
        env_vars::AWS_CONTAINER_AUTHORIZATION_TOKEN,
    ];
    let mut changes = session.env_changes(inherited);
    changes.set.retain(|a| !FIXED.contains(&a.name));
    changes
        .unset
        .retain(|name| !FIXED.contains(&name.as_str()) && !OURS.contains(&name.as_str()));
    changes
        .unset
        .splice(0..0, FIXED.iter().map(|name| (*name).to_owned()));
    changes.set.push(Assignment::plain(
        env_vars::AWS_CONTAINER_CREDENTIALS_FULL_URI,
        endpoint.url.clone(),
    ));
    changes.set.push(Assignment::secret(
        env_vars::AWS_CONTAINER_AUTHORIZATION_TOKEN,
        &endpoint.token,
    ));
    changes
}

/// When credentials received at `now` are refreshed: [`REFRESH_LEAD`] before they expire, or a
/// quarter of their life for a session shorter than an hour (the cache's own margin, so that
/// the cached copy is stale by then and the refresh reaches STS).
fn refresh_time(credentials: &Credentials, now: SystemTime) -> SystemTime {
    let expires = credentials.expiration.unwrap_or(now);
    let life = expires.duration_since(now).unwrap_or_default();
    expires - REFRESH_LEAD.min(life / 4)
}

/// The answer to one request: status and JSON body. The token is compared in constant time,
/// before anything else is looked at.
fn answer(
    shared: &Shared,
    method: &hyper::Method,
    path: &str,
    authorization: Option<&[u8]>,
    now: SystemTime,
) -> (u16, String) {
    use subtle::ConstantTimeEq;
    let authorized = authorization
        .is_some_and(|given| bool::from(given.ct_eq(shared.token.expose().as_bytes())));
    if !authorized {
        return (
            403,
            error_json(
                "AccessDenied",
                "the `Authorization` header must be the value of `AWS_CONTAINER_AUTHORIZATION_TOKEN`",
            ),
        );
    }
    if method != hyper::Method::GET {
        return (405, error_json("MethodNotAllowed", "only `GET` is served"));
    }
    if path != PATH {
        return (
            404,
            error_json(
                "NotFound",
                &format!(
                    "only `{PATH}` is served: use `AWS_CONTAINER_CREDENTIALS_FULL_URI` as given"
                ),
            ),
        );
    }
    let state = shared.state();
    let creds = &state.credentials;
    let expires = creds.expiration.unwrap_or(now);
    if expires.duration_since(now).unwrap_or_default() >= SERVE_MARGIN {
        return (200, credentials_json(creds));
    }
    let why = state
        .failure
        .as_deref()
        .unwrap_or("the refresh has not finished yet");
    // 5xx, so that SDKs try again: a refresh may still succeed.
    (
        503,
        error_json(
            "CredentialsExpired",
            &format!(
                "the credentials of profile `{}` expired at {} and could not be refreshed: {why}",
                shared.profile,
                rfc3339(expires)
            ),
        ),
    )
}

/// The container-credentials answer; `AccountId` when known (botocore and the Rust SDK read it).
fn credentials_json(creds: &Credentials) -> String {
    let mut body = serde_json::json!({
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.expose(),
        "Token": creds.session_token.as_ref().map(Secret::expose),
        "Expiration": creds.expiration.map(rfc3339),
    });
    if let Some(account) = &creds.account_id {
        body["AccountId"] = serde_json::Value::from(account.as_str());
    }
    body.to_string()
}

/// The error body the SDKs parse (`{"Code","Message"}`, as the Rust SDK expects).
fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "Code": code, "Message": message }).to_string()
}

/// The most connections served at once: far above what the child's SDKs open, and below a
/// small descriptor limit (`ulimit -n 256`), so that a flood of idle connections from another
/// local user cannot exhaust ours.
const MAX_CONNECTIONS: usize = 128;
/// A connection that has not sent a whole request by then is closed.
const REQUEST_WAIT: Duration = Duration::from_secs(10);

/// Accepts connections until the process exits; each connection is its own task, so a slow or
/// idle client never holds up another. Whatever comes in, it keeps serving: past the cap a new
/// connection is closed at once, an idle one after [`REQUEST_WAIT`], and a full descriptor
/// table is waited out with a growing pause.
async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut pause = Duration::from_millis(10);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                pause = Duration::from_millis(10);
                stream
            }
            Err(e) => {
                // Out of file descriptors, say: wait for some to close rather than spin.
                tracing::warn!("credential endpoint: cannot accept a connection: {e}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::debug!(
                "credential endpoint: {MAX_CONNECTIONS} connections open; closing a new one"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let response = respond(&shared, &request);
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(REQUEST_WAIT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("credential endpoint: connection ended: {e}");
            }
        });
    }
}

fn respond<B>(
    shared: &Shared,
    request: &hyper::Request<B>,
) -> hyper::Response<http_body_util::Full<hyper::body::Bytes>> {
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(hyper::header::HeaderValue::as_bytes);
    let (status, body) = answer(
        shared,
        request.method(),
        request.uri().path(),
        authorization,
        SystemTime::now(),
    );
    tracing::debug!(status, method = %request.method(), "credential endpoint request");
    let mut response = hyper::Response::new(http_body_util::Full::new(body.into()));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The longest pause between two tries of a failing refresh.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Refreshes before expiry, forever. A failure is said once on stderr, with when the current
/// credentials run out; they are served until then, and the refresh is tried again meanwhile
/// (an MFA prompt included), more often as the end nears.
fn refresher(shared: &Shared, mut refresh: Refresh) {
    let mut told: Option<String> = None;
    let mut told_expired = false;
    loop {
        let (refresh_at, expires) = {
            let state = shared.state();
            let expires = state.credentials.expiration.unwrap_or_else(SystemTime::now);
            (state.refresh_at, expires)
        };
        sleep_until(refresh_at);
        let now = SystemTime::now();
        let left = expires.duration_since(now).unwrap_or_default();
        // More than what is left now: the cached copy of the current session cannot answer.
        match refresh(left + Duration::from_secs(1)) {
            Ok(credentials) if credentials.expiration.is_some_and(|e| e > expires) => {
                let now = SystemTime::now();
                tracing::info!(profile = %shared.profile, expires = %credentials.expiration.map(rfc3339).unwrap_or_default(), "credentials refreshed");
                if told.take().is_some() {
                    eprintln!(
                        "assume-role: the credentials of profile `{}` are refreshed; the endpoint serves them again",
                        shared.profile
                    );
                }
                told_expired = false;
                let mut state = shared.state.write().unwrap_or_else(PoisonError::into_inner);
                state.refresh_at = refresh_time(&credentials, now);
                state.credentials = credentials;
                state.failure = None;
            }
            outcome => {
                let (message, hints) = match outcome {
                    Err(err) => (err.to_string(), err.hints()),
                    Ok(_) => (
                        "the new credentials expire no later than the current ones".to_owned(),
                        Vec::new(),
                    ),
                };
                if told.as_deref() != Some(message.as_str()) {
                    say_failure(&shared.profile, &message, &hints, expires, left);
                    told = Some(message.clone());
                }
                let now = SystemTime::now();
                let left = expires.duration_since(now).unwrap_or_default();
                if left.is_zero() && !told_expired {
                    told_expired = true;
                    eprintln!(
                        "assume-role: the credentials of profile `{}` expired at {}; the endpoint answers with an error until a refresh succeeds",
                        shared.profile,
                        rfc3339(expires)
                    );
                }
                // At most 5 s apart: once STS answers again, the child has fresh credentials
                // within seconds, not at a retry half a minute away.
                let retry = if left.is_zero() {
                    RETRY_MAX
                } else {
                    (left / 4).clamp(Duration::from_secs(1), RETRY_MAX)
                };
                let mut state = shared.state.write().unwrap_or_else(PoisonError::into_inner);
                state.failure = Some(message);
                // Wake at expiry too, to say so when it happens.
                let next = now + retry;
                state.refresh_at = if left.is_zero() || next < expires {
                    next
                } else {
                    expires
                };
            }
        }
    }
}

fn say_failure(
    profile: &str,
    message: &str,
    hints: &[String],
    expires: SystemTime,
    left: Duration,
) {
    use std::fmt::Write as _;
    let mut text =
        format!("assume-role: cannot refresh the credentials of profile `{profile}`: {message}\n");
    for hint in hints {
        let _ = writeln!(text, "  hint: {hint}");
    }
    if !left.is_zero() {
        let _ = writeln!(
            text,
            "  the endpoint serves the current credentials until they expire at {} (in {}), then answers with an error; it tries again meanwhile",
            rfc3339(expires),
            crate::duration::display(left)
        );
    }
    eprint!("{}", crate::secret::redact(&text));
}

fn sleep_until(when: SystemTime) {
    if let Ok(wait) = when.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(key: &str, left: Duration) -> Credentials {
        Credentials {
            access_key_id: key.into(),
            secret_access_key: Secret::new("server-test-secret"),
            session_token: Some(Secret::new("server-test-token")),
            expiration: Some(SystemTime::now() + left),
            account_id: Some("222222222222".into()),
        }
    }

    fn shared(left: Duration) -> Shared {
        Shared {
            profile: "p".into(),
            token: Secret::new("t".repeat(64)),
            state: RwLock::new(State {
                credentials: creds("ASIAEXAMPLEEXAMPLE12", left),
                refresh_at: SystemTime::now(),
                failure: None,
            }),
        }
    }

    #[test]
    fn only_the_exact_token_gets_credentials() {
        let s = shared(Duration::from_hours(1));
        let now = SystemTime::now();
        let get = hyper::Method::GET;
        let token = "t".repeat(64);
        for bad in [None, Some(""), Some("Bearer x"), Some(&token[1..])] {
            let (status, body) = answer(&s, &get, PATH, bad.map(str::as_bytes), now);
            assert_eq!(status, 403, "{bad:?}");
            assert!(!body.contains("server-test"), "{body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["Code"], "AccessDenied");
        }
        let (status, body) = answer(&s, &get, PATH, Some(token.as_bytes()), now);
        assert_eq!(status, 200);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "AccessKeyId",
                "AccountId",
                "Expiration",
                "SecretAccessKey",
                "Token"
            ]
        );
        assert_eq!(json["Token"], "server-test-token");
        let post = hyper::Method::POST;
        assert_eq!(answer(&s, &post, PATH, Some(token.as_bytes()), now).0, 405);
        assert_eq!(answer(&s, &get, "/x", Some(token.as_bytes()), now).0, 404);
    }

    #[test]
    fn expired_credentials_are_never_served() {
        let s = shared(Duration::from_secs(2));
        s.state.write().unwrap().failure = Some("no terminal".into());
        let token = "t".repeat(64);
        let (status, body) = answer(
            &s,
            &hyper::Method::GET,
            PATH,
            Some(token.as_bytes()),
            SystemTime::now(),
        );
        assert_eq!(status, 503);
        assert!(!body.contains("server-test"), "{body}");
        assert!(
            body.contains("could not be refreshed: no terminal"),
            "{body}"
        );
    }

    #[test]
    fn refreshes_come_fifteen_minutes_ahead_or_a_quarter_of_a_short_life() {
        let hour = creds("a", Duration::from_hours(1));
        let now = hour.expiration.unwrap() - Duration::from_hours(1);
        let at = refresh_time(&hour, now);
        assert_eq!(
            hour.expiration.unwrap().duration_since(at).unwrap(),
            REFRESH_LEAD
        );
        let short = creds("a", Duration::from_secs(40));
        let now = short.expiration.unwrap() - Duration::from_secs(40);
        let at = refresh_time(&short, now);
        assert_eq!(
            short.expiration.unwrap().duration_since(at).unwrap(),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn the_child_gets_the_endpoint_not_the_keys() {
        let session = Session {
            profile: "p".into(),
            region: "eu-west-1".into(),
            credentials: creds("ASIAEXAMPLEEXAMPLE12", Duration::from_hours(1)),
        };
        let endpoint = Endpoint {
            url: "http://127.0.0.1:1/".into(),
            token: new_token().unwrap(),
        };
        assert_eq!(endpoint.token.expose().len(), 64);
        let changes = env_changes(&session, &endpoint, ["AWSUME_X"]);
        let set: Vec<&str> = changes.set.iter().map(|a| a.name).collect();
        assert_eq!(
            set,
            [
                "AWS_ACCOUNT_ID",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "ASSUME_ROLE_PROFILE",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN"
            ]
        );
        for gone in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_SECURITY_TOKEN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWSUME_X",
        ] {
            assert!(changes.unset.iter().any(|n| n == gone), "{gone}");
        }
        assert!(
            !changes
                .unset
                .iter()
                .any(|n| n == "AWS_CONTAINER_CREDENTIALS_FULL_URI")
        );
        let debug = format!("{changes:?} {endpoint:?}");
        assert!(!debug.contains(endpoint.token.expose()), "{debug}");
    }

    #[test]
    fn a_profile_without_a_session_is_refused() {
        let mut keys = creds("AKIAEXAMPLEEXAMPLE12", Duration::from_hours(1));
        keys.expiration = None;
        keys.session_token = None;
        let err = start("p", keys, Box::new(|_| unreachable!())).unwrap_err();
        assert!(
            matches!(err, ServerError::ServerWithoutSession { .. }),
            "{err}"
        );
    }
}
