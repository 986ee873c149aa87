//! The `banter` command line: `serve` (the default), `migrate`, `token`, `bench` and
//! `chat`.

use crate::configuration::{self, Settings};
use crate::db;
use crate::minter::{MintFailed, RootKeyMinter};
use crate::startup::{self, Application};
use banter_protocol::MintTokens;
use clap::{Parser, Subcommand};
use std::sync::Arc;
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
    /// Apply pending database migrations, check the session root key opens (sealing a
    /// plaintext one), and exit (Heroku's release phase).
    Migrate,
    /// Mint session tokens with the root key: for one user (created if new), or many at
    /// once for scripts and load tests (one JSON line each: user_id, email, token,
    /// expires_at).
    #[command(group(
        clap::ArgGroup::new("who")
            .required(true)
            .args(["email", "user_id", "count", "emails_from"])
    ))]
    Token {
        /// The user's email: the person of OIDC_ISSUER with it, else one made for it.
        #[arg(long)]
        email: Option<String>,
        /// The user's id instead (when several people share an email).
        #[arg(long)]
        user_id: Option<String>,
        /// Mint for N people: <prefix>-<i>@<domain> for i = 1..=N (created if new).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        count: Option<u32>,
        /// The name part of --count's emails.
        #[arg(long, default_value = "load", requires = "count")]
        prefix: String,
        /// The domain of --count's emails.
        #[arg(long, default_value = "example.com", requires = "count")]
        domain: String,
        /// Mint for every email in FILE, one per line ("-": standard input; blank lines
        /// and lines starting with # are skipped).
        #[arg(long, value_name = "FILE")]
        emails_from: Option<std::path::PathBuf>,
        /// Print a JSON line (user_id, email, token, expires_at) for one token too,
        /// instead of the bare token.
        #[arg(long)]
        json: bool,
        /// How long the tokens live, e.g. 15m, 1h, 2days.
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Load-test a running server over the public protocol (see docs/benchmarks.md).
    Bench(banter_bench::BenchArgs),
    /// Chat from a terminal or a script: commands on stdin, events on stdout, one per
    /// line (see docs/terminal.md).
    Chat(banter_term::ChatArgs),
}

/// A failure `main` reports in one line and exits non-zero on.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] configuration::ConfigError),
    #[error("{0}")]
    Chat(#[from] banter_term::TermError),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            app.run_until_stopped().await.map_err(anyhow::Error::from)?;
        }
        Command::Migrate => {
            let lookup = |k: &str| std::env::var(k).ok();
            let url = configuration::database_url_from(&lookup)?;
            let key = configuration::biscuit_key_from(&lookup)?;
            let kek = configuration::root_key_encryption_from(&lookup)?;
            let pool = db::connect(&url, 1).await.map_err(anyhow::Error::from)?;
            let applied = db::migrations::run(&pool)
                .await
                .map_err(anyhow::Error::from)?;
            log::info!("applied {applied} migrations");
            // Heroku's release phase: a root key that cannot be opened fails the release
            // here, before any dyno of it starts (the running ones keep serving).
            startup::session_keys(&pool, key.as_deref(), kek.as_ref())
                .await
                .map_err(anyhow::Error::from)?;
        }
        Command::Token {
            email,
            user_id,
            count,
            prefix,
            domain,
            emails_from,
            json,
            ttl,
        } => {
            let minter = RootKeyMinter::new();
            let many = match (count, emails_from) {
                (Some(n), _) => Some((1..=n).map(|i| format!("{prefix}-{i}@{domain}")).collect()),
                (None, Some(path)) => Some(read_emails(&path)?),
                (None, None) => None,
            };
            if let Some(emails) = many {
                for email in emails {
                    let minted = minter.mint_for(&email, ttl).await.map_err(mint_failed)?;
                    println!("{}", minted_line(&minted));
                }
                return Ok(());
            }
            let minted = match (email, user_id) {
                (_, Some(id)) => minter.mint_for_user(&id, ttl).await,
                (Some(email), None) => minter.mint_for(&email, ttl).await,
                (None, None) => unreachable!("clap requires one of the group"),
            }
            .map_err(mint_failed)?;
            match json {
                true => println!("{}", minted_line(&minted)),
                false => println!("{}", minted.token),
            }
        }
        Command::Bench(args) => {
            let host = banter_bench::Host {
                minter: Arc::new(RootKeyMinter::new()),
                postgres: Arc::new(|size| {
                    Box::pin(async move {
                        let url = configuration::database_url_from(&|k| std::env::var(k).ok())?;
                        Ok(db::connect_plain(&url, size).await?)
                    })
                }),
            };
            // The generator wants every core; it runs on its own runtime.
            actix_web::rt::task::spawn_blocking(move || banter_bench::run_blocking(args, host))
                .await
                .map_err(anyhow::Error::from)??;
        }
        Command::Chat(args) => {
            let minter: Arc<dyn MintTokens> = Arc::new(RootKeyMinter::new());
            banter_term::run(args, Some(minter)).await?
        }
    }
    Ok(())
}

/// One minted token as a JSON line.
fn minted_line(minted: &banter_protocol::MintedToken) -> serde_json::Value {
    serde_json::json!({
        "user_id": minted.user_id,
        "email": minted.email,
        "token": minted.token,
        "expires_at": minted.expires_at,
    })
}

/// The emails of a file (or standard input for "-"), one per line.
fn read_emails(path: &std::path::Path) -> Result<Vec<String>, CliError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// A failed mint as `main` reports it: a configuration error as any other, the rest with
/// their causes.
fn mint_failed(e: MintFailed) -> CliError {
    match e {
        MintFailed::Config(e) => CliError::Config(e),
        other => CliError::Other(anyhow::Error::from(other)),
    }
}
