//! # `banter-term`: `banter chat`, the terminal client, in line mode (docs/terminal.md)
//!
//! It reads commands and messages from stdin, one per line, and prints events to
//! stdout, one per line, in a fixed greppable format, so people and scripts drive it
//! alike. It speaks only the public protocol (docs/protocol.md): header authentication
//! on the upgrade, idempotent sends with a fresh `client_id` each, and on a dropped
//! socket it reconnects with backoff, fills gaps with `history after_seq` and re-sends
//! what was not acknowledged.
//!
//! Rooms (create, join, leave, delete, members, the rooms one is in kept live, the
//! server's room directory), replies and changes to messages (edits, deletions,
//! reactions, caught up with `changes` after a reconnect) ride on the same socket; see
//! docs/terminal.md.
//!
//! This crate is a client of `banter-protocol` and of nothing else of Banter's: the
//! frames both ways and the types they carry are that crate's, and minting tokens for
//! `--email` is the caller's (the `banter` binary hands [`run`] a
//! [`banter_protocol::MintTokens`]). [`ChatArgs`] is the `banter chat` subcommand's
//! arguments, which the binary embeds.
//!
//! Modules:
//! - [`frames`]: what the client adds to the protocol (`history` requests within
//!   [`frames::HISTORY_MAX`], the HTTP bodies it reads);
//! - [`commands`]: decoding stdin lines;
//! - [`state`]: what the client knows and how it reacts (no I/O);
//! - [`output`]: the line format of stdout;
//! - [`connection`]: URLs, TLS, connecting, and the HTTP look-ups;
//! - [`token`]: given or minted tokens;
//! - [`input`]: the stdin reader;
//! - [`client`]: the loop that ties them;
//! - [`error`]: why `banter chat` stops.

pub mod client;
pub mod commands;
pub mod connection;
pub mod error;
pub mod frames;
pub mod input;
pub mod output;
pub mod state;
pub mod token;

pub use error::TermError;

use banter_protocol::MintTokens;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use token::{Credentials, Tokens};

#[derive(Debug, Clone, clap::Args)]
pub struct ChatArgs {
    /// The server's URL (http, https, ws or wss; `/ws` is added).
    #[arg(long, env = "BANTER_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A session token (from `banter token` or POST /api/session).
    #[arg(long, env = "BANTER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Mint a token for this email with the root key instead, as `banter token` does
    /// (needs DATABASE_URL, ROOT_KEY_ENCRYPTION_KEY or the deployment's BISCUIT_PRIVATE_KEY,
    /// and OIDC_ISSUER for a person who signs in through the provider); it is renewed
    /// before it expires. Takes precedence over BANTER_TOKEN.
    #[arg(long)]
    pub email: Option<String>,
    /// How long each minted token lives, e.g. 15m, 1h.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    /// PEM certificates to trust for wss:// instead of the public roots.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
}

impl ChatArgs {
    fn credentials(&self, minter: Option<Arc<dyn MintTokens>>) -> Result<Credentials, TermError> {
        match (&self.email, &self.token) {
            (Some(email), _) => Ok(Credentials::Mint {
                email: email.trim().to_owned(),
                ttl: self.ttl,
                minter: minter.ok_or(TermError::NoMinter)?,
            }),
            (None, Some(token)) if !token.trim().is_empty() => {
                Ok(Credentials::Token(token.clone()))
            }
            (None, _) => Err(TermError::NoCredentials),
        }
    }
}

/// Runs the client until `/quit` or end of input. `minter` mints the tokens `--email`
/// asks for (without one, `--email` is refused with [`TermError::NoMinter`]).
pub async fn run(args: ChatArgs, minter: Option<Arc<dyn MintTokens>>) -> Result<(), TermError> {
    let endpoint = connection::Endpoint::parse(&args.server)?;
    let tls = connection::tls_config(args.ca_cert.as_deref())?;
    let tokens = Tokens::new(args.credentials(minter)?).await?;
    let mut http = reqwest::Client::builder().timeout(connection::CONNECT_TIMEOUT);
    if let Some(path) = &args.ca_cert {
        let failed = |reason: String| TermError::CaCert {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
        for cert in
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| failed(e.to_string()))?
        {
            http = http.add_root_certificate(cert);
        }
    }
    let http = http.build().map_err(|e| TermError::Unreachable {
        url: endpoint.http.clone(),
        reason: e.to_string(),
    })?;
    let mut client = client::Client::new(endpoint, tls, tokens, http);
    let socket = client.connect_first().await?;
    if std::io::stdin().is_terminal() {
        let me = client
            .chat
            .me()
            .map(|u| u.email.clone())
            .unwrap_or_default();
        eprintln!(
            "Connected as {me}. /open <email> or /join <room> starts a chat, then type to send; /help lists commands, /quit leaves."
        );
    }
    let input = input::spawn_stdin().map_err(TermError::Input)?;
    client.run(socket, input).await
}
