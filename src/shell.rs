//! Shell integration: the functions `assume-role init` prints (`assume`, `unassume`), and the
//! prompt text of `assume-role prompt`. Both are plain functions of their inputs; the
//! commands that print them live in `commands/`.
//!
//! `assume` runs `assume-role env` and evaluates what it printed only when it succeeded, so the
//! quoting that makes `env`'s output safe (`output`) is the only quoting of config values there
//! is. The one value spliced into the functions here is the binary's own path, quoted for each
//! shell with the same helpers.

use crate::credentials::rfc3339;
use crate::env_vars;
use crate::output::{fish_quote, powershell_quote, sh_quote};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// The shells `init` writes functions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// The shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
    Nushell,
}

/// Arguments after which `env` prints text for people rather than exports: `assume` passes
/// them through without capturing, so that help is never evaluated.
const FOR_PEOPLE: [&str; 4] = ["-h", "--help", "-V", "--version"];

/// The `assume` and `unassume` functions for `shell`, calling the binary at `bin` (an absolute
/// path, or `assume-role` to find it on `PATH`). A binary that has since moved (an upgrade
/// that replaced a versioned directory) is looked up on `PATH` instead.
pub fn init_script(shell: InitShell, bin: &str) -> String {
    match shell {
        InitShell::Bash => posix_script("bash", bin),
        InitShell::Zsh => posix_script("zsh", bin),
        InitShell::Fish => fish_script(bin),
        InitShell::Powershell => powershell_script(bin),
    }
}

/// bash and zsh share one script; `function NAME {` keeps an alias of the same name out.
fn posix_script(name: &str, bin: &str) -> String {
    format!(
        r#"# assume-role shell integration for {name}: eval "$(assume-role init {name})"

# assume PROFILE [OPTIONS]: export a session of PROFILE into this shell (the options of
# `assume-role env`). With no profile: show this shell's session and its time left.
function assume {{
    local __assume_role_bin={bin}
    [ -x "$__assume_role_bin" ] || __assume_role_bin=assume-role
    if [ "$#" -eq 0 ]; then
        command "$__assume_role_bin" prompt --status
        return
    fi
    local __assume_role_arg
    for __assume_role_arg in "$@"; do
        case "$__assume_role_arg" in
            {for_people}) command "$__assume_role_bin" env "$@"; return ;;
        esac
    done
    local __assume_role_exports
    # Evaluated only on success: a failed run has printed nothing for us, and says why on stderr.
    __assume_role_exports="$(command "$__assume_role_bin" env --format sh "$@")" || return
    eval "$__assume_role_exports"
}}

# unassume: remove every variable `assume` set, and nothing else.
function unassume {{
    if [ -z "${{{profile}-}}" ]; then
        echo 'unassume: this shell has no assume-role session' >&2
        return 1
    fi
    unset {names}
}}
{completion}"#,
        completion = if name == "zsh" {
            zsh_completion(bin)
        } else {
            bash_completion(bin)
        },
        bin = sh_quote(bin),
        for_people = FOR_PEOPLE.join("|"),
        profile = env_vars::ASSUME_ROLE_PROFILE,
        names = env_vars::SESSION_VARIABLES.join(" "),
    )
}

/// Completing `assume`'s profile (its first argument) asks the binary as `assume-role env
/// <word><Tab>` would, in the line format of clap's fish adapter (`name\tdescription`): the
/// same profile names `assume-role completions` offers, from `list`'s cached index.
fn ask_for_profiles(bin: &str, word: &str) -> String {
    format!(
        "{var}=fish command {bin} -- assume-role env {word} 2>/dev/null",
        var = env_vars::ASSUME_ROLE_COMPLETE,
    )
}

fn bash_completion(bin: &str) -> String {
    format!(
        r#"
# Tab after `assume` completes profile names.
_assume_role_complete_assume() {{
    COMPREPLY=()
    [ "$COMP_CWORD" -eq 1 ] || return 0
    local __assume_role_line
    while IFS= read -r __assume_role_line; do
        COMPREPLY+=("${{__assume_role_line%%$'\t'*}}")
    done < <({ask})
}}
complete -F _assume_role_complete_assume assume
"#,
        ask = ask_for_profiles(&sh_quote(bin), r#""${COMP_WORDS[COMP_CWORD]}""#),
    )
}

fn zsh_completion(bin: &str) -> String {
    format!(
        r#"
# Tab after `assume` completes profile names (with compinit loaded first).
_assume_role_complete_assume() {{
    (( CURRENT == 2 )) || return 1
    local -a __assume_role_names
    __assume_role_names=("${{(@f)$({ask})}}")
    __assume_role_names=("${{(@)__assume_role_names%%$'\t'*}}")
    __assume_role_names=("${{(@)__assume_role_names:#}}")
    compadd -a __assume_role_names
}}
(( $+functions[compdef] )) && compdef _assume_role_complete_assume assume
"#,
        ask = ask_for_profiles(&sh_quote(bin), r#""${words[CURRENT]}""#),
    )
}

fn fish_script(bin: &str) -> String {
    format!(
        r"# assume-role shell integration for fish: assume-role init fish | source

function assume --description 'Export a session of assume-role into this shell'
    set -l bin {bin}
    test -x $bin; or set bin assume-role
    if test (count $argv) -eq 0
        command $bin prompt --status
        return
    end
    for arg in $argv
        switch $arg
            case {for_people}
                command $bin env $argv
                return
        end
    end
    # Evaluated only on success: a failed run has printed nothing for us, and says why on stderr.
    set -l exports (command $bin env --format fish $argv)
    or return
    string join \n -- $exports | source
end

function unassume --description 'Remove the session assume exported'
    if not set -q {profile}
        echo 'unassume: this shell has no assume-role session' >&2
        return 1
    end
    for name in {names}
        set -e -g $name
    end
    return 0
end

# Tab after `assume` completes profile names.
complete --command assume --no-files --condition __fish_is_first_arg --arguments '({ask})'
",
        ask = ask_for_profiles(&fish_quote(bin), "(commandline --current-token)")
            .replace('\\', "\\\\")
            .replace('\'', "\\'"),
        bin = fish_quote(bin),
        for_people = FOR_PEOPLE.join(" "),
        profile = env_vars::ASSUME_ROLE_PROFILE,
        names = env_vars::SESSION_VARIABLES.join(" "),
    )
}

fn powershell_script(bin: &str) -> String {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|v| powershell_quote(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"# assume-role shell integration for PowerShell:
#   assume-role init powershell | Out-String | Invoke-Expression

# assume PROFILE [OPTIONS]: export a session of PROFILE into this shell. With no profile: show
# this shell's session and its time left. The exit code is in $LASTEXITCODE.
function assume {{
    $bin = {bin}
    if (-not (Test-Path -LiteralPath $bin -PathType Leaf)) {{ $bin = 'assume-role' }}
    if ($args.Count -eq 0) {{
        & $bin prompt --status
        return
    }}
    foreach ($arg in $args) {{
        if ($arg -cin @({for_people})) {{
            & $bin env @args
            return
        }}
    }}
    # Evaluated only on success: a failed run has printed nothing for us, and says why on stderr.
    $exports = & $bin env --format powershell @args
    if ($LASTEXITCODE -ne 0) {{ return }}
    $exports | Out-String | Invoke-Expression
}}

# unassume: remove every variable `assume` set, and nothing else.
function unassume {{
    if (-not $Env:{profile}) {{
        [Console]::Error.WriteLine('unassume: this shell has no assume-role session')
        return
    }}
    foreach ($name in @({names})) {{
        Remove-Item -Path "Env:$name" -ErrorAction SilentlyContinue
    }}
}}
"#,
        bin = powershell_quote(bin),
        for_people = list(&FOR_PEOPLE),
        profile = env_vars::ASSUME_ROLE_PROFILE,
        names = list(env_vars::SESSION_VARIABLES),
    )
}

/// What `prompt` knows of this shell's session, from its environment alone.
#[derive(Debug, Clone, Default)]
pub struct PromptSession<'a> {
    pub profile: &'a str,
    /// `AWS_CREDENTIAL_EXPIRATION`, if set and readable; absent in `exec --server` sessions,
    /// whose credentials are renewed.
    pub expiration: Option<SystemTime>,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
}

/// The default prompt text: `client-prod (42m)`, or the profile alone when the session has no
/// expiry to count down to.
pub const DEFAULT_PROMPT: &str = "{profile} ({left})";

/// Reads `AWS_CREDENTIAL_EXPIRATION` (RFC 3339); anything else counts as unknown.
pub fn parse_expiration(text: &str) -> Option<SystemTime> {
    crate::time::parse(text)
}

/// Time left, as a prompt shows it: `1h5m`, `42m`, `30s`, `expired`; whole minutes once there
/// is a minute left, since a prompt is not redrawn every second.
pub fn time_left(expiration: SystemTime, now: SystemTime) -> String {
    match expiration.duration_since(now) {
        Ok(left) if left.as_secs() >= 60 => {
            crate::duration::display(Duration::from_secs(left.as_secs() / 60 * 60))
        }
        Ok(left) if left.as_secs() > 0 => crate::duration::display(left),
        _ => "expired".to_owned(),
    }
}

/// Fills `template`'s `{profile}`, `{left}`, `{expiration}`, `{region}` and `{account}`
/// (empty when unknown). Values come from the environment, which a config file wrote: control
/// characters are replaced, so that none can move the cursor or recolour the terminal.
pub fn render_prompt(template: Option<&str>, session: &PromptSession, now: SystemTime) -> String {
    let left = session.expiration.map(|at| time_left(at, now));
    let template = match (template, &left) {
        (Some(template), _) => template,
        (None, Some(_)) => DEFAULT_PROMPT,
        (None, None) => "{profile}",
    };
    let expiration = session.expiration.map(rfc3339);
    let values = [
        ("{profile}", Some(session.profile)),
        ("{left}", left.as_deref()),
        ("{expiration}", expiration.as_deref()),
        ("{region}", session.region),
        ("{account}", session.account),
    ];
    // One pass over the template, so that a value containing `{left}` stays as it is.
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    'outer: while !rest.is_empty() {
        for (key, value) in &values {
            if let Some(after) = rest.strip_prefix(key) {
                out.extend(value.unwrap_or_default().chars().map(printable));
                rest = after;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(printable(c));
        }
        rest = chars.as_str();
    }
    out
}

/// The sentence `assume` with no profile prints: profile, time left and expiry.
pub fn status_line(session: &PromptSession, now: SystemTime) -> String {
    let mut line = format!(
        "{}:",
        session.profile.chars().map(printable).collect::<String>()
    );
    match session.expiration {
        Some(at) if at > now => {
            let _ = write!(line, " {} left (until {})", time_left(at, now), rfc3339(at));
        }
        Some(at) => {
            let _ = write!(line, " expired at {}", rfc3339(at));
        }
        None => line.push_str(" renewed as needed (no fixed expiry)"),
    }
    if let Some(account) = session.account {
        let _ = write!(line, ", account {account}");
    }
    if let Some(region) = session.region {
        let _ = write!(line, ", region {region}");
    }
    line.chars().map(printable).collect()
}

fn printable(c: char) -> char {
    if c.is_control() { '?' } else { c }
}

#[cfg(test)]
mod tests;
