//! Wires the application together: pool, migrations, keys, actors, HTTP server.
//! Every dependency is built here and passed down explicitly.

use crate::actors::admission::ConnectGate;
use crate::actors::outbound::ConnectionFd;
use crate::actors::persist::{Drain, PersistActor};
use crate::actors::registry::{CloseAllWindows, ClusterLink, FinishPublishing, PresenceRegistry};
use crate::chat::{self, Chat, SharedAllowances};
use crate::cluster::mirror::Depart;
use crate::cluster::{ClusterCounters, ClusterMirror, Keys, RedisAllowances};
use crate::configuration::Settings;
use crate::db::{self, Pool};
use crate::identity::{KeyEncryptionKey, OidcVerifier, RootKeyError, SessionKeys, TokenVerifier};
use crate::metrics::Metrics;
use crate::protocol::close;
use crate::routes::{self, AppState};
use actix::prelude::*;
use actix_server::Server;
use actix_web::{middleware, web, App};
use anyhow::Context as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    shutdown: Shutdown,
    /// From SIGTERM to exit, at most (`SHUTDOWN_TIMEOUT_MS`).
    shutdown_timeout: Duration,
}

/// The session-token root key: configured, or generated once and shared via Postgres,
/// sealed with `kek` there (identity/root_key.rs).
pub async fn session_keys(
    pool: &Pool,
    configured: Option<&str>,
    kek: Option<&KeyEncryptionKey>,
) -> Result<SessionKeys, RootKeyError> {
    crate::identity::root_key::load(pool, configured, kek).await
}

/// The running actors, and what the routes need of them.
pub struct Actors {
    pub registry: Addr<PresenceRegistry>,
    pub chat: Chat,
    /// `Some` in a cluster: whether the Redis mirror is in sync (for `/readyz`).
    pub cluster_health: Option<Arc<AtomicBool>>,
    /// What a graceful shutdown has to drain.
    pub shutdown: Shutdown,
    /// Admits new windows a bounded number at a time.
    pub connect_gate: Arc<ConnectGate>,
}

/// The steps of a graceful shutdown (SIGTERM on every deploy and daily restart).
#[derive(Clone)]
pub struct Shutdown {
    registry: Addr<PresenceRegistry>,
    persist: Addr<PersistActor>,
    mirror: Option<Addr<ClusterMirror>>,
    /// Closed first, so windows still queued leave with 1012 and none is admitted after.
    connect_gate: Arc<ConnectGate>,
}

impl Shutdown {
    /// Closes every socket with 1012 (clients reconnect, to another node), commits every
    /// queued write, and takes this node out of the cluster.
    pub async fn drain(&self) {
        self.connect_gate.close();
        let _ = self
            .registry
            .send(CloseAllWindows {
                code: close::RESTARTING,
                reason: "server restarting; reconnect",
            })
            .await;
        let _ = self.persist.send(Drain).await;
        // The drain's writes reach the mirror before it departs (and flushes).
        let _ = self.registry.send(FinishPublishing).await;
        if let Some(mirror) = &self.mirror {
            let _ = mirror.send(Depart).await;
        }
    }
}

/// Starts the actors, each on what it calls ready before it. Those below the
/// PresenceRegistry (the PersistActor, the chat service and so the UserActors, the
/// ClusterMirror) send committed writes, typing, detaches and cluster events up to it,
/// so the registry's address is taken first and it runs last, once it has all of them.
pub fn start_actors(pool: Pool, settings: &Settings, metrics: Metrics) -> anyhow::Result<Actors> {
    let limits = Arc::new(settings.limits.clone());
    let registry_context = Context::<PresenceRegistry>::new();
    let registry = registry_context.address();
    // The PersistActor gets a thread of its own: its transaction's round trips to
    // Postgres are then answered at once instead of waiting behind the delivery work
    // (registry, UserActors) of the batch before, so commits and deliveries overlap.
    let persist = {
        let (pool, committed) = (pool.clone(), registry.clone().recipient());
        let (max_batch, metrics) = (limits.max_commit_batch, metrics.clone());
        let timeout = settings.write_statement_timeout;
        PersistActor::start_in_arbiter(&Arbiter::new().handle(), move |_| {
            PersistActor::new(pool, committed, max_batch, metrics).statement_timeout(timeout)
        })
    };
    let shared_allowances: Option<Arc<dyn SharedAllowances>> = match &settings.redis_url {
        Some(url) => Some(Arc::new(
            RedisAllowances::new(
                url,
                &settings.redis_tls,
                Keys::new(&settings.redis_key_prefix, &settings.node_id),
            )
            .context("REDIS_URL is not usable")?,
        )),
        None => None,
    };
    let chat = Chat::new(
        pool.clone(),
        db::snapshot::reader(pool.clone()),
        persist.clone(),
        chat::RegistryLink {
            typing: registry.clone().recipient(),
            online: registry.clone().recipient(),
            pages: registry.clone().recipient(),
        },
        limits.clone(),
        shared_allowances,
    );
    let cluster = match &settings.redis_url {
        Some(url) => {
            let keys = Keys::new(&settings.redis_key_prefix, &settings.node_id);
            let (mirror, healthy) = ClusterMirror::new(
                url,
                &settings.redis_tls,
                keys,
                registry.clone(),
                settings.heartbeat_interval,
                settings.node_ttl,
                ClusterCounters {
                    received: metrics.cluster_events_received.clone(),
                    dropped: metrics.cluster_events_dropped.clone(),
                },
            )
            .context("REDIS_URL is not usable")?;
            Some((mirror.start(), healthy))
        }
        None => None,
    };
    let mut presence = PresenceRegistry::new(
        db::blocks::block_set_reader(pool),
        chat.clone(),
        limits.max_windows_per_user,
        metrics.clone(),
    );
    if let Some((mirror, _)) = &cluster {
        presence = presence.with_cluster(ClusterLink {
            counts: mirror.clone().recipient(),
            events: mirror.clone().recipient(),
            routes: mirror.clone().recipient(),
        });
    }
    registry_context.run(presence);
    let (mirror, cluster_health) = cluster.unzip();
    let connect_gate = ConnectGate::new(
        settings.limits.connect_gate,
        settings.limits.max_windows_per_user,
        metrics.clone(),
    );
    Ok(Actors {
        shutdown: Shutdown {
            registry: registry.clone(),
            persist,
            mirror,
            connect_gate: connect_gate.clone(),
        },
        connect_gate,
        registry,
        chat,
        cluster_health,
    })
}

impl Application {
    /// Connects, migrates, starts the actors and binds the port. Must run inside an
    /// actix system (`#[actix_web::main]` or `#[actix_web::test]`).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let pool = db::connect_with(
            &settings.database_url,
            settings.database_pool_size,
            settings.statement_timeout,
        )
        .await
        .context("configuring the Postgres pool")?;
        let applied = db::migrations::run(&pool)
            .await
            .context("applying migrations")?;
        if applied > 0 {
            log::info!("applied {applied} migrations");
        }
        let keys = Arc::new(
            session_keys(
                &pool,
                settings.biscuit_private_key.as_deref(),
                settings.root_key_encryption.as_ref(),
            )
            .await?,
        );
        let metrics = Metrics::new();
        let Actors {
            registry,
            chat,
            cluster_health,
            shutdown,
            connect_gate,
        } = start_actors(pool, &settings, metrics.clone())?;
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
        if let Some(retention) = settings.retention {
            crate::retention::start(chat.pool.clone(), retention);
        }
        let oidc = Arc::new(OidcVerifier::new(
            settings.oidc.issuer.clone(),
            settings.oidc.audience.clone(),
            settings.oidc.email_verified,
        ));
        check_identity_provider(&oidc, &settings.oidc.issuer).await?;
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        log::info!(
            "node {} listening on {}:{port}",
            settings.node_id,
            settings.host
        );
        let static_dir = settings.static_dir.clone();
        let shutdown_timeout = settings.shutdown_timeout;
        let csp = routes::headers::content_security_policy(&settings);
        let state = web::Data::new(AppState {
            connect_gate,
            limits: Arc::new(settings.limits.clone()),
            settings: Arc::new(settings),
            chat,
            registry,
            cluster_health,
            tokens: TokenVerifier::start(keys.clone()),
            keys,
            oidc,
            metrics,
            next_window: AtomicU64::new(1),
            clock: governor::clock::DefaultClock::default(),
        });
        let app = move || {
            App::new()
                .wrap(middleware::from_fn(routes::allow::with_allow_header))
                .wrap(middleware::from_fn(routes::headers::hsts))
                .wrap(routes::headers::defaults(&csp))
                // Outermost: the access log sees the final status, and the request id is
                // set before anything else runs.
                .wrap(middleware::from_fn(routes::request_log::with_request_log))
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
        };
        let address = listener.local_addr()?;
        let server = Server::build()
            // In-flight requests get what is left of the shutdown's budget, at most 10 s.
            .shutdown_timeout(shutdown_timeout.as_secs().clamp(1, 10))
            .disable_signals()
            .listen("banter", listener, move || {
                http_service(app.clone(), address)
            })?
            .run();
        Ok(Application {
            port,
            server,
            shutdown,
            shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: stop accepting, close
    /// every socket with 1012, commit what is queued, leave the cluster, finish in-flight
    /// requests, return. Whatever hangs, the process exits (0) once `SHUTDOWN_TIMEOUT_MS`
    /// has passed since the signal: every write acknowledged by then is committed, and
    /// the clients of the others resend them with their client ids elsewhere.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (shutdown, budget) = (self.shutdown, self.shutdown_timeout);
        actix::spawn(async move {
            if let Err(e) = stop_signal().await {
                log::error!("cannot listen for signals: {e}");
                return;
            }
            log::info!(
                "shutting down within {budget:?}: closing sockets with 1012 and committing \
                 queued writes"
            );
            exit_after(budget);
            handle.pause().await;
            // The drain gets most of the budget; the rest lets in-flight requests finish.
            let draining = budget.mul_f64(0.8);
            if tokio::time::timeout(draining, shutdown.drain())
                .await
                .is_err()
            {
                log::warn!("draining did not finish within {draining:?}");
            }
            handle.stop(true).await;
        });
        self.server.await?;
        log::info!("stopped");
        Ok(())
    }
}

/// Fetches the provider's discovery and keys before serving: a wrong `OIDC_ISSUER`
/// stops start-up with one line naming it; a provider that cannot be reached is retried
/// in the background (with backoff, up to a minute apart), and sign-ins meanwhile fetch
/// what they need themselves.
async fn check_identity_provider(oidc: &Arc<OidcVerifier>, issuer: &str) -> anyhow::Result<()> {
    match oidc.check_provider().await {
        Ok(true) => {
            log::info!("identity provider {issuer} ready");
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "OIDC_ISSUER={issuer} is not this provider's issuer"
        ))),
        Ok(false) => {
            log::warn!(
                "identity provider {issuer} unreachable at start-up: serving, and retrying \
                 it in the background"
            );
            let oidc = oidc.clone();
            let issuer = issuer.to_owned();
            actix_web::rt::spawn(async move {
                let mut wait = Duration::from_secs(1);
                loop {
                    tokio::time::sleep(wait).await;
                    match oidc.check_provider().await {
                        Ok(true) => {
                            log::info!("identity provider {issuer} reached");
                            return;
                        }
                        Err(e) => {
                            log::error!("OIDC_ISSUER={issuer} is not this provider's issuer: {e}");
                            return;
                        }
                        Ok(false) => wait = (wait * 2).min(Duration::from_secs(60)),
                    }
                }
            });
            Ok(())
        }
    }
}

/// The shutdown's backstop: a thread of its own (so a blocked runtime cannot hold it up)
/// that ends the process at the deadline if the graceful path has not.
fn exit_after(deadline: Duration) {
    let spawned = std::thread::Builder::new()
        .name("shutdown-deadline".into())
        .spawn(move || {
            std::thread::sleep(deadline);
            log::warn!(
                "shutdown deadline ({deadline:?}) reached: exiting now; unacknowledged \
                 writes are resent by their clients"
            );
            std::process::exit(0);
        });
    if let Err(e) = spawned {
        log::error!("cannot start the shutdown deadline: {e}");
    }
}

/// Resolves on SIGTERM (Heroku's stop signal) or SIGINT (Ctrl-C).
async fn stop_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

/// What `HttpServer` would build for each worker, with one addition: requests asking for
/// an upgrade go to [`routes::upgrade`], which answers them with the same App and, for a
/// socket, takes the connection out of the HTTP/1 dispatcher (decision 0029). Timeouts are
/// `HttpServer`'s defaults.
fn http_service<F, T, B>(
    app: F,
    address: std::net::SocketAddr,
) -> impl actix_service::ServiceFactory<
    actix_web::rt::net::TcpStream,
    Config = (),
    Response = (),
    Error = actix_http::error::DispatchError,
    InitError = (),
>
where
    F: Fn() -> App<T> + Clone + 'static,
    T: actix_service::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    use actix_service::{
        fn_factory, fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt,
    };
    use actix_web::dev::AppConfig;
    // The host and address requests without a Host header are taken to be for.
    let config = AppConfig::default();
    let upgrade_app = app.clone();
    let upgrade_config = config.clone();
    let upgrade = fn_factory(move || {
        let factory = upgrade_app().into_factory();
        let config = upgrade_config.clone();
        async move {
            let app = std::rc::Rc::new(factory.new_service(config).await?);
            Ok::<_, ()>(fn_service(move |(req, framed)| {
                let app = app.clone();
                async move {
                    routes::upgrade::serve(app, req, framed).await;
                    Ok::<_, std::convert::Infallible>(())
                }
            }))
        }
    });
    let pages = app()
        .into_factory()
        .map_err(|err: actix_web::Error| err.error_response());
    actix_http::HttpService::build()
        .keep_alive(actix_http::KeepAlive::default())
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .local_addr(address)
        .on_connect_ext(
            |io: &actix_web::rt::net::TcpStream, data: &mut actix_web::dev::Extensions| {
                on_connect(io, data)
            },
        )
        .upgrade(upgrade)
        .finish(map_config(pages, move |()| config.clone()))
        .tcp()
}

/// On every accepted connection: turns off Nagle's algorithm (chat frames are small and
/// latency-bound, and a frame written in two parts, as large frames go out in slices,
/// must not wait for the peer's delayed ACK, 40 ms, before its tail leaves), and keeps
/// the connection's descriptor so a socket that stops reading can be cut
/// (`actors/outbound.rs`).
fn on_connect(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    use std::os::fd::AsRawFd;
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = stream.set_nodelay(true) {
            log::debug!("could not set TCP_NODELAY: {e}");
        }
        data.insert(ConnectionFd(stream.as_raw_fd()));
    }
}
