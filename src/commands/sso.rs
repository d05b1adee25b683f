//! `assume-role sso`: sign in, sign out, list sessions, sync profiles.

use crate::cli::SsoCommand;
use crate::config::{ConfigFiles, Profiles};
use crate::context::Context;
use crate::error::Error;
use crate::sso::SsoError;
use crate::sso_login::{self, LoggedIn, LoginOptions, sync};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::SystemTime;

pub fn run(command: SsoCommand, ctx: &Context) -> Result<ExitCode, Error> {
    let files = ConfigFiles::locate(ctx);
    let profiles = || Profiles::load_from(&files);
    match command {
        SsoCommand::Login {
            profile,
            sso_session,
            device_code,
            force,
            no_browser,
        } => {
            let session =
                sso_login::session_for(&profiles()?, profile.as_deref(), sso_session.as_deref())?;
            let options = LoginOptions {
                device_code,
                force,
                no_browser,
            };
            match sso_login::login(&session, profile.as_deref(), &options, ctx)? {
                LoggedIn::Reused { expires_at } => eprintln!(
                    "assume-role: already signed in to {}: the token is good until {} ({} left); `--force` signs in again",
                    session.label(),
                    crate::time::rfc3339(expires_at),
                    left(expires_at)
                ),
                LoggedIn::New { expires_at, .. } => eprintln!(
                    "assume-role: signed in to {}; the token is good until {} ({} left)",
                    session.label(),
                    crate::time::rfc3339(expires_at),
                    left(expires_at)
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        SsoCommand::Logout {
            profile,
            sso_session,
        } => {
            let session =
                sso_login::session_for(&profiles()?, profile.as_deref(), sso_session.as_deref())?;
            let out = sso_login::logout(&session, ctx)?;
            match (out.had_token, out.portal_failed) {
                (false, _) => eprintln!(
                    "assume-role: not signed in to {}: nothing to do",
                    session.label()
                ),
                (true, None) => eprintln!("assume-role: signed out of {}", session.label()),
                (true, Some(why)) => eprintln!(
                    "assume-role: removed the cached token of {}, but the portal could not be told ({why}); the token stays valid there until it expires",
                    session.label()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        SsoCommand::Sessions { json } => {
            let rows = sso_login::sessions(&profiles()?, ctx)?;
            let text = if json {
                let mut text = serde_json::to_string_pretty(&rows).expect("rows serialize");
                text.push('\n');
                text
            } else {
                table(&rows)
            };
            super::print(&text)
        }
        SsoCommand::Sync {
            sso_session,
            prune,
            yes,
            name_format,
        } => sync_profiles(&files, &sso_session, prune, yes, &name_format, ctx),
    }
}

fn left(expires_at: SystemTime) -> String {
    crate::duration::display(
        expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    )
}

fn table(rows: &[sso_login::SessionRow]) -> String {
    let rows: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let expires = match (&row.expires_at, row.expired) {
                (None, _) => "not signed in".to_owned(),
                (Some(at), true) => format!("expired {at}"),
                (Some(at), false) => at.clone(),
            };
            [
                row.name.clone(),
                row.start_url.clone(),
                row.region.clone(),
                expires,
                if row.refreshable { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| r.each_ref().map(String::as_str))
        .collect();
    let header = ["SESSION", "START URL", "REGION", "EXPIRES", "REFRESH"];
    super::list::table(header, &rows)
}

/// `sso sync`'s changes are written when `--yes` says so, or the terminal's user does.
fn confirm(yes: bool, session_name: &str, prune: bool) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    let terminal = crate::terminal::in_foreground();
    let confirmed = terminal
        && crate::terminal::visible("Write them? [y/N] ")
            .is_ok_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes"));
    if !confirmed {
        return Err(SsoError::Refused {
            detail: format!(
                "`sso sync` wrote nothing: {}",
                if terminal {
                    "not confirmed"
                } else {
                    "there is no terminal to confirm on, and no `--yes`"
                }
            ),
            hint: format!(
                "to write these changes: `assume-role sso sync --sso-session {session_name}{} --yes`",
                if prune { " --prune" } else { "" }
            ),
        }
        .into());
    }
    Ok(())
}

fn sync_profiles(
    files: &ConfigFiles,
    session_name: &str,
    prune: bool,
    yes: bool,
    name_format: &str,
    ctx: &Context,
) -> Result<ExitCode, Error> {
    // Taken before the files are read: the write looks again only if they changed after this.
    let seen = files.fingerprint();
    let profiles = &Profiles::load_from(files)?;
    let session = profiles.sso_session(session_name)?;
    let listed = sync::listed(&session, name_format, ctx)?;
    let marker = sync::marker(session_name);
    // The changes from the block as the file holds it now, given the profiles outside it.
    let changes_against = |profiles: &Profiles| -> Result<sync::Changes, Error> {
        let current = match std::fs::read(&files.config) {
            Ok(bytes) => crate::config::block::read(&bytes, &marker)
                .map_err(|damaged| damaged.error(&files.config, &marker))?,
            Err(_) => None,
        };
        let changes = sync::changes(
            &session,
            session_name,
            current.as_deref(),
            &listed,
            prune,
            profiles,
        )?;
        Ok(changes)
    };
    let changes = changes_against(profiles)?;
    let report = report(&changes, prune);
    if changes.is_empty(prune) {
        eprint!("{report}");
        eprintln!(
            "assume-role: the profiles of SSO session `{session_name}` are up to date in `{}` ({} profiles)",
            files.config.display(),
            changes.unchanged
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "assume-role: changes to the `{session_name}` block of `{}`:",
        files.config.display()
    );
    eprint!("{report}");
    confirm(yes, session_name, prune)?;
    // Checked again under the edit lock: another command may have written a profile of one of
    // these names since the changes were shown.
    crate::config::block::write_checked(&files.config, &marker, &changes.body, || {
        let Some(now) = Profiles::reload_if_changed(files, &seen)? else {
            return Ok(());
        };
        if changes_against(&now)?.body == changes.body {
            Ok(())
        } else {
            Err(Error::from(SsoError::Refused {
                detail:
                    "`sso sync` wrote nothing: the config file changed while the changes were shown"
                        .into(),
                hint: format!("run it again: `assume-role sso sync --sso-session {session_name}`"),
            }))
        }
    })?;
    eprintln!(
        "assume-role: wrote {} profiles of SSO session `{session_name}` to `{}`",
        listed.len() + if prune { 0 } else { changes.gone.len() },
        files.config.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The changes a sync would make, a line each.
fn report(changes: &sync::Changes, prune: bool) -> String {
    let mut report = String::new();
    for g in &changes.add {
        let _ = writeln!(
            report,
            "  + {} (account {}, role {})",
            crate::rules::printable(&g.name),
            g.account_id,
            crate::rules::printable(&g.role_name)
        );
    }
    for g in &changes.change {
        let _ = writeln!(
            report,
            "  ~ {} (now account {}, role {})",
            crate::rules::printable(&g.name),
            g.account_id,
            crate::rules::printable(&g.role_name)
        );
    }
    for name in &changes.gone {
        let what = if prune {
            "  - {} (its role is gone)\n"
        } else {
            "  = {} (its role is gone; kept: `--prune` removes it)\n"
        };
        report.push_str(&what.replace("{}", &crate::rules::printable(name)));
    }
    report
}
