//! The browser that opens the console: which one (flag, environment, settings file, default),
//! the commands that start it with a separate identity per profile (a Chromium user-data
//! directory, a Firefox container), and starting the first of them that exists.

use super::{ConsoleError, encode};
use crate::context::Context;
use crate::env_vars;
use crate::rules;
use crate::secret::Secret;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::settings::choices::BrowserKind;

/// How long an opener (`xdg-open`, `$BROWSER`) is given to say it failed. A browser started
/// directly may run until its window closes, so still running after this counts as opened.
pub const OPENER_WAIT: Duration = Duration::from_secs(3);

/// The browser chosen, and where the choice came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub kind: BrowserKind,
    pub setting: String,
}

/// `--browser`, else `ASSUME_ROLE_BROWSER`, else `browser` in the settings file, else the
/// default.
pub fn choose(flag: Option<BrowserKind>, ctx: &Context) -> Result<Choice, ConsoleError> {
    if let Some(kind) = flag {
        return Ok(Choice {
            kind,
            setting: format!("`--browser {}`", kind.name()),
        });
    }
    match &ctx.env.browser {
        Some(text) => BrowserKind::parse(text)
            .map(|kind| Choice {
                kind,
                setting: format!("`{}={}`", env_vars::ASSUME_ROLE_BROWSER, kind.name()),
            })
            .ok_or_else(|| crate::env_vars::InvalidEnvVar {
                name: env_vars::ASSUME_ROLE_BROWSER,
                value: rules::shown(text),
                reason: "not a browser assume-role knows",
                expected: BrowserKind::NAMES,
            })
            .map_err(Into::into),
        None => Ok(match ctx.settings.browser {
            Some(kind) => Choice {
                kind,
                setting: match &ctx.settings.file {
                    Some(file) => {
                        format!("`browser = \"{}\"` in `{}`", kind.name(), file.display())
                    }
                    None => format!("`browser = \"{}\"`", kind.name()),
                },
            },
            None => Choice {
                kind: BrowserKind::Default,
                setting: "the default browser".into(),
            },
        }),
    }
}

/// One way to start the browser: a program and its arguments, the URL among them. `Debug`
/// shows the URL's place, not the URL.
#[derive(Clone)]
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Which argument holds the URL (or the container link that wraps it).
    url_arg: Option<usize>,
    /// A `$BROWSER` word the link was put in (`--app=%s`), to put another link in the same way.
    template: Option<String>,
    /// The link this launch opens.
    target: String,
}

impl Launch {
    /// The URL (or container link) this launch opens.
    pub fn target(&self) -> Option<String> {
        self.url_arg.map(|_| self.target.clone())
    }

    /// Opens `url` instead; a `$BROWSER` command that took the link inside a longer argument
    /// (`--app=%s`) gets it in the same place.
    pub fn set_target(&mut self, url: &std::ffi::OsStr) {
        let url = url.to_string_lossy();
        let arg = match &self.template {
            Some(template) => template.replace("%s", &url),
            None => url.into_owned(),
        };
        if let Some(slot) = self.url_arg.and_then(|i| self.args.get_mut(i)) {
            *slot = arg.into();
        }
    }
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if Some(i) == self.url_arg {
                    "<sign-in URL>".to_owned()
                } else {
                    a.to_string_lossy().into_owned()
                }
            })
            .collect();
        write!(f, "`{} {}`", self.program.to_string_lossy(), args.join(" "))
    }
}

/// The directory of a profile's own browser identity. The name is the profile's, encoded, so
/// that two profiles never share one and no name can climb out of the directory.
pub fn user_data_dir(ctx: &Context, profile: &str) -> Option<PathBuf> {
    Some(
        ctx.paths
            .data_dir
            .as_ref()?
            .join("browser")
            .join(encode(profile)),
    )
}

/// The ways to start `choice` for `profile` with `url`, in the order to try them.
pub fn launches(
    choice: &Choice,
    profile: &str,
    url: &Secret,
    ctx: &Context,
) -> Result<Vec<Launch>, ConsoleError> {
    let url = url.expose();
    let programs = |kind: BrowserKind| -> Vec<OsString> {
        match ctx
            .env
            .browser_path
            .as_ref()
            .or(ctx.settings.browser_path.as_ref())
        {
            Some(path) => vec![path.clone().into_os_string()],
            None => kind.executables().iter().map(OsString::from).collect(),
        }
    };
    let with = |programs: Vec<OsString>, before: Vec<OsString>, last: String| -> Vec<Launch> {
        programs
            .into_iter()
            .map(|program| {
                let mut args = before.clone();
                args.push(last.clone().into());
                Launch {
                    program,
                    url_arg: Some(args.len() - 1),
                    args,
                    template: None,
                    target: last.clone(),
                }
            })
            .collect()
    };
    Ok(match choice.kind {
        BrowserKind::Chrome | BrowserKind::Chromium | BrowserKind::Brave | BrowserKind::Edge => {
            let dir = user_data_dir(ctx, profile).ok_or_else(|| ConsoleError::Browser {
                setting: choice.setting.clone(),
                reason: "there is no data directory for the profile's browser identity (set `XDG_DATA_HOME`)".into(),
            })?;
            create_private_dir(&dir).map_err(|e| ConsoleError::Browser {
                setting: choice.setting.clone(),
                reason: format!("cannot create `{}`: {e}", dir.display()),
            })?;
            let mut flag = OsString::from("--user-data-dir=");
            flag.push(dir.as_os_str());
            with(
                programs(choice.kind),
                vec![
                    flag,
                    "--no-first-run".into(),
                    "--no-default-browser-check".into(),
                ],
                url.to_owned(),
            )
        }
        BrowserKind::Firefox => with(
            programs(choice.kind),
            vec!["--new-tab".into()],
            // The URL scheme of the "Open external links in a container" extension: one
            // container per profile, made on first use.
            format!("ext+container:name={}&url={}", encode(profile), encode(url)),
        ),
        BrowserKind::Default => default_launches(url, ctx),
    })
}

/// `$BROWSER` (a `:`-separated list of commands, `%s` standing for the URL), else the
/// platform's opener.
fn default_launches(url: &str, ctx: &Context) -> Vec<Launch> {
    let mut launches = Vec::new();
    if let Some(commands) = &ctx.env.browser_command {
        let separator = if cfg!(windows) { ';' } else { ':' };
        for command in commands.split(separator) {
            let mut words = command.split_whitespace();
            let Some(program) = words.next() else {
                continue;
            };
            let mut args: Vec<OsString> = Vec::new();
            let mut url_arg = None;
            let mut template = None;
            for word in words {
                if word.contains("%s") {
                    url_arg = Some(args.len());
                    template = Some(word.to_owned());
                    args.push(word.replace("%s", url).into());
                } else {
                    args.push(word.into());
                }
            }
            if url_arg.is_none() {
                url_arg = Some(args.len());
                args.push(url.into());
            }
            launches.push(Launch {
                program: program.into(),
                args,
                url_arg,
                template,
                target: url.to_owned(),
            });
        }
        if !launches.is_empty() {
            return launches;
        }
    }
    let (program, mut args): (&str, Vec<OsString>) = if cfg!(windows) {
        // Not `cmd /c start`: cmd would read the `&`s of the URL as command separators.
        ("rundll32.exe", vec!["url.dll,FileProtocolHandler".into()])
    } else if cfg!(target_os = "macos") {
        ("open", vec![])
    } else {
        ("xdg-open", vec![])
    };
    args.push(url.into());
    vec![Launch {
        program: program.into(),
        url_arg: Some(args.len() - 1),
        args,
        template: None,
        target: url.to_owned(),
    }]
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Starts the first of `launches` that exists. Its output goes nowhere: an opener's complaint
/// may quote the URL. An opener that fails within [`OPENER_WAIT`] is an error; one still running
/// then is the browser itself, left to run.
pub fn open(choice: &Choice, launches: &[Launch]) -> Result<(), ConsoleError> {
    use std::process::Stdio;
    let mut tried = Vec::new();
    for launch in launches {
        tracing::info!(browser = ?launch, "opening the console");
        let spawned = crate::process::child(&launch.program)
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tried.push(format!("`{}`", launch.program.to_string_lossy()));
                continue;
            }
            Err(e) => {
                return Err(ConsoleError::Browser {
                    setting: choice.setting.clone(),
                    reason: format!("`{}` cannot be run: {e}", launch.program.to_string_lossy()),
                });
            }
        };
        let started = std::time::Instant::now();
        while started.elapsed() < OPENER_WAIT {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(ConsoleError::Browser {
                        setting: choice.setting.clone(),
                        reason: format!("`{}` failed ({status})", launch.program.to_string_lossy()),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => return Ok(()),
            }
        }
        return Ok(());
    }
    Err(none_found(choice, &tried))
}

/// The error for a choice none of whose programs is there; `tried` names them.
fn none_found(choice: &Choice, tried: &[String]) -> ConsoleError {
    ConsoleError::Browser {
        setting: choice.setting.clone(),
        reason: if tried.is_empty() {
            "there is no command to start".into()
        } else {
            format!("none of {} was found", tried.join(", "))
        },
    }
}

/// Checks, before any credentials are exchanged, that one of the programs `choice` would start
/// exists: a sign-in token fetched for a browser that is not there would be a credential made
/// for nothing. The same error `open` gives when it finds none.
pub fn ensure_available(choice: &Choice, profile: &str, ctx: &Context) -> Result<(), ConsoleError> {
    // The URL plays no part in which program runs.
    let launches = launches(choice, profile, &Secret::new("about:blank"), ctx)?;
    let found = launches
        .iter()
        .any(|launch| exists(&launch.program, ctx.env.path.as_deref()));
    if found {
        return Ok(());
    }
    let tried: Vec<String> = launches
        .iter()
        .map(|l| format!("`{}`", l.program.to_string_lossy()))
        .collect();
    Err(none_found(choice, &tried))
}

/// Whether `program` names a file: as given when it has a directory part, else in `PATH`.
fn exists(program: &std::ffi::OsStr, path: Option<&std::ffi::OsStr>) -> bool {
    let program = std::path::Path::new(program);
    if program.components().count() > 1 {
        return program.is_file();
    }
    path.is_some_and(|dirs| {
        std::env::split_paths(dirs).any(|dir| {
            let candidate = dir.join(program);
            candidate.is_file() || (cfg!(windows) && candidate.with_extension("exe").is_file())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_gets_its_own_identity() {
        let ctx = Context {
            env: crate::env::Env {
                browser_path: Some("/bin/true".into()),
                ..crate::env::Env::default()
            },
            paths: crate::paths::Paths {
                data_dir: Some(
                    std::env::temp_dir().join(format!("assume-role-test-{}", std::process::id())),
                ),
                ..crate::paths::Paths::default()
            },
            ..Context::default()
        };
        let url = Secret::new("https://s/federation?Action=login&SigninToken=x");
        let chrome = choose(Some(BrowserKind::Chrome), &ctx).unwrap();
        let a = launches(&chrome, "client-a", &url, &ctx).unwrap();
        let b = launches(&chrome, "client/b", &url, &ctx).unwrap();
        assert_ne!(a[0].args[0], b[0].args[0]);
        assert!(b[0].args[0].to_string_lossy().ends_with("client%2Fb"));
        assert!(!format!("{:?}", a[0]).contains("SigninToken"));
        let firefox = choose(Some(BrowserKind::Firefox), &ctx).unwrap();
        let f = launches(&firefox, "client-a", &url, &ctx).unwrap();
        assert_eq!(
            f[0].args[1],
            "ext+container:name=client-a&url=https%3A%2F%2Fs%2Ffederation%3FAction%3Dlogin%26SigninToken%3Dx"
        );
        let _ = std::fs::remove_dir_all(ctx.paths.data_dir.unwrap());
    }

    #[test]
    fn browser_is_flag_then_environment_then_settings_then_default() {
        let ctx = |env: Option<&str>, settings: Option<BrowserKind>| Context {
            env: crate::env::Env {
                browser: env.map(str::to_owned),
                ..crate::env::Env::default()
            },
            settings: crate::settings::Settings {
                file: Some(std::path::PathBuf::from("/s/config.toml")),
                browser: settings,
                ..crate::settings::Settings::default()
            },
            ..Context::default()
        };
        let cases = [
            (
                Some(BrowserKind::Chrome),
                Some("edge"),
                Some(BrowserKind::Firefox),
                BrowserKind::Chrome,
            ),
            (
                None,
                Some("edge"),
                Some(BrowserKind::Firefox),
                BrowserKind::Edge,
            ),
            (None, None, Some(BrowserKind::Firefox), BrowserKind::Firefox),
            (None, None, None, BrowserKind::Default),
        ];
        for (flag, env, settings, expected) in cases {
            assert_eq!(
                choose(flag, &ctx(env, settings)).unwrap().kind,
                expected,
                "{flag:?} {env:?} {settings:?}"
            );
        }
        assert_eq!(
            choose(None, &ctx(None, Some(BrowserKind::Brave)))
                .unwrap()
                .setting,
            "`browser = \"brave\"` in `/s/config.toml`"
        );
    }
}
