//! IAM Identity Center tokens in use: the cached token of a session, refreshed when it is
//! within 15 minutes of expiry (as the AWS CLI does), and a role's credentials from it. Logging
//! in is [`crate::sso_login`]'s business; nothing here ever opens a browser or asks anything,
//! so that `credential-process` and an SDK never wait for a person.

pub mod token;

use crate::aws::AwsError;
use crate::aws::sso::{Grant, Sso};
use crate::config::{SsoRole, SsoSession};
use crate::context::Context;
use crate::credentials::Credentials;
use crate::exit::{Diagnose, Exit};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
pub use token::Token;

/// A token with less than this left is refreshed before use: the AWS CLI's window.
pub const REFRESH_WINDOW: Duration = Duration::from_mins(15);

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("there is no SSO token for {session}: not logged in")]
    NotLoggedIn { session: String, login: String },

    #[error("the SSO token of {session} expired at {at}{}", refresh_note(.refresh_failed.as_ref()))]
    Expired {
        session: String,
        at: String,
        login: String,
        /// Why a refresh did not help, if one was tried.
        refresh_failed: Option<String>,
    },

    #[error(
        "the SSO portal no longer accepts the token of {session} (signed out elsewhere, or revoked)"
    )]
    NotAccepted { session: String, login: String },

    #[error("the SSO token cache file `{}` cannot be read: {detail}", .path.display())]
    Corrupt {
        path: PathBuf,
        detail: String,
        login: String,
    },

    #[error("cannot {what} `{}`: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("there is no home directory, where the AWS CLI keeps SSO tokens (`~/.aws/sso/cache`)")]
    NoHome,

    #[error("the SSO login did not finish: {detail}")]
    LoginFailed {
        detail: String,
        hint: Option<String>,
    },

    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),

    /// `sso sync`, or the choice of a session: what stopped it, and the fix.
    #[error("{detail}")]
    Refused { detail: String, hint: String },

    #[error(transparent)]
    Aws(#[from] AwsError),

    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),

    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

fn refresh_note(failed: Option<&String>) -> String {
    failed.map_or_else(String::new, |why| {
        format!(", and refreshing it failed: {why}")
    })
}

impl Diagnose for SsoError {
    fn exit(&self) -> Exit {
        match self {
            // A person must log in: the same answer as a missing MFA code.
            SsoError::NotLoggedIn { .. }
            | SsoError::Expired { .. }
            | SsoError::NotAccepted { .. }
            | SsoError::Corrupt { .. } => Exit::Mfa,
            SsoError::Io { .. }
            | SsoError::LoginFailed { .. }
            | SsoError::Refused { .. }
            | SsoError::Runtime(_) => Exit::Failure,
            SsoError::NoHome => Exit::Config,
            SsoError::Aws(e) => e.exit(),
            SsoError::Config(e) => e.exit(),
            SsoError::Cache(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            SsoError::NotLoggedIn { login, .. }
            | SsoError::Expired { login, .. }
            | SsoError::NotAccepted { login, .. } => {
                vec![format!(
                    "log in: `{login}` (or `aws sso login`, which writes the same cache)"
                )]
            }
            SsoError::Corrupt { path, login, .. } => vec![format!(
                "remove it and log in again: `rm {}` then `{login}`",
                path.display()
            )],
            SsoError::Io { .. } => vec!["check the directory's owner and permissions".into()],
            SsoError::NoHome => vec!["set `HOME`".into()],
            SsoError::Runtime(_) => vec![],
            SsoError::LoginFailed { hint, .. } => hint.iter().cloned().collect(),
            SsoError::Refused { hint, .. } => vec![hint.clone()],
            SsoError::Aws(e) => e.hints(),
            SsoError::Config(e) => e.hints(),
            SsoError::Cache(e) => e.hints(),
        }
    }
}

/// Where `session`'s token lives.
pub fn token_path(session: &SsoSession, ctx: &Context) -> Result<PathBuf, SsoError> {
    let home = ctx.paths.home.as_deref().ok_or(SsoError::NoHome)?;
    Ok(token::token_path(home, session))
}

/// The cached token of `session` as it is on disk: `None` when there is none.
pub fn read_token(session: &SsoSession, ctx: &Context) -> Result<Option<Token>, SsoError> {
    let path = token_path(session, ctx)?;
    if let Some(dir) = path.parent()
        && let Some(why) = crate::fsx::untrusted(dir)
    {
        return Err(SsoError::Io {
            what: "read",
            path: dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("the directory is {why}; make it yours and private (`chmod 700`)"),
            ),
        });
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SsoError::Io {
                what: "read",
                path,
                source,
            });
        }
    };
    Token::from_bytes(&bytes)
        .map(Some)
        .map_err(|detail| SsoError::Corrupt {
            path,
            detail,
            login: session.login_command(None),
        })
}

/// Stores the token of a new login, under the refresh lock: a refresh already under way in
/// another run writes its (older) token first, and the login's then replaces it, never the
/// other way round.
pub fn store_login(session: &SsoSession, token: &Token, ctx: &Context) -> Result<(), SsoError> {
    let _lock = refresh_lock(session, ctx)?;
    write_token(session, token, ctx)
}

/// Writes `token` as `session`'s, 0600 and atomically.
fn write_token(session: &SsoSession, token: &Token, ctx: &Context) -> Result<(), SsoError> {
    let path = token_path(session, ctx)?;
    check_cache_dir(&path)?;
    crate::fsx::write_private(&path, &token.to_bytes()).map_err(|source| SsoError::Io {
        what: "write",
        path,
        source,
    })
}

/// The token cache's directory, when it exists, must be the user's own and closed to others'
/// writes: whoever can write there can plant a token or read the one we write.
pub fn check_cache_dir(path: &std::path::Path) -> Result<(), SsoError> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    crate::fsx::check_trusted(dir).map_err(|source| SsoError::Io {
        what: "use",
        path: dir.to_owned(),
        source,
    })
}

/// The lock that makes one run refresh a session's token while the others wait for its
/// answer: in our cache directory, not in the AWS CLI's.
fn refresh_lock(session: &SsoSession, ctx: &Context) -> Result<crate::cache::lock::Lock, SsoError> {
    let dir = ctx
        .paths
        .cache_dir
        .as_ref()
        .ok_or(SsoError::NoHome)?
        .join("sso");
    crate::fsx::ensure_private_dir(&dir).map_err(|source| SsoError::Io {
        what: "create",
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(format!("{}.lock", token::sha1_hex(session.cache_name())));
    Ok(crate::cache::lock::Lock::acquire(
        &path,
        &format!("the SSO token of {}", session.label()),
    )?)
}

/// A token of `session` with more than [`REFRESH_WINDOW`] left: the cached one, or the cached
/// one refreshed (and written back, under the lock). `profile` names the login in hints.
pub async fn usable_token(
    session: &SsoSession,
    profile: Option<&str>,
    sso: &Sso,
    ctx: &Context,
) -> Result<Token, SsoError> {
    let login = session.login_command(profile);
    let not_logged_in = || SsoError::NotLoggedIn {
        session: session.label(),
        login: login.clone(),
    };
    let token = read_token(session, ctx)?.ok_or_else(not_logged_in)?;
    let now = SystemTime::now();
    if token.remaining(now) > REFRESH_WINDOW {
        return Ok(token);
    }
    if !session.refreshable() || !token.can_refresh(now) {
        return usable_as_is(session, token, &login, None);
    }
    let _lock = refresh_lock(session, ctx)?;
    // Another run may have refreshed it while this one waited.
    let token = read_token(session, ctx)?.ok_or_else(not_logged_in)?;
    let now = SystemTime::now();
    if token.remaining(now) > REFRESH_WINDOW {
        return Ok(token);
    }
    let (Some(registration), Some(refresh)) =
        (token.registration(now), token.refresh_token.clone())
    else {
        return usable_as_is(session, token, &login, None);
    };
    match sso
        .create_token(&registration, &Grant::RefreshToken(&refresh))
        .await
    {
        Ok(new) => {
            let token = token.refreshed(new);
            write_token(session, &token, ctx)?;
            tracing::info!(session = %session.label(), "refreshed the SSO token");
            Ok(token)
        }
        Err(err) => usable_as_is(session, token, &login, Some(err.to_string())),
    }
}

/// A token that could not be refreshed: still good if it has not expired, else the login.
fn usable_as_is(
    session: &SsoSession,
    token: Token,
    login: &str,
    refresh_failed: Option<String>,
) -> Result<Token, SsoError> {
    if token.remaining(SystemTime::now()) > Duration::ZERO {
        if let Some(why) = &refresh_failed {
            tracing::warn!(
                "the SSO token of {} expires in {} and could not be refreshed ({why}); log in again soon: `{login}`",
                session.label(),
                crate::duration::display(token.remaining(SystemTime::now()))
            );
        }
        return Ok(token);
    }
    Err(SsoError::Expired {
        session: session.label(),
        at: crate::time::rfc3339(token.expires_at),
        login: login.to_owned(),
        refresh_failed,
    })
}

/// The credentials of `role`, from its session's token. A token the portal no longer accepts
/// (logged out elsewhere, revoked) is a login to make, not a denied role.
pub async fn role_credentials(role: &SsoRole, ctx: &Context) -> Result<Credentials, SsoError> {
    let sso = Sso::new(&role.session.region, ctx).await?;
    let token = usable_token(&role.session, Some(&role.profile), &sso, ctx).await?;
    sso.get_role_credentials(&token.access_token, &role.account_id, &role.role_name)
        .await
        .map_err(|err| match err.sso_code() {
            Some("UnauthorizedException") => SsoError::NotAccepted {
                session: role.session.label(),
                login: role.session.login_command(Some(&role.profile)),
            },
            _ => err.into(),
        })
}
