//! Rendering a session for shells and programs. Everything printed for `eval` is quoted so that
//! no value, however hostile (profile names and regions come from config files), can run code:
//! each shell gets its own literal-string syntax, and where a syntax has no safe way to carry a
//! character (`cmd`, dotenv), we refuse instead of guessing.

mod error;
pub use error::OutputError;

use crate::credentials::{EnvChanges, is_portable_name};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// POSIX shells: bash, zsh, dash, ksh (`export K='v'`).
    // People name their shell, not the syntax it shares with the others.
    #[value(aliases = ["bash", "zsh"])]
    Sh,
    Fish,
    Powershell,
    /// Windows `cmd.exe` (`set "K=v"`).
    Cmd,
    /// Nushell.
    Nu,
    /// `K='v'` lines for `.env` files (sets only).
    Dotenv,
    /// One JSON object of name → value (sets only).
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Sh => "sh",
            Format::Fish => "fish",
            Format::Powershell => "powershell",
            Format::Cmd => "cmd",
            Format::Nu => "nu",
            Format::Dotenv => "dotenv",
            Format::Json => "json",
        }
    }

    /// The command line that puts `env`'s output for `profile` to use in the shell this format
    /// is for, or `None` for the data formats, which are meant for files and programs.
    pub fn eval_hint(self, profile: &str) -> Option<String> {
        // Names the AWS parser accepts need no quoting; anything else gets the shell's own.
        let plain = !profile.is_empty()
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.@:+".contains(c));
        let quoted = |quote: fn(&str) -> String| {
            if plain {
                profile.to_owned()
            } else {
                quote(profile)
            }
        };
        Some(match self {
            Format::Sh => format!("eval \"$(assume-role env {})\"", quoted(sh_quote)),
            Format::Fish => format!(
                "assume-role env {} --format fish | source",
                quoted(fish_quote)
            ),
            Format::Powershell => format!(
                "assume-role env {} --format powershell | Invoke-Expression",
                quoted(powershell_quote)
            ),
            // Nushell cannot `source` a pipe (its `source` is resolved when the script is
            // parsed), but it loads a record of variables directly.
            Format::Nu => format!(
                "assume-role env {} --format json | from json | load-env",
                quoted(nu_quote)
            ),
            Format::Cmd => {
                format!("for /f \"delims=\" %i in ('assume-role env {profile} --format cmd') do %i")
            }
            Format::Dotenv | Format::Json => return None,
        })
    }
}

/// The text to print: assignments first, then removals, one per line.
pub fn render(format: Format, changes: &EnvChanges) -> Result<String, OutputError> {
    if format == Format::Json {
        let object: serde_json::Map<String, serde_json::Value> = changes
            .set
            .iter()
            .map(|a| (a.name.to_owned(), a.value().into()))
            .collect();
        let mut text = serde_json::to_string_pretty(&object).expect("a map of strings serializes");
        text.push('\n');
        return Ok(text);
    }
    let mut out = String::new();
    for assignment in &changes.set {
        let (name, value) = (assignment.name, assignment.value());
        let refuse = |reason| OutputError::Unrepresentable {
            format: format.name(),
            name: name.to_owned(),
            reason,
        };
        let line = match format {
            Format::Sh => format!("export {name}={}", sh_quote(value)),
            Format::Fish => format!("set -gx {name} {}", fish_quote(value)),
            Format::Powershell => format!(
                "$Env:{name} = {}",
                powershell_quote(no_control(value).map_err(refuse)?)
            ),
            Format::Cmd => format!("set \"{name}={}\"", cmd_value(value).map_err(refuse)?),
            Format::Nu => format!("$env.{name} = {}", nu_quote(value)),
            Format::Dotenv => format!("{name}={}", dotenv_quote(value).map_err(refuse)?),
            Format::Json => unreachable!("handled above"),
        };
        let _ = writeln!(out, "{line}");
    }
    for name in changes.unset.iter().filter(|n| is_portable_name(n)) {
        let line = match format {
            Format::Sh => format!("unset {name}"),
            // Erasing an unset variable fails silently with status 4; `or true` keeps a
            // `… | source; and cmd` chain going.
            Format::Fish => format!("set -e {name}; or true"),
            Format::Powershell => {
                format!("Remove-Item -Path Env:{name} -ErrorAction SilentlyContinue")
            }
            Format::Cmd => format!("set {name}="),
            Format::Nu => format!("hide-env -i {name}"),
            Format::Dotenv | Format::Json => continue,
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(out)
}

/// POSIX single quotes: nothing inside is special; a quote is closed, escaped and reopened.
pub fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish single quotes: only `\\` and `\'` are escapes inside.
pub(crate) fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// `| Invoke-Expression` runs each line on its own, so a line break inside a value would split
/// an assignment; such values are refused.
fn no_control(value: &str) -> Result<&str, &'static str> {
    if value.chars().any(char::is_control) {
        Err("a control character")
    } else {
        Ok(value)
    }
}

/// PowerShell single quotes: a quote is doubled. PowerShell also ends a single-quoted string at
/// the typographic quotes U+2018–U+201B, so those are doubled too.
pub(crate) fn powershell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `cmd.exe` has no escape that survives both `%` expansion and delayed `!` expansion inside
/// quotes, so values with those (or a quote or line break) are refused.
fn cmd_value(value: &str) -> Result<&str, &'static str> {
    if value.contains(['"', '%', '!']) {
        Err("a quote, `%` or `!`")
    } else {
        no_control(value)
    }
}

/// Nushell raw strings `r#'…'#` have no escapes; enough `#` make any content literal.
pub(crate) fn nu_quote(value: &str) -> String {
    let mut hashes = 1;
    while value.contains(&format!("'{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let fence = "#".repeat(hashes);
    format!("r{fence}'{value}'{fence}")
}

/// dotenv dialects disagree on escapes but all read single quotes literally, so a value that
/// needs an escape there is refused.
fn dotenv_quote(value: &str) -> Result<String, &'static str> {
    if value.contains('\'') {
        Err("a single quote")
    } else if value.chars().any(char::is_control) {
        Err("a control character")
    } else {
        Ok(format!("'{value}'"))
    }
}

#[cfg(test)]
mod tests;
