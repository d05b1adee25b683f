//! The AWS config and credentials files, read through the SDK's own parser so that every
//! profile means here what it means to the AWS CLI.

pub mod edit;
mod plan;
mod profile_kind;

pub use plan::{
    Base, Context, DEFAULT_REGION, Hop, Mfa, Overrides, Plan, RegionOrigin, check_mfa_code,
};
pub use profile_kind::{ProfileKind, ProfileSummary};

use crate::env_vars;
use crate::error::{Error, FilesRead};
use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use std::path::{Path, PathBuf};

/// Every profile in the config and credentials files, and where they came from.
#[derive(Debug)]
pub struct Profiles {
    set: ProfileSet,
    files: FilesRead,
}

impl Profiles {
    /// Reads `AWS_CONFIG_FILE` (or `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (or
    /// `~/.aws/credentials`). A file that does not exist counts as empty, as it does for the AWS
    /// CLI; a file that exists but cannot be read or parsed is an error naming it.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(&ConfigFiles::locate())
    }

    pub fn load_from(files: &ConfigFiles) -> Result<Self, Error> {
        let mut builder = EnvConfigFiles::builder();
        let mut read = Vec::new();
        for (kind, path) in [
            (EnvConfigFileKind::Config, &files.config),
            (EnvConfigFileKind::Credentials, &files.credentials),
        ] {
            let exists = path.is_file();
            if exists {
                builder = builder.with_file(kind, path);
            }
            read.push((path.clone(), exists));
        }
        if read.iter().all(|(_, exists)| !exists) {
            // The SDK's builder refuses an empty file set; no files means no profiles.
            builder = builder.with_contents(EnvConfigFileKind::Config, "");
        }
        Self::parse(&builder.build(), FilesRead(read))
    }

    /// Profiles from text, as if read from files; for tests and tools.
    pub fn from_texts(config: &str, credentials: &str) -> Result<Self, Error> {
        let files = EnvConfigFiles::builder()
            .with_contents(EnvConfigFileKind::Config, config)
            .with_contents(EnvConfigFileKind::Credentials, credentials)
            .build();
        let read = FilesRead(vec![
            (PathBuf::from("<config>"), true),
            (PathBuf::from("<credentials>"), true),
        ]);
        Self::parse(&files, read)
    }

    fn parse(files: &EnvConfigFiles, read: FilesRead) -> Result<Self, Error> {
        use aws_config::profile::ProfileFileLoadError as LoadError;
        // `load` is async only in signature: on the real file system it does blocking reads
        // (a TODO upstream), so a trivial executor suffices and no runtime is built.
        let loaded = pollster::block_on(aws_config::profile::load(
            &Fs::real(),
            &Env::real(),
            files,
            None,
        ));
        match loaded {
            Ok(set) => Ok(Self { set, files: read }),
            Err(LoadError::ParseError { 0: err, .. }) => Err(Error::ConfigParse(err.to_string())),
            Err(LoadError::CouldNotReadFile { .. }) => {
                // The SDK's error keeps the path private; find the unreadable file ourselves.
                for (path, _) in read.0.iter().filter(|(_, exists)| *exists) {
                    if let Err(source) = std::fs::File::open(path) {
                        return Err(Error::ConfigRead {
                            path: path.clone(),
                            source,
                        });
                    }
                }
                Err(Error::ConfigParse(
                    "could not read the AWS config files".into(),
                ))
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.set.get_profile(name)
    }

    /// Profile names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.set.profiles().collect();
        names.sort_unstable();
        names
    }

    /// The same profiles, reported as coming from `files` (for parses of text that will be
    /// written to them).
    #[must_use]
    pub fn reported_as(mut self, files: &ConfigFiles) -> Self {
        self.files = FilesRead(vec![
            (files.config.clone(), true),
            (files.credentials.clone(), true),
        ]);
        self
    }

    pub fn files(&self) -> &FilesRead {
        &self.files
    }

    /// The closest existing name, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        self.set
            .profiles()
            .map(|candidate| {
                (
                    strsim::jaro_winkler(&lower, &candidate.to_lowercase()),
                    candidate,
                )
            })
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, candidate)| candidate.to_owned())
    }

    pub(crate) fn unknown(&self, name: &str, referenced_by: Option<&str>) -> Error {
        Error::UnknownProfile {
            name: name.to_owned(),
            files: self.files.clone(),
            suggestion: self.suggest(name),
            referenced_by: referenced_by.map(str::to_owned),
        }
    }
}

/// Where the two AWS files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl ConfigFiles {
    pub fn locate() -> Self {
        let home = dirs::home_dir();
        Self {
            config: file_path(
                env_vars::AWS_CONFIG_FILE,
                &[".aws", "config"],
                home.as_deref(),
            ),
            credentials: file_path(
                env_vars::AWS_SHARED_CREDENTIALS_FILE,
                &[".aws", "credentials"],
                home.as_deref(),
            ),
        }
    }

    /// What the files are now, cheaply: anything derived from them is stale once this changes.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(vec![
            FileStamp::of(&self.config),
            FileStamp::of(&self.credentials),
        ])
    }
}

/// The identity of both files' contents, from metadata alone (two `stat` calls).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint(Vec<FileStamp>);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FileStamp {
    path: PathBuf,
    /// `None` when the file does not exist.
    len: Option<u64>,
    modified_ns: Option<u128>,
    /// Inode and change time: an editor that saves by renaming a new file into place changes
    /// these even when size and modification time happen to match.
    inode: Option<u64>,
    changed_ns: Option<i128>,
}

impl FileStamp {
    fn of(path: &Path) -> Self {
        let meta = std::fs::metadata(path).ok();
        let modified_ns = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        #[cfg(unix)]
        let (inode, changed_ns) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.as_ref().map(MetadataExt::ino),
                meta.as_ref()
                    .map(|m| i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec())),
            )
        };
        #[cfg(not(unix))]
        let (inode, changed_ns) = (None, None);
        Self {
            path: path.to_path_buf(),
            len: meta.as_ref().map(std::fs::Metadata::len),
            modified_ns,
            inode,
            changed_ns,
        }
    }
}

/// The path in `var`, with a leading `~` expanded as the SDK does, or `~/<default>`.
fn file_path(var: &str, default: &[&str], home: Option<&Path>) -> PathBuf {
    let home = home.map_or_else(|| PathBuf::from("~"), Path::to_path_buf);
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(value) => {
            let path = PathBuf::from(value);
            match path.strip_prefix("~") {
                Ok(rest) => home.join(rest),
                Err(_) => path,
            }
        }
        None => default.iter().fold(home, |path, part| path.join(part)),
    }
}
