//! Why `banter chat` stops: each is one line on stderr and a non-zero exit.

use banter_protocol::mint::MintError;

#[derive(Debug, thiserror::Error)]
pub enum TermError {
    #[error("--server {0:?} is not a server URL (http://, https://, ws:// or wss://)")]
    ServerUrl(String),
    #[error("no session token: pass --token (or set BANTER_TOKEN), or --email to mint one")]
    NoCredentials,
    #[error(
        "--email: this program cannot mint session tokens; pass --token (or set BANTER_TOKEN) instead"
    )]
    NoMinter,
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "the server refused the session token (invalid or expired); get a fresh one with `banter token`"
    )]
    Unauthorized,
    #[error("the server closed the connection ({code}: {reason})")]
    Closed { code: u16, reason: String },
    #[error(
        "lost the connection to {url} and could not reconnect for {minutes} minutes: {reason}"
    )]
    Lost {
        url: String,
        minutes: u64,
        reason: String,
    },
    #[error("{0} message(s) were not acknowledged by the server before exit")]
    Unsent(usize),
    /// Shown with its causes, each after a `: `.
    #[error("minting a session token: {}", with_causes(.0.as_ref()))]
    Mint(#[source] MintError),
    #[error("TLS set-up: {0}")]
    Tls(String),
    #[error("--ca-cert {path}: {reason}")]
    CaCert { path: String, reason: String },
    #[error("reading stdin: {0}")]
    Input(#[source] std::io::Error),
    #[error("writing stdout: {0}")]
    Output(#[source] std::io::Error),
}

/// An error's message followed by those of its causes: `database: connection refused`.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
