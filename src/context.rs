//! What one run works from, read once at the edge and passed down: the environment snapshot
//! ([`Env`]), the paths derived from it ([`Paths`]) and the tool's settings ([`Settings`]).
//! Functions that need only one of them take only that one; `Context` is the bundle the
//! commands hand down. The stored-key index is not here: the config model loads it with the
//! AWS files ([`crate::config::Profiles`]), so that it is part of the plan cache's key.

use crate::env::Env;
use crate::paths::Paths;
use crate::settings::{Settings, SettingsError};
use serde::Serialize;

/// The inputs of a run. Serialized as part of the plan cache's key (each part skips what
/// cannot change a plan).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Context {
    pub env: Env,
    pub paths: Paths,
    /// The tool's settings ([`crate::settings`]); the defaults when there is no file. Part of
    /// the plan cache's key, so that editing the file invalidates the plans it changes.
    pub settings: Settings,
}

impl Context {
    /// The process's environment, and the settings file it points at.
    pub fn from_process() -> Result<Self, SettingsError> {
        Self::of(Env::from_process()).with_settings()
    }

    /// The context of an environment, with default settings: no I/O.
    pub fn of(env: Env) -> Self {
        Self {
            paths: Paths::of(&env),
            env,
            settings: Settings::default(),
        }
    }

    /// Reads the settings file of [`Paths::settings_file`] into [`Self::settings`]. Kept apart
    /// from [`Self::of`], which does no I/O.
    pub fn with_settings(mut self) -> Result<Self, SettingsError> {
        self.settings = Settings::load(self.paths.settings_file.as_ref())?;
        Ok(self)
    }

    /// Whether credentials handed over are written to the audit log: on unless
    /// `ASSUME_ROLE_AUDIT` or the settings file's `audit = false` switches it off (either one
    /// can).
    pub fn audit_on(&self) -> bool {
        self.env.audit && self.settings.audit.unwrap_or(true)
    }
}
