//! Wires the application together: pool, migrations, keys, actors, HTTP server.
//! Every dependency is built here and passed down explicitly.

use crate::actors::persist::PersistActor;
use crate::actors::registry::PresenceRegistry;
use crate::chat::Chat;
use crate::configuration::Settings;
use crate::db::{self, Pool};
use crate::identity::{OidcVerifier, SessionKeys};
use crate::metrics::Metrics;
use crate::routes::{self, AppState};
use actix::prelude::*;
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context as _;
use std::net::TcpListener;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

/// The session-token root key: configured, or generated once and shared via Postgres.
pub async fn session_keys(pool: &Pool, configured: Option<&str>) -> anyhow::Result<SessionKeys> {
    let bytes = match configured {
        Some(hex_key) => hex::decode(hex_key).context("BISCUIT_PRIVATE_KEY is not hex")?,
        None => db::keys::root_key_or_store(pool, &SessionKeys::generate_private_bytes())
            .await
            .context("reading the shared session key from Postgres")?,
    };
    SessionKeys::from_private_bytes(&bytes).context("the session root key is malformed")
}

/// The actors: PersistActor and PresenceRegistry know each other (committed writes flow
/// back to the registry), so they are made together; the chat service holds both.
pub fn start_actors(
    pool: Pool,
    settings: &Settings,
    metrics: Metrics,
) -> (Addr<PresenceRegistry>, Chat) {
    let limits = Arc::new(settings.limits.clone());
    let mut chat_out = None;
    let registry = PresenceRegistry::create(|ctx| {
        let persist = PersistActor::new(
            pool.clone(),
            ctx.address().recipient(),
            limits.max_commit_batch,
            metrics.clone(),
        )
        .start();
        let chat = Chat::new(pool.clone(), persist, ctx.address(), limits.clone());
        chat_out = Some(chat.clone());
        PresenceRegistry::new(pool, chat, limits.max_windows_per_user, metrics)
    });
    let chat = chat_out.expect("set by the registry's constructor");
    (registry, chat)
}

impl Application {
    /// Connects, migrates, starts the actors and binds the port. Must run inside an
    /// actix system (`#[actix_web::main]` or `#[actix_web::test]`).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let pool = db::connect(&settings.database_url, settings.database_pool_size)
            .await
            .context("configuring the Postgres pool")?;
        let applied = db::migrations::run(&pool)
            .await
            .context("applying migrations")?;
        if applied > 0 {
            log::info!("applied {applied} migrations");
        }
        let keys = Arc::new(session_keys(&pool, settings.biscuit_private_key.as_deref()).await?);
        let metrics = Metrics::new();
        let (registry, chat) = start_actors(pool, &settings, metrics.clone());
        {
            let chat = chat.clone();
            actix::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    chat.forget_idle_rate_limits();
                }
            });
        }
        let oidc = Arc::new(OidcVerifier::new(
            settings.oidc.issuer.clone(),
            settings.oidc.audience.clone(),
        ));
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        log::info!(
            "node {} listening on {}:{port}",
            settings.node_id,
            settings.host
        );
        let static_dir = settings.static_dir.clone();
        let state = web::Data::new(AppState {
            limits: Arc::new(settings.limits.clone()),
            settings: Arc::new(settings),
            chat,
            registry,
            keys,
            oidc,
            metrics,
            next_window: AtomicU64::new(1),
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::Logger::new("%{r}a \"%r\" %s %b %Dms"))
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(64 * 1024)
                        .error_handler(|err, _req| routes::error::bad_request(err)),
                )
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|err, _req| routes::error::bad_request(err)),
                )
                .configure(|cfg| routes::configure(cfg, &static_dir))
        })
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
