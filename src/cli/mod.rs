//! Command-line definitions, and nothing else: turning them into work is `commands`' job.

use crate::duration;
use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::time::Duration;

mod keys;
mod parse;
mod registry;
mod sso;
pub use keys::KeysCommand;
pub use registry::RegistryCommand;
pub use sso::SsoCommand;

/// Assume a client's AWS role (external ID, MFA) and hand the temporary credentials to a
/// command, your shell, or any AWS SDK. Profiles come from ~/.aws/config, as for the AWS CLI.
#[derive(Debug, Parser)]
#[command(
    name = "assume-role",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// More detail on stderr: -v what is done, -vv why, -vvv everything (secrets never).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

// Deferred: only the subcommand being run has its arguments built. Building all of them was
// most of a warm `env`'s instructions (clap's builders for 30 subcommands, 0.46 M of 0.76 M).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Run a command with the role's credentials in its environment.
    ///
    /// With no command, starts $SHELL. The command replaces assume-role, so its exit code and
    /// signals are its own.
    #[command(
        after_help = "Examples:\n  assume-role exec client-prod -- terraform plan\n  assume-role exec client-prod --duration 2h -- aws s3 ls\n  assume-role exec client-prod --server -- terraform apply   # longer than a session"
    )]
    Exec {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
        /// Serve the credentials from a local endpoint that renews them before they expire,
        /// instead of fixed keys: for runs longer than a session. The command gets
        /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`, and
        /// assume-role stays as its parent until it exits.
        #[arg(long)]
        server: bool,
        /// The command and its arguments (default: $SHELL).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "COMMAND"
        )]
        command: Vec<OsString>,
    },

    /// Print shell code that exports the role's credentials, for `eval`.
    #[command(
        after_help = "Examples:\n  eval \"$(assume-role env client-prod)\"                      # bash, zsh\n  assume-role env client-prod --format fish | source          # fish\n  assume-role env client-prod --format powershell | Invoke-Expression"
    )]
    Env {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
        /// The syntax to print.
        #[arg(long, short, value_enum, default_value = "sh")]
        format: Format,
    },

    /// Print the credentials as `credential_process` JSON, for ~/.aws/config.
    #[command(
        after_help = "Examples, in ~/.aws/config:\n  [profile client-prod-sdk]\n  credential_process = assume-role credential-process client-prod\n\n  [profile client-prod-2h]\n  credential_process = assume-role credential-process client-prod --min-valid 2h"
    )]
    CredentialProcess {
        /// The profile to assume, from ~/.aws/config.
        profile: String,
        #[command(flatten)]
        options: CredentialOptions,
    },

    /// List the profiles in the AWS config and credentials files.
    #[command(
        after_help = "Examples:\n  assume-role list\n  assume-role list --json | jq -r '.[] | select(.mfa) | .name'   # the profiles that need MFA"
    )]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },

    /// Show or remove cached sessions.
    #[command(subcommand)]
    Cache(CacheCommand),

    /// The client's side: trust policy, permissions, CloudFormation template and launch link.
    #[command(subcommand)]
    Onboard(OnboardCommand),

    /// Change profiles in the AWS config file.
    #[command(subcommand)]
    Profile(ProfileCommand),

    /// Open the client's AWS console as the role, in a browser identity of the profile's own.
    ///
    /// The role's credentials are exchanged for a sign-in link at the partition's federation
    /// endpoint. The link is a credential for 15 minutes: it is never logged.
    #[command(
        after_help = "Examples:\n  assume-role console client-prod\n  assume-role console client-prod --service s3 --region eu-west-1\n  assume-role console client-prod --browser firefox      # one container per profile\n  assume-role console client-prod --print                # the link, on stdout"
    )]
    Console(ConsoleArgs),

    /// Show whose credentials a profile (or this session) has: account, ARN, session name,
    /// expiry and time left.
    #[command(
        after_help = "Examples:\n  assume-role whoami client-prod\n  assume-role whoami --json client-prod\n  assume-role exec client-prod -- assume-role whoami     # inside a session"
    )]
    Whoami {
        /// The profile to ask about (default: the session this shell is in).
        profile: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The 6-digit MFA code, if the profile's credentials need a fresh one.
        #[arg(long, value_name = "CODE")]
        mfa_token: Option<crate::mfa::MfaToken>,
        /// Ask STS for a fresh session even if a cached one is still good.
        #[arg(long)]
        no_cache: bool,
    },

    /// Keep your own long-term keys out of plain text: in the OS secret store, or an encrypted file.
    #[command(subcommand)]
    Keys(KeysCommand),

    /// Your team's client profiles from a shared registry: reviewed, pinned, and written to one
    /// block of the config that nothing else touches.
    #[command(subcommand)]
    Registry(RegistryCommand),

    /// Sign in to IAM Identity Center (SSO), into the AWS CLI's own token cache; list sessions;
    /// write a profile per account and role.
    #[command(subcommand)]
    Sso(SsoCommand),

    /// Show the audit log: every credential handed over, and every refusal. Who (session name,
    /// source identity), which role and account, when, until when, from the cache or from
    /// STS, and the outcome. Never a secret.
    #[command(
        after_help = "Examples:\n  assume-role log --since 7d\n  assume-role log --profile client-prod --since 30d\n  assume-role log --json --since 12h        # the raw JSON lines"
    )]
    Log(LogArgs),

    /// Run one command once for every profile that matches, several at a time, each with its
    /// own profile's credentials.
    ///
    /// Every MFA code is asked for first (one per device and source: profiles that share an
    /// MFA session share its code; `--mfa-token` gives the first), then every profile's
    /// credentials are obtained, and only then do the commands start. Each line a command prints is prefixed with `[profile] `:
    /// stdout to stdout, stderr to stderr, whole lines only. Commands get no terminal input:
    /// their stdin is empty (`/dev/null`), so one that asks a question gets end-of-file.
    /// A summary of exit codes and times ends the run.
    ///
    /// Exit code: 0 when every command exited 0; otherwise the code every failed profile
    /// shares (a command's code, 128+N for signal N, or the error code of missing
    /// credentials), else 1; 128+N when signal N (Ctrl-C: 130) stopped the run.
    #[command(
        after_help = "Examples:\n  assume-role each 'client-*' -- aws sts get-caller-identity\n  assume-role each 'client-*-prod' 'partner-?' -j 4 -- terraform plan -no-color\n  assume-role each '{acme,globex}-*' --fail-fast -- ./deploy.sh"
    )]
    Each(EachArgs),

    /// Print shell functions for your rc file: `assume PROFILE` exports a session into the
    /// shell itself, `unassume` removes it, and `assume` alone shows it.
    ///
    /// `assume` takes the options of `env`, passes assume-role's exit code on, and changes
    /// nothing when assume-role fails. The functions call this binary by its absolute path.
    #[command(
        after_help = "Setup, one line in your rc file:\n  eval \"$(assume-role init bash)\"                              # ~/.bashrc\n  eval \"$(assume-role init zsh)\"                               # ~/.zshrc\n  assume-role init fish | source                                 # ~/.config/fish/config.fish\n  assume-role init powershell | Out-String | Invoke-Expression   # $PROFILE\n\nThen:\n  assume client-prod\n  assume client-prod --duration 2h\n  assume\n  unassume"
    )]
    Init {
        #[arg(value_enum)]
        shell: crate::shell::InitShell,
    },

    /// Print a completion script; profile names complete from your AWS config.
    #[command(
        after_help = "Setup:\n  source <(assume-role completions bash)                         # ~/.bashrc\n  source <(assume-role completions zsh)                          # ~/.zshrc, after compinit\n  assume-role completions fish | source                          # ~/.config/fish/config.fish\n  assume-role completions powershell | Out-String | Invoke-Expression\n  eval (assume-role completions elvish | slurp)                  # ~/.config/elvish/rc.elv\n  assume-role completions nushell | save -f ~/.config/nushell/assume-role.nu   # then `use` it"
    )]
    Completions {
        #[arg(value_enum)]
        shell: crate::shell::CompletionShell,
    },

    /// Print the manual page (roff): `assume-role man > assume-role.1`.
    #[command(
        after_help = "Examples:\n  man -l <(assume-role man)\n  assume-role man > assume-role.1 && sudo install -m 644 assume-role.1 /usr/local/share/man/man1/"
    )]
    Man,

    /// Print this shell's session for a prompt, `client-prod (42m)`, or nothing outside one.
    ///
    /// Reads the environment only (no config, no cache, no network), so a prompt can run it
    /// before every command line.
    #[command(
        after_help = "Examples:\n  PS1='$(assume-role prompt --format \"[{profile} {left}] \")'$PS1   # bash\n  assume-role prompt --format '{profile}@{account} {left}'\n  assume-role prompt --status"
    )]
    Prompt {
        /// What to print: `{profile}`, `{left}` (`1h5m`, `42m`, `expired`), `{expiration}`,
        /// `{region}` and `{account}`; empty when unknown (default: `{profile} ({left})`, or
        /// `{profile}` when the session has no fixed expiry).
        #[arg(long, value_name = "TEMPLATE")]
        format: Option<String>,
        /// Print a sentence for people instead (profile, time left, expiry, account, region),
        /// and fail with exit code 1 outside a session: what `assume` alone shows.
        #[arg(long, conflicts_with = "format")]
        status: bool,
    },

    /// Explain how a profile's credentials will be obtained, hop by hop, and name every problem
    /// that would stop them, with its fix. Offline: nothing is sent, no MFA code is asked.
    ///
    /// The exit code is that of the first problem a real run would fail with, 1 for a problem
    /// it would not fail on (loose file permissions, an old key), 0 when there is none. Without
    /// a profile, it checks every profile, prints one line each, and exits 1 if any has a
    /// problem.
    #[command(
        after_help = "Examples:\n  assume-role doctor client-prod\n  assume-role doctor                        # every profile, one line each\n  assume-role doctor client-prod --live     # and try it: GetCallerIdentity, then each AssumeRole"
    )]
    Doctor(DoctorArgs),
}

#[derive(Debug, Args, Clone)]
pub struct LogArgs {
    /// Only the records of this profile.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Only the records this recent: `30m`, `12h`, `7d`.
    #[arg(long, value_name = "AGE", value_parser = duration::parse_age)]
    pub since: Option<Duration>,
    /// Print the log's JSON lines as they are, instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct EachArgs {
    /// Glob patterns over profile names: `*` any text, `?` one character, `[a-c]` one of,
    /// `{a,b}` either. Quote them, or the shell expands them against file names.
    #[arg(required = true, value_name = "PATTERN")]
    pub patterns: Vec<String>,
    /// How many at once, for credentials and for commands, from 1 to 65535 as the settings
    /// file's `jobs` (default: `jobs`, else the number of CPUs).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Stop at the first failure: a profile without credentials stops the run before any
    /// command starts; a command that fails stops new ones from starting (those running finish).
    #[arg(long)]
    pub fail_fast: bool,
    #[command(flatten)]
    pub options: CredentialOptions,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DoctorArgs {
    /// The profile to explain (default: every profile, one line each).
    pub profile: Option<String>,
    /// Also try it: GetCallerIdentity with the source credentials, then a real AssumeRole per
    /// hop (asking for MFA codes as a run does), explaining each failure.
    #[arg(long, requires = "profile")]
    pub live: bool,
    /// The 6-digit MFA code `--live` sends (otherwise `mfa_process`, otherwise a prompt).
    #[arg(long, value_name = "CODE", requires = "profile")]
    pub mfa_token: Option<crate::mfa::MfaToken>,
    /// Explain the run with this session length (as `exec --duration` would ask).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse, requires = "profile")]
    pub duration: Option<Duration>,
    /// Explain the run with this session name.
    #[arg(long, value_name = "NAME", requires = "profile")]
    pub session_name: Option<String>,
    /// Explain the run with this external ID.
    #[arg(
        long,
        value_name = "ID",
        allow_hyphen_values = true,
        requires = "profile"
    )]
    pub external_id: Option<String>,
    /// Explain the run in this region.
    #[arg(long, value_name = "REGION", requires = "profile")]
    pub region: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ConsoleArgs {
    /// The profile to assume, from ~/.aws/config.
    pub profile: String,
    /// The console page to open: a service such as `s3`, `ec2`, `iam` (default: the home page).
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// The console's region (default: the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Print the sign-in link to stdout instead of opening a browser.
    #[arg(long)]
    pub print: bool,
    /// How long the console session lasts, 15m to 12h. AWS allows it only for a role assumed
    /// from long-term keys; otherwise the console lasts 1h.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub duration: Option<Duration>,
    /// The browser: `chrome`, `chromium`, `brave`, `edge` (a user-data directory per profile),
    /// `firefox` (a container per profile) or `default` (default: `ASSUME_ROLE_BROWSER`, else
    /// `browser` in the settings file, else `default`).
    #[arg(long, value_enum, value_name = "BROWSER")]
    pub browser: Option<crate::console::BrowserKind>,
    /// The 6-digit MFA code (otherwise `mfa_process`, otherwise a prompt on the terminal).
    #[arg(long, value_name = "CODE")]
    pub mfa_token: Option<crate::mfa::MfaToken>,
    /// Ask STS for a fresh session even if a cached one is still good.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum OnboardCommand {
    /// Print the trust policy for the client's role (JSON).
    #[command(
        after_help = "Examples:\n  assume-role onboard trust-policy --contractor-account 111111111111 --require-mfa\n  assume-role onboard trust-policy --contractor-principal arn:aws:iam::111111111111:user/alice \\\n      --external-id 9f1c2e7a-acme --source-ip 203.0.113.0/24"
    )]
    TrustPolicy(TrustArgs),

    /// Print the permissions for the client's role: a policy document (JSON) for `s3-put`; for
    /// `read-only`, the ARN of the AWS managed policy to attach.
    #[command(
        after_help = "Examples:\n  assume-role onboard permissions --preset read-only\n  assume-role onboard permissions --preset s3-put --bucket client-uploads"
    )]
    Permissions {
        #[arg(long, value_enum)]
        preset: Preset,
        /// The bucket for `s3-put`.
        #[arg(long, required_if_eq("preset", "s3-put"))]
        bucket: Option<String>,
        /// The client's partition: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`,
        /// `aws-iso-e`, `aws-iso-f` or `aws-eusc`.
        #[arg(long, default_value = "aws")]
        partition: String,
    },

    /// Print the policy you attach to your own user: `sts:AssumeRole` on exactly these roles.
    #[command(
        after_help = "Examples:\n  assume-role onboard contractor-policy --role-arn arn:aws:iam::222222222222:role/contractor-access\n  assume-role onboard contractor-policy --role-arn arn:aws:iam::222222222222:role/a --role-arn arn:aws:iam::333333333333:role/b"
    )]
    ContractorPolicy {
        #[arg(long = "role-arn", value_name = "ARN", required = true)]
        role_arns: Vec<String>,
        /// The partition of the roles (and of your user).
        #[arg(long, default_value = "aws")]
        partition: String,
    },

    /// Print a CloudFormation template (YAML) that creates the client's role.
    #[command(
        after_help = "Examples:\n  assume-role onboard cloudformation --contractor-account 111111111111 --require-mfa \\\n      --managed-policy ReadOnlyAccess --role-name contractor-access > role.yaml\n  assume-role onboard cloudformation --contractor-account 111111111111 --no-permissions"
    )]
    Cloudformation(TemplateArgs),

    /// Upload the template to your bucket and print the client's launch link.
    #[command(
        after_help = "Examples:\n  assume-role onboard publish --bucket my-templates --stack-name acme-access --profile contractor \\\n      --contractor-account 111111111111 --require-mfa --managed-policy ReadOnlyAccess\n  assume-role onboard publish --bucket my-templates --contractor-account 111111111111 \\\n      --require-mfa --not-after 2027-06-30T00:00:00Z --managed-policy ReadOnlyAccess"
    )]
    Publish {
        /// A bucket in your own account.
        #[arg(long)]
        bucket: String,
        /// The object key (default: `assume-role/<stack name>.yaml`).
        #[arg(long)]
        key: Option<String>,
        /// The stack name the client sees, and the profile name suggested to you.
        #[arg(long, default_value = "contractor-access")]
        stack_name: String,
        /// The client's region for the console link, in `--partition` (default: your
        /// profile's region).
        #[arg(long)]
        region: Option<String>,
        /// Your own profile, which uploads the template (default: `AWS_PROFILE`, else `default`).
        #[arg(long)]
        profile: Option<String>,
        #[command(flatten)]
        template: TemplateArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// The AWS managed `ReadOnlyAccess` policy: its ARN, to attach.
    ReadOnly,
    /// Only `s3:PutObject` into one bucket.
    S3Put,
}

// Who may assume the client's role, and under which conditions. A plain comment: a doc comment
// on a flattened struct becomes the `about` of every deferred subcommand that flattens it.
#[derive(Debug, Args, Clone, Default)]
pub struct TrustArgs {
    /// Your AWS account ID (trusts the whole account; repeatable).
    #[arg(long = "contractor-account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// A specific user or role ARN of yours (least privilege; repeatable).
    #[arg(long = "contractor-principal", value_name = "ARN")]
    pub principals: Vec<String>,
    /// The external ID to require (default: a new random one, shown on stderr).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub external_id: Option<String>,
    /// Require MFA (`aws:MultiFactorAuthPresent`).
    #[arg(long)]
    pub require_mfa: bool,
    /// Only from these networks (`aws:SourceIp`; repeatable).
    #[arg(long = "source-ip", value_name = "CIDR")]
    pub source_ips: Vec<String>,
    /// Only until this time (`aws:CurrentTime`, RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub not_after: Option<String>,
    /// The client's partition, and so of every ARN given: `aws`, `aws-cn`, `aws-us-gov`,
    /// `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f` or `aws-eusc`.
    #[arg(long, default_value = "aws")]
    pub partition: String,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// A policy to attach: an AWS managed policy name (e.g. `ReadOnlyAccess`) or an ARN
    /// (repeatable). One at least, unless `--no-permissions`.
    #[arg(long = "managed-policy", value_name = "NAME|ARN")]
    pub managed_policies: Vec<String>,
    /// Make the role without any policy: it can be assumed but allows nothing until the client
    /// attaches one.
    #[arg(long, conflicts_with = "managed_policies")]
    pub no_permissions: bool,
    /// The role's name (default: one CloudFormation makes up).
    #[arg(long)]
    pub role_name: Option<String>,
    /// The role's MaxSessionDuration: 1h to 12h.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub max_session_duration: Option<Duration>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ProfileCommand {
    /// Append a role profile to the AWS config file, keeping every existing byte.
    #[command(
        after_help = "Examples:\n  assume-role profile add acme --role-arn arn:aws:iam::222222222222:role/contractor \\\n      --source-profile default --external-id 9f1c... --mfa-serial arn:aws:iam::111111111111:mfa/me\n  assume-role profile add acme-ro --role-arn arn:aws:iam::222222222222:role/read-only \\\n      --source-profile acme                  # a second hop, from acme's session\n  assume-role profile add acme ... --force   # replace it (the old file is kept as config.bak)"
    )]
    Add {
        /// The new profile's name.
        #[arg(value_name = "NAME")]
        name: String,
        /// The client's role (`RoleArn` of the stack).
        #[arg(long, value_name = "ARN")]
        role_arn: String,
        /// The profile with your own credentials (e.g. `default`).
        #[arg(long, value_name = "PROFILE", required = true)]
        source_profile: String,
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        external_id: Option<String>,
        /// Your MFA device, if the client's trust policy requires MFA.
        #[arg(long, value_name = "ARN")]
        mfa_serial: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// Session length (written as `duration_seconds`).
        #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
        duration: Option<Duration>,
        /// What the client sees in CloudTrail (written as `role_session_name`).
        #[arg(long, value_name = "NAME")]
        session_name: Option<String>,
        /// Replace the profile if it exists (the old file is kept as `.bak`).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CacheCommand {
    /// Show cached sessions: the profiles each serves, role, kind, expiry and time left (never
    /// a secret).
    #[command(
        after_help = "Examples:\n  assume-role cache list\n  assume-role cache list client-prod --json"
    )]
    List {
        /// Only the sessions this profile uses: one per hop of its chain, and its MFA session,
        /// whichever profile's run created them.
        profile: Option<String>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove every cached session, or those that serve one profile.
    #[command(
        after_help = "Examples:\n  assume-role cache clear client-prod\n  assume-role cache clear client-prod --mfa-session   # and the MFA session it shares\n  assume-role cache clear                             # everything"
    )]
    Clear {
        /// Only the sessions this profile uses (one per hop of its chain, and its MFA session,
        /// even when another profile with the same chain created them) and those it created.
        /// A profile no longer in the config: the sessions its runs created.
        profile: Option<String>,
        /// Also clear an MFA session that other profiles share (kept otherwise: clearing it
        /// costs each of them a new MFA code).
        #[arg(long, requires = "profile")]
        mfa_session: bool,
    },
}

// Options that change how the role is assumed; each wins over the profile's own setting. A plain
// comment, as on `TrustArgs`.
#[derive(Debug, Args, Default, Clone)]
pub struct CredentialOptions {
    /// The 6-digit MFA code (otherwise `mfa_process`, otherwise a prompt on the terminal).
    #[arg(long, value_name = "CODE")]
    pub mfa_token: Option<crate::mfa::MfaToken>,

    /// Session length: 3600, 90m, 2h, 1h30m (overrides `duration_seconds`).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub duration: Option<Duration>,

    /// The name the client sees in `CloudTrail` (overrides `role_session_name`; default: your
    /// user name).
    #[arg(long, value_name = "NAME")]
    pub session_name: Option<String>,

    /// The external ID the client's trust policy requires (overrides `external_id`).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub external_id: Option<String>,

    /// The region for STS and for the credentials handed over (overrides the profile's
    /// `region`, `AWS_REGION` and `AWS_DEFAULT_REGION`).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Ask STS for a fresh session even if a cached one is still good (the new one is cached).
    #[arg(long)]
    pub no_cache: bool,

    /// Hand over credentials with at least this much time left, refreshing if needed
    /// (e.g. `--min-valid 2h` before a long terraform apply).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub min_valid: Option<Duration>,

    /// For a profile with a stored key and no role: hand over the long-term key itself
    /// instead of a GetSessionToken session (with a warning). Rarely what you want.
    #[arg(long)]
    pub no_session: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Deferred subcommands get their arguments after their own `about`, so a doc comment on a
    /// flattened `Args` struct would replace the `about` of every command that flattens it: no
    /// two commands may then share one.
    #[test]
    fn every_command_keeps_its_own_about() {
        fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, String)>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("{prefix}{}", sub.get_name());
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                out.push((name.clone(), about));
                walk(&format!("{name} "), sub, out);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut abouts = Vec::new();
        walk("", &cmd, &mut abouts);
        assert!(abouts.len() >= 40, "{abouts:?}");
        let mut seen = std::collections::BTreeMap::new();
        for (name, about) in &abouts {
            assert!(!about.is_empty(), "`{name}` has no about");
            if let Some(other) = seen.insert(about, name) {
                panic!("`{name}` and `{other}` share the about {about:?}");
            }
        }
    }
}
