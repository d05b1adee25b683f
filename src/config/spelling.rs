//! Keys that look like a known key misspelled (`externalid`, `mfa_serail`, `sourceprofile`):
//! the AWS CLI and the SDKs ignore an unknown key without a word, so such a profile quietly runs
//! without its external ID or MFA. Named with "did you mean" by `doctor` and as a warning on a
//! run. A key that resembles no known one is left alone: plugins and newer tools add their own.

use super::plan::keys;
use super::{Location, Profiles};

/// Every key a profile may hold that we know of: the AWS CLI's and SDKs', and our own.
const KNOWN: &[&str] = &[
    keys::ROLE_ARN,
    keys::SOURCE_PROFILE,
    keys::CREDENTIAL_SOURCE,
    keys::EXTERNAL_ID,
    keys::MFA_SERIAL,
    keys::MFA_PROCESS,
    keys::MFA_SESSION_DURATION,
    keys::DURATION_SECONDS,
    keys::ROLE_SESSION_NAME,
    keys::SOURCE_IDENTITY,
    keys::REGION,
    keys::CREDENTIAL_PROCESS,
    keys::SSO_SESSION,
    keys::SSO_START_URL,
    keys::SSO_ACCOUNT_ID,
    keys::SSO_ROLE_NAME,
    keys::WEB_IDENTITY_TOKEN_FILE,
    keys::AWS_ACCESS_KEY_ID,
    keys::AWS_SECRET_ACCESS_KEY,
    keys::AWS_SESSION_TOKEN,
    keys::AWS_SECURITY_TOKEN,
    "sso_region",
    "sso_registration_scopes",
    "output",
    "cli_pager",
    "ca_bundle",
    "parameter_validation",
    "tcp_keepalive",
    "cli_timestamp_format",
    "cli_follow_urlparam",
    "cli_binary_format",
    "cli_auto_prompt",
    "cli_history",
    "metadata_service_timeout",
    "metadata_service_num_attempts",
    "sts_regional_endpoints",
    "s3",
    "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode",
    "ec2_metadata_v1_disabled",
    "defaults_mode",
    "aws_account_id",
];

/// An unknown key of a profile, the known key it most likely meant, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misspelling {
    pub key: String,
    pub meant: &'static str,
    pub at: Location,
}

impl std::fmt::Display for Misspelling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` at {} is not a key the AWS CLI or this tool reads, and is ignored; did you mean `{}`?",
            self.key, self.at, self.meant
        )
    }
}

/// The known key `key` most likely means, if it is unknown and close to one.
fn meant(key: &str) -> Option<&'static str> {
    if KNOWN.contains(&key) || keys::SDK_CLIENT.contains(&key) {
        return None;
    }
    // Without `_` and `-`: `sourceprofile` and `source-profile` both mean `source_profile`.
    let bare = |k: &str| k.replace(['_', '-'], "");
    let key_bare = bare(key);
    KNOWN
        .iter()
        .chain(keys::SDK_CLIENT)
        .map(|known| (*known, strsim::jaro_winkler(&key_bare, &bare(known))))
        .filter(|(_, score)| *score > 0.9)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(known, _)| known)
}

impl Profiles {
    /// The keys of profile `name` that look like a known key misspelled, in file order.
    pub fn misspelled_keys(&self, name: &str) -> Vec<Misspelling> {
        let mut found = Vec::new();
        for (path, layout) in &self.layouts {
            for header in self.headers_of(path, name) {
                // This section's keys alone: a scan of every key for every profile made an
                // offline `doctor` of 10,002 profiles take 8 s instead of a tenth of one.
                let section = layout
                    .keys
                    .range((header.clone(), String::new())..)
                    .take_while(|((section, _), _)| *section == header);
                for ((_, key), line) in section {
                    if let Some(meant) = meant(key) {
                        found.push(Misspelling {
                            key: key.clone(),
                            meant,
                            at: Location {
                                path: path.clone(),
                                line: *line,
                            },
                        });
                    }
                }
            }
        }
        found.sort_by(|a, b| (&a.at.path, a.at.line).cmp(&(&b.at.path, b.at.line)));
        found
    }
}

/// The profiles a plan reads: its target, each hop's, and the base credentials'.
fn profiles_of(plan: &super::Plan) -> Vec<&str> {
    let mut names = vec![plan.profile.as_str()];
    names.extend(plan.hops.iter().map(|hop| hop.profile.as_str()));
    names.push(plan.base.profile());
    names.sort_unstable();
    names.dedup();
    names
}

impl Profiles {
    /// The misspellings in every profile `plan` reads.
    pub fn misspellings_of(&self, plan: &super::Plan) -> Vec<(String, Misspelling)> {
        profiles_of(plan)
            .into_iter()
            .flat_map(|name| {
                self.misspelled_keys(name)
                    .into_iter()
                    .map(move |m| (name.to_owned(), m))
            })
            .collect()
    }

    /// Warns, on a run, of every misspelled key in the profiles `plan` reads.
    pub fn warn_misspellings(&self, plan: &super::Plan) {
        for (profile, misspelling) in self.misspellings_of(plan) {
            tracing::warn!("profile `{profile}`: {misspelling}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_misspellings_are_named_and_unknown_keys_left_alone() {
        assert_eq!(meant("externalid"), Some("external_id"));
        assert_eq!(meant("mfa_serail"), Some("mfa_serial"));
        assert_eq!(meant("sourceprofile"), Some("source_profile"));
        assert_eq!(meant("role-arn"), Some("role_arn"));
        for fine in [
            "external_id",
            "output",
            "endpoint_url",
            "my_plugin_setting",
            "granted_sso_start_url",
        ] {
            assert_eq!(meant(fine), None, "{fine}");
        }
    }
}
