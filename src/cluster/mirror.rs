//! The ClusterMirror: mirrors this node's presence into Redis and carries events between
//! nodes.
//!
//! - **Presence**: whenever the local socket count of a user changes, the `SET_COUNT`
//!   script stores it and, when the user's total crosses zero, publishes the transition.
//!   Every node (this one included) applies presence only from the channel, so all nodes
//!   see the same transitions in the same order.
//! - **Events**: committed changes are published in commit order on one connection (a
//!   queue drained into pipelines) and applied by the other nodes' registries.
//! - **Liveness**: a heartbeat key with a TTL; every beat also reaps nodes whose key
//!   expired, publishing `offline` for their users.
//! - **Outage**: while Redis is unreachable the node keeps serving its own sockets and
//!   `/readyz` says not ready. When the subscriber is back, the mirror *rebuilds*: it
//!   rewrites this node's counts, reloads the online set, and asks every UserActor to
//!   read from Postgres what it missed.

use super::event::{ClusterEvent, Envelope};
use super::scripts;
use crate::actors::registry::{
    ClusterEventReceived, GetLocalCounts, OnlineSetReplaced, PresenceRegistry, ResyncUsers,
};
use crate::domain::User;
use actix::prelude::*;
use bb8_redis::RedisConnectionManager;
use futures_util::StreamExt;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Why a Redis step failed; the mirror logs it and rebuilds once Redis answers again.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("no redis connection available")]
    Pool(#[from] bb8::RunError<redis::RedisError>),
    #[error("the registry is gone")]
    Registry(#[from] MailboxError),
}

/// Key and channel names under this deployment's prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
    pub node: String,
}

impl Keys {
    pub fn new(prefix: &str, node: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
            node: node.to_owned(),
        }
    }
    fn presence(&self, user: &str) -> String {
        format!("{}presence:{user}", self.prefix)
    }
    fn online(&self) -> String {
        format!("{}online", self.prefix)
    }
    fn node_users(&self, node: &str) -> String {
        format!("{}node_users:{node}", self.prefix)
    }
    fn heartbeat(&self, node: &str) -> String {
        format!("{}node:{node}", self.prefix)
    }
    fn nodes(&self) -> String {
        format!("{}nodes", self.prefix)
    }
    pub fn channel(&self) -> String {
        format!("{}events", self.prefix)
    }
}

/// Heroku's Redis speaks TLS with a self-signed certificate: accept it unless the URL
/// already says how to verify.
pub fn client_url(url: &str) -> String {
    if url.starts_with("rediss://") && !url.contains('#') {
        format!("{url}#insecure")
    } else {
        url.to_owned()
    }
}

/// Command: the number of this node's sockets of `user` is now `count`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LocalCountChanged {
    pub user: User,
    pub count: usize,
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

#[derive(Message)]
#[rtype(result = "()")]
enum Subscriber {
    /// (Re)subscribed: rebuild the mirror.
    Subscribed,
    Received(String),
    Lost,
}

#[derive(Message)]
#[rtype(result = "()")]
struct RebuildFinished {
    result: Result<(), ClusterError>,
}

pub struct ClusterMirror {
    keys: Keys,
    client: redis::Client,
    pool: RedisPool,
    registry: Addr<PresenceRegistry>,
    /// Read by `/readyz`.
    healthy: Arc<AtomicBool>,
    publisher: mpsc::UnboundedSender<Outbound>,
    heartbeat_interval: Duration,
    node_ttl: Duration,
    /// A rebuild is running; events wait in `held` so they land after its snapshot.
    rebuilding: bool,
    held: Vec<Envelope>,
    /// A count changed during the rebuild (whose snapshot may miss it): rebuild again.
    dirty: bool,
}

impl ClusterMirror {
    /// Connects lazily: a Redis that is down at start-up is an outage like any other.
    pub fn new(
        url: &str,
        keys: Keys,
        registry: Addr<PresenceRegistry>,
        heartbeat_interval: Duration,
        node_ttl: Duration,
    ) -> Result<(ClusterMirror, Arc<AtomicBool>), ClusterError> {
        let url = client_url(url);
        let client = redis::Client::open(url.as_str())?;
        let manager = RedisConnectionManager::new(url.as_str())?;
        let pool = bb8::Pool::builder()
            .max_size(4)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(manager);
        let healthy = Arc::new(AtomicBool::new(false));
        let (publisher, queue) = mpsc::unbounded_channel();
        actix::spawn(publish_loop(
            client.clone(),
            keys.channel(),
            queue,
            healthy.clone(),
        ));
        Ok((
            ClusterMirror {
                keys,
                client,
                pool,
                registry,
                healthy: healthy.clone(),
                publisher,
                heartbeat_interval,
                node_ttl,
                rebuilding: false,
                held: Vec::new(),
                dirty: false,
            },
            healthy,
        ))
    }

    fn set_unhealthy(&mut self, what: &str, e: &dyn std::error::Error) {
        if self.healthy.swap(false, Ordering::SeqCst) {
            log::error!(
                "cluster mirror lost Redis ({what}): {}",
                crate::error_chain(e)
            );
        }
    }

    fn start_rebuild(&mut self, ctx: &mut Context<Self>) {
        if self.rebuilding {
            self.dirty = true;
            return;
        }
        self.rebuilding = true;
        self.dirty = false;
        let (pool, keys, registry) = (self.pool.clone(), self.keys.clone(), self.registry.clone());
        let ttl = self.node_ttl;
        ctx.spawn(
            rebuild(pool, keys, registry, ttl)
                .into_actor(self)
                .map(|result, _act, ctx| ctx.notify(RebuildFinished { result })),
        );
    }

    fn apply(&mut self, envelope: Envelope) {
        let own = envelope.node == self.keys.node;
        if own && !matches!(envelope.event, ClusterEvent::Presence { .. }) {
            return;
        }
        self.registry.do_send(ClusterEventReceived {
            event: envelope.event,
        });
    }

    fn beat(&mut self, ctx: &mut Context<Self>) {
        // Not in sync (an outage, a failed publish): try again every beat.
        if !self.healthy.load(Ordering::SeqCst) && !self.rebuilding {
            self.start_rebuild(ctx);
        }
        let (pool, keys, ttl) = (self.pool.clone(), self.keys.clone(), self.node_ttl);
        ctx.spawn(heartbeat(pool, keys, ttl).into_actor(self).map(
            |result, act, ctx| match result {
                Ok(true) => {}
                Ok(false) => {
                    // Our heartbeat had expired: other nodes may have reaped us.
                    if act.healthy.load(Ordering::SeqCst) {
                        log::warn!("node {} was reaped while alive; rebuilding", act.keys.node);
                    }
                    act.start_rebuild(ctx);
                }
                Err(e) => act.set_unhealthy("heartbeat", &e),
            },
        ));
    }
}

impl Actor for ClusterMirror {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(crate::actors::LARGE_MAILBOX);
        actix::spawn(subscribe_loop(
            self.client.clone(),
            self.keys.channel(),
            ctx.address(),
        ));
        ctx.run_interval(self.heartbeat_interval, |act, ctx| act.beat(ctx));
    }
}

impl Handler<Subscriber> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: Subscriber, ctx: &mut Self::Context) {
        match msg {
            Subscriber::Subscribed => self.start_rebuild(ctx),
            Subscriber::Received(text) => match serde_json::from_str::<Envelope>(&text) {
                Ok(envelope) if self.rebuilding => self.held.push(envelope),
                Ok(envelope) => self.apply(envelope),
                Err(e) => log::error!("undecodable cluster event: {e}"),
            },
            Subscriber::Lost => {
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
            Ok(()) => {
                if !self.healthy.swap(true, Ordering::SeqCst) {
                    log::info!("cluster mirror of node {} is in sync", self.keys.node);
                }
                self.registry.do_send(ResyncUsers);
            }
            Err(e) => self.set_unhealthy("rebuild", &e),
        }
    }
}

impl Handler<LocalCountChanged> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: LocalCountChanged, ctx: &mut Self::Context) {
        if self.rebuilding {
            self.dirty = true;
        }
        let (pool, keys) = (self.pool.clone(), self.keys.clone());
        ctx.spawn(
            async move { set_count(&pool, &keys, &msg.user, msg.count).await }
                .into_actor(self)
                .map(|result, act, _ctx| {
                    if let Err(e) = result {
                        act.set_unhealthy("presence", &e);
                    }
                }),
        );
    }
}

impl Handler<PublishEvent> for ClusterMirror {
    type Result = ();

    fn handle(&mut self, msg: PublishEvent, _ctx: &mut Self::Context) {
        let envelope = Envelope {
            node: self.keys.node.clone(),
            event: msg.event,
        };
        match serde_json::to_string(&envelope) {
            Ok(text) => {
                let _ = self.publisher.send(Outbound::Event(text));
            }
            Err(e) => log::error!("unencodable cluster event: {e}"),
        }
    }
}

fn envelope(node: &str, user: &User, online: bool) -> String {
    serde_json::to_string(&Envelope {
        node: node.to_owned(),
        event: ClusterEvent::Presence {
            user: user.clone(),
            online,
        },
    })
    .unwrap_or_default()
}

async fn set_count(
    pool: &RedisPool,
    keys: &Keys,
    user: &User,
    count: usize,
) -> Result<i64, ClusterError> {
    let mut conn = pool.get().await?;
    let id = user.id.to_string();
    let json = serde_json::to_string(user).unwrap_or_default();
    let changed = redis::Script::new(scripts::SET_COUNT)
        .key(keys.presence(&id))
        .key(keys.online())
        .key(keys.node_users(&keys.node))
        .arg(&keys.node)
        .arg(count)
        .arg(&id)
        .arg(json)
        .arg(keys.channel())
        .arg(envelope(&keys.node, user, true))
        .arg(envelope(&keys.node, user, false))
        .invoke_async(&mut *conn)
        .await?;
    Ok(changed)
}

async fn reap(pool: &RedisPool, keys: &Keys, dead: &str) -> Result<i64, ClusterError> {
    let mut conn = pool.get().await?;
    let gone = redis::Script::new(scripts::REAP)
        .key(keys.node_users(dead))
        .key(keys.online())
        .key(keys.nodes())
        .arg(dead)
        .arg(&keys.prefix)
        .arg(keys.channel())
        .arg(&keys.node)
        .invoke_async(&mut *conn)
        .await?;
    Ok(gone)
}

/// Renews this node's heartbeat and reaps nodes whose heartbeat expired. Returns false
/// when our own key had expired (we may have been reaped).
async fn heartbeat(pool: RedisPool, keys: Keys, ttl: Duration) -> Result<bool, ClusterError> {
    let mut conn = pool.get().await?;
    let (previous, _, nodes): (Option<String>, i64, Vec<String>) = redis::pipe()
        .cmd("SET")
        .arg(keys.heartbeat(&keys.node))
        .arg("1")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .arg("GET")
        .sadd(keys.nodes(), &keys.node)
        .smembers(keys.nodes())
        .query_async(&mut *conn)
        .await?;
    for node in nodes.iter().filter(|n| **n != keys.node) {
        let alive: bool = redis::cmd("EXISTS")
            .arg(keys.heartbeat(node))
            .query_async(&mut *conn)
            .await?;
        if !alive {
            let gone = reap(&pool, &keys, node).await?;
            log::warn!("node {node} stopped heart-beating; {gone} of its users went offline");
        }
    }
    Ok(previous.is_some())
}

/// Rewrites this node's presence from the registry, reloads the online set, and hands it
/// to the registry.
async fn rebuild(
    pool: RedisPool,
    keys: Keys,
    registry: Addr<PresenceRegistry>,
    ttl: Duration,
) -> Result<(), ClusterError> {
    // Register first, so a node is reapable from its first socket on.
    {
        let mut conn = pool.get().await?;
        let _: () = redis::pipe()
            .cmd("SET")
            .arg(keys.heartbeat(&keys.node))
            .arg("1")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .ignore()
            .sadd(keys.nodes(), &keys.node)
            .ignore()
            .query_async(&mut *conn)
            .await?;
    }
    let local = registry.send(GetLocalCounts).await?;
    let local_ids: HashSet<String> = local.iter().map(|(u, _)| u.id.to_string()).collect();
    let stale: Vec<String> = {
        let mut conn = pool.get().await?;
        redis::cmd("SMEMBERS")
            .arg(keys.node_users(&keys.node))
            .query_async(&mut *conn)
            .await?
    };
    for id in stale.iter().filter(|id| !local_ids.contains(*id)) {
        let Some(user_id) = crate::domain::UserId::parse(id) else {
            continue;
        };
        let json: Option<String> = {
            let mut conn = pool.get().await?;
            redis::cmd("HGET")
                .arg(keys.online())
                .arg(id)
                .query_async(&mut *conn)
                .await?
        };
        let email = json
            .and_then(|j| serde_json::from_str::<User>(&j).ok())
            .map(|u| u.email)
            .unwrap_or_default();
        set_count(&pool, &keys, &User { id: user_id, email }, 0).await?;
    }
    for (user, count) in &local {
        set_count(&pool, &keys, user, *count).await?;
    }
    let online: Vec<(String, String)> = {
        let mut conn = pool.get().await?;
        redis::cmd("HGETALL")
            .arg(keys.online())
            .query_async(&mut *conn)
            .await?
    };
    let users = online
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str::<User>(&json).ok())
        .collect();
    registry.do_send(OnlineSetReplaced { users });
    Ok(())
}

/// The node's one subscriber connection; reconnects with backoff until the mirror stops.
async fn subscribe_loop(client: redis::Client, channel: String, mirror: Addr<ClusterMirror>) {
    let mut backoff = Duration::from_millis(100);
    while mirror.connected() {
        match subscribe(&client, &channel).await {
            Ok(mut pubsub) => {
                backoff = Duration::from_millis(100);
                mirror.do_send(Subscriber::Subscribed);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    if let Ok(text) = message.get_payload::<String>() {
                        mirror.do_send(Subscriber::Received(text));
                    }
                }
                mirror.do_send(Subscriber::Lost);
            }
            Err(e) => {
                log::debug!("subscribe failed: {e}");
                mirror.do_send(Subscriber::Lost);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// What the publishing task is handed, in order.
enum Outbound {
    Event(String),
    /// Answer once everything queued before this is sent (or dropped).
    Flush(oneshot::Sender<()>),
}

/// Publishes queued events in order on one connection, pipelining whatever queued up.
async fn publish_loop(
    client: redis::Client,
    channel: String,
    mut queue: mpsc::UnboundedReceiver<Outbound>,
    healthy: Arc<AtomicBool>,
) {
    let mut pending: Vec<Outbound> = Vec::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        if pending.is_empty() {
            match queue.recv().await {
                Some(item) => pending.push(item),
                None => return,
            }
        }
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(c) => c,
            Err(_) => {
                // Events published while Redis is down are dropped; receivers recover
                // what they missed from Postgres after the rebuild.
                while let Ok(item) = queue.try_recv() {
                    pending.push(item);
                }
                settle(std::mem::take(&mut pending));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        loop {
            while pending.len() < 1024 {
                match queue.try_recv() {
                    Ok(item) => pending.push(item),
                    Err(_) => break,
                }
            }
            if pending.is_empty() {
                match queue.recv().await {
                    Some(item) => pending.push(item),
                    None => return,
                }
                continue;
            }
            let mut pipe = redis::pipe();
            for item in &pending {
                if let Outbound::Event(text) = item {
                    pipe.cmd("PUBLISH").arg(&channel).arg(text).ignore();
                }
            }
            let result: Result<(), redis::RedisError> = pipe.query_async(&mut conn).await;
            settle(std::mem::take(&mut pending));
            if result.is_err() {
                healthy.store(false, Ordering::SeqCst);
                break;
            }
        }
    }
}

/// Answers the flush markers among items that were sent or dropped.
fn settle(items: Vec<Outbound>) {
    for item in items {
        if let Outbound::Flush(done) = item {
            let _ = done.send(());
        }
    }
}

impl Handler<Depart> for ClusterMirror {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: Depart, _ctx: &mut Self::Context) -> Self::Result {
        let (pool, keys) = (self.pool.clone(), self.keys.clone());
        let (done, flushed) = oneshot::channel();
        let _ = self.publisher.send(Outbound::Flush(done));
        Box::pin(async move {
            // What this node committed reaches the others before it goes.
            let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
            let result = async {
                let gone = reap(&pool, &keys, &keys.node).await?;
                let mut conn = pool.get().await?;
                let _: () = redis::cmd("DEL")
                    .arg(keys.heartbeat(&keys.node))
                    .query_async(&mut *conn)
                    .await?;
                Ok::<_, ClusterError>(gone)
            };
            match result.await {
                Ok(gone) => log::info!(
                    "node {} left the cluster; {gone} users went offline",
                    keys.node
                ),
                Err(e) => log::warn!("leaving the cluster: {}", crate::error_chain(&e)),
            }
        })
    }
}
