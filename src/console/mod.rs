//! The client's web console: a role's credentials exchanged for a sign-in token at the
//! partition's federation endpoint (`getSigninToken`), the `login` URL built from it, and the
//! browser that opens it with one identity per profile, so that one client's console never
//! logs another's out.
//!
//! The sign-in URL is a bearer credential for about 15 minutes, and the `getSigninToken`
//! request carries the session's keys: neither is ever logged, and both are held as
//! [`Secret`](crate::secret::Secret)s so that [`crate::secret::redact`] takes them out of any
//! line that might.
//!
//! Each concern has a file of its own: `lifetime` (how long the console may last, which
//! depends on where the session's credentials come from), `federation` (the endpoint, the
//! sign-in token and the `login` URL), `http` (the one GET that carries the credentials) and
//! `browser` (which browser, and one identity per profile in it).

mod browser;
mod error;
mod federation;
mod http;
mod lifetime;
mod page;

pub use browser::{
    BrowserKind, Choice, Launch, OPENER_WAIT, choose, ensure_available, launches, open,
    user_data_dir,
};
pub use error::ConsoleError;
pub use federation::{
    FEDERATION_TIMEOUT, ISSUER, destination, federation_endpoint, login_url, signin_token,
};
pub use lifetime::{
    DEFAULT_LIFETIME, Origin, SESSION_DURATION_MAX, SESSION_DURATION_MIN, origin, session_duration,
};
pub use page::LinkPage;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986's unreserved characters stay as they are; everything else is encoded.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY).to_string()
}
