//! What can be wrong with the tool's own settings file, with line and column.

use crate::exit::{Diagnose, Exit};
use crate::rules::InvalidValue;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The tool's settings file (`config.toml`) could not be read.
    #[error("cannot read the settings file `{}`: {source}", .path.display())]
    SettingsRead {
        path: PathBuf,
        /// Named by `ASSUME_ROLE_CONFIG` (a missing file is an error only then).
        explicit: bool,
        source: std::io::Error,
    },

    /// The tool's settings file is not TOML, has a key it does not know, or a value it cannot
    /// take. Never shows the value of `mfa_process` (it may carry a TOTP seed).
    #[error("`{}` line {line}, column {column}: {problem}", .path.display())]
    SettingsInvalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: Option<String>,
        problem: String,
        expected: crate::settings::Expected,
    },

    #[error(transparent)]
    Invalid(#[from] InvalidValue),
}

impl Diagnose for SettingsError {
    fn exit(&self) -> Exit {
        match self {
            SettingsError::Invalid(e) => e.exit(),
            _ => Exit::Config,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            SettingsError::SettingsRead {
                path,
                explicit: true,
                ..
            } => vec![format!(
                "`{}` names `{}`: create it, or unset the variable to use the default place",
                crate::env_vars::ASSUME_ROLE_CONFIG,
                path.display()
            )],
            SettingsError::SettingsRead { .. } => vec![format!(
                "check the file's permissions, or point `{}` at another file",
                crate::env_vars::ASSUME_ROLE_CONFIG
            )],
            SettingsError::SettingsInvalid { key, expected, .. } => {
                let mut hints = vec![expected.hint()];
                if let (Some(key), crate::settings::Expected::Keys) = (key, expected)
                    && let Some(near) = crate::settings::KEYS
                        .iter()
                        .find(|k| strsim::jaro_winkler(k, key) > 0.85)
                {
                    hints.insert(0, format!("did you mean `{near}`?"));
                }
                hints
            }
            SettingsError::Invalid(e) => e.hints(),
        }
    }
}
