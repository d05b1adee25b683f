//! What can stop a session from being printed: a value a format cannot carry safely, or a
//! standard output that cannot be written.

use crate::exit::{Diagnose, Exit};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("the {format} format cannot safely carry the value of `{name}` (it contains {reason})")]
    Unrepresentable {
        format: &'static str,
        name: String,
        reason: &'static str,
    },

    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Diagnose for OutputError {
    fn exit(&self) -> Exit {
        Exit::Failure
    }

    fn hints(&self) -> Vec<String> {
        match self {
            OutputError::Unrepresentable { .. } => {
                vec!["use `--format sh`, `fish` or `json`, which can carry any value".into()]
            }
            OutputError::Output(_) => vec![],
        }
    }
}
