//! Where the session token comes from: given (`--token`, `BANTER_TOKEN`), which lives
//! until it expires, or minted with the root key (`--email`), which the client renews
//! before it expires and after the server refuses it.

use super::error::TermError;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Credentials {
    Token(String),
    Mint { email: String, ttl: Duration },
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
            Credentials::Mint { email, ttl } => mint(email, *ttl).await?,
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
            Credentials::Mint { email, ttl } => {
                self.current = mint(email, *ttl).await?;
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

async fn mint(email: &str, ttl: Duration) -> Result<String, TermError> {
    crate::cli::mint_token(email, ttl)
        .await
        .map(|(token, _)| token)
        .map_err(|e| TermError::Mint(Box::new(e)))
}
