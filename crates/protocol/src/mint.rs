//! Session tokens for clients that hold the deployment's root key: an operator's
//! `banter token`, `banter chat --email` and `banter bench`. The `banter` binary
//! implements [`MintTokens`] with its database and key; the terminal client and the load
//! generator are handed one, so they never reach into the server's code.

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A session token minted for one person (created if new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    pub user_id: UserId,
    pub email: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Why minting failed, with its cause.
pub type MintError = Box<dyn std::error::Error + Send + Sync>;

/// A future a minter returns.
pub type MintFuture<'a> = Pin<Box<dyn Future<Output = Result<MintedToken, MintError>> + Send + 'a>>;

/// Mints session tokens by email.
pub trait MintTokens: Send + Sync {
    /// A token for `email` that lives for `ttl`.
    fn mint<'a>(&'a self, email: &'a str, ttl: Duration) -> MintFuture<'a>;
}
