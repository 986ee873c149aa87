//! Session tokens minted with the deployment's root key, as an operator may: `banter
//! token`, and handed to `banter chat --email` and `banter bench` (which, living in their
//! own crates, only see the [`MintTokens`] trait).

use crate::configuration::{self, ConfigError};
use crate::db::{self, DbError, Pool};
use crate::identity::{SessionError, SessionKeys};
use crate::startup;
use banter_protocol::mint::{MintError, MintFuture};
use banter_protocol::{MintTokens, MintedToken};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintFailed {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("database")]
    Database(#[from] DbError),
    #[error("database migrations")]
    Migrations(#[source] DbError),
    #[error("session key")]
    Key(#[source] anyhow::Error),
    #[error("minting")]
    Session(#[from] SessionError),
}

/// Mints tokens for any email (creating the person if new). It reaches the database on
/// the first mint (so a scenario that needs no token needs no database), then keeps the
/// pool and the key for every later one.
#[derive(Default)]
pub struct RootKeyMinter {
    ready: OnceCell<(Pool, SessionKeys)>,
}

impl RootKeyMinter {
    pub fn new() -> Self {
        Self::default()
    }

    async fn ready(&self) -> Result<&(Pool, SessionKeys), MintFailed> {
        self.ready
            .get_or_try_init(|| async {
                let lookup = |k: &str| std::env::var(k).ok();
                let url = configuration::database_url_from(&lookup)?;
                let key = configuration::biscuit_key_from(&lookup)?;
                let pool = db::connect(&url, 4).await?;
                db::migrations::run(&pool)
                    .await
                    .map_err(MintFailed::Migrations)?;
                let keys = startup::session_keys(&pool, key.as_deref())
                    .await
                    .map_err(MintFailed::Key)?;
                Ok((pool, keys))
            })
            .await
    }

    /// A token for `email` that lives for `ttl`.
    pub async fn mint_for(&self, email: &str, ttl: Duration) -> Result<MintedToken, MintFailed> {
        let (pool, keys) = self.ready().await?;
        let user = db::users::find_or_create_by_email(pool, email.trim()).await?;
        let (token, expires_at) = keys.mint(&user, ttl)?;
        Ok(MintedToken {
            user_id: user.id,
            email: user.email,
            token,
            expires_at,
        })
    }
}

impl MintTokens for RootKeyMinter {
    fn mint<'a>(&'a self, email: &'a str, ttl: Duration) -> MintFuture<'a> {
        Box::pin(async move { self.mint_for(email, ttl).await.map_err(MintError::from) })
    }
}
