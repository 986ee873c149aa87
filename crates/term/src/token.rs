//! Where the session token comes from: given (`--token`, `BANTER_TOKEN`), which lives
//! until it expires, or minted with the root key (`--email`) by the [`MintTokens`] the
//! caller hands in, which the client renews before it expires and after the server
//! refuses it.

use super::error::TermError;
use banter_protocol::MintTokens;
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub enum Credentials {
    Token(String),
    Mint {
        email: String,
        ttl: Duration,
        minter: Arc<dyn MintTokens>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(token) => f.debug_tuple("Token").field(token).finish(),
            Credentials::Mint { email, ttl, .. } => f
                .debug_struct("Mint")
                .field("email", email)
                .field("ttl", ttl)
                .finish_non_exhaustive(),
        }
    }
}

/// The token in use and how to get the next one.
#[derive(Debug)]
pub struct Tokens {
    credentials: Credentials,
    current: String,
}

impl Tokens {
    /// Takes the given token, or mints the first one.
    pub async fn new(credentials: Credentials) -> Result<Tokens, TermError> {
        let current = match &credentials {
            Credentials::Token(token) => token.trim().to_owned(),
            Credentials::Mint { email, ttl, minter } => mint(minter.as_ref(), email, *ttl).await?,
        };
        Ok(Tokens {
            credentials,
            current,
        })
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// Can a fresh token be had without asking the person?
    pub fn renewable(&self) -> bool {
        matches!(self.credentials, Credentials::Mint { .. })
    }

    /// Mints a fresh token (with `--email`); a given token cannot be renewed.
    pub async fn renew(&mut self) -> Result<String, TermError> {
        match &self.credentials {
            Credentials::Token(_) => Err(TermError::Unauthorized),
            Credentials::Mint { email, ttl, minter } => {
                self.current = mint(minter.as_ref(), email, *ttl).await?;
                Ok(self.current.clone())
            }
        }
    }

    /// How long to wait before renewing a session that expires at `expires_at`: four
    /// fifths of what is left, so a slow mint still lands in time.
    pub fn renew_in(&self, expires_at: DateTime<Utc>) -> Option<Duration> {
        if !self.renewable() {
            return None;
        }
        let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
        Some(left.mul_f64(0.8))
    }
}

async fn mint(minter: &dyn MintTokens, email: &str, ttl: Duration) -> Result<String, TermError> {
    minter
        .mint(email, ttl)
        .await
        .map(|minted| minted.token)
        .map_err(TermError::Mint)
}
