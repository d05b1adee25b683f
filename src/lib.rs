//! `assume-role`: assume a client's AWS role with an external ID and MFA, and hand the
//! temporary credentials to a command, a shell, or any AWS SDK.
//!
//! The flow reads top to bottom: command-line arguments → a resolved [`config::Plan`] (pure
//! data) → credentials (from STS) → a sink (`exec`, shell exports, `credential_process` JSON).

pub mod assume;
pub mod audit;
pub mod aws;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod context;
pub mod credentials;
pub mod diagnose;
pub mod duration;
pub mod env;
pub mod env_vars;
pub mod error;
pub mod exit;
pub mod fanout;
pub mod fsx;
pub mod keystore;
pub mod logging;
pub mod mfa;
pub mod obtain;
pub mod onboard;
pub mod output;
pub mod paths;
pub mod process;
pub mod registry;
pub mod rotate;
pub mod rules;
pub mod secret;
pub mod server;
pub mod settings;
pub mod shell;
pub mod sso;
pub mod sso_login;

pub mod terminal;
pub mod time;
