//! The AWS CLI's SSO token cache, read and written as the AWS CLI does, so that either tool's
//! login serves the other: `~/.aws/sso/cache/<sha1>.json`, named by the SHA-1 of the
//! `sso_session` name (or of the start URL, for a legacy profile), with the fields `startUrl`,
//! `region`, `accessToken`, `expiresAt` (`%Y-%m-%dT%H:%M:%SZ`), `clientId`, `clientSecret`,
//! `registrationExpiresAt` and `refreshToken`. Fields we do not know are kept as they are.
//! Written 0600, atomically.

use crate::config::SsoSession;
use crate::secret::Secret;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The directory of the token cache: `~/.aws/sso/cache`.
pub fn cache_dir(home: &Path) -> PathBuf {
    home.join(".aws").join("sso").join("cache")
}

/// The lower-case hex SHA-1 of `text`, as botocore names its cache files.
pub fn sha1_hex(text: &str) -> String {
    format!("{:x}", Sha1::digest(text.as_bytes()))
}

/// The token file of `session`.
pub fn token_path(home: &Path, session: &SsoSession) -> PathBuf {
    cache_dir(home).join(format!("{}.json", sha1_hex(session.cache_name())))
}

/// A cached SSO token.
#[derive(Clone)]
pub struct Token {
    pub start_url: String,
    pub region: String,
    pub access_token: Secret,
    pub expires_at: SystemTime,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub registration_expires_at: Option<SystemTime>,
    pub refresh_token: Option<Secret>,
    /// Fields another tool wrote that we do not read, written back as they were.
    other: Map<String, Value>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("start_url", &self.start_url)
            .field("region", &self.region)
            .field("expires_at", &crate::time::rfc3339(self.expires_at))
            .field("refreshable", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

const KNOWN: [&str; 8] = [
    "startUrl",
    "region",
    "accessToken",
    "expiresAt",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "refreshToken",
];

impl Token {
    pub fn new(
        session: &SsoSession,
        access_token: Secret,
        expires_in: Duration,
        registration: Option<&crate::aws::sso::Registration>,
        refresh_token: Option<Secret>,
    ) -> Self {
        let registration_expires_at = registration
            .and_then(|r| u64::try_from(r.expires_at).ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        Self {
            start_url: session.start_url.clone(),
            region: session.region.clone(),
            access_token,
            expires_at: SystemTime::now() + expires_in,
            client_id: registration.map(|r| r.client_id.clone()),
            client_secret: registration.map(|r| r.client_secret.clone()),
            registration_expires_at,
            refresh_token,
            other: Map::new(),
        }
    }

    /// How long the access token has left; zero once it has expired.
    pub fn remaining(&self, now: SystemTime) -> Duration {
        self.expires_at
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }

    /// The client registration the token was made with, while it lasts: what a refresh needs.
    pub fn registration(&self, now: SystemTime) -> Option<crate::aws::sso::Registration> {
        let expires = self.registration_expires_at?;
        if expires <= now {
            return None;
        }
        Some(crate::aws::sso::Registration {
            client_id: self.client_id.clone()?,
            client_secret: self.client_secret.clone()?,
            expires_at: expires
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .unwrap_or(0),
        })
    }

    /// Whether a refresh can be tried: a refresh token and a live registration.
    pub fn can_refresh(&self, now: SystemTime) -> bool {
        self.refresh_token.is_some() && self.registration(now).is_some()
    }

    /// The same token with a refreshed access token (and the new refresh token, if one came).
    #[must_use]
    pub fn refreshed(mut self, new: crate::aws::sso::NewToken) -> Self {
        self.access_token = new.access_token;
        self.expires_at = SystemTime::now() + new.expires_in;
        if let Some(refresh) = new.refresh_token {
            self.refresh_token = Some(refresh);
        }
        self
    }

    /// The file's JSON: a cache file is a sink that must carry the secrets.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut map = self.other.clone();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                map.insert(key.to_owned(), Value::String(value));
            }
        };
        put("startUrl", Some(self.start_url.clone()));
        put("region", Some(self.region.clone()));
        put("accessToken", Some(self.access_token.expose().to_owned()));
        put("expiresAt", Some(crate::time::rfc3339(self.expires_at)));
        put("clientId", self.client_id.clone());
        put(
            "clientSecret",
            self.client_secret.as_ref().map(|s| s.expose().to_owned()),
        );
        put(
            "registrationExpiresAt",
            self.registration_expires_at.map(crate::time::rfc3339),
        );
        put(
            "refreshToken",
            self.refresh_token.as_ref().map(|s| s.expose().to_owned()),
        );
        serde_json::to_vec_pretty(&Value::Object(map)).expect("a token serializes")
    }

    /// A token file's JSON; `Err` says what is wrong with it, never quoting a value.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let Value::Object(mut map) = serde_json::from_slice::<Value>(bytes)
            .map_err(|e| format!("it is not JSON (line {}, column {})", e.line(), e.column()))?
        else {
            return Err("it is not a JSON object".into());
        };
        let take = |key: &str| match map.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let access_token = take("accessToken").ok_or("it has no `accessToken`")?;
        let expires_at = take("expiresAt").ok_or("it has no `expiresAt`")?;
        let expires_at = crate::time::parse(&expires_at)
            .ok_or("its `expiresAt` is not a UTC time (`2026-12-06T12:00:00Z`)")?;
        let token = Self {
            start_url: take("startUrl").unwrap_or_default(),
            region: take("region").unwrap_or_default(),
            access_token: Secret::new(access_token),
            expires_at,
            client_id: take("clientId"),
            client_secret: take("clientSecret").map(Secret::new),
            registration_expires_at: take("registrationExpiresAt")
                .and_then(|t| crate::time::parse(&t)),
            refresh_token: take("refreshToken").map(Secret::new),
            other: Map::new(),
        };
        for key in KNOWN {
            map.remove(key);
        }
        Ok(Self {
            other: map,
            ..token
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_as_botocore_names_them() {
        // hashlib.sha1(b"my-sso").hexdigest()
        assert_eq!(
            sha1_hex("my-sso"),
            "0ad374308c5a4e22f723adf10145eafad7c4031c"
        );
        assert_eq!(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn a_token_round_trips_and_keeps_what_it_does_not_know() {
        let text = br#"{"startUrl": "https://x.awsapps.com/start", "region": "eu-west-1",
            "accessToken": "access-token-value", "expiresAt": "2030-01-01T00:00:00Z",
            "clientId": "cid", "clientSecret": "client-secret-value",
            "registrationExpiresAt": "2030-02-01T00:00:00Z", "refreshToken": "refresh-token-value",
            "somethingNew": {"a": 1}}"#;
        let token = Token::from_bytes(text).unwrap();
        assert_eq!(
            crate::time::rfc3339(token.expires_at),
            "2030-01-01T00:00:00Z"
        );
        assert!(!format!("{token:?}").contains("value"));
        let back: Value = serde_json::from_slice(&token.to_bytes()).unwrap();
        let original: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(back, original);
        assert!(Token::from_bytes(br#"{"accessToken": "x"}"#).is_err());
        assert!(Token::from_bytes(b"[]").is_err());
    }
}
