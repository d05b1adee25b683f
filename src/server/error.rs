//! What can stop `exec --server` before the child starts.

use crate::exit::{Diagnose, Exit};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot start the credential endpoint of `exec --server` on `127.0.0.1`: {0}")]
    ServerStart(std::io::Error),

    #[error(
        "profile `{profile}` hands over credentials that never expire, so `exec --server` has nothing to refresh"
    )]
    ServerWithoutSession { profile: String },

    #[error(transparent)]
    Assume(#[from] crate::assume::AssumeError),
}

impl Diagnose for ServerError {
    fn exit(&self) -> Exit {
        match self {
            ServerError::ServerStart(_) => Exit::Failure,
            ServerError::ServerWithoutSession { .. } => Exit::Usage,
            ServerError::Assume(e) => e.exit(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ServerError::ServerStart(_) => vec!["the loopback interface must be up, and the process allowed to open a listening socket (a sandbox may forbid it); plain `exec` needs neither".into()],
            ServerError::ServerWithoutSession { profile } => vec![
                format!("run it without `--server`: `assume-role exec {profile} -- …` hands the keys over as they are"),
                format!("or give profile `{profile}` a `role_arn`: a role's sessions expire, and `--server` renews them"),
            ],
            ServerError::Assume(e) => e.hints(),
        }
    }
}
