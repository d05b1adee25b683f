//! `sso login`, `sso logout` and `sso sessions`: signing in to IAM Identity Center as the AWS
//! CLI does, into the same token cache, so that either tool's login serves the other.
//!
//! An `sso-session` logs in with the authorization-code flow and PKCE (the AWS CLI's default
//! since 2.22): a one-shot server on `127.0.0.1`, a random `state`, and the browser handed a
//! private page rather than the URL on its command line. The device flow serves legacy profiles,
//! `--device-code`, and sessions where a browser started here would not be seen (SSH, no display,
//! a container). A token still good for more than 15 minutes is reused unless `--force`.

mod callback;
mod registration;
pub mod sync;

use crate::aws::sso::{Grant, Sso};
use crate::config::{Profiles, SsoSession};
use crate::context::Context;
use crate::secret::Secret;
use crate::sso::{REFRESH_WINDOW, SsoError, Token};
use std::time::{Duration, SystemTime};

/// The longest a login waits for the person: the AWS CLI's bound.
pub const LOGIN_WAIT: Duration = Duration::from_mins(10);
/// The scope the AWS CLI asks for when a session names none.
const DEFAULT_SCOPE: &str = "sso:account:access";

/// How `sso login` was asked to sign in.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    pub device_code: bool,
    pub force: bool,
    /// Print the URL instead of starting a browser.
    pub no_browser: bool,
}

/// What a login did.
#[derive(Debug)]
pub enum LoggedIn {
    /// The cached token was still good (possibly after a refresh).
    Reused { expires_at: SystemTime },
    New {
        expires_at: SystemTime,
        device_flow: bool,
    },
}

/// The engine's runtime (one thread, I/O and timers), for the SSO calls of `sso` commands.
fn runtime() -> Result<tokio::runtime::Runtime, SsoError> {
    crate::assume::start_runtime().map_err(SsoError::Runtime)
}

/// The session `sso login`/`logout` act on: `--sso-session`, else `--profile`'s, else the only
/// `[sso-session]` in the config.
pub fn session_for(
    profiles: &Profiles,
    profile: Option<&str>,
    sso_session: Option<&str>,
) -> Result<SsoSession, SsoError> {
    if let Some(name) = sso_session {
        return Ok(profiles.sso_session(name)?);
    }
    if let Some(profile) = profile {
        return Ok(profiles.sso_session_of(profile)?);
    }
    match profiles.sso_session_names().as_slice() {
        [one] => Ok(profiles.sso_session(one)?),
        names => Err(SsoError::Refused {
            detail: if names.is_empty() {
                "there is no `[sso-session …]` section in the config, and no profile was named"
                    .into()
            } else {
                format!(
                    "the config has {} SSO sessions ({}): which one?",
                    names.len(),
                    names.join(", ")
                )
            },
            hint: "name one: `--sso-session NAME` or `--profile PROFILE` (`aws configure sso-session` writes a session)".into(),
        }),
    }
}

/// Logs in to `session`, or reuses its token.
pub fn login(
    session: &SsoSession,
    profile: Option<&str>,
    options: &LoginOptions,
    ctx: &Context,
) -> Result<LoggedIn, SsoError> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let sso = Sso::new(&session.region, ctx).await?;
        if !options.force
            && let Ok(token) = crate::sso::usable_token(session, profile, &sso, ctx).await
            && token.remaining(SystemTime::now()) > REFRESH_WINDOW
        {
            return Ok(LoggedIn::Reused {
                expires_at: token.expires_at,
            });
        }
        let device_flow = device_flow(session, options, ctx);
        let token = if device_flow {
            device(session, options, &sso, ctx).await?
        } else {
            authorization_code(session, profile, options, &sso, ctx).await?
        };
        crate::sso::store_login(session, &token, ctx)?;
        Ok(LoggedIn::New {
            expires_at: token.expires_at,
            device_flow,
        })
    })
}

/// Whether to use the device flow, saying why when it was not asked for.
fn device_flow(session: &SsoSession, options: &LoginOptions, ctx: &Context) -> bool {
    if options.device_code {
        return true;
    }
    if session.name.is_none() {
        eprintln!(
            "assume-role: a profile with its own `sso_start_url` (no `sso_session`) signs in with the device flow, as in the AWS CLI"
        );
        return true;
    }
    // A browser the user named is a browser they can see, wherever this runs.
    let named = ctx.env.browser.is_some()
        || ctx.env.browser_path.is_some()
        || ctx.env.browser_command.is_some()
        || ctx.settings.browser.is_some();
    // Docker marks its containers with a file rather than a variable: looked for here, when a
    // login asks, not on every run.
    let here = ctx.env.no_browser_here.or_else(|| {
        std::path::Path::new("/.dockerenv")
            .exists()
            .then_some("this is a container")
    });
    match here {
        Some(why) if !named && !options.no_browser => {
            eprintln!(
                "assume-role: using the device flow: {why}, so a browser started here would not be seen (`--no-browser` prints the sign-in URL instead)"
            );
            true
        }
        _ => false,
    }
}

fn scopes(session: &SsoSession) -> Vec<String> {
    if session.scopes.is_empty() {
        vec![DEFAULT_SCOPE.to_owned()]
    } else {
        session.scopes.clone()
    }
}

/// The authorization-code flow with PKCE.
async fn authorization_code(
    session: &SsoSession,
    profile: Option<&str>,
    options: &LoginOptions,
    sso: &Sso,
    ctx: &Context,
) -> Result<Token, SsoError> {
    let scopes = scopes(session);
    let callback = callback::Callback::bind().await?;
    let redirect_uri = callback.redirect_uri();
    // Registered without the port, as the AWS CLI registers it: a loopback redirect may use
    // any port (RFC 8252 §7.3), and one registration then serves every login.
    let registration = registration::registration(
        session,
        &scopes,
        Some("http://127.0.0.1/oauth/callback"),
        sso,
        ctx,
    )
    .await?;
    let pkce = callback::Pkce::new()?;
    let url = authorize_url(sso, &registration.client_id, &redirect_uri, &pkce, &scopes);
    show(&url, session, profile, options, ctx);
    let code = callback.code(&pkce.state, LOGIN_WAIT).await?;
    let new = sso
        .create_token(
            &registration,
            &Grant::AuthorizationCode {
                code: &code,
                verifier: &pkce.verifier,
                redirect_uri: &redirect_uri,
            },
        )
        .await?;
    Ok(Token::new(
        session,
        new.access_token,
        new.expires_in,
        Some(&registration),
        new.refresh_token,
    ))
}

/// The browser's authorize URL: every value percent-encoded.
fn authorize_url(
    sso: &Sso,
    client_id: &str,
    redirect_uri: &str,
    pkce: &callback::Pkce,
    scopes: &[String],
) -> Secret {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", pkce.state.expose())
        .append_pair("code_challenge_method", "S256")
        .append_pair("scopes", &scopes.join(" "))
        .append_pair("code_challenge", &pkce.challenge)
        .finish();
    Secret::new(format!("{}?{query}", sso.authorize_url()))
}

/// Opens `url` in the browser through a private page, or prints it (`--no-browser`, or when
/// no browser could be started).
fn show(
    url: &Secret,
    session: &SsoSession,
    profile: Option<&str>,
    options: &LoginOptions,
    ctx: &Context,
) {
    let print = || {
        eprintln!(
            "assume-role: to sign in to {}, open this URL in a browser on this machine:\n  {}",
            session.label(),
            url.expose()
        );
    };
    if options.no_browser {
        print();
        return;
    }
    match open_browser(url, profile.unwrap_or("sso"), ctx) {
        Ok(setting) => eprintln!(
            "assume-role: signing in to {} with {setting}; waiting for the browser (at most {})",
            session.label(),
            crate::duration::display(LOGIN_WAIT)
        ),
        Err(err) => {
            eprintln!("assume-role: could not open a browser: {err}");
            print();
        }
    }
}

/// Starts the browser on a private page that opens `url` (never `url` on its command line),
/// removing the page once read, in the background.
fn open_browser(
    url: &Secret,
    identity: &str,
    ctx: &Context,
) -> Result<String, crate::console::ConsoleError> {
    let choice = crate::console::choose(None, ctx)?;
    let mut launches = crate::console::launches(&choice, identity, url, ctx)?;
    let page = crate::console::LinkPage::write(&mut launches, &choice.setting, ctx)?;
    crate::console::open(&choice, &launches)?;
    std::thread::spawn(move || page.remove_once_read());
    Ok(choice.setting)
}

/// The device flow: the user confirms a code in any browser, anywhere.
async fn device(
    session: &SsoSession,
    options: &LoginOptions,
    sso: &Sso,
    ctx: &Context,
) -> Result<Token, SsoError> {
    // A legacy profile registers with no scopes, and gets no refresh token (as in the AWS CLI).
    let scopes = if session.name.is_some() {
        scopes(session)
    } else {
        Vec::new()
    };
    let registration = registration::registration(session, &scopes, None, sso, ctx).await?;
    let auth = sso
        .start_device_authorization(&registration, &session.start_url)
        .await?;
    eprintln!(
        "assume-role: to sign in to {}, open {} and confirm the code {}",
        session.label(),
        auth.verification_uri,
        auth.user_code
    );
    if let Some(complete) = &auth.verification_uri_complete
        && !options.no_browser
        && ctx.env.no_browser_here.is_none()
    {
        let _ = open_browser(&Secret::new(complete.clone()), "sso", ctx);
    }
    let deadline = tokio::time::Instant::now() + auth.expires_in.min(LOGIN_WAIT);
    let mut interval = auth.interval;
    loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() > deadline {
            return Err(device_expired());
        }
        match sso
            .create_token(&registration, &Grant::DeviceCode(&auth.device_code))
            .await
        {
            Ok(new) => {
                let keeps_registration = session.name.is_some();
                return Ok(Token::new(
                    session,
                    new.access_token,
                    new.expires_in,
                    keeps_registration.then_some(&registration),
                    new.refresh_token.filter(|_| keeps_registration),
                ));
            }
            Err(err) => match err.sso_code() {
                Some("AuthorizationPendingException") => {}
                Some("SlowDownException") => interval += Duration::from_secs(5),
                Some("ExpiredTokenException") => return Err(device_expired()),
                _ => return Err(err.into()),
            },
        }
    }
}

fn device_expired() -> SsoError {
    SsoError::LoginFailed {
        detail: "the code was not confirmed in time".into(),
        hint: Some("run the login again and confirm the code it shows".into()),
    }
}

/// What `sso logout` did.
pub struct LoggedOut {
    /// Whether there was a token to end.
    pub had_token: bool,
    /// Why the portal could not be told, if it could not (the token is removed all the same).
    pub portal_failed: Option<String>,
}

/// Ends `session`: the portal's `Logout`, then the cached token is removed.
pub fn logout(session: &SsoSession, ctx: &Context) -> Result<LoggedOut, SsoError> {
    let Some(token) = crate::sso::read_token(session, ctx).unwrap_or(None) else {
        remove_token(session, ctx)?;
        return Ok(LoggedOut {
            had_token: false,
            portal_failed: None,
        });
    };
    let mut portal_failed = None;
    if token.remaining(SystemTime::now()) > Duration::ZERO {
        let runtime = runtime()?;
        portal_failed = runtime
            .block_on(async {
                let sso = Sso::new(&session.region, ctx)
                    .await
                    .map_err(|e| e.to_string())?;
                sso.logout(&token.access_token)
                    .await
                    .map_err(|e| e.to_string())
            })
            .err();
    }
    remove_token(session, ctx)?;
    Ok(LoggedOut {
        had_token: true,
        portal_failed,
    })
}

fn remove_token(session: &SsoSession, ctx: &Context) -> Result<(), SsoError> {
    let path = crate::sso::token_path(session, ctx)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SsoError::Io {
            what: "remove",
            path,
            source,
        }),
    }
}

/// One row of `sso sessions`.
#[derive(Debug, serde::Serialize)]
pub struct SessionRow {
    /// The `sso-session` name, or the legacy profile that names the start URL.
    pub name: String,
    pub start_url: String,
    pub region: String,
    /// RFC 3339, or `None` when not logged in.
    pub expires_at: Option<String>,
    pub expired: bool,
    pub refreshable: bool,
}

/// Every SSO session of the config, and each legacy start URL, with its token's state.
pub fn sessions(profiles: &Profiles, ctx: &Context) -> Result<Vec<SessionRow>, SsoError> {
    let mut found: Vec<(String, SsoSession)> = Vec::new();
    for name in profiles.sso_session_names() {
        found.push((name.to_owned(), profiles.sso_session(name)?));
    }
    for profile in profiles.sso_profiles() {
        if let Ok(session) = profiles.sso_session_of(profile)
            && session.name.is_none()
            && !found
                .iter()
                .any(|(_, s)| s.start_url == session.start_url && s.name.is_none())
        {
            found.push((format!("{profile} (profile)"), session));
        }
    }
    let now = SystemTime::now();
    found
        .into_iter()
        .map(|(name, session)| {
            let token = crate::sso::read_token(&session, ctx)?;
            Ok(SessionRow {
                name,
                start_url: session.start_url.clone(),
                region: session.region.clone(),
                expires_at: token.as_ref().map(|t| crate::time::rfc3339(t.expires_at)),
                expired: token.as_ref().is_some_and(|t| t.expires_at <= now),
                refreshable: session.refreshable()
                    && token.as_ref().is_some_and(|t| t.can_refresh(now)),
            })
        })
        .collect()
}
