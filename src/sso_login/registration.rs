//! The client registration, cached as the AWS CLI caches it: beside the tokens, in a file named
//! by the SHA-1 of `{"region", "scopes", "session_name", "startUrl", "tool": "botocore"}` written
//! as Python's `json.dumps(…, sort_keys=True)` writes it, holding `clientId`, `clientSecret`,
//! `expiresAt`, `scopes` and `grantTypes`. A registration lasts about 90 days; re-registering at
//! every login would leave a trail of clients in the customer's Identity Center.

use crate::aws::sso::{Registration, Sso};
use crate::config::SsoSession;
use crate::context::Context;
use crate::secret::Secret;
use crate::sso::SsoError;
use crate::sso::token::{cache_dir, sha1_hex};
use serde::Serialize;
use std::path::PathBuf;

/// The grant types of a registration for the authorization-code flow.
const CODE_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];

/// What names the cache file; field order is irrelevant (keys are sorted when written).
#[derive(Serialize)]
struct CacheKey<'a> {
    region: &'a str,
    scopes: &'a [String],
    session_name: &'a str,
    #[serde(rename = "startUrl")]
    start_url: &'a str,
    tool: &'a str,
}

/// serde_json's output with Python's default separators (`", "` and `": "`), which is what
/// botocore hashes.
struct PythonStyle;

impl serde_json::ser::Formatter for PythonStyle {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// The registration cache file of `session` with `scopes`.
fn path(session: &SsoSession, scopes: &[String], ctx: &Context) -> Result<PathBuf, SsoError> {
    let home = ctx.paths.home.as_deref().ok_or(SsoError::NoHome)?;
    let key = CacheKey {
        region: &session.region,
        scopes,
        session_name: session.cache_name(),
        start_url: &session.start_url,
        tool: "botocore",
    };
    // Sorted keys: through a `Value`, whose map is ordered.
    let value = serde_json::to_value(&key).expect("the key serializes");
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, PythonStyle);
    value.serialize(&mut ser).expect("the key serializes");
    let text = String::from_utf8(bytes).expect("JSON is UTF-8");
    Ok(cache_dir(home).join(format!("{}.json", sha1_hex(&text))))
}

/// A live cached registration for `session` that allows `code_flow` if asked, else a new one,
/// cached. `redirect` is the authorization-code flow's redirect URI.
pub async fn registration(
    session: &SsoSession,
    scopes: &[String],
    code_flow: Option<&str>,
    sso: &Sso,
    ctx: &Context,
) -> Result<Registration, SsoError> {
    let path = path(session, scopes, ctx)?;
    if let Some(cached) = read(&path, code_flow.is_some()) {
        tracing::info!("using the cached client registration");
        return Ok(cached);
    }
    let name = format!("assume-role-{}", session.cache_name());
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let registration = sso
        .register_client(
            &name,
            scopes,
            code_flow.map(|redirect| (redirect, session.start_url.as_str())),
        )
        .await?;
    let mut file = serde_json::json!({
        "clientId": registration.client_id,
        "clientSecret": registration.client_secret.expose(),
        "expiresAt": crate::time::rfc3339(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(u64::try_from(registration.expires_at).unwrap_or(0))
        ),
        "scopes": scopes,
    });
    if code_flow.is_some() {
        file["grantTypes"] = serde_json::json!(CODE_GRANTS);
    }
    let bytes = serde_json::to_vec_pretty(&file).expect("a registration serializes");
    crate::sso::check_cache_dir(&path)?;
    crate::fsx::write_private(&path, &bytes).map_err(|source| SsoError::Io {
        what: "write",
        path,
        source,
    })?;
    Ok(registration)
}

/// A cached registration still good for an hour, and for the flow.
fn read(path: &std::path::Path, code_flow: bool) -> Option<Registration> {
    let value: serde_json::Value = crate::fsx::read(path)?;
    let expires = crate::time::parse_epoch_secs(value.get("expiresAt")?.as_str()?)?;
    let now = i64::try_from(crate::keystore::now_secs()).ok()?;
    if expires < now + 3600 {
        return None;
    }
    let grants: Vec<&str> = value
        .get("grantTypes")
        .and_then(|g| g.as_array())
        .map(|g| g.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    // A registration for one flow may not serve the other: the service refuses a device
    // authorization to a client registered for the authorization code, and the reverse.
    let for_code = CODE_GRANTS.iter().all(|g| grants.contains(g));
    if code_flow != for_code {
        return None;
    }
    Some(Registration {
        client_id: value.get("clientId")?.as_str()?.to_owned(),
        client_secret: Secret::new(value.get("clientSecret")?.as_str()?),
        expires_at: expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_is_what_python_hashes() {
        let session = SsoSession {
            name: Some("corp".into()),
            start_url: "https://corp.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: vec![],
        };
        let ctx = Context {
            paths: crate::paths::Paths {
                home: Some("/h".into()),
                ..crate::paths::Paths::default()
            },
            ..Context::default()
        };
        // python3 -c 'import json,hashlib; print(hashlib.sha1(json.dumps({"region": "eu-west-1",
        //   "scopes": ["sso:account:access"], "session_name": "corp",
        //   "startUrl": "https://corp.awsapps.com/start", "tool": "botocore"},
        //   sort_keys=True).encode()).hexdigest())'
        let got = path(&session, &["sso:account:access".to_owned()], &ctx).unwrap();
        assert_eq!(
            got,
            PathBuf::from(format!("/h/.aws/sso/cache/{EXPECTED}.json"))
        );
    }

    const EXPECTED: &str = "787ef34d0a944c01385765faa28b5e67d1c08f33";
}
