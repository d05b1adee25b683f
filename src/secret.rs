//! Secret values (secret access keys, session tokens) as their own type.
//!
//! A [`Secret`] cannot be printed by accident: `Debug` shows `(redacted)` and there is no
//! `Display`. The only way to the text is [`Secret::expose`], so every place that hands a secret
//! to the outside world is greppable. Access key IDs are not secret, but they identify a person,
//! so logs show them through [`mask_access_key`].

use std::fmt;
use std::sync::Mutex;

/// A string that must never reach logs, errors or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

/// Every secret this process has held, so that [`redact`] can take them out of any log line,
/// including lines other crates write about values they were handed.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter values are not remembered: they would blank out ordinary words, and no AWS secret
/// or token is that short (a 6-digit MFA code is the shortest secret we hold).
const REMEMBER_FROM: usize = 6;

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        if value.len() >= REMEMBER_FROM
            && let Ok(mut seen) = SEEN.lock()
            && !seen.contains(&value)
        {
            seen.push(value.clone());
        }
        Self(value)
    }

    /// The secret text, for the few sinks that must carry it (a child's environment, `eval`
    /// output, `credential_process` JSON, an STS request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// A one-time MFA code: exactly six digits, the spaces authenticator apps show removed. A secret
/// for its short life: `Debug` hides it, and the text is reached only through
/// [`OneTimeCode::expose`], by the STS request that carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(Secret);

impl OneTimeCode {
    pub fn parse(text: &str) -> Option<Self> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(Secret::new(digits)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(code)")
    }
}

/// `text` fit for a log: every secret this process has held replaced by `(redacted)`, and
/// access key IDs masked.
pub fn redact(text: &str) -> String {
    let mut out = mask_access_keys_in(text);
    if let Ok(seen) = SEEN.lock() {
        // Longest first: a secret that holds a shorter one must go whole, not leave its ends.
        let mut present: Vec<&str> = seen
            .iter()
            .map(String::as_str)
            .filter(|s| out.contains(s))
            .collect();
        present.sort_unstable_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in present {
            out = out.replace(secret, "(redacted)");
        }
    }
    out
}

/// An external ID, shown as present but not in full: the first and last two characters of a
/// long one (enough to tell two apart), only the length of a short one. AWS does not count it
/// a secret, but it is the client's guard against the confused deputy: logs and `doctor` do
/// not need it whole.
pub fn mask_external_id(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n >= 10 {
        let head: String = chars[..2].iter().collect();
        let tail: String = chars[n - 2..].iter().collect();
        format!("set ({head}…{tail}, {n} chars)")
    } else {
        format!("set ({n} chars)")
    }
}

/// Shows the first four characters of an access key ID (its kind: `AKIA` long-term, `ASIA`
/// temporary) and the last four (enough to tell two keys apart), masking the rest.
pub fn mask_access_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// Masks every access key ID inside free text (`AKIA…`/`ASIA…` and 16 more capitals or
/// digits). Log lines from other crates pass through this, so a key that some dependency prints
/// at debug level still reaches the terminal masked.
pub fn mask_access_keys_in(text: &str) -> String {
    const KEY_LEN: usize = 20;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let is_key = rest.len() >= KEY_LEN
            && (rest.starts_with(b"AKIA") || rest.starts_with(b"ASIA"))
            && rest[4..KEY_LEN]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && rest.get(KEY_LEN).is_none_or(|b| !b.is_ascii_alphanumeric())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if is_key {
            out.push_str(&mask_access_key(&text[i..i + KEY_LEN]));
            i += KEY_LEN;
        } else {
            let c = text[i..].chars().next().expect("i is on a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{secret:?}"), "(redacted)");
        assert_eq!(format!("{:#?}", Some(&secret)), "Some(\n    (redacted),\n)");
    }

    #[test]
    fn log_lines_lose_every_secret_seen() {
        let secret = Secret::new("Zx9-not-a-real-secret-but-long-enough");
        let line = format!(
            // An ID no other test holds as a secret: the registry is shared by the tests.
            "body=<SecretAccessKey>{}</SecretAccessKey> id=AKIA0000REDACTTEST01",
            secret.expose()
        );
        assert_eq!(
            redact(&line),
            "body=<SecretAccessKey>(redacted)</SecretAccessKey> id=AKIA************ST01"
        );
    }

    #[test]
    fn codes_are_six_digits_spaces_allowed() {
        assert_eq!(OneTimeCode::parse("123 456").unwrap().expose(), "123456");
        assert_eq!(OneTimeCode::parse(" 012345\n").unwrap().expose(), "012345");
        for bad in ["12345", "1234567", "abcdef", "12345a", "", "１２３４５６"] {
            assert!(OneTimeCode::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            format!("{:?}", OneTimeCode::parse("123456")),
            "Some((code))"
        );
    }

    #[test]
    fn expose_returns_the_value() {
        assert_eq!(Secret::from("abc").expose(), "abc");
    }

    #[test]
    fn keys_inside_text_are_masked() {
        assert_eq!(
            mask_access_keys_in("id: \"AKIAIOSFODNN7EXAMPLE\", next=ASIATHPL2AOHH54VFXQV é"),
            "id: \"AKIA************MPLE\", next=ASIA************FXQV é"
        );
        // Not keys: too short, too long, lower case.
        for text in [
            "AKIA123",
            "XAKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLEX",
            "akiaiosfodnn7example",
        ] {
            assert_eq!(mask_access_keys_in(text), text);
        }
    }

    #[test]
    fn access_keys_are_masked_but_recognisable() {
        assert_eq!(
            mask_access_key("AKIAIOSFODNN7EXAMPLE"),
            "AKIA************MPLE"
        );
        assert_eq!(mask_access_key("ASIA1234"), "********");
        assert_eq!(mask_access_key(""), "");
    }
}
