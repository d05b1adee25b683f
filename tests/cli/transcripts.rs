//! Exact transcripts (exit code, stdout, stderr) of the main mistakes a user makes. Each one is
//! the whole answer the user sees, so a change to any word shows up here and gets a review.
//!
//! Paths inside the test's temporary directory read `$ROOT`, the endpoint under test reads
//! `$ENDPOINT`, and an OS error number reads `(os error N)`: what is left is the same on every
//! machine.

use super::*;
use std::fmt::Write as _;
use support::Run;

/// Profiles the transcripts refer to, on top of the standard ones.
fn mistakes_config() -> String {
    let fx = moto();
    format!(
        "
[profile loop-a]
role_arn = {role}
source_profile = loop-b

[profile loop-b]
role_arn = {role}
source_profile = loop-a

[profile orphan]
role_arn = {role}
source_profile = nosuch

[profile mfa-no-source]
role_arn = {role}
source_profile = contractor
mfa_serial = {serial}
duration_seconds = 7200
",
        role = fx.client_role_arn,
        serial = fx.mfa_serial,
    )
}

fn env_with_mistakes() -> TestEnv {
    let env = TestEnv::with_moto();
    env.append_config(&mistakes_config());
    env
}

/// What a run printed, with what differs from machine to machine replaced by a name.
fn normalise(env: &TestEnv, text: &str) -> String {
    let mut text = text.to_owned();
    let root = env.dir.path();
    // Longest first: on macOS the temporary directory is also known by its real path
    // (`/private/var/…`), which contains the other.
    let mut roots = vec![root.to_string_lossy().into_owned()];
    if let Ok(real) = root.canonicalize() {
        roots.insert(0, real.to_string_lossy().into_owned());
    }
    for root in roots {
        text = text.replace(&root, "$ROOT");
    }
    if let Some(endpoint) = env.vars.get("AWS_ENDPOINT_URL") {
        text = text.replace(endpoint.as_str(), "$ENDPOINT");
    }
    // `Connection refused (os error 111)` on Linux is `(os error 61)` on macOS.
    let os_error = "(os error ";
    let mut from = 0;
    while let Some(found) = text[from..].find(os_error) {
        let digits_at = from + found + os_error.len();
        let len = text[digits_at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if len > 0 && text[digits_at + len..].starts_with(')') {
            text.replace_range(digits_at..digits_at + len, "N");
        }
        from = digits_at;
    }
    text
}

/// A line diff of `expected` and `actual`: common lines indented, `-` expected only, `+` actual
/// only (longest common subsequence; transcripts are a few lines).
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the two differ in the final newline)\n");
    }
    out
}

/// Asserts the whole transcript of `run`, normalised (see the module doc). On a mismatch it
/// shows every part that differs as a diff, expected (`-`) against actual (`+`).
#[track_caller]
pub(super) fn assert_transcript(env: &TestEnv, run: &Run, code: i32, stdout: &str, stderr: &str) {
    let actual_stdout = normalise(env, &run.stdout());
    let actual_stderr = normalise(env, &run.stderr());
    let mut report = String::new();
    if run.code() != Some(code) {
        let got = run
            .code()
            .map_or_else(|| format!("{}", run.output.status), |c| c.to_string());
        let _ = writeln!(report, "exit code: expected {code}, got {got}");
    }
    for (name, expected, actual) in [
        ("stdout", stdout, &actual_stdout),
        ("stderr", stderr, &actual_stderr),
    ] {
        if expected != actual {
            let _ = write!(
                report,
                "{name} (- expected, + actual):\n{}",
                diff(expected, actual)
            );
        }
    }
    assert!(
        report.is_empty(),
        "transcript of {} differs:\n{report}",
        run.what
    );
}

#[test]
fn an_unknown_profile_suggests_the_closest_name() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "clinet"]),
        3,
        "",
        "assume-role: profile `clinet` is not in `$ROOT/home/.aws/config` and `$ROOT/home/.aws/credentials`
  hint: did you mean `client`?
  hint: `assume-role list` shows the profiles there are
",
    );
}

#[test]
fn a_mistyped_command_gets_the_nearest_one_as_a_tip() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["evn", "client"]),
        2,
        "",
        "error: unrecognized subcommand 'evn'

  tip: a similar subcommand exists: 'env'

Usage: assume-role [OPTIONS] <COMMAND>

For more information, try '--help'.
",
    );
}

#[test]
fn a_profile_loop_names_every_profile_in_it() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "loop-a"]),
        3,
        "",
        "assume-role: profiles form a loop: loop-a → loop-b → loop-a
  hint: change `source_profile` in one of `loop-a`, `loop-b` so that the chain ends in a profile with credentials
",
    );
}

#[test]
fn a_missing_source_profile_names_the_profile_that_points_at_it() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "orphan"]),
        3,
        "",
        "assume-role: source profile `nosuch` is not in `$ROOT/home/.aws/config` and `$ROOT/home/.aws/credentials`
  hint: fix `source_profile` in profile `orphan`, or add the missing profile
",
    );
}

#[test]
fn a_malformed_config_line_names_the_file_and_the_line() {
    let env = TestEnv::new();
    env.write_config("[profile a]\nregion = eu-west-1\nthis line is broken\n");
    assert_transcript(
        &env,
        &env.run(&["env", "a"]),
        3,
        "",
        " WARN line 3 of `$ROOT/home/.aws/config` is not a `[section]` header, a `key = value` setting or a comment: section `[profile a]` is skipped until it is fixed; the others are read
assume-role: line 3 of `$ROOT/home/.aws/config` is not a `[section]` header, a `key = value` setting or a comment
  hint: fix or remove line 3; the file uses the AWS CLI's INI format
",
    );
}

#[test]
fn a_credentials_file_that_is_not_utf8_is_named_and_its_secret_never_shown() {
    let env = TestEnv::with_moto();
    env.append_config(&mistakes_config());
    std::fs::write(
        &env.vars["AWS_SHARED_CREDENTIALS_FILE"],
        b"[contractor]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfi\xffCYEXAMPLEKEY\n",
    )
    .unwrap();
    assert_transcript(
        &env,
        &env.run(&["env", "client-nomfa"]),
        3,
        "",
        "assume-role: `$ROOT/home/.aws/credentials` is not UTF-8 text: byte 106 (line 3, column 53) is not valid UTF-8
  hint: the AWS CLI and SDKs read these files as UTF-8 only: retype the character on line 3, or convert the file (`iconv -f latin1 -t utf-8 $ROOT/home/.aws/credentials > $ROOT/home/.aws/credentials.utf8`, check it, then move it into place)
",
    );
}

#[test]
fn an_mfa_token_that_is_not_six_digits_is_refused_without_echoing_it() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "client", "--mfa-token", "abc"]),
        4,
        "",
        "assume-role: the MFA code from `--mfa-token` is not 6 digits
  hint: an MFA code is the 6 digits your authenticator shows now
",
    );
}

#[test]
fn an_mfa_profile_without_a_terminal_or_a_code_source_lists_the_ways_to_give_one() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "mfa-no-source"]),
        4,
        "",
        "assume-role: profile `mfa-no-source` needs an MFA code for `arn:aws:iam::111111111111:mfa/contractor`, and there is no terminal to ask on
  hint: pass the code with `--mfa-token 123456`
  hint: or set `mfa_process` in the profile to a command that prints the code
  hint: or run it from a terminal, where it asks for the code
",
    );
}

/// An SDK runs `credential-process` and can neither pass `--mfa-token` nor answer a prompt:
/// the hints say what works from there.
#[test]
fn credential_process_without_a_code_source_says_what_works_from_an_sdk() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["credential-process", "mfa-no-source"]),
        4,
        "",
        "assume-role: profile `mfa-no-source` needs an MFA code for `arn:aws:iam::111111111111:mfa/contractor`, and the AWS SDK running `credential-process` has no terminal to ask on
  hint: start the MFA session from a terminal: `assume-role exec mfa-no-source -- true` asks for the code once, and the SDK then uses the cached session until it expires
  hint: or set `mfa_process` in profile `mfa-no-source` to a command that prints the code
",
    );
}

#[test]
fn a_wrong_external_id_is_access_denied_with_the_external_id_first() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "same-wrong-ext"]),
        5,
        "",
        "assume-role: STS refused the request to assume `arn:aws:iam::111111111111:role/same-account-ext` for profile `same-wrong-ext`: AccessDenied (User: arn:aws:iam::111111111111:user/contractor is not authorized to perform: sts:AssumeRole)
  hint: the external ID is case-sensitive and must match the client's trust policy exactly; check `external_id` in profile `same-wrong-ext`
  hint: the trust policy may require MFA; add `mfa_serial = arn:aws:iam::<your account>:mfa/<device>` to profile `same-wrong-ext`
  hint: the identity of profile `contractor` needs an IAM policy allowing `sts:AssumeRole` on `arn:aws:iam::111111111111:role/same-account-ext`
  hint: the trust policy's `Principal` may not include your account, user or role
",
    );
}

#[test]
fn an_unreachable_sts_names_the_endpoint_and_where_it_came_from() {
    let mut env = env_with_mistakes();
    env.set(
        "AWS_ENDPOINT_URL",
        &format!("http://127.0.0.1:{}", fuzz::closed_port()),
    );
    assert_transcript(
        &env,
        &env.run(&["env", "client-nomfa"]),
        6,
        "",
        "assume-role: cannot reach STS at `$ENDPOINT` to assume `arn:aws:iam::222222222222:role/client-admin` for profile `client-nomfa`: the connection was refused
  hint: check the network, a proxy (`HTTPS_PROXY`), or an endpoint override (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `endpoint_url`)
",
    );
}

#[test]
fn min_valid_longer_than_the_session_names_both_and_the_flag_that_helps() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["env", "client-nomfa", "--min-valid", "2h"]),
        3,
        "",
        "assume-role: `--min-valid 2h` cannot be met: profile `client-nomfa` sets no `duration_seconds`, so STS gives its default 1h session
  hint: ask for a longer session, e.g. `--duration 2h30m` (up to the role's MaxSessionDuration, at most 12h), or for less with `--min-valid`
",
    );
}

/// An unknown profile is the same mistake here as anywhere else.
#[test]
fn cache_clear_of_an_unknown_profile_is_an_error_with_a_suggestion() {
    let env = env_with_mistakes();
    assert_transcript(
        &env,
        &env.run(&["cache", "clear", "nosuch"]),
        3,
        "",
        "assume-role: profile `nosuch` is not in `$ROOT/home/.aws/config` and `$ROOT/home/.aws/credentials`
  hint: `assume-role list` shows the profiles there are
",
    );
    assert_transcript(
        &env,
        &env.run(&["cache", "clear", "clinet"]),
        3,
        "",
        "assume-role: profile `clinet` is not in `$ROOT/home/.aws/config` and `$ROOT/home/.aws/credentials`
  hint: did you mean `client`?
  hint: `assume-role list` shows the profiles there are
",
    );
}

#[test]
fn exec_without_a_command_or_a_shell_says_both_ways_out() {
    let mut env = env_with_mistakes();
    env.remove("SHELL");
    assert_transcript(
        &env,
        &env.run(&["exec", "client-nomfa"]),
        127,
        "",
        "assume-role: no command was given, and `$SHELL` is not set, so there is no shell to start
  hint: name the command to run: `assume-role exec client-nomfa -- bash`
  hint: or set `SHELL` to your shell's full path, e.g. `export SHELL=/bin/bash`
",
    );
}

/// The helper itself: a mismatch shows as a diff, not as two walls of text.
#[test]
fn a_transcript_mismatch_is_shown_as_a_diff() {
    assert_eq!(
        diff("a\nb\nc\n", "a\nB\nc\nd\n"),
        "  a\n- b\n+ B\n  c\n+ d\n"
    );
    assert_eq!(
        diff("x\n", "x"),
        "  x\n(the two differ in the final newline)\n"
    );
}

/// The AWS CLI reads `key: value` and an indented first key; so does this tool, with the
/// meaning botocore gives them and a warning naming the line and the fix. (They used to fail
/// every profile of the file.)
#[test]
fn a_colon_or_an_indented_first_key_is_read_as_the_aws_cli_reads_it() {
    let env = TestEnv::new();
    let no_credentials = "assume-role: profile `a` has no credentials and no source of credentials
  hint: add `role_arn` with `source_profile` (or `credential_source`) to [profile a], or give it keys: `aws_access_key_id` and `aws_secret_access_key`, `credential_process`, or `sso_session`
";
    env.write_config("[profile a]\nregion: eu-west-1\n");
    assert_transcript(
        &env,
        &env.run(&["env", "a"]),
        3,
        "",
        &format!(
            " WARN `$ROOT/home/.aws/config` line 2: `key: value` is read as `key = value`, as the AWS CLI reads it; write `=` so that every AWS SDK reads it too\n{no_credentials}"
        ),
    );
    env.write_config("[profile a]\n  region = eu-west-1\n");
    assert_transcript(
        &env,
        &env.run(&["env", "a"]),
        3,
        "",
        &format!(
            " WARN `$ROOT/home/.aws/config` line 2: the first key of a section is indented; it is read as that key, as the AWS CLI reads it, but other tools take an indented line for part of the value above: remove the indent\n{no_credentials}"
        ),
    );
}
