//! Session tokens minted with the deployment's root key, as an operator may: `banter
//! token`, and handed to `banter chat --email` and `banter bench` (which, living in their
//! own crates, only see the [`MintTokens`] trait).

use crate::configuration::{self, ConfigError};
use crate::db::users::MintTarget;
use crate::db::{self, DbError, Pool};
use crate::domain::{User, UserId};
use crate::identity::{RootKeyError, SessionError, SessionKeys};
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
    Key(#[source] RootKeyError),
    #[error("minting")]
    Session(#[from] SessionError),
    #[error(
        "{} people of {issuer} have the email {email} (user ids {}): refusing to guess; \
         mint for one with `banter token --user-id ID`",
        ids.len(),
        ids.join(", ")
    )]
    SeveralPeople {
        email: String,
        issuer: String,
        ids: Vec<String>,
    },
    #[error(
        "{email} signs in through an identity provider: set OIDC_ISSUER (the server's) so \
         the token is for that person"
    )]
    NeedsIssuer { email: String },
    #[error("no person has the id {0}")]
    NoSuchUser(String),
}

/// Mints tokens for any email (creating the person if new): the person of the configured
/// `OIDC_ISSUER` with that email, else the one `banter token` made for it before. It reaches the database on
/// the first mint (so a scenario that needs no token needs no database), then keeps the
/// pool and the key for every later one.
#[derive(Default)]
pub struct RootKeyMinter {
    ready: OnceCell<Ready>,
}

/// What every mint needs: the pool, the root key, the deployment's issuer.
struct Ready {
    pool: Pool,
    keys: SessionKeys,
    issuer: Option<String>,
}

impl RootKeyMinter {
    pub fn new() -> Self {
        Self::default()
    }

    async fn ready(&self) -> Result<&Ready, MintFailed> {
        self.ready
            .get_or_try_init(|| async {
                let lookup = |k: &str| std::env::var(k).ok();
                let url = configuration::database_url_from(&lookup)?;
                let key = configuration::biscuit_key_from(&lookup)?;
                let issuer = configuration::oidc_issuer_from(&lookup)?;
                let kek = configuration::root_key_encryption_from(&lookup)?;
                let pool = db::connect(&url, 4).await?;
                db::migrations::run(&pool)
                    .await
                    .map_err(MintFailed::Migrations)?;
                let keys = startup::session_keys(&pool, key.as_deref(), kek.as_ref())
                    .await
                    .map_err(MintFailed::Key)?;
                Ok(Ready { pool, keys, issuer })
            })
            .await
    }

    /// A token for `email` that lives for `ttl`.
    pub async fn mint_for(&self, email: &str, ttl: Duration) -> Result<MintedToken, MintFailed> {
        let ready = self.ready().await?;
        let email = email.trim();
        let user = match db::users::mint_target(&ready.pool, ready.issuer.as_deref(), email).await?
        {
            MintTarget::Found(user) => user,
            MintTarget::Several(people) => {
                return Err(MintFailed::SeveralPeople {
                    email: email.to_owned(),
                    issuer: ready.issuer.clone().unwrap_or_default(),
                    ids: people.iter().map(|u| u.id.to_string()).collect(),
                })
            }
            MintTarget::NeedsIssuer => {
                return Err(MintFailed::NeedsIssuer {
                    email: email.to_owned(),
                })
            }
        };
        Self::minted(ready, user, ttl)
    }

    /// A token for the person with this id, whichever provider they sign in with.
    pub async fn mint_for_user(&self, id: &str, ttl: Duration) -> Result<MintedToken, MintFailed> {
        let ready = self.ready().await?;
        let no_such = || MintFailed::NoSuchUser(id.to_owned());
        let id = UserId::parse(id.trim()).ok_or_else(no_such)?;
        let user = db::users::get(&ready.pool, id).await?.ok_or_else(no_such)?;
        Self::minted(ready, user, ttl)
    }

    fn minted(ready: &Ready, user: User, ttl: Duration) -> Result<MintedToken, MintFailed> {
        let (token, expires_at) = ready.keys.mint(&user, ttl)?;
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
