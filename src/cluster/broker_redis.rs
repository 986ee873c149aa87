//! The event channels over Redis pub/sub: how committed changes and presence transitions
//! travel between nodes. Each node subscribes to the shared channel (`<prefix>events`:
//! presence, and events for everyone or for many) and to its own (`<prefix>events:<node>`):
//! an event for a few people is routed, by the `DELIVER` script, only to the nodes where
//! they have windows, so a node decodes what its windows need and not the deployment's
//! whole traffic (decision 0018).
//!
//! - **Publishing**: one connection, fed by a queue; whatever queued up is sent as one
//!   pipeline, so events leave in the order they were handed over (commit order). The
//!   node's routes (which users have windows here) go the same way, in order with them.
//!   What is handed over while Redis is down is dropped (and counted, `/metrics`'
//!   `banter_cluster_events_dropped_total`): the rebuild rewrites the routes, and
//!   receivers recover what they missed from Postgres. What is handed over while the
//!   task waits to reconnect goes with the next try, which may find Redis back.
//! - **Subscribing**: one connection on both channels; each payload is decoded here and
//!   handed to the mirror as a [`Subscriber`] message, along with (re)subscriptions and
//!   losses, which start and mark a rebuild.
//!
//! Both connections reconnect on their own with backoff (100 ms doubling to 5 s).

use super::error::ClusterError;
use super::event::{Envelope, ROUTED_AUDIENCE_MAX};
use super::keys::Keys;
use super::scripts;
use crate::domain::UserId;
use actix::prelude::*;
use futures_util::StreamExt;
use prometheus::IntCounter;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the subscriber connection tells the mirror, in the order it happened.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) enum Subscriber {
    /// (Re)subscribed: rebuild the mirror, since events may have been missed.
    Subscribed,
    /// An event another node (or a script) published (boxed: envelopes are large).
    Received(Box<Envelope>),
    /// The connection dropped, or could not be made: not in sync until the rebuild.
    Lost,
}

/// The node's one subscriber connection; reconnects with backoff until the mirror stops.
pub(super) async fn subscribe_loop(
    client: redis::Client,
    channels: [String; 2],
    mirror: Recipient<Subscriber>,
    received: IntCounter,
) {
    let mut backoff = Duration::from_millis(100);
    // The first failure of an outage is logged with its cause (a certificate that does
    // not verify, say), the retries only at debug.
    let mut reported = false;
    let forward = |message: redis::Msg| {
        if let Ok(text) = message.get_payload::<String>() {
            match serde_json::from_str::<Envelope>(&text) {
                Ok(envelope) => {
                    received.inc();
                    mirror.do_send(Subscriber::Received(Box::new(envelope)))
                }
                Err(e) => log::error!("undecodable cluster event: {e}"),
            }
        }
    };
    while mirror.connected() {
        match subscribe(&client, &channels).await {
            Ok((mut pubsub, early)) => {
                backoff = Duration::from_millis(100);
                reported = false;
                mirror.do_send(Subscriber::Subscribed);
                early.into_iter().for_each(forward);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    forward(message);
                }
                mirror.do_send(Subscriber::Lost);
            }
            Err(e) if reported => {
                log::debug!("subscribe failed: {e}");
                mirror.do_send(Subscriber::Lost);
            }
            Err(e) => {
                log::warn!(
                    "cluster subscriber is not subscribed: {}",
                    crate::error_chain(&e)
                );
                reported = true;
                mirror.do_send(Subscriber::Lost);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// How long a new subscription may take to hear its own probe.
const PROBE_WAIT: Duration = Duration::from_secs(5);

/// One connection on both channels, so their events arrive in the order Redis ran the
/// publishes; with the events that came before the subscription was proven, in order.
///
/// Proven by a probe: the connection also subscribes to a channel of its own and waits
/// to hear a message published there, since redis-rs answers `Ok` even when Redis
/// refused the `SUBSCRIBE` (a user without it, say), and a node that cannot hear its
/// channels must not take itself for in sync.
async fn subscribe(
    client: &redis::Client,
    channels: &[String; 2],
) -> Result<(redis::aio::PubSub, Vec<redis::Msg>), ClusterError> {
    let mut pubsub = client.get_async_pubsub().await?;
    let probe = format!("{}:probe:{}", channels[1], uuid::Uuid::new_v4());
    pubsub
        .subscribe(&[&channels[0], &channels[1], &probe])
        .await?;
    let mut early = Vec::new();
    let heard = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: () = redis::cmd("PUBLISH")
            .arg(&probe)
            .arg("probe")
            .query_async(&mut conn)
            .await?;
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            if message.get_channel_name() == probe {
                return Ok(());
            }
            early.push(message);
        }
        Err(ClusterError::NotSubscribed)
    };
    match tokio::time::timeout(PROBE_WAIT, heard).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(ClusterError::NotSubscribed),
    }
    // Refused or not, nothing more is published there.
    let _ = pubsub.unsubscribe(&probe).await;
    Ok((pubsub, early))
}

/// The mirror's handle on the publishing connection.
pub(super) struct Publisher {
    /// Drained, in order, by the publishing task.
    queue: mpsc::UnboundedSender<Outbound>,
}

impl Publisher {
    /// Starts the publishing task on a connection of `client`'s; a failed publish marks
    /// the mirror not `healthy` (so the next heartbeat rebuilds), and `dropped` counts
    /// the events it could not send.
    pub(super) fn start(
        client: redis::Client,
        keys: Keys,
        healthy: Arc<AtomicBool>,
        dropped: IntCounter,
    ) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        actix::spawn(publish_loop(client, keys, receiver, healthy, dropped));
        Publisher { queue }
    }

    /// Encodes `envelope` and queues it behind everything handed over before: routed to
    /// the nodes of the people it concerns, or on the shared channel when it concerns
    /// everyone or more than [`ROUTED_AUDIENCE_MAX`] people.
    pub(super) fn publish(&self, envelope: &Envelope) {
        let text = match serde_json::to_string(envelope) {
            Ok(text) => text,
            Err(e) => {
                log::error!("unencodable cluster event: {e}");
                return;
            }
        };
        let item = match envelope.event.audience() {
            Some(people) if people.len() <= ROUTED_AUDIENCE_MAX => Outbound::Routed {
                text,
                audience: people.iter().map(|p| p.to_string()).collect(),
            },
            _ => Outbound::Shared(text),
        };
        let _ = self.queue.send(item);
    }

    /// Changes this node's routes in Redis, in order with everything handed over before.
    /// `done` is answered `true` once Redis has it, `false` if it was dropped (Redis
    /// unreachable: the rebuild that follows rewrites every route, then has every
    /// UserActor catch up).
    pub(super) fn route(&self, change: RouteChange, done: Option<oneshot::Sender<bool>>) {
        let _ = self.queue.send(Outbound::Route { change, done });
    }

    /// Resolves once everything queued before it is sent (or dropped).
    pub(super) fn flush(&self) -> oneshot::Receiver<()> {
        let (done, flushed) = oneshot::channel();
        let _ = self.queue.send(Outbound::Flush(done));
        flushed
    }
}

/// A change of this node's routes: which users' events come here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteChange {
    /// The user's first window here attached.
    Here(UserId),
    /// The user's last window here detached.
    Gone(UserId),
    /// These and no others (a rebuild, after routes may have been lost or gone stale).
    Exactly(Vec<UserId>),
}

/// What the publishing task is handed, in order.
enum Outbound {
    /// For every node, on the shared channel.
    Shared(String),
    /// For the nodes where `audience` (user ids) have windows, through `DELIVER`.
    Routed { text: String, audience: Vec<String> },
    /// This node's routes change.
    Route {
        change: RouteChange,
        done: Option<oneshot::Sender<bool>>,
    },
    /// Answer once everything queued before this is sent (or dropped).
    Flush(oneshot::Sender<()>),
}

/// The longest one pipeline may take before the connection is taken for broken.
const PIPELINE_TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes queued events in order on one connection, pipelining whatever queued up.
async fn publish_loop(
    client: redis::Client,
    keys: Keys,
    mut queue: mpsc::UnboundedReceiver<Outbound>,
    healthy: Arc<AtomicBool>,
    dropped: IntCounter,
) {
    let deliver = redis::Script::new(scripts::DELIVER);
    let replace = redis::Script::new(scripts::REPLACE_ROUTES);
    let mut pending: Vec<Outbound> = Vec::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        if pending.is_empty() {
            match queue.recv().await {
                Some(item) => pending.push(item),
                None => return,
            }
        }
        let connected = async {
            // Redis slow for a moment (past the client's 500 ms default) is not an
            // outage: an event dropped costs every UserActor a catch-up after the
            // rebuild. The pipeline's own timeout below decides.
            let config =
                redis::AsyncConnectionConfig::new().set_response_timeout(Some(PIPELINE_TIMEOUT));
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            // Loaded once per connection: a restarted Redis has lost its scripts, and
            // reaching it again means a new connection.
            let _: String = deliver.prepare_invoke().load_async(&mut conn).await?;
            let _: String = replace.prepare_invoke().load_async(&mut conn).await?;
            Ok::<_, redis::RedisError>(conn)
        };
        let mut conn = match tokio::time::timeout(PIPELINE_TIMEOUT, connected).await {
            Ok(Ok(c)) => c,
            _ => {
                // Dropped while Redis is down; receivers recover what they missed from
                // Postgres after the rebuild, which also rewrites the routes.
                healthy.store(false, Ordering::SeqCst);
                while let Ok(item) = queue.try_recv() {
                    pending.push(item);
                }
                settle(std::mem::take(&mut pending), false, &dropped);
                // What is handed over meanwhile waits for the next try, which may find
                // Redis back: events committed after a receiver's catch-up read must
                // still reach it, and a late one is only a duplicate it drops.
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
            let pipe = pipeline(&pending, &keys, deliver.get_hash(), replace.get_hash());
            let sent = tokio::time::timeout(PIPELINE_TIMEOUT, pipe.query_async::<()>(&mut conn));
            let ok = matches!(sent.await, Ok(Ok(())));
            if !ok {
                healthy.store(false, Ordering::SeqCst);
            }
            settle(std::mem::take(&mut pending), ok, &dropped);
            if !ok {
                break;
            }
        }
    }
}

/// The commands for `items`, in order.
fn pipeline(items: &[Outbound], keys: &Keys, deliver: &str, replace: &str) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    let shared = keys.channel();
    for item in items {
        match item {
            Outbound::Shared(text) => {
                pipe.publish(&shared, text).ignore();
            }
            Outbound::Routed { text, audience } => {
                pipe.cmd("EVALSHA")
                    .arg(deliver)
                    .arg(0)
                    .arg(keys.prefix())
                    .arg(&keys.node)
                    .arg(&shared)
                    .arg(text)
                    .arg(audience)
                    .ignore();
            }
            // The node's own list first when adding, last when removing: a node dying
            // half-way leaves nothing its reaping misses.
            Outbound::Route {
                change: RouteChange::Here(user),
                ..
            } => {
                let user = user.to_string();
                pipe.sadd(keys.node_routes(&keys.node), &user).ignore();
                pipe.sadd(keys.routes(&user), &keys.node).ignore();
            }
            Outbound::Route {
                change: RouteChange::Gone(user),
                ..
            } => {
                let user = user.to_string();
                pipe.srem(keys.routes(&user), &keys.node).ignore();
                pipe.srem(keys.node_routes(&keys.node), &user).ignore();
            }
            Outbound::Route {
                change: RouteChange::Exactly(users),
                ..
            } => {
                let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
                pipe.cmd("EVALSHA")
                    .arg(replace)
                    .arg(0)
                    .arg(keys.prefix())
                    .arg(&keys.node)
                    .arg(users)
                    .ignore();
            }
            Outbound::Flush(_) => {}
        }
    }
    pipe
}

/// Answers the flush markers and route changes among items that were sent (`sent`) or
/// dropped, and counts the events dropped.
fn settle(items: Vec<Outbound>, sent: bool, dropped: &IntCounter) {
    for item in items {
        match item {
            Outbound::Shared(_) | Outbound::Routed { .. } if !sent => dropped.inc(),
            Outbound::Flush(done) => {
                let _ = done.send(());
            }
            Outbound::Route {
                done: Some(done), ..
            } => {
                let _ = done.send(sent);
            }
            _ => {}
        }
    }
}
