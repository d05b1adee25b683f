//! The authorization-code flow's two local pieces: the PKCE pair and `state` (RFC 7636, S256),
//! and the one-shot server the browser is redirected to, on `127.0.0.1` only: the AWS CLI binds
//! every interface for up to ten minutes, which lets anyone on the network race the browser.

use crate::secret::Secret;
use crate::sso::SsoError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::mpsc;

/// The PKCE verifier, its S256 challenge, and the `state` the callback must return.
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
    pub state: Secret,
}

impl Pkce {
    pub fn new() -> Result<Self, SsoError> {
        let random = |n: usize| -> Result<String, SsoError> {
            let mut bytes = vec![0u8; n];
            getrandom::fill(&mut bytes).map_err(|e| SsoError::LoginFailed {
                detail: format!("no randomness for the PKCE verifier: {e}"),
                hint: None,
            })?;
            Ok(URL_SAFE_NO_PAD.encode(bytes))
        };
        // 48 bytes: a 64-character verifier, as the AWS CLI makes.
        let verifier = random(48)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Ok(Self {
            verifier: Secret::new(verifier),
            challenge,
            state: Secret::new(random(24)?),
        })
    }
}

/// The most connections the callback server keeps open at once.
const MAX_CONNECTIONS: usize = 16;

/// What the browser brought back.
enum Outcome {
    Code(Secret),
    /// The service (or the user) said no: its `error` and `error_description`.
    Refused(String),
    /// A callback whose `state` is not ours: a stale tab, or a forged redirect.
    WrongState,
}

/// The loopback server, listening, waiting for one callback.
pub struct Callback {
    listener: tokio::net::TcpListener,
    port: u16,
}

impl Callback {
    pub async fn bind() -> Result<Self, SsoError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| SsoError::LoginFailed {
                detail: format!("cannot listen on 127.0.0.1 for the browser's redirect: {e}"),
                hint: Some("use the device flow: `--device-code`".into()),
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| SsoError::LoginFailed {
                detail: format!("no local port: {e}"),
                hint: None,
            })?
            .port();
        Ok(Self { listener, port })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/oauth/callback", self.port)
    }

    /// Serves until a callback carries a code with our `state`, for at most `limit`. Requests
    /// for any other path (a favicon) get a 404 and the wait goes on.
    pub async fn code(self, state: &Secret, limit: Duration) -> Result<Secret, SsoError> {
        let (tx, mut rx) = mpsc::channel::<Outcome>(4);
        let state = state.clone();
        // A few at a time: a browser opens one or two; a flood from elsewhere is turned away.
        let open = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let serve = async move {
            loop {
                let Ok((stream, _)) = self.listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(permit) = open.clone().try_acquire_owned() else {
                    continue;
                };
                let tx = tx.clone();
                let state = state.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let service = hyper::service::service_fn(move |request| {
                        let (response, outcome) = answer(&request, &state);
                        let tx = tx.clone();
                        async move {
                            if let Some(outcome) = outcome {
                                let _ = tx.send(outcome).await;
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .keep_alive(false)
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        let wait = async move {
            loop {
                let outcome = rx.recv().await;
                // A redirect with another `state` (a stale tab, or a request from elsewhere
                // meant to end this login) is turned away, and the wait goes on.
                if matches!(outcome, Some(Outcome::WrongState)) {
                    eprintln!(
                        "assume-role: turned away a sign-in redirect with a `state` this login did not send (a stale tab, or a forged request); still waiting for the browser"
                    );
                    continue;
                }
                // Let the page reach the browser before the server goes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return outcome;
            }
        };
        let server = tokio::spawn(serve);
        let outcome = tokio::time::timeout(limit, wait).await;
        server.abort();
        let outcome = outcome.map_err(|_| SsoError::LoginFailed {
            detail: format!(
                "the browser did not come back within {}",
                crate::duration::display(limit)
            ),
            hint: Some(
                "finish the sign-in in the browser window that opened, or use the device flow: `--device-code`"
                    .into(),
            ),
        })?;
        match outcome {
            Some(Outcome::Code(code)) => Ok(code),
            Some(Outcome::Refused(why)) => Err(SsoError::LoginFailed {
                detail: format!("the sign-in was refused: {}", crate::rules::printable(&why)),
                hint: None,
            }),
            Some(Outcome::WrongState) | None => Err(SsoError::LoginFailed {
                detail: "the callback server stopped".into(),
                hint: None,
            }),
        }
    }
}

type Page = hyper::Response<http_body_util::Full<hyper::body::Bytes>>;

/// The answer to one request to the callback server, and what it brought, if anything.
fn answer<B>(request: &hyper::Request<B>, state: &Secret) -> (Page, Option<Outcome>) {
    let page = |status: u16, text: &str| {
        let body = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>assume-role</title><p>{text}</p>"
        );
        let mut response = hyper::Response::new(http_body_util::Full::new(body.into()));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    };
    if request.uri().path() != "/oauth/callback" {
        return (page(404, "Not found."), None);
    }
    let query = request.uri().query().unwrap_or_default();
    let mut code = None;
    let mut returned_state = None;
    let mut error = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "code" => code = Some(Secret::new(value.into_owned())),
            "state" => returned_state = Some(value.into_owned()),
            "error" | "error_description" => {
                let mut text: String = error.take().unwrap_or_default();
                if !text.is_empty() {
                    text.push_str(": ");
                }
                text.push_str(&value);
                error = Some(text);
            }
            _ => {}
        }
    }
    let state_ok = returned_state.as_deref().is_some_and(|s| {
        // Compared in constant time: the state guards the login like a password.
        use subtle::ConstantTimeEq;
        bool::from(s.as_bytes().ct_eq(state.expose().as_bytes()))
    });
    if !state_ok {
        return (
            page(
                400,
                "This sign-in link is not the one assume-role is waiting for. Close this window and run the login again.",
            ),
            Some(Outcome::WrongState),
        );
    }
    if let Some(error) = error {
        return (
            page(400, "The sign-in was refused. You can close this window."),
            Some(Outcome::Refused(error)),
        );
    }
    match code {
        Some(code) => (
            page(
                200,
                "Signed in. You can close this window and return to the terminal.",
            ),
            Some(Outcome::Code(code)),
        ),
        None => (
            page(400, "The sign-in came back without a code."),
            Some(Outcome::Refused("no code in the redirect".into())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_s256_of_the_verifier() {
        let pkce = Pkce::new().unwrap();
        assert_eq!(pkce.verifier.expose().len(), 64);
        assert_eq!(pkce.challenge.len(), 43);
        assert!(!pkce.challenge.contains('='));
        let again = URL_SAFE_NO_PAD.encode(Sha256::digest(pkce.verifier.expose().as_bytes()));
        assert_eq!(again, pkce.challenge);
    }

    #[test]
    fn only_our_state_with_a_code_is_accepted() {
        let state = Secret::new("the-state-value");
        let request = |q: &str| {
            hyper::Request::get(format!("http://127.0.0.1:1/oauth/callback?{q}"))
                .body(())
                .unwrap()
        };
        let (ok, outcome) = answer(&request("code=abc&state=the-state-value"), &state);
        assert_eq!(ok.status(), 200);
        assert!(matches!(outcome, Some(Outcome::Code(c)) if c.expose() == "abc"));
        let (bad, outcome) = answer(&request("code=abc&state=other"), &state);
        assert_eq!(bad.status(), 400);
        assert!(matches!(outcome, Some(Outcome::WrongState)));
        let (_, outcome) = answer(
            &request("error=access_denied&state=the-state-value"),
            &state,
        );
        assert!(matches!(outcome, Some(Outcome::Refused(e)) if e == "access_denied"));
        let favicon = hyper::Request::get("http://127.0.0.1:1/favicon.ico")
            .body(())
            .unwrap();
        assert!(answer(&favicon, &state).1.is_none());
    }
}
