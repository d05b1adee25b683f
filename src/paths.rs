//! Every directory and file the tool reads or writes, derived from the environment snapshot by
//! one pure function ([`Paths::of`]), so that "where does X live" has one answer and a test can
//! point all of it into a temporary directory.

use crate::env::Env;
use crate::settings::Location;
use serde::Serialize;
use std::path::PathBuf;

/// Where things live. Serialized (for the plan cache's key) without what cannot change a plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Paths {
    /// `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, as given: the defaults under `home`
    /// are the config model's business ([`crate::config::ConfigFiles::locate`]).
    pub config_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub home: Option<PathBuf>,
    /// Where the cache lives: `ASSUME_ROLE_CACHE_DIR`, else the platform's cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Where stored keys and their index, and per-profile browser identities, live: the
    /// platform's data directory (`$XDG_DATA_HOME/assume-role` on Linux).
    pub data_dir: Option<PathBuf>,
    /// Where the audit log lives: `ASSUME_ROLE_STATE_DIR`, else the platform's state directory
    /// (`$XDG_STATE_HOME/assume-role`), else its local data directory (macOS, Windows).
    #[serde(skip)]
    pub state_dir: Option<PathBuf>,
    /// Where the tool's settings file is looked for: `ASSUME_ROLE_CONFIG`, else `config.toml`
    /// in the platform's config directory.
    #[serde(skip)]
    pub settings_file: Option<Location>,
}

impl Paths {
    /// The paths an environment names.
    pub fn of(env: &Env) -> Self {
        let ours = |dir: &Option<PathBuf>| dir.as_ref().map(|d| d.join("assume-role"));
        Self {
            config_file: env.config_file.clone(),
            credentials_file: env.credentials_file.clone(),
            home: env.dirs.home.clone(),
            cache_dir: env.cache_dir.clone().or_else(|| ours(&env.dirs.cache)),
            data_dir: ours(&env.dirs.data),
            state_dir: env
                .state_dir
                .clone()
                .or_else(|| ours(&env.dirs.state).or_else(|| ours(&env.dirs.data_local))),
            settings_file: Location::of(env.settings_file.clone(), env.dirs.config.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assume_role_config_names_the_file_and_makes_it_required() {
        let paths = Paths::of(&Env::from_vars([(
            std::ffi::OsString::from("ASSUME_ROLE_CONFIG"),
            std::ffi::OsString::from("/etc/assume-role.toml"),
        )]));
        assert_eq!(
            paths.settings_file,
            Some(Location {
                path: std::path::PathBuf::from("/etc/assume-role.toml"),
                explicit: true,
            })
        );
        let paths = Paths::of(&Env::from_vars([(
            std::ffi::OsString::from("ASSUME_ROLE_CONFIG"),
            std::ffi::OsString::new(),
        )]));
        assert!(paths.settings_file.is_none_or(|l| !l.explicit));
    }
}
