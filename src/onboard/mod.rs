//! The client's side of the handshake: the trust policy that lets a contractor in (external ID,
//! MFA, narrowing conditions), the permissions, a CloudFormation template that creates the
//! role, and the launch link that hands it to the client. Everything here is pure: documents are
//! built as data from validated input; only `publish` talks to the network.

mod error;
pub use error::{OnboardError, PublishFailure};

pub mod cloudformation;
pub mod policy;
pub mod publish;
pub mod validate;

/// Characters of a generated external ID: letters and digits only, so that the ID survives
/// copying (a double-click selects all of it) and never starts like a command-line option.
const EXTERNAL_ID_ALPHABET: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of a generated external ID: 40 characters of log2(62) bits each, about 238 bits.
pub const GENERATED_EXTERNAL_ID_LEN: usize = 40;

/// A new external ID from the operating system's CSPRNG: unique per client, unguessable.
pub fn generate_external_id() -> Result<String, OnboardError> {
    let mut id = String::with_capacity(GENERATED_EXTERNAL_ID_LEN);
    let mut bytes = [0u8; 64];
    while id.len() < GENERATED_EXTERNAL_ID_LEN {
        getrandom::fill(&mut bytes)
            .map_err(|e| crate::assume::AssumeError::Random(e.to_string()))?;
        // Bytes from 248 up would favour the first letters; dropping them keeps every
        // character equally likely.
        id.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .map(|b| char::from(EXTERNAL_ID_ALPHABET[usize::from(b % 62)]))
                .take(GENERATED_EXTERNAL_ID_LEN - id.len()),
        );
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_external_ids_are_unique_and_within_the_sts_alphabet() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| generate_external_id().unwrap()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), GENERATED_EXTERNAL_ID_LEN);
            assert!(
                id.chars().all(|c| crate::rules::EXTERNAL_ID.allows(c)),
                "{id}"
            );
            validate::external_id(id).unwrap();
        }
    }
}
