//! The part of an open-loop run shared by `dm`, `room` and `relay`: collecting what the
//! windows saw while the senders run (with a progress line a second), then until every
//! expected frame arrived or nothing arrived for 5 s.

use super::stats::{Observation, Stats};
use super::BenchArgs;
use anyhow::Context as _;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The open-loop plan: message `k` is due `k / rate` after the start and user
/// `k % users` sends it; per user, `(k, due µs)` in order.
pub fn schedule(args: &BenchArgs) -> Vec<Vec<(u64, u64)>> {
    let total = (args.rate as f64 * args.duration.as_secs_f64()) as u64;
    let interval_us = 1_000_000.0 / args.rate as f64;
    let mut per_user = vec![Vec::new(); args.users];
    for k in 0..total {
        per_user[(k as usize) % args.users].push((k, (k as f64 * interval_us) as u64));
    }
    per_user
}

/// What one sender task sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sent {
    pub messages: u64,
    /// When its last message went out, from the start (a sender may go on afterwards
    /// to make the changes of its last messages).
    pub messages_done: Duration,
    /// `--changes`: the changes its messages were due, and the edits and reactions it
    /// sent (a change goes out once its message is acknowledged).
    pub changes_due: u64,
    pub edits: u64,
    pub reactions: u64,
}

impl Sent {
    /// A sender of messages only, which sent its last one now.
    pub fn messages(messages: u64, start: Instant) -> Sent {
        Sent {
            messages,
            messages_done: start.elapsed(),
            ..Sent::default()
        }
    }

    fn add(&mut self, other: Sent) {
        self.messages += other.messages;
        self.messages_done = self.messages_done.max(other.messages_done);
        self.changes_due += other.changes_due;
        self.edits += other.edits;
        self.reactions += other.reactions;
    }

    /// The changes sent, edits and reactions.
    pub fn changes(&self) -> u64 {
        self.edits + self.reactions
    }
}

/// What a run collected.
pub struct Collected<S> {
    pub stats: Stats,
    /// Messages the senders sent, and how long sending them took (seconds).
    pub sent: u64,
    pub offered_secs: f64,
    /// Everything the senders sent (the messages too).
    pub sent_all: Sent,
    /// The senders' sinks, kept open until the collection ended (closing them early would
    /// close the windows before their last frames arrive).
    pub sinks: Vec<S>,
}

/// Awaits the sender tasks (each answering what it sent, and its sink) while collecting
/// `rx`; `expected_per_message` frames are due per message besides its ack, and one more
/// per change (the sender's own window gets its change too).
pub async fn collect<S: Send + 'static>(
    rx: &mut mpsc::UnboundedReceiver<Observation>,
    senders: Vec<JoinHandle<(Sent, S)>>,
    start: Instant,
    expected_per_message: u64,
) -> anyhow::Result<Collected<S>> {
    let mut sending = tokio::spawn(async move {
        let mut sent = Sent::default();
        let mut sinks = Vec::new();
        for task in senders {
            if let Ok((n, sink)) = task.await {
                sent.add(n);
                sinks.push(sink);
            }
        }
        (sent, sinks)
    });
    let mut stats = Stats::default();
    let mut progress = tokio::time::interval(Duration::from_secs(1));
    let mut done: Option<(Sent, f64, Vec<S>)> = None;
    let mut last_frame = Instant::now();
    loop {
        tokio::select! {
            observation = rx.recv() => match observation {
                Some(o) => {
                    stats.observe(o);
                    last_frame = Instant::now();
                }
                None => break,
            },
            result = &mut sending, if done.is_none() => {
                let (sent, sinks) = result?;
                // How long the messages took to go out (a sender still making changes
                // afterwards offers no more messages).
                let offered = if sent.messages_done.is_zero() {
                    start.elapsed()
                } else {
                    sent.messages_done
                };
                done = Some((sent, offered.as_secs_f64(), sinks));
            },
            _ = progress.tick() => {
                let p99 = |h: &hdrhistogram::Histogram<u64>| h.value_at_quantile(0.99) as f64 / 1000.0;
                let changes = stats.edits_delivered + stats.reactions_delivered;
                eprintln!(
                    "  {:>5.1}s  {} acked  {} delivered  delivery p99 {:.1} ms (last second {:.1} ms){}{}",
                    start.elapsed().as_secs_f64(),
                    stats.acked,
                    stats.delivered,
                    p99(&stats.delivery_latency),
                    p99(&stats.recent_delivery_latency),
                    if changes > 0 { format!("  {changes} changes delivered") } else { String::new() },
                    if done.is_some() { "  (draining)" } else { "" }
                );
                stats.recent_delivery_latency.reset();
            },
        }
        if let Some((sent, _, _)) = &done {
            let changes = stats.edits_delivered + stats.reactions_delivered;
            let complete = stats.acked >= sent.messages
                && stats.delivered >= sent.messages * expected_per_message
                && changes >= sent.changes() * (expected_per_message + 1);
            if complete || last_frame.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
    }
    let (sent_all, offered_secs, sinks) = done.context("the senders did not finish")?;
    Ok(Collected {
        stats,
        sent: sent_all.messages,
        offered_secs,
        sent_all,
        sinks,
    })
}
