//! The AWS config and credentials files, read through the SDK's own parser so that every
//! profile means here what it means to the AWS CLI.

mod error;
pub use error::{ConfigError, FilesRead};

pub mod block;
pub mod edit;
mod ini;
mod spelling;
mod sso;
pub use sso::{SsoRole, SsoSession};
mod syntax;
pub use spelling::Misspelling;
use syntax::Broken;
mod plan;
pub(crate) use plan::{check_key_text, keys};
mod profile_kind;

pub use plan::{
    Base, Context, DEFAULT_REGION, Defaults, Hop, Mfa, Overrides, OwnSession, Plan, RegionOrigin,
    default_session_name, mfa_of,
};
pub use profile_kind::{ProfileKind, ProfileSummary};

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use std::path::{Path, PathBuf};

/// Every profile in the config and credentials files, and where they came from.
#[derive(Debug)]
pub struct Profiles {
    set: ProfileSet,
    files: FilesRead,
    /// Where each section and key is written, file by file (empty for [`Profiles::from_texts`]).
    layouts: Vec<(PathBuf, Layout)>,
    /// Suggestions already made, by the name asked for: checking every profile of a large
    /// config that all name one missing source would otherwise compare every name with every
    /// other.
    suggested: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
    /// The stored-key index, read with the files: a profile whose key is stored starts from it.
    stored: crate::keystore::Index,
    /// Sections the parser refused, left out so that the others are read.
    broken: Vec<Broken>,
    /// The registry each profile written by `assume-role registry` came from, by profile.
    registries: std::collections::BTreeMap<String, String>,
}

impl Profiles {
    /// The profiles as the files hold them now, if they changed since `seen`; `None` if they did
    /// not. For a second look under the edit lock, so read without warnings: the user has just
    /// been warned about these files.
    pub fn reload_if_changed(
        files: &ConfigFiles,
        seen: &Fingerprint,
    ) -> Result<Option<Self>, ConfigError> {
        if files.fingerprint() == *seen {
            return Ok(None);
        }
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            Self::load_from(files).map(Some)
        })
    }

    /// Reads `AWS_CONFIG_FILE` (or `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (or
    /// `~/.aws/credentials`). A file that does not exist counts as empty, as it does for the AWS
    /// CLI; a file that exists but cannot be read is an error naming it. A malformed section is
    /// left out with a warning naming its line, and asking for its profile is that error.
    pub fn load_from(files: &ConfigFiles) -> Result<Self, ConfigError> {
        // The files are read here rather than by the SDK, so that a file that is not UTF-8 is
        // our error (which names the line; the SDK would log the whole file, secrets and all, and
        // carry on as if it were empty), and so that a byte-order mark is accepted. The parser
        // still sees the real paths, so its messages name them.
        let mut texts = std::collections::HashMap::new();
        let mut builder = EnvConfigFiles::builder();
        let mut read = Vec::new();
        let mut layouts = Vec::new();
        let mut registries = std::collections::BTreeMap::new();
        for (kind, path) in [
            (EnvConfigFileKind::Config, &files.config),
            (EnvConfigFileKind::Credentials, &files.credentials),
        ] {
            let text = read_text(path)?.map(|text| ini::normalize(path, &text));
            read.push((path.clone(), text.is_some()));
            if let Some(text) = text {
                if matches!(kind, EnvConfigFileKind::Config) {
                    registries = block::owners(&text, "registry ")
                        .into_iter()
                        .filter_map(|(header, registry)| {
                            let name = header.strip_prefix("profile ").unwrap_or(&header);
                            Some((name.trim().to_owned(), registry)).filter(|(n, _)| !n.is_empty())
                        })
                        .collect();
                }
                layouts.push((path.clone(), scan_layout(path, &text)));
                texts.insert(path.as_os_str().to_owned(), text.into_bytes());
                builder = builder.with_file(kind, path);
            }
        }
        if texts.is_empty() {
            // The SDK's builder refuses an empty file set; no files means no profiles.
            builder = builder.with_contents(EnvConfigFileKind::Config, "");
        }
        let env_files = builder.build();
        let mut broken = Vec::new();
        loop {
            let parsed = Self::parse(
                &Fs::from_raw_map(texts.clone()),
                &env_files,
                FilesRead(read.clone()),
            );
            let message = match parsed {
                Ok(profiles) => {
                    return Ok(Self {
                        layouts,
                        broken,
                        registries,
                        stored: files
                            .keys_index
                            .as_deref()
                            .map(crate::keystore::read_index_at)
                            .unwrap_or_default(),
                        ..profiles
                    });
                }
                Err(ConfigError::ConfigParse(message)) => message,
                Err(other) => return Err(other),
            };
            broken.push(syntax::set_aside(&message, files, &mut texts)?);
        }
    }

    /// Profiles from text, as if read from files; for tests and tools.
    pub fn from_texts(config: &str, credentials: &str) -> Result<Self, ConfigError> {
        let files = EnvConfigFiles::builder()
            .with_contents(EnvConfigFileKind::Config, config)
            .with_contents(EnvConfigFileKind::Credentials, credentials)
            .build();
        let read = FilesRead(vec![
            (PathBuf::from("<config>"), true),
            (PathBuf::from("<credentials>"), true),
        ]);
        Self::parse(
            &Fs::from_raw_map(std::collections::HashMap::default()),
            &files,
            read,
        )
    }

    fn parse(fs: &Fs, files: &EnvConfigFiles, read: FilesRead) -> Result<Self, ConfigError> {
        use aws_config::profile::ProfileFileLoadError as LoadError;
        // `load` is async only in signature: with the files already in memory it does no I/O,
        // so a trivial executor suffices and no runtime is built. It is given no environment:
        // the paths are already resolved, and a profile is chosen by name.
        let loaded = pollster::block_on(aws_config::profile::load(
            fs,
            &Env::from_slice(&[]),
            files,
            None,
        ));
        match loaded {
            Ok(set) => Ok(Self {
                set,
                files: read,
                layouts: Vec::new(),
                suggested: std::sync::Mutex::default(),
                stored: crate::keystore::Index::new(),
                broken: Vec::new(),
                registries: std::collections::BTreeMap::new(),
            }),
            Err(LoadError::ParseError { 0: err, .. }) => {
                Err(ConfigError::ConfigParse(err.to_string()))
            }
            Err(LoadError::CouldNotReadFile { .. }) => Err(ConfigError::ConfigParse(
                "could not read the AWS config files".into(),
            )),
        }
    }

    /// The team registry profile `name` was written from, if any.
    pub fn registry_of(&self, name: &str) -> Option<&str> {
        self.registries.get(name).map(String::as_str)
    }

    /// The stored-key index read with the files.
    pub fn stored_keys(&self) -> &crate::keystore::Index {
        &self.stored
    }

    /// The same profiles with `stored` as their stored-key index; for tests.
    #[must_use]
    pub fn with_stored_keys(self, stored: crate::keystore::Index) -> Self {
        Self { stored, ..self }
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

    /// Where `key` of profile `name` is written, or with no key, its section header. A key is
    /// looked for in the credentials file first, whose values win over the config file's (as
    /// the SDK merges them); a section in the config file first.
    pub fn location(&self, name: &str, key: Option<&str>) -> Option<Location> {
        let headers = |path: &PathBuf| self.headers_of(path, name);
        let key = key.map(str::to_ascii_lowercase);
        let find = |(path, layout): &(PathBuf, Layout)| {
            headers(path).into_iter().find_map(|header| {
                let line = match &key {
                    Some(key) => layout.keys.get(&(header, key.clone())),
                    None => layout.sections.get(&header),
                }?;
                Some(Location {
                    path: path.clone(),
                    line: *line,
                })
            })
        };
        // `layouts` is in load order: the config file, then the credentials file.
        if key.is_some() {
            self.layouts.iter().rev().find_map(find)
        } else {
            self.layouts.iter().find_map(find)
        }
    }

    /// The section headers profile `name` is written under in the file at `path`: in the config
    /// file `[profile NAME]` (bare only for `default`), in the credentials file `[NAME]`.
    fn headers_of(&self, path: &Path, name: &str) -> Vec<String> {
        let config = self.files.0.first().map(|(path, _)| path.as_path());
        if Some(path) != config {
            vec![name.to_owned()]
        } else if name == "default" {
            vec![format!("profile {name}"), name.to_owned()]
        } else {
            vec![format!("profile {name}")]
        }
    }

    /// The closest existing name, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        // Remembered: checking 10,000 profiles that name one missing source must not compare
        // that name with every profile 10,000 times.
        if let Some(known) = self.suggested.lock().ok()?.get(name) {
            return known.clone();
        }
        let found = self
            .close_to(name)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, candidate)| candidate.to_owned());
        if let Ok(mut suggested) = self.suggested.lock() {
            suggested.insert(name.to_owned(), found.clone());
        }
        found
    }

    /// Up to `n` existing names close to `text`, closest first, by the measure of
    /// [`Profiles::suggest`].
    pub fn closest(&self, text: &str, n: usize) -> Vec<String> {
        let mut close: Vec<(f64, &str)> = self.close_to(text).collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        close
            .into_iter()
            .take(n)
            .map(|(_, name)| name.to_owned())
            .collect()
    }

    fn close_to<'a>(&'a self, text: &str) -> impl Iterator<Item = (f64, &'a str)> {
        let lower = text.to_lowercase();
        self.set
            .profiles()
            .map(move |candidate| {
                (
                    strsim::jaro_winkler(&lower, &candidate.to_lowercase()),
                    candidate,
                )
            })
            .filter(|(score, _)| *score > 0.8)
    }

    pub(crate) fn unknown(&self, name: &str, referenced_by: Option<&str>) -> ConfigError {
        // A profile that is there but malformed: its own error, not "not found".
        let names_it = |b: &Broken| {
            b.section
                .as_ref()
                .is_some_and(|section| self.headers_of(&b.path, name).contains(section))
        };
        if let Some(broken) = self.broken.iter().find(|b| names_it(b)) {
            return broken.error();
        }
        ConfigError::UnknownProfile {
            name: name.to_owned(),
            files: self.files.clone(),
            suggestion: self.suggest(name),
            referenced_by: referenced_by.map(str::to_owned),
        }
    }
}

/// A line of one of the AWS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// The line of each section header and each key in one file, by the header as written inside
/// its brackets (`profile x`, `x`) and the lower-cased key: the first time each is met.
#[derive(Debug, Default)]
struct Layout {
    sections: std::collections::HashMap<String, usize>,
    /// Ordered, so that one section's keys are a range: `doctor` reads every profile's.
    keys: std::collections::BTreeMap<(String, String), usize>,
}

/// Where the two AWS files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
    /// The stored-key index ([`crate::keystore`]): which profiles' keys are kept out of plain
    /// text, and so what their plans start from.
    pub keys_index: Option<PathBuf>,
}

impl ConfigFiles {
    pub fn locate(ctx: &Context) -> Self {
        let home = ctx.paths.home.as_deref();
        Self {
            config: file_path(ctx.paths.config_file.as_deref(), &[".aws", "config"], home),
            credentials: file_path(
                ctx.paths.credentials_file.as_deref(),
                &[".aws", "credentials"],
                home,
            ),
            keys_index: crate::keystore::index_file(&ctx.paths),
        }
    }

    /// What the files are now, cheaply: anything derived from them is stale once this changes.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut stamps = vec![
            FileStamp::of(&self.config),
            FileStamp::of(&self.credentials),
        ];
        stamps.extend(self.keys_index.as_deref().map(FileStamp::of));
        Fingerprint(stamps)
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

/// A config file's text: `None` if it does not exist (as for the AWS CLI, a missing file is an
/// empty one), a UTF-8 byte-order mark dropped, and an error naming the line and byte where the
/// text stops being UTF-8. The message never quotes the file: it may hold secret keys.
fn read_text(path: &Path) -> Result<Option<String>, ConfigError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::ConfigRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let skip = if bytes.starts_with(BOM) {
        tracing::warn!(
            "`{}` starts with a UTF-8 byte-order mark: this tool skips it, but the AWS CLI fails on the file; save it as UTF-8 without a BOM",
            path.display()
        );
        BOM.len()
    } else {
        0
    };
    match std::str::from_utf8(&bytes[skip..]) {
        Ok(text) => Ok(Some(text.to_owned())),
        Err(e) => {
            let offset = skip + e.valid_up_to();
            let before = &bytes[..offset];
            let line_start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            Err(ConfigError::ConfigNotUtf8 {
                path: path.to_path_buf(),
                line: before.split(|b| *b == b'\n').count(),
                column: offset - line_start + 1,
                offset,
            })
        }
    }
}

/// Warns about what the SDK's parser takes silently, or ignores with a vague message, and the
/// AWS CLI reads otherwise: two sections with the same name (merged, the later key winning; the
/// AWS CLI refuses the file), a key set twice in one section (the later wins; the AWS CLI
/// refuses the file), and a quoted name (`[profile "x"]`: the AWS CLI reads `x`, the SDK
/// ignores the section). Each warning names the lines and the fix. Values are never quoted.
/// The lines it meets are kept, for messages that name where a value is written.
fn scan_layout(path: &Path, text: &str) -> Layout {
    let mut layout = Layout::default();
    let Layout { sections, keys } = &mut layout;
    let mut current: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if ini::is_comment_or_blank(line) {
            continue;
        }
        if let Some(inner) = ini::header(line) {
            let header = inner.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(quoted) = header
                .rsplit(' ')
                .next()
                .filter(|name| name.len() >= 2 && name.starts_with('"') && name.ends_with('"'))
            {
                let unquoted = header.replace(quoted, quoted.trim_matches('"'));
                tracing::warn!(
                    "`{}` line {number}: `[{header}]` is read as `[{unquoted}]` by the AWS CLI but ignored by the AWS SDKs' parser, which this tool uses; write `[{unquoted}]`",
                    path.display()
                );
            }
            if let Some(first) = sections.get(&header) {
                tracing::warn!(
                    "`{}` has two `[{header}]` sections, on lines {first} and {number}: they are merged, a key set in both taking the later value (the AWS CLI refuses the file); keep one",
                    path.display(),
                );
            } else {
                sections.insert(header.clone(), number);
            }
            current = Some(header);
            continue;
        }
        // Indented lines continue the setting above; they set no key of their own.
        if line.starts_with([' ', '\t']) {
            continue;
        }
        // A broken header (no `]`) starts a section that is set aside (`syntax`), not more of
        // the one above: its keys are nobody's.
        if line.starts_with('[') {
            current = None;
            continue;
        }
        let (Some(section), Some(key)) = (&current, ini::key_of(line)) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        if key.is_empty() {
            continue;
        }
        if let Some(first) = keys.get(&(section.clone(), key.clone())) {
            tracing::warn!(
                "`{}` sets `{key}` twice in `[{section}]`, on lines {first} and {number}: the later one is used (the AWS CLI refuses the file); keep one",
                path.display(),
            );
        }
        // The later line is the one in effect, so it is the one a message names.
        keys.insert((section.clone(), key), number);
    }
    layout
}

/// The path given (by `AWS_CONFIG_FILE` or `AWS_SHARED_CREDENTIALS_FILE`), with a leading `~`
/// expanded as the SDK does, or `~/<default>`.
fn file_path(given: Option<&Path>, default: &[&str], home: Option<&Path>) -> PathBuf {
    let home = home.map_or_else(|| PathBuf::from("~"), Path::to_path_buf);
    match given {
        Some(path) => match path.strip_prefix("~") {
            Ok(rest) => home.join(rest),
            Err(_) => path.to_path_buf(),
        },
        None => default.iter().fold(home, |path, part| path.join(part)),
    }
}
