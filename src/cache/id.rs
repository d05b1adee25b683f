//! Cache keys. A key covers everything that changes the credentials it names: the whole chain
//! up to that hop (each hop's key hashes the one before), the base source's identity (an access
//! key ID, never a secret), the partition and any endpoint override. Rotated keys or an edited
//! profile therefore lead to a different key, never to stale credentials.

use crate::config::{Base, Hop, Plan};
use crate::context::Context;
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key a cache file is named by (its name without `.json`), or `None` for a name no key
    /// could have: a stray or temporary file.
    pub fn from_file_stem(stem: &str) -> Option<Self> {
        (stem.len() == 64 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(stem.to_owned()))
    }

    fn hash(parts: &[&str]) -> Self {
        // A JSON array is an unambiguous encoding: no choice of values can collide two lists.
        let encoded = serde_json::to_vec(parts).expect("strings serialize");
        Self(hex(&Sha256::digest(&encoded)))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", &self.0[..12])
    }
}

/// Lower-case hex, for file names.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The AWS partition of a region: credentials are valid across the regions of one partition.
pub fn partition(region: &str) -> &'static str {
    crate::rules::partition_of_region(region).name
}

/// Which STS answers: credentials from an emulator must never be served for the real thing.
fn endpoint_scope(plan: &Plan, ctx: &Context) -> String {
    format!(
        "{}|{}|{}",
        ctx.env.endpoint_url_sts.as_deref().unwrap_or_default(),
        ctx.env.endpoint_url.as_deref().unwrap_or_default(),
        plan.sdk_settings.as_deref().unwrap_or_default()
    )
}

/// Who the base credentials are, without touching them: an access key ID for keys, the
/// profile's settings for the other sources. `None` when the environment lacks the keys a
/// `credential_source = Environment` profile needs (the cold path then reports it).
pub fn base_identity(base: &Base, ctx: &Context) -> Option<String> {
    Some(match base {
        // A stored key has the same identity as the same key in the file: importing a key
        // keeps its sessions.
        Base::StaticKeys { access_key_id, .. } | Base::StoredKeys { access_key_id, .. } => {
            format!("keys:{access_key_id}")
        }
        Base::Environment { .. } => {
            format!("env:{}", ctx.env.env_credentials.as_ref()?.access_key_id)
        }
        Base::Ec2InstanceMetadata { profile } => format!("imds:{profile}"),
        Base::EcsContainer { profile } => format!("ecs:{profile}"),
        Base::CredentialProcess { profile, command } => format!("process:{profile}:{command}"),
        // The session's start URL too: a profile moved to another portal is another source.
        Base::Sso {
            profile,
            settings,
            role,
        } => format!("sso:{profile}:{settings}:{}", role.session.start_url),
        Base::WebIdentity { profile, settings } => format!("web:{profile}:{settings}"),
    })
}

/// One key per hop, in call order.
pub fn chain(plan: &Plan, ctx: &Context) -> Option<Vec<Key>> {
    let mut previous = Key::hash(&[
        "assume-role/v1",
        &base_identity(&plan.base, ctx)?,
        partition(&plan.region),
        &endpoint_scope(plan, ctx),
    ]);
    let mut keys = Vec::with_capacity(plan.hops.len());
    for hop in &plan.hops {
        previous = hop_key(&previous, hop);
        keys.push(previous.clone());
    }
    Some(keys)
}

fn hop_key(previous: &Key, hop: &Hop) -> Key {
    let duration = hop
        .duration
        .map(|d| d.as_secs().to_string())
        .unwrap_or_default();
    Key::hash(&[
        previous.as_str(),
        &hop.role_arn,
        hop.external_id.as_deref().unwrap_or_default(),
        hop.mfa.as_ref().map_or("", |m| m.serial.as_str()),
        &duration,
        &hop.session_name,
        hop.source_identity.as_deref().unwrap_or_default(),
        // Session policies are not supported yet; the slot keeps old keys valid when they are.
        "",
    ])
}

/// The MFA session of one long-term key and one MFA device.
pub fn mfa_session(access_key_id: &str, serial: &str, plan: &Plan, ctx: &Context) -> Key {
    Key::hash(&[
        "assume-role/v1/mfa-session",
        access_key_id,
        serial,
        partition(&plan.region),
        &endpoint_scope(plan, ctx),
    ])
}

/// The record of the last code accepted for an MFA device.
pub fn mfa_device(serial: &str) -> Key {
    Key::hash(&["assume-role/v1/mfa-device", serial])
}

/// A resolved plan, named by everything its resolution read except the files (whose state the
/// cached entry records): `inputs` is serialized whole, so an input added later is part of the
/// key without anyone remembering to add it.
pub fn plan(inputs: &impl serde::Serialize) -> Key {
    let encoded = serde_json::to_string(inputs).expect("plan inputs serialize");
    Key::hash(&["assume-role/v1/plan", &encoded])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eusc-de-east-1"), "aws-eusc");
    }

    #[test]
    fn encoding_is_unambiguous() {
        assert_ne!(Key::hash(&["a|b", "c"]), Key::hash(&["a", "b|c"]));
        assert_eq!(Key::hash(&["x"]).as_str().len(), 64);
    }

    #[test]
    fn file_stems_round_trip_and_strays_are_not_keys() {
        let key = Key::hash(&["x"]);
        assert_eq!(Key::from_file_stem(key.as_str()), Some(key));
        assert_eq!(Key::from_file_stem(".tmp-abc"), None);
        assert_eq!(Key::from_file_stem(&"A".repeat(64)), None);
        assert_eq!(Key::from_file_stem("ab"), None);
    }

    #[test]
    fn the_plan_key_changes_with_the_settings_that_change_a_plan() {
        let key = |settings: crate::settings::Settings| {
            plan(&Context {
                settings,
                ..Context::default()
            })
        };
        let none = key(crate::settings::Settings::default());
        for changed in [
            crate::settings::Settings {
                session_name: Some("alice".into()),
                ..crate::settings::Settings::default()
            },
            crate::settings::Settings {
                duration: Some(std::time::Duration::from_hours(2)),
                ..crate::settings::Settings::default()
            },
            crate::settings::Settings {
                region: Some("eu-west-1".into()),
                ..crate::settings::Settings::default()
            },
            crate::settings::Settings {
                mfa_process: Some("otp".into()),
                ..crate::settings::Settings::default()
            },
            crate::settings::Settings {
                mfa_session_duration: Some(std::time::Duration::from_hours(2)),
                ..crate::settings::Settings::default()
            },
            crate::settings::Settings {
                keys_backend: Some(crate::settings::choices::Backend::File),
                ..crate::settings::Settings::default()
            },
        ] {
            assert_ne!(key(changed.clone()), none, "{changed:?}");
        }
        // What cannot change a plan does not throw cached plans away.
        assert_eq!(
            key(crate::settings::Settings {
                audit: Some(true),
                jobs: std::num::NonZeroU16::new(8),
                browser: Some(crate::settings::choices::BrowserKind::Chrome),
                ..crate::settings::Settings::default()
            }),
            none
        );
    }
}
