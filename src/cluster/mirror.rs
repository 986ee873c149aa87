//! The ClusterMirror actor: mirrors this node's presence into Redis and carries events
//! between nodes, by wiring the parts of this folder together and handling outages.
//!
//! - **Presence** (`presence_redis.rs`): whenever the local socket count of a user
//!   changes, the `SET_COUNT` script stores it and, when the user's total crosses zero,
//!   publishes the transition.
//! - **Events** (`broker_redis.rs`): committed changes are published in commit order,
//!   routed to the nodes where the people they concern have windows (this node's routes
//!   are kept in Redis from a user's first window here to their last), and applied by
//!   those nodes' registries; what arrives goes to this node's registry (through
//!   `registry_link.rs`).
//! - **Liveness** (`heartbeat.rs`): a heartbeat key with a TTL, renewed every
//!   interval; every beat also reaps nodes whose key expired.
//! - **Outage** (here): while Redis is unreachable the node keeps serving its own sockets
//!   and `/readyz` says not ready. When the subscriber is back, the mirror *rebuilds*: it
//!   rewrites this node's routes and counts, reloads the online set, and asks every UserActor to read
//!   from Postgres what it missed. Events arriving during a rebuild wait until it is done.

use super::broker_redis::{subscribe_loop, Publisher, RouteChange, Subscriber};
use super::error::ClusterError;
use super::event::{ClusterEvent, Envelope};
use super::heartbeat;
use super::keys::Keys;
use super::presence_redis::{self, RedisPool};
use super::registry_link::{
    ClusterEventReceived, GetLocalCounts, OnlineSetReplaced, RegistryLink, ResyncUsers, SendRoutes,
};
use crate::configuration::RedisTls;
use crate::domain::{User, UserId};
use actix::prelude::*;
use bb8_redis::RedisConnectionManager;
use prometheus::IntCounter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a rebuild waits for its rewrite of the node's routes (it queues behind the
/// node's events on the publishing connection, whose pipelines time out after 5 s).
const REPLACE_ROUTES_WAIT: Duration = Duration::from_secs(15);

/// A client for the Redis at `url`. Over TLS (`rediss://`) the server's certificate and
/// name are verified (against the system's roots, or `tls.ca_file`) unless `tls.verify`
/// is off, the explicit opt-out for Heroku Redis's self-signed certificates.
pub fn redis_client(url: &str, tls: &RedisTls) -> Result<redis::Client, ClusterError> {
    if !url.starts_with("rediss://") {
        return Ok(redis::Client::open(url)?);
    }
    if !tls.verify {
        return Ok(redis::Client::open(format!("{url}#insecure"))?);
    }
    match &tls.ca_file {
        None => Ok(redis::Client::open(url)?),
        Some(path) => {
            let root_cert = std::fs::read(path).map_err(|source| ClusterError::CaFile {
                path: path.clone(),
                source,
            })?;
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            };
            Ok(redis::Client::build_with_tls(url, certificates)?)
        }
    }
}

/// Command: the number of this node's sockets of `user` is now `count`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LocalCountChanged {
    pub user: User,
    /// 0 when the user's last socket here closed.
    pub count: usize,
}

/// Command: which users' events are routed to this node changes: a user's first window
/// here attached, their last one left, or (a rebuild) exactly these. Events for a user
/// come here from when Redis has it: `done` is answered then, and the first window's
/// snapshot (and the user's block sets) are read only after it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChangeRoutes {
    pub change: RouteChange,
    /// `true` once Redis has it; `false` (or dropped) if not: then the rebuild that
    /// follows rewrites the routes and every UserActor catches up.
    pub done: Option<tokio::sync::oneshot::Sender<bool>>,
}

/// Command: tell the other nodes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishEvent {
    pub event: ClusterEvent,
}

/// Command: this node is leaving; remove its sockets from the mirror now rather than
/// when its heartbeat expires.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Depart;

/// Internal: a rebuild ended; held events are applied, and the mirror is in sync unless
/// it failed (or a count changed meanwhile, which rebuilds again).
#[derive(Message)]
#[rtype(result = "()")]
struct RebuildFinished {
    /// Failed: still not in sync; the next heartbeat tries again.
    result: Result<(), ClusterError>,
}

/// One per node (with `REDIS_URL`): the node's presence in Redis and its end of the
/// event channel.
pub struct ClusterMirror {
    /// Names in Redis, and this node's id (to recognise its own events).
    keys: Keys,
    /// Opens the subscriber connection (the publisher has its own, from the same client).
    client: redis::Client,
    /// Connections for presence, the heartbeat and the rebuild.
    pool: RedisPool,
    /// Where events and reloaded presence go, and where the local counts come from.
    registry: RegistryLink,
    /// Read by `/readyz`.
    healthy: Arc<AtomicBool>,
    /// Sends events in the order handed over, on a connection of its own.
    publisher: Publisher,
    /// How often the heartbeat is renewed (and dead nodes looked for).
    heartbeat_interval: Duration,
    /// How long the heartbeat key lives unless renewed.
    node_ttl: Duration,
    /// The subscriber connection is subscribed to both channels. Without it events for
    /// this node are missed, so the mirror is not in sync whatever else succeeds, and a
    /// rebuild waits for it (its `Subscribed` starts one).
    subscribed: bool,
    /// A rebuild is running; events wait in `held` so they land after its snapshot.
    rebuilding: bool,
    /// Events received during the rebuild, applied when it ends, in arrival order.
    held: Vec<Envelope>,
    /// A count changed during the rebuild (whose snapshot may miss it): rebuild again.
    dirty: bool,
    /// The failure keeping the mirror out of sync has been logged (once per outage,
    /// including one from the very start, such as a certificate that does not verify).
    failure_logged: bool,
    /// Counts changed since the last presence write was sent, the latest per user:
    /// written together when the write in flight ends, so a connect storm's thousands
    /// of arrivals are a few pipelines rather than one pool checkout each.
    counts_pending: HashMap<UserId, (User, usize)>,
    /// A presence write is in flight (at most one: batches land in order).
    counts_writing: bool,
    /// Counts the events the subscriber decodes, routed or shared (`/metrics`).
    received: IntCounter,
    /// The node left the cluster (shutting down): no more heartbeats, rebuilds or
    /// presence and routes, which would register it again for the others to reap.
    /// Shared with a beat or rebuild in flight, which stops at its next step.
    departed: Arc<AtomicBool>,
}

/// The mirror's counters on `/metrics`.
pub struct ClusterCounters {
    /// Events the subscriber decodes, routed or shared.
    pub received: IntCounter,
    /// Events this node committed but could not hand to Redis (an outage): their
    /// receivers read them from Postgres once Redis is back.
    pub dropped: IntCounter,
}

impl ClusterMirror {
    /// Connects lazily: a Redis that is down at start-up is an outage like any other.
    /// `registry` is the node's PresenceRegistry (its address, or a [`RegistryLink`]).
    pub fn new(
        url: &str,
        tls: &RedisTls,
        keys: Keys,
        registry: impl Into<RegistryLink>,
        heartbeat_interval: Duration,
        node_ttl: Duration,
        counters: ClusterCounters,
    ) -> Result<(ClusterMirror, Arc<AtomicBool>), ClusterError> {
        let client = redis_client(url, tls)?;
        let manager = RedisConnectionManager::new(client.get_connection_info().clone())?;
        let pool = bb8::Pool::builder()
            .max_size(3)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(manager);
        let healthy = Arc::new(AtomicBool::new(false));
        let publisher = Publisher::start(
            client.clone(),
            keys.clone(),
            healthy.clone(),
            counters.dropped,
        );
        Ok((
            ClusterMirror {
                keys,
                client,
                pool,
                registry: registry.into(),
                healthy: healthy.clone(),
                publisher,
                heartbeat_interval,
                node_ttl,
                subscribed: false,
                rebuilding: false,
                held: Vec::new(),
                dirty: false,
                failure_logged: false,
                counts_pending: HashMap::new(),
                counts_writing: false,
                received: counters.received,
                departed: Arc::new(AtomicBool::new(false)),
            },
            healthy,
        ))
    }

    fn set_unhealthy(&mut self, what: &str, e: &dyn std::error::Error) {
        let was_healthy = self.healthy.swap(false, Ordering::SeqCst);
        if was_healthy || !self.failure_logged {
            self.failure_logged = true;
            log::error!(
                "cluster mirror lost Redis ({what}): {}",
                crate::error_chain(e)
            );
        }
    }

    fn start_rebuild(&mut self, ctx: &mut Context<Self>) {
        if self.departed.load(Ordering::SeqCst) {
            return;
        }
        if self.rebuilding {
            self.dirty = true;
            return;
        }
        self.rebuilding = true;
        self.dirty = false;
        let (pool, keys, registry) = (self.pool.clone(), self.keys.clone(), self.registry.clone());
        let (ttl, departed) = (self.node_ttl, self.departed.clone());
        ctx.spawn(
            rebuild(pool, keys, registry, ttl, departed)
                .into_actor(self)
                .map(|result, _act, ctx| ctx.notify(RebuildFinished { result })),
        );
    }

    fn apply(&mut self, envelope: Envelope) {
        let own = envelope.node == self.keys.node;
        if own && !matches!(envelope.event, ClusterEvent::Presence { .. }) {
            return;
        }
        self.registry.events.do_send(ClusterEventReceived {
            event: envelope.event,
        });
    }

    fn beat(&mut self, ctx: &mut Context<Self>) {
        if self.departed.load(Ordering::SeqCst) {
            return;
        }
        // Not in sync (an outage, a failed publish): try again every beat, once the
        // subscriber is back (until then events for this node would still be missed).
        if !self.healthy.load(Ordering::SeqCst) && !self.rebuilding && self.subscribed {
            self.start_rebuild(ctx);
        }
        let (pool, keys, ttl) = (self.pool.clone(), self.keys.clone(), self.node_ttl);
        let departed = self.departed.clone();
        ctx.spawn(
            heartbeat::beat(pool, keys, ttl, departed)
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(true) => {}
                    Ok(false) => {
                        // Our heartbeat had expired: other nodes may have reaped us.
                        if act.healthy.load(Ordering::SeqCst) {
                            log::warn!("node {} was reaped while alive; rebuilding", act.keys.node);
                        }
                        act.start_rebuild(ctx);
                    }
                    Err(e) => act.set_unhealthy("heartbeat", &e),
                }),
        );
    }
}

/// Rewrites this node's presence from the registry, reloads the online set, and hands it
/// to the registry.
async fn rebuild(
    pool: RedisPool,
    keys: Keys,
    registry: RegistryLink,
    ttl: Duration,
    departed: Arc<AtomicBool>,
) -> Result<(), ClusterError> {
    // Each step first checks the node has not left meanwhile (it would register again).
    let left = || departed.load(Ordering::SeqCst);
    if left() {
        return Ok(());
    }
    // Register first, so a node is reapable from its first socket on.
    heartbeat::register(&pool, &keys, ttl).await?;
    let (done, replaced) = tokio::sync::oneshot::channel();
    registry.routes.send(SendRoutes { done }).await?;
    match tokio::time::timeout(REPLACE_ROUTES_WAIT, replaced).await {
        Ok(Ok(true)) => {}
        _ if left() => return Ok(()),
        _ => return Err(ClusterError::RoutesNotReplaced),
    }
    if left() {
        return Ok(());
    }
    let local = registry.counts.send(GetLocalCounts).await?;
    presence_redis::rewrite_counts(&pool, &keys, &local).await?;
    let users = presence_redis::online_users(&pool, &keys).await?;
    registry.online.do_send(OnlineSetReplaced { users });
    Ok(())
}

impl Actor for ClusterMirror {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(crate::actors::LARGE_MAILBOX);
        actix::spawn(subscribe_loop(
            self.client.clone(),
            [self.keys.channel(), self.keys.node_channel(&self.keys.node)],
            ctx.address().recipient(),
            self.received.clone(),
        ));
        ctx.run_interval(self.heartbeat_interval, |act, ctx| act.beat(ctx));
    }
}

impl Handler<Subscriber> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: Subscriber, ctx: &mut Self::Context) {
        match msg {
            Subscriber::Subscribed => {
                self.subscribed = true;
                self.start_rebuild(ctx);
            }
            Subscriber::Received(envelope) if self.rebuilding => self.held.push(*envelope),
            Subscriber::Received(envelope) => self.apply(*envelope),
            Subscriber::Lost => {
                self.subscribed = false;
                if self.healthy.swap(false, Ordering::SeqCst) {
                    log::error!("cluster subscriber lost its Redis connection");
                }
            }
        }
    }
}

impl Handler<RebuildFinished> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: RebuildFinished, ctx: &mut Self::Context) {
        self.rebuilding = false;
        for envelope in std::mem::take(&mut self.held) {
            self.apply(envelope);
        }
        match msg.result {
            Ok(()) if self.dirty => self.start_rebuild(ctx),
            // The subscriber dropped meanwhile: its `Subscribed` rebuilds again.
            Ok(()) if !self.subscribed => {}
            Ok(()) => {
                if !self.healthy.swap(true, Ordering::SeqCst) {
                    log::info!("cluster mirror of node {} is in sync", self.keys.node);
                }
                self.failure_logged = false;
                self.registry.resync.do_send(ResyncUsers);
            }
            Err(e) => self.set_unhealthy("rebuild", &e),
        }
    }
}

impl Handler<LocalCountChanged> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: LocalCountChanged, ctx: &mut Self::Context) {
        if self.departed.load(Ordering::SeqCst) {
            return;
        }
        if self.rebuilding {
            self.dirty = true;
        }
        self.counts_pending
            .insert(msg.user.id, (msg.user, msg.count));
        self.write_counts(ctx);
    }
}

impl ClusterMirror {
    /// Sends the pending counts in one batch, unless a batch is in flight (its end sends
    /// the next). A batch that fails is dropped: the node is out of sync, and the rebuild
    /// that ends the outage rewrites every count from the registry.
    fn write_counts(&mut self, ctx: &mut Context<Self>) {
        if self.counts_writing || self.counts_pending.is_empty() {
            return;
        }
        self.counts_writing = true;
        let batch: Vec<(User, usize)> = self.counts_pending.drain().map(|(_, c)| c).collect();
        let (pool, keys) = (self.pool.clone(), self.keys.clone());
        ctx.spawn(
            async move { presence_redis::set_counts(&pool, &keys, &batch).await }
                .into_actor(self)
                .map(|result, act, ctx| {
                    act.counts_writing = false;
                    if let Err(e) = result {
                        act.set_unhealthy("presence", &e);
                    }
                    if !act.departed.load(Ordering::SeqCst) {
                        act.write_counts(ctx);
                    }
                }),
        );
    }
}

impl Handler<ChangeRoutes> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: ChangeRoutes, _ctx: &mut Self::Context) {
        let ChangeRoutes { change, mut done } = msg;
        if self.departed.load(Ordering::SeqCst) {
            // Answered (by dropping `done`): nothing is routed here any more.
            return;
        }
        // Out of sync, a rebuild will rewrite every route and have every UserActor
        // catch up: a window that is opening need not wait for Redis meanwhile.
        if matches!(change, RouteChange::Here(_)) && !self.healthy.load(Ordering::SeqCst) {
            if let Some(done) = done.take() {
                let _ = done.send(false);
            }
        }
        self.publisher.route(change, done);
    }
}

impl Handler<PublishEvent> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: PublishEvent, _ctx: &mut Self::Context) {
        self.publisher.publish(&Envelope {
            node: self.keys.node.clone(),
            event: msg.event,
        });
    }
}

impl Handler<Depart> for ClusterMirror {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: Depart, _ctx: &mut Self::Context) -> Self::Result {
        self.departed.store(true, Ordering::SeqCst);
        let (pool, keys) = (self.pool.clone(), self.keys.clone());
        let flushed = self.publisher.flush();
        Box::pin(async move {
            // What this node committed reaches the others before it goes.
            let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
            match heartbeat::leave(&pool, &keys).await {
                Ok(gone) => log::info!(
                    "node {} left the cluster; {gone} users went offline",
                    keys.node
                ),
                Err(e) => log::warn!("leaving the cluster: {}", crate::error_chain(&e)),
            }
        })
    }
}
