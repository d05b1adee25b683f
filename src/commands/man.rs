//! `assume-role man`: the manual page, from the same definitions as `--help`.
//!
//! One page, `assume-role(1)`: what clap_mangen makes of the top-level command, then every
//! command as a subsection of COMMANDS (its synopsis, description, options and examples), then
//! EXIT STATUS, ENVIRONMENT (from [`crate::env_vars::VARS`]), FILES, EXAMPLES and SEE ALSO. It
//! names no `assume-role-exec(1)`-style page, since none is installed.

use super::print;
use crate::cli::Cli;
use crate::env_vars::{Kind, VARS};
use crate::error::Error;
use clap::CommandFactory;
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn run() -> Result<ExitCode, Error> {
    let page = render().map_err(crate::output::OutputError::Output)?;
    print(&page)
}

/// The whole page, as roff.
pub fn render() -> std::io::Result<String> {
    let mut cmd = Cli::command();
    // Built, every subcommand knows its full name (`assume-role cache list`) for its synopsis.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    page.push_str(".SH COMMANDS\n");
    for sub in visible(&cmd) {
        command(sub, &mut page)?;
    }
    page.push_str(&sections());
    Ok(page)
}

/// A command's subcommands, without clap's own `help`, which only repeats the pages.
fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// One command as a subsection (or, for a group such as `keys`, each of its commands).
fn command(cmd: &clap::Command, page: &mut String) -> std::io::Result<()> {
    if cmd.has_subcommands() {
        for sub in visible(cmd) {
            command(sub, page)?;
        }
        return Ok(());
    }
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let _ = writeln!(page, ".SS \"{}\"", escape(name));
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    let has_examples = cmd.get_after_help().is_some();
    if has_examples {
        man.render_extra_section(&mut out)?;
    }
    // clap_mangen writes whole pages: its section headings become paragraphs of this one.
    for line in String::from_utf8_lossy(&out).lines() {
        match line {
            ".SH SYNOPSIS" | ".SH DESCRIPTION" => page.push_str(".PP\n"),
            ".SH OPTIONS" => page.push_str(".PP\nOptions:\n"),
            // The examples keep their lines and alignment.
            ".SH EXTRA" => page.push_str(".PP\n.nf\n"),
            _ => {
                page.push_str(line);
                page.push('\n');
            }
        }
    }
    if has_examples {
        page.push_str(".fi\n");
    }
    Ok(())
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}

/// `.TP` entries: a bold term, then its text.
fn entries(page: &mut String, items: &[(&str, &str)]) {
    for (term, text) in items {
        let _ = write!(page, ".TP\n\\fB{}\\fR\n{}\n", escape(term), escape(text));
    }
}

/// The sections after COMMANDS.
fn sections() -> String {
    let mut page = String::new();
    page.push_str(".SH \"EXIT STATUS\"\n");
    entries(&mut page, EXIT_STATUS);
    page.push_str(".SH ENVIRONMENT\n");
    for (kind, heading) in Kind::ALL {
        let _ = writeln!(page, ".SS \"{}\"", escape(heading));
        let vars: Vec<(&str, &str)> = VARS
            .iter()
            .filter(|var| var.kind == *kind)
            .map(|var| (var.name, var.doc))
            .collect();
        entries(&mut page, &vars);
    }
    page.push_str(".SH FILES\n");
    entries(&mut page, FILES);
    page.push_str(".SH EXAMPLES\n.nf\n");
    for line in EXAMPLES.lines() {
        let _ = writeln!(page, "{}", escape(line));
    }
    page.push_str(".fi\n.SH \"SEE ALSO\"\n");
    page.push_str(&escape(SEE_ALSO));
    page.push('\n');
    let _ = writeln!(page, ".SH VERSION\nv{}", escape(env!("CARGO_PKG_VERSION")));
    page
}

/// The codes of [`crate::exit::Exit`], and what `exec` and `each` pass through.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "Anything else: stdout could not be written, `doctor` found only problems a run would not fail on, `keys rotate` found two keys already.",
    ),
    (
        "2",
        "Bad command-line usage, or a variable of ours set to a value it cannot take (`ASSUME_ROLE_PROCESS_TIMEOUT`).",
    ),
    (
        "3",
        "The AWS config, a profile or the settings file is wrong: unknown profile, loop, missing source, invalid value, a file that is not UTF-8, a keys file that cannot be opened.",
    ),
    (
        "4",
        "No usable MFA code (none given and no terminal, not 6 digits, `mfa_process` failed), or an SSO token that has expired and needs `sso login`.",
    ),
    (
        "5",
        "Refused: STS denied the role, or the source keys are wrong or expired.",
    ),
    (
        "6",
        "STS or a credential source could not be reached, timed out, or kept failing.",
    ),
    ("126", "exec: the command could not be run."),
    ("127", "exec: the command was not found."),
    (
        "any",
        "exec: the command's own exit code, or 128+N when signal N killed it. each: the code every failed profile shares, else 1.",
    ),
];

/// Every file the tool reads or writes, per platform (Linux; macOS; Windows).
const FILES: &[(&str, &str)] = &[
    (
        "~/.aws/config, ~/.aws/credentials",
        "The profiles, as the AWS CLI reads them (or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE; %USERPROFILE%\\.aws on Windows). `profile add` keeps the previous config as config.bak.",
    ),
    (
        "~/.aws/sso/cache/",
        "The AWS CLI's SSO token cache, which `sso login` writes and SSO profiles read.",
    ),
    (
        "~/.config/assume-role/config.toml",
        "The settings file (or ASSUME_ROLE_CONFIG). macOS: ~/Library/Application Support/assume-role/config.toml; Windows: %APPDATA%\\assume-role\\config.toml.",
    ),
    (
        "~/.cache/assume-role/",
        "The cache (or ASSUME_ROLE_CACHE_DIR; $XDG_CACHE_HOME on Linux): sessions/, plans/, locks/, mfa-codes/, profiles-list.json; 0700 and 0600. macOS: ~/Library/Caches/assume-role/; Windows: %LOCALAPPDATA%\\assume-role\\.",
    ),
    (
        "~/.local/share/assume-role/",
        "The data directory ($XDG_DATA_HOME on Linux): keys/ (index.json and one .age file per key of the file backend) and browser/ (a browser profile per client for `console`). macOS: ~/Library/Application Support/assume-role/; Windows: %APPDATA%\\assume-role\\.",
    ),
    (
        "~/.local/state/assume-role/audit.jsonl",
        "The audit log, rotated to audit.jsonl.1 to .3 past 1 MiB (or under ASSUME_ROLE_STATE_DIR; $XDG_STATE_HOME on Linux). macOS: ~/Library/Application Support/assume-role/; Windows: %LOCALAPPDATA%\\assume-role\\.",
    ),
];

const EXAMPLES: &str = "\
assume-role profile add acme --role-arn arn:aws:iam::222222222222:role/contractor \\
    --source-profile contractor --external-id 9f1c2e7a-acme \\
    --mfa-serial arn:aws:iam::111111111111:mfa/alice
assume-role exec acme -- terraform plan        # one command, with the role's credentials
eval \"$(assume-role env acme)\"                 # or this shell
assume-role doctor acme                        # why it will or won't work, offline
assume-role each 'client-*' -- aws sts get-caller-identity";

const SEE_ALSO: &str = "The book: docs/src in the source (https://github.com/assume-role/assume-role), \
which has a page for every command, the settings, troubleshooting and the differences from the AWS CLI.";
