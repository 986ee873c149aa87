//! The event channel (`<prefix>events`) over Redis pub/sub: how committed changes and
//! presence transitions travel between nodes.
//!
//! - **Publishing**: one connection, fed by a queue; whatever queued up is sent as one
//!   pipeline, so events leave in the order they were handed over (commit order).
//!   Events handed over while Redis is down are dropped: receivers recover what they
//!   missed from Postgres after the rebuild.
//! - **Subscribing**: one connection; each payload is decoded here and handed to the
//!   mirror as a [`Subscriber`] message, along with (re)subscriptions and losses, which
//!   start and mark a rebuild.
//!
//! Both connections reconnect on their own with backoff (100 ms doubling to 5 s).

use super::event::Envelope;
use actix::prelude::*;
use futures_util::StreamExt;
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
    channel: String,
    mirror: Recipient<Subscriber>,
) {
    let mut backoff = Duration::from_millis(100);
    // The first failure of an outage is logged with its cause (a certificate that does
    // not verify, say), the retries only at debug.
    let mut reported = false;
    while mirror.connected() {
        match subscribe(&client, &channel).await {
            Ok(mut pubsub) => {
                backoff = Duration::from_millis(100);
                reported = false;
                mirror.do_send(Subscriber::Subscribed);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    if let Ok(text) = message.get_payload::<String>() {
                        match serde_json::from_str::<Envelope>(&text) {
                            Ok(envelope) => {
                                mirror.do_send(Subscriber::Received(Box::new(envelope)))
                            }
                            Err(e) => log::error!("undecodable cluster event: {e}"),
                        }
                    }
                }
                mirror.do_send(Subscriber::Lost);
            }
            Err(e) if reported => {
                log::debug!("subscribe failed: {e}");
                mirror.do_send(Subscriber::Lost);
            }
            Err(e) => {
                log::warn!(
                    "cluster subscriber cannot reach Redis: {}",
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

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// The mirror's handle on the publishing connection.
pub(super) struct Publisher {
    /// Drained, in order, by the publishing task.
    queue: mpsc::UnboundedSender<Outbound>,
}

impl Publisher {
    /// Starts the publishing task on a connection of `client`'s; a failed publish marks
    /// the mirror not `healthy` (so the next heartbeat rebuilds).
    pub(super) fn start(client: redis::Client, channel: String, healthy: Arc<AtomicBool>) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        actix::spawn(publish_loop(client, channel, receiver, healthy));
        Publisher { queue }
    }

    /// Encodes `envelope` and queues it behind everything handed over before.
    pub(super) fn publish(&self, envelope: &Envelope) {
        match serde_json::to_string(envelope) {
            Ok(text) => {
                let _ = self.queue.send(Outbound::Event(text));
            }
            Err(e) => log::error!("unencodable cluster event: {e}"),
        }
    }

    /// Resolves once everything queued before it is sent (or dropped).
    pub(super) fn flush(&self) -> oneshot::Receiver<()> {
        let (done, flushed) = oneshot::channel();
        let _ = self.queue.send(Outbound::Flush(done));
        flushed
    }
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
