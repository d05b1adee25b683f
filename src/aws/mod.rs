//! The wire to AWS: one module per service the tool calls, and what their failures mean. No
//! policy lives here (which role, which code, what to cache): that is the engine's business.

mod error;
pub use error::{AwsError, RemoteFailure, StsCall, StsFailure};

pub mod iam;
pub mod sdk_error;
pub mod sso;
pub mod sts;
