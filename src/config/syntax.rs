//! Malformed lines in the AWS files: the SDK parser's error in plain words, and the section it
//! stopped in set aside so that every other profile is still read.

use super::{ConfigError, ConfigFiles, ini};
use std::path::{Path, PathBuf};

/// A malformed section, left out of [`Profiles`]: asking for its profile gets the syntax error.
#[derive(Debug)]
pub(super) struct Broken {
    pub(super) path: PathBuf,
    line: usize,
    what: String,
    fix: String,
    /// The inside of its header; `None` for a stray line before any header.
    pub(super) section: Option<String>,
}

pub(super) type Texts = std::collections::HashMap<std::ffi::OsString, Vec<u8>>;

/// One malformed section must not take out the others (the SDK's parser refuses the whole
/// file): the section the parser stopped in is commented out, in memory, so that the parse can
/// run again, and it is reported once. Each call removes at least one line that says something,
/// so the caller's loop ends. An error that names no line is returned as it is.
pub(super) fn set_aside(
    message: &str,
    files: &ConfigFiles,
    texts: &mut Texts,
) -> Result<Broken, ConfigError> {
    let text_of = |path: &Path| {
        texts
            .get(path.as_os_str())
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    };
    let (config_text, credentials_text) = (text_of(&files.config), text_of(&files.credentials));
    let syntax = syntax_error(
        message,
        &[
            (&files.config, config_text.as_deref()),
            (&files.credentials, credentials_text.as_deref()),
        ],
    );
    let Some(ConfigError::ConfigSyntax {
        path,
        line,
        what,
        fix,
    }) = syntax
    else {
        return Err(syntax.unwrap_or_else(|| ConfigError::ConfigParse(message.to_owned())));
    };
    let text = if path == files.config {
        config_text
    } else {
        credentials_text
    };
    let Some(text) = text else {
        return Err(ConfigError::ConfigSyntax {
            path,
            line,
            what,
            fix,
        });
    };
    let (quarantined, section) = ini::quarantine(&text, line);
    if quarantined == text {
        return Err(ConfigError::ConfigSyntax {
            path,
            line,
            what,
            fix,
        });
    }
    let broken = Broken {
        path,
        line,
        what,
        fix,
        section,
    };
    let skipped = broken.section.as_ref().map_or_else(
        || format!("line {line} is ignored"),
        |s| format!("section `[{s}]` is skipped until it is fixed; the others are read"),
    );
    tracing::warn!(
        "{}: {skipped}",
        crate::rules::printable(&broken.error().to_string())
    );
    texts.insert(broken.path.as_os_str().to_owned(), quarantined.into_bytes());
    Ok(broken)
}

impl Broken {
    pub(super) fn error(&self) -> ConfigError {
        ConfigError::ConfigSyntax {
            path: self.path.clone(),
            line: self.line,
            what: self.what.clone(),
            fix: self.fix.clone(),
        }
    }
}

/// The SDK parser's error (`error parsing <path> on line <n>:\n  <message>`) as ours: the file
/// and line, what is wrong with the line in plain words, and the fix. Where the AWS CLI accepts
/// the line (`key: value`, an indented first key), it says so: the file is shared with it. The
/// line itself is never quoted, only a key name: the line may carry a secret.
fn syntax_error(message: &str, files: &[(&PathBuf, Option<&str>)]) -> Option<ConfigError> {
    let rest = message.strip_prefix("error parsing ")?;
    let (path, rest) = rest.rsplit_once(" on line ")?;
    let (line, problem) = rest.split_once(":\n")?;
    let line: usize = line.trim().parse().ok()?;
    let problem = problem.trim();
    let (file, text) = files
        .iter()
        .find(|(file, _)| file.as_os_str() == std::ffi::OsStr::new(path))?;
    let content = (*text)?.lines().nth(line.checked_sub(1)?)?;
    let key_before_colon = content
        .split_once(':')
        .map(|(key, _)| key.trim())
        .filter(|key| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        });
    let (what, fix) = match problem {
        "Expected an '=' sign defining a property" => match key_before_colon {
            Some(key) => (
                format!("sets `{key}` with `:`; the AWS CLI accepts that, but the AWS SDKs' parser, which this tool uses, reads only `=`"),
                format!("write `{key} = …` on line {line}: replace the `:` with `=`"),
            ),
            None => (
                "is not a `[section]` header, a `key = value` setting or a comment".to_owned(),
                format!("fix or remove line {line}; the file uses the AWS CLI's INI format"),
            ),
        },
        "Expected a property definition, found continuation" => (
            "is indented, so it reads as the continuation of a setting above it, and there is none in its section; the AWS CLI accepts this, but the AWS SDKs' parser, which this tool uses, does not".to_owned(),
            format!("remove the spaces at the start of line {line}"),
        ),
        "Expected a profile definition" => (
            "comes before any `[section]` header".to_owned(),
            format!("put a header such as `[default]` or `[profile NAME]` above line {line}, or remove the line"),
        ),
        "Profile definition must end with ']'" => (
            "starts a section header but does not end with `]`".to_owned(),
            format!("close the bracket on line {line}, e.g. `[profile NAME]`"),
        ),
        "Property did not have a name" => (
            "has an `=` with no key before it".to_owned(),
            format!("put the key before the `=` on line {line}, or remove the line"),
        ),
        other => (
            format!("cannot be read: {other}"),
            format!("fix line {line}; the file uses the AWS CLI's INI format"),
        ),
    };
    Some(ConfigError::ConfigSyntax {
        path: (*file).clone(),
        line,
        what,
        fix,
    })
}
