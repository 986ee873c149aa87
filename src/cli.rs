//! The `banter` command line: `serve` (the default), `migrate`, `token`, `bench` and
//! `chat`.

use crate::configuration::{self, Settings};
use crate::db;
use crate::startup::{self, Application};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "banter", version, about = "Banter: a real-time chat server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (configured by the environment; see README).
    Serve,
    /// Apply pending database migrations and exit (Heroku's release phase).
    Migrate,
    /// Mint a session token for a user (created if new), with the root key.
    Token {
        /// The user's email.
        #[arg(long)]
        email: String,
        /// How long the token lives, e.g. 15m, 1h, 2days.
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Load-test a running server over the public protocol (see docs/benchmarks.md).
    Bench(crate::bench::BenchArgs),
    /// Chat from a terminal or a script: commands on stdin, events on stdout, one per
    /// line (see docs/terminal.md).
    Chat(crate::term::ChatArgs),
}

/// A failure `main` reports in one line and exits non-zero on.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] configuration::ConfigError),
    #[error("{0}")]
    Chat(#[from] crate::term::TermError),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// Mints a session token for `email` (creating the user if new) with the root key, as
/// an operator may (SPEC §3): `banter token`, and `banter chat --email`.
pub async fn mint_token(email: &str, ttl: Duration) -> Result<(String, DateTime<Utc>), CliError> {
    let lookup = |k: &str| std::env::var(k).ok();
    let url = configuration::database_url_from(&lookup)?;
    let key = configuration::biscuit_key_from(&lookup)?;
    let pool = db::connect(&url, 1).await.map_err(anyhow::Error::from)?;
    db::migrations::run(&pool)
        .await
        .map_err(anyhow::Error::from)?;
    let keys = startup::session_keys(&pool, key.as_deref()).await?;
    let user = db::users::find_or_create_by_email(&pool, email.trim())
        .await
        .map_err(anyhow::Error::from)?;
    Ok(keys.mint(&user, ttl).map_err(anyhow::Error::from)?)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            app.run_until_stopped().await.map_err(anyhow::Error::from)?;
        }
        Command::Migrate => {
            let url = configuration::database_url_from(&|k| std::env::var(k).ok())?;
            let pool = db::connect(&url, 1).await.map_err(anyhow::Error::from)?;
            let applied = db::migrations::run(&pool)
                .await
                .map_err(anyhow::Error::from)?;
            log::info!("applied {applied} migrations");
        }
        Command::Token { email, ttl } => {
            let (token, _) = mint_token(&email, ttl).await?;
            println!("{token}");
        }
        Command::Bench(args) => {
            // The generator wants every core; it runs on its own runtime.
            actix_web::rt::task::spawn_blocking(move || crate::bench::run_blocking(args))
                .await
                .map_err(anyhow::Error::from)??;
        }
        Command::Chat(args) => crate::term::run(args).await?,
    }
    Ok(())
}
