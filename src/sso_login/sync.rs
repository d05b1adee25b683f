//! `sso sync`: one profile per account and role the session can reach (`ListAccounts`,
//! `ListAccountRoles`), kept in a marked block of `~/.aws/config` that nothing else touches.
//! The changes are shown before anything is written; a profile whose role is gone stays unless
//! `--prune` (a failed or partial listing must never delete profiles: granted#386).

use crate::aws::sso::Sso;
use crate::config::{Profiles, SsoSession};
use crate::context::Context;
use crate::sso::SsoError;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The default name: the account's name and the role, as granted names them.
pub const DEFAULT_FORMAT: &str = "{account_name}/{role_name}";

/// One generated profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub name: String,
    pub account_id: String,
    pub account_name: String,
    pub role_name: String,
}

/// What a sync would do, by profile name.
#[derive(Debug, Default)]
pub struct Changes {
    pub add: Vec<Generated>,
    /// Same name, another account or role.
    pub change: Vec<Generated>,
    /// In the block, but the role is gone: removed with `--prune`, else kept.
    pub gone: Vec<String>,
    pub unchanged: usize,
    /// The block's new text.
    pub body: String,
}

impl Changes {
    pub fn is_empty(&self, prune: bool) -> bool {
        self.add.is_empty() && self.change.is_empty() && (!prune || self.gone.is_empty())
    }
}

/// The block's marker for `session`.
pub fn marker(session: &str) -> String {
    format!("sso sync {session}")
}

/// A profile name from `format`: `{account_name}`, `{account_id}` and `{role_name}` filled in,
/// and anything a profile name should not hold (spaces, brackets, quotes, `#`, `;`, control
/// characters) turned into `-`.
pub fn name_of(format: &str, account_id: &str, account_name: &str, role_name: &str) -> String {
    let raw = format
        .replace("{account_name}", account_name)
        .replace("{account_id}", account_id)
        .replace("{role_name}", role_name);
    raw.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_./@+:".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The profiles `session` reaches now, named by `format`.
pub fn listed(
    session: &SsoSession,
    format: &str,
    ctx: &Context,
) -> Result<Vec<Generated>, SsoError> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let sso = Sso::new(&session.region, ctx).await?;
        let token = crate::sso::usable_token(session, None, &sso, ctx).await?;
        let mut generated = Vec::new();
        for account in sso.list_accounts(&token.access_token).await? {
            // What the portal says goes into the config: it must look like what it is.
            if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
                tracing::warn!(
                    "the portal listed an account ID that is not 12 digits (`{}`); skipped",
                    crate::rules::printable(&account.id)
                );
                continue;
            }
            for role in sso
                .list_account_roles(&token.access_token, &account.id)
                .await?
            {
                if role.is_empty()
                    || !role
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
                {
                    tracing::warn!(
                        "the portal listed a role name IAM would not allow (`{}`); skipped",
                        crate::rules::printable(&role)
                    );
                    continue;
                }
                generated.push(Generated {
                    name: name_of(format, &account.id, &account.name, &role),
                    account_id: account.id.clone(),
                    account_name: account.name.clone(),
                    role_name: role,
                });
            }
        }
        generated.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(generated)
    })
}

/// The changes from the block as it is (`current`, its text) to `listed`.
pub fn changes(
    session: &SsoSession,
    session_name: &str,
    current: Option<&str>,
    listed: &[Generated],
    prune: bool,
    profiles: &Profiles,
) -> Result<Changes, SsoError> {
    let existing = current
        .map(|text| Profiles::from_texts(text, ""))
        .transpose()?;
    let in_block: BTreeMap<String, (String, String)> = existing
        .iter()
        .flat_map(|p| {
            p.names().into_iter().filter_map(|name| {
                let section = p.get(name)?;
                Some((
                    name.to_owned(),
                    (
                        section.get("sso_account_id")?.to_owned(),
                        section.get("sso_role_name")?.to_owned(),
                    ),
                ))
            })
        })
        .collect();
    let mut changes = Changes::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut body = String::new();
    for g in listed {
        if !seen.insert(g.name.clone()) {
            return Err(SsoError::Refused {
                detail: format!(
                    "`sso sync` wrote nothing: two roles would both be named `{}`",
                    g.name
                ),
                hint: "choose a name format that tells them apart, e.g. `--name-format '{account_id}/{role_name}'`".into(),
            });
        }
        // A profile of the same name written by hand wins: the sync never shadows it.
        if !in_block.contains_key(&g.name) && profiles.get(&g.name).is_some() {
            return Err(SsoError::Refused {
                detail: format!(
                    "`sso sync` wrote nothing: profile `{}` already exists outside the sync's block",
                    g.name
                ),
                hint: "rename it, or choose another name format: `--name-format 'sso-{account_name}/{role_name}'`".into(),
            });
        }
        match in_block.get(&g.name) {
            None => changes.add.push(g.clone()),
            Some((account, role)) if *account == g.account_id && *role == g.role_name => {
                changes.unchanged += 1;
            }
            Some(_) => changes.change.push(g.clone()),
        }
        section(&mut body, g, session, session_name);
    }
    for (name, (account, role)) in &in_block {
        if seen.contains(name) {
            continue;
        }
        changes.gone.push(name.clone());
        if !prune {
            // Kept as it was.
            let kept = Generated {
                name: name.clone(),
                account_id: account.clone(),
                account_name: String::new(),
                role_name: role.clone(),
            };
            section(&mut body, &kept, session, session_name);
        }
    }
    changes.body = body;
    Ok(changes)
}

fn section(body: &mut String, g: &Generated, session: &SsoSession, session_name: &str) {
    if !body.is_empty() {
        body.push('\n');
    }
    let _ = write!(
        body,
        "[profile {}]\nsso_session = {session_name}\nsso_account_id = {}\nsso_role_name = {}\nregion = {}\n",
        g.name, g.account_id, g.role_name, session.region
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_a_profile() {
        assert_eq!(
            name_of(DEFAULT_FORMAT, "111", "Prod [EU] #1", "Admin"),
            "Prod--EU---1/Admin"
        );
        assert_eq!(
            name_of("{account_id}:{role_name}", "111", "x", "R"),
            "111:R"
        );
    }

    #[test]
    fn roles_gone_are_kept_unless_pruned_and_hand_written_profiles_are_never_shadowed() {
        let session = SsoSession {
            name: Some("corp".into()),
            start_url: "https://x/start".into(),
            region: "eu-west-1".into(),
            scopes: vec![],
        };
        let g = |name: &str, account: &str, role: &str| Generated {
            name: name.into(),
            account_id: account.into(),
            account_name: String::new(),
            role_name: role.into(),
        };
        let current = "[profile a/R]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n\n[profile old/R]\nsso_session = corp\nsso_account_id = 2\nsso_role_name = R\n";
        let profiles = Profiles::from_texts("[profile mine]\nregion = x\n", "").unwrap();
        let listed = [g("a/R", "1", "R"), g("b/R", "3", "R")];
        let kept = changes(&session, "corp", Some(current), &listed, false, &profiles).unwrap();
        assert_eq!(kept.add, [g("b/R", "3", "R")]);
        assert_eq!(
            (kept.unchanged, kept.gone.as_slice()),
            (1, ["old/R".to_owned()].as_slice())
        );
        assert!(kept.body.contains("[profile old/R]") && !kept.is_empty(false));
        let pruned = changes(&session, "corp", Some(current), &listed, true, &profiles).unwrap();
        assert!(!pruned.body.contains("old/R"));
        let clash = changes(
            &session,
            "corp",
            None,
            &[g("mine", "1", "R")],
            false,
            &profiles,
        );
        assert!(clash.is_err());
    }
}
