//! Shell integration: `init`'s `assume` and `unassume` run by real shells against moto,
//! `completions` loaded and asked for profiles the way each shell asks, `man`, and `prompt`.

use super::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A shell that runs a script: its program and the arguments that keep the user's rc files out.
struct Shell {
    name: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
}

/// bash always; zsh and fish where installed (under CI=true, a missing one fails).
fn shells() -> Vec<Shell> {
    let mut shells = vec![Shell {
        name: "bash",
        program: "bash".into(),
        args: &["--norc", "--noprofile", "-c"],
    }];
    if let Some(program) = support::require_tool("zsh") {
        shells.push(Shell {
            name: "zsh",
            program,
            args: &["-f", "-c"],
        });
    }
    if let Some(program) = support::require_tool("fish") {
        shells.push(Shell {
            name: "fish",
            program,
            args: &["--no-config", "-c"],
        });
    }
    shells
}

/// What loads the functions, as the README tells each shell's users to write it.
fn load_init(shell: &Shell) -> String {
    let bin = support::BIN;
    match shell.name {
        // fish resets `USER` from the password database; the test's user names the sessions.
        "fish" => format!("set -gx USER tester; {bin} init fish | source"),
        name => format!("eval \"$({bin} init {name})\""),
    }
}

/// `env -0` into `file`, in any of the shells.
fn dump(file: &Path) -> String {
    format!("env -0 > '{}'", file.display())
}

fn read_env(file: &Path) -> BTreeMap<String, String> {
    parse_env0(&std::fs::read(file).unwrap_or_default())
}

/// The variables a shell keeps for itself and changes as it likes.
fn without_shell_noise(mut vars: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for name in ["_", "PWD", "OLDPWD", "SHLVL"] {
        vars.remove(name);
    }
    vars
}

fn run_script(env: &TestEnv, shell: &Shell, script: &str) -> support::Run {
    let mut cmd = env.command(&shell.program);
    cmd.args(shell.args).arg(script);
    env.run_command(cmd)
}

#[test]
fn assume_exports_what_env_prints_and_unassume_removes_it() {
    for shell in shells() {
        let mut env = TestEnv::with_moto();
        // Another wrapper's leftover, which `assume` removes as `env` does, and one of ours
        // that nothing may touch.
        env.set("AWS_PROFILE", "stale").set("KEEP_ME", "kept");
        let dir = env.dir.path().to_owned();
        let (before, assumed, after) = (dir.join("before"), dir.join("assumed"), dir.join("after"));
        let (or_exit, status) = if shell.name == "fish" {
            ("; or exit", "$status")
        } else {
            (" || exit", "$?")
        };
        let script = format!(
            "{load}\n{before}\nassume client-nomfa{or_exit} 90\n{assumed}\nassume{or_exit} 91\nunassume{or_exit} 92\n{after}\nunassume; echo \"again={status}\"",
            load = load_init(&shell),
            before = dump(&before),
            assumed = dump(&assumed),
            after = dump(&after),
        );
        let run = run_script(&env, &shell, &script);
        let stdout = run.ok();
        let (before, assumed, after) = (read_env(&before), read_env(&assumed), read_env(&after));

        // Exactly what `env` prints: the same session, served from the cache it just filled.
        let printed = env_json(&env, "client-nomfa", &[]);
        for name in SESSION_VARS {
            assert_eq!(
                assumed.get(name),
                printed.get(name),
                "{}: {name}",
                shell.name
            );
        }
        assert_eq!(assumed["ASSUME_ROLE_PROFILE"], "client-nomfa");
        assert!(assumed["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
        assert!(!assumed.contains_key("AWS_PROFILE"), "{}", shell.name);
        assert_eq!(assumed["KEEP_ME"], "kept");

        // `assume` alone: the profile and its time left.
        assert!(
            stdout.starts_with("client-nomfa: ") && stdout.contains(" left (until "),
            "{}: {stdout}",
            shell.name
        );

        // Gone again, and nothing else touched (AWS_PROFILE was `env`'s to remove).
        for name in SESSION_VARS {
            assert!(!after.contains_key(name), "{}: {name} left", shell.name);
        }
        let mut expected = without_shell_noise(before);
        expected.remove("AWS_PROFILE");
        assert_eq!(without_shell_noise(after), expected, "{}", shell.name);

        // A second `unassume` has nothing to remove, and says so.
        assert!(stdout.ends_with("again=1\n"), "{}: {stdout}", shell.name);
        assert!(
            run.stderr()
                .contains("unassume: this shell has no assume-role session"),
            "{}: {}",
            shell.name,
            run.stderr()
        );
    }
}

#[test]
fn a_failed_assume_passes_the_exit_code_on_and_changes_nothing() {
    for shell in shells() {
        let mut env = TestEnv::with_moto();
        env.set("AWS_REGION", "ap-south-1");
        let dir = env.dir.path().to_owned();
        let (before, after) = (dir.join("before"), dir.join("after"));
        let status = if shell.name == "fish" {
            "$status"
        } else {
            "$?"
        };
        let script = format!(
            "{load}\n{before}\nassume no-such-profile\necho \"status={status}\"\nassume client-nomfa --help > /dev/null\necho \"help={status}\"\n{after}",
            load = load_init(&shell),
            before = dump(&before),
            after = dump(&after),
        );
        let run = run_script(&env, &shell, &script);
        let stdout = run.ok();
        // 3: the config (here, the profile name) is wrong, as `env` itself exits.
        assert!(
            stdout.contains("status=3\n") && stdout.contains("help=0\n"),
            "{}: {stdout}",
            shell.name
        );
        assert!(
            run.stderr().contains("`no-such-profile`"),
            "{}: {}",
            shell.name,
            run.stderr()
        );
        assert_eq!(
            without_shell_noise(read_env(&after)),
            without_shell_noise(read_env(&before)),
            "{}",
            shell.name
        );
    }
}

#[test]
fn hostile_config_values_cannot_run_code_through_assume() {
    let key = "AKIA'$(touch pwned-key)'\"`touch pwned-tick`\"";
    let secret = "s'; touch pwned-secret; echo '\\$HOME %PATH% !x!";
    for shell in shells() {
        let env = TestEnv::with_moto();
        env.append_config(&format!(
            "\n[profile hostile-keys]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\nregion = eu-west-1\n"
        ));
        let dir = env.dir.path().to_owned();
        let assumed = dir.join("assumed");
        let script = format!(
            "{load}\nassume hostile-keys\n{assumed}",
            load = load_init(&shell),
            assumed = dump(&assumed),
        );
        let run = run_script(&env, &shell, &script);
        run.ok();
        let created: Vec<_> = std::fs::read_dir(env.work_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(created.is_empty(), "{}: ran code {created:?}", shell.name);
        let assumed = read_env(&assumed);
        assert_eq!(assumed["AWS_ACCESS_KEY_ID"], key, "{}", shell.name);
        assert_eq!(assumed["AWS_SECRET_ACCESS_KEY"], secret, "{}", shell.name);
    }
}

#[test]
fn the_functions_call_the_binary_that_printed_them() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = env.run(&["init", shell]).ok();
        assert!(script.contains(support::BIN), "{shell}: {script}");
    }
    // With an empty PATH, `assume` still finds it.
    let mut bash = env.command("/bin/bash");
    bash.env("PATH", "").arg("--norc").arg("-c").arg(format!(
        "eval \"$({} init bash)\"; assume; echo \"status=$?\"",
        support::BIN
    ));
    let run = env.run_command(bash);
    assert_eq!(run.stdout(), "status=1\n", "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("this shell has no session of assume-role"),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_powershell_functions_are_well_formed() {
    let env = TestEnv::new();
    let script = env.run(&["init", "powershell"]).ok();
    for needle in [
        "function assume {",
        "function unassume {",
        "& $bin env --format powershell @args",
        "if ($LASTEXITCODE -ne 0) { return }",
        "| Out-String | Invoke-Expression",
        "Remove-Item -Path \"Env:$name\"",
    ] {
        assert!(script.contains(needle), "{needle} missing:\n{script}");
    }
    for name in SESSION_VARS {
        assert!(script.contains(&format!("'{name}'")), "{name}");
    }
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let count = |c: char| code.matches(c).count();
    assert_eq!(count('{'), count('}'), "{code}");
    assert_eq!(count('('), count(')'), "{code}");
    assert_eq!(count('\'') % 2, 0, "{code}");
}

/// The profile names the standard config has, sorted.
fn standard_profiles_starting_with(prefix: &str) -> Vec<&'static str> {
    [
        "client",
        "client-nomfa",
        "contractor",
        "outsider",
        "outsider-client",
        "same",
        "same-wrong-ext",
        "second",
    ]
    .into_iter()
    .filter(|p| p.starts_with(prefix))
    .collect()
}

#[test]
fn bash_completes_profile_names_from_the_config() {
    let env = TestEnv::with_moto();
    // What bash does on `assume-role exec cl<Tab>`: set the COMP_* variables and call the
    // function the script registered.
    let script = format!(
        "source <({bin} completions bash) || exit 90\ncomplete -p assume-role\nCOMP_WORDS=(assume-role exec cl); COMP_CWORD=2; COMP_TYPE=9\n_clap_complete_assume_role assume-role cl exec\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\nCOMP_WORDS=(assume-role cache clear o); COMP_CWORD=3\n_clap_complete_assume_role assume-role o clear\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        bin = support::BIN
    );
    let mut bash = env.command("bash");
    bash.args(["--norc", "-c", &script]);
    let run = env.run_command(bash);
    let stdout = run.ok();
    assert_eq!(run.stderr(), "");
    let mut lines = stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .contains("-F _clap_complete_assume_role assume-role")
    );
    let rest: Vec<&str> = lines.collect();
    let mut expected = standard_profiles_starting_with("cl");
    expected.extend(standard_profiles_starting_with("o"));
    assert_eq!(rest, expected);
}

#[test]
fn zsh_loads_its_completions_and_the_binary_answers_its_protocol() {
    let Some(zsh) = support::require_tool("zsh") else {
        return;
    };
    let env = TestEnv::with_moto();
    let mut load = env.command(&zsh);
    load.args(["-f", "-c"]).arg(format!(
        "autoload -Uz compinit && compinit -u -D && source <({} completions zsh) && print -r -- ${{_comps[assume-role]}}",
        support::BIN
    ));
    let run = env.run_command(load);
    assert_eq!(run.ok(), "_clap_dynamic_completer_assume_role\n");
    assert_eq!(run.stderr(), "");
    // What that function runs on `assume-role whoami s<Tab>`.
    let mut ask = env.bin(&["--", "assume-role", "whoami", "s"]);
    ask.env("_ASSUME_ROLE_COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n");
    let out = env.run_command(ask).ok();
    let names: Vec<&str> = out.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(names, standard_profiles_starting_with("s"));
    assert!(
        out.contains(&format!("second:{}", moto().second_role_arn)),
        "{out}"
    );
}

#[test]
fn fish_completes_profile_names_from_the_config() {
    let Some(fish) = support::require_tool("fish") else {
        return;
    };
    let env = TestEnv::with_moto();
    let mut cmd = env.command(&fish);
    cmd.args(["--no-config", "-c"]).arg(format!(
        "{} completions fish | source; complete --do-complete 'assume-role env cl'; complete --do-complete 'assume-role console --print cl'",
        support::BIN
    ));
    let run = env.run_command(cmd);
    let out = run.ok();
    assert_eq!(run.stderr(), "");
    let names: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    let mut expected = standard_profiles_starting_with("cl");
    expected.extend(standard_profiles_starting_with("cl"));
    assert_eq!(names, expected, "{out}");
    // The role is the description fish shows beside each name.
    assert!(
        out.contains(&format!("client\t{}", moto().client_role_arn)),
        "{out}"
    );
}

#[test]
fn nushell_loads_its_completions_with_a_profile_completer() {
    let Some(nu) = support::require_tool("nu") else {
        return;
    };
    let env = TestEnv::with_moto();
    let script_path = env.dir.path().join("assume-role.nu");
    let script = env.run(&["completions", "nushell"]).ok();
    assert!(
        script.contains("profile: string@\"nu-complete assume-role profile\""),
        "{script}"
    );
    std::fs::write(&script_path, &script).unwrap();
    let mut cmd = env.command(&nu);
    cmd.args(["--no-config-file", "-c"]).arg(format!(
        "source '{}'; nu-complete assume-role profile | get value | str join ','",
        script_path.display()
    ));
    let run = env.run_command(cmd);
    assert_eq!(
        run.ok().trim(),
        standard_profiles_starting_with("").join(",")
    );
}

#[test]
fn every_completion_script_is_generated() {
    let env = TestEnv::new();
    for (shell, needle) in [
        ("bash", "complete -o nospace"),
        ("zsh", "#compdef assume-role"),
        (
            "fish",
            "complete --keep-order --exclusive --command assume-role",
        ),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName assume-role",
        ),
        ("elvish", "set edit:completion:arg-completer[assume-role]"),
        ("nushell", "export extern \"assume-role exec\""),
    ] {
        let script = env.run(&["completions", shell]).ok();
        assert!(script.contains(needle), "{shell}: {script}");
        if shell != "nushell" {
            assert!(
                script.contains("_ASSUME_ROLE_COMPLETE"),
                "{shell}: {script}"
            );
        }
    }
}

#[test]
fn profile_completion_over_ten_thousand_profiles_uses_lists_index() {
    let env = TestEnv::with_moto();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    for i in 0..10_000 {
        let _ = write!(
            config,
            "\n[profile bulk-{i:05}]\nrole_arn = arn:aws:iam::222222222222:role/r{i}\nsource_profile = contractor\n"
        );
    }
    env.write_config(&config);
    let ask = || {
        let mut cmd = env.bin(&["--", "assume-role", "exec", "bulk-0999"]);
        cmd.env("_ASSUME_ROLE_COMPLETE", "fish");
        env.run_command(cmd)
    };
    let first = ask();
    // The first Tab built the index `list` keeps; the next ones read it instead of the config.
    assert!(env.cache_dir().join("profiles-list.json").is_file());
    let second = ask();
    let names: Vec<String> = second
        .ok()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(names[0], "bulk-09990");
    assert_eq!(first.ok(), second.ok());
    eprintln!(
        "completion over 10,000 profiles: {:?} (index built), {:?} (index cached)",
        first.elapsed, second.elapsed
    );
}

#[test]
fn man_prints_one_page_with_every_command_and_no_missing_page() {
    let env = TestEnv::new();
    let roff = env.run(&["man"]).ok();
    assert!(roff.starts_with(".ie") || roff.starts_with(".TH"), "{roff}");
    assert!(roff.contains(".TH assume-role 1"), "{roff}");
    for command in [
        "exec",
        "env",
        "credential\\-process",
        "list",
        "console",
        "whoami",
        "init",
        "completions",
        "prompt",
        "cache clear",
        "sso login",
        "registry sync",
    ] {
        assert!(
            roff.contains(&format!(".SS \"assume\\-role {command}\"")),
            "{command}"
        );
    }
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(roff.contains(section), "{section}");
    }
    // One page: it names no `assume-role-exec(1)` and the like, which would not exist.
    for command in [
        "exec",
        "env",
        "credential",
        "list",
        "console",
        "sso",
        "registry-sync",
    ] {
        assert!(
            !roff.contains(&format!("assume\\-role\\-{command}")),
            "a reference to a missing page: assume-role-{command}"
        );
    }
}

fn rfc3339_in(secs: u64) -> String {
    let at = SystemTime::now() + Duration::from_secs(secs);
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    // Days since the epoch to a civil date (Howard Hinnant's algorithm), to keep the test free
    // of a date crate.
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = i64::try_from(days).unwrap() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[test]
fn prompt_shows_the_session_from_the_environment_alone() {
    let mut env = TestEnv::new();
    // Nothing but the environment is read: a broken config changes nothing.
    env.write_config("[profile broken\n");
    assert_eq!(env.run(&["prompt"]).ok(), "");
    let none = env.run(&["prompt", "--status"]);
    assert_eq!(none.code(), Some(1));
    assert!(
        none.stderr().contains("no session of assume-role"),
        "{}",
        none.stderr()
    );

    env.set("ASSUME_ROLE_PROFILE", "client-prod")
        .set("AWS_CREDENTIAL_EXPIRATION", &rfc3339_in(42 * 60 + 30))
        .set("AWS_ACCOUNT_ID", "222222222222")
        .set("AWS_REGION", "eu-west-1");
    assert_eq!(env.run(&["prompt"]).ok(), "client-prod (42m)\n");
    assert_eq!(
        env.run(&["prompt", "--format", "{profile}@{account}/{region}"])
            .ok(),
        "client-prod@222222222222/eu-west-1\n"
    );
    let status = env.run(&["prompt", "--status"]).ok();
    assert!(
        status.starts_with("client-prod: 42m left (until "),
        "{status}"
    );
    // `exec --server`: the credentials are renewed, there is no expiry to show.
    env.remove("AWS_CREDENTIAL_EXPIRATION");
    assert_eq!(env.run(&["prompt"]).ok(), "client-prod\n");
}

#[test]
fn tab_after_assume_completes_profile_names() {
    let env = TestEnv::with_moto();
    let bin = support::BIN;
    let mut bash = env.command("bash");
    bash.args(["--norc", "-c"]).arg(format!(
        "eval \"$({bin} init bash)\"\nCOMP_WORDS=(assume cl); COMP_CWORD=1; _assume_role_complete_assume\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\nCOMP_WORDS=(assume client --dur); COMP_CWORD=2; _assume_role_complete_assume\necho \"options=${{#COMPREPLY[@]}}\""
    ));
    let run = env.run_command(bash);
    let mut expected = standard_profiles_starting_with("cl").join("\n");
    expected.push_str("\noptions=0\n");
    assert_eq!(run.ok(), expected, "{}", run.stderr());

    if let Some(fish) = support::require_tool("fish") {
        let mut cmd = env.command(&fish);
        cmd.args(["--no-config", "-c"]).arg(format!(
            "{bin} init fish | source; complete --do-complete 'assume s'"
        ));
        let run = env.run_command(cmd);
        let out = run.ok();
        let names: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
        assert_eq!(
            names,
            standard_profiles_starting_with("s"),
            "{}",
            run.stderr()
        );
    }
    if let Some(zsh) = support::require_tool("zsh") {
        // Registered when compinit has run, as in a normal ~/.zshrc.
        let mut cmd = env.command(&zsh);
        cmd.args(["-f", "-c"]).arg(format!(
            "autoload -Uz compinit && compinit -u -D && eval \"$({bin} init zsh)\" && print -r -- ${{_comps[assume]}}"
        ));
        let run = env.run_command(cmd);
        assert_eq!(run.ok(), "_assume_role_complete_assume\n");
        assert_eq!(run.stderr(), "");
    }
}
