//! `assume-role`: assume a client's AWS role with an external ID and MFA, and hand the
//! temporary credentials to a command, a shell, or any AWS SDK.
//!
//! The flow reads top to bottom: command-line arguments → a resolved [`config::Plan`] (pure
//! data) → credentials (from STS) → a sink (`exec`, shell exports, credential_process JSON).

pub mod config;
pub mod duration;
pub mod env_vars;
pub mod error;
pub mod secret;
