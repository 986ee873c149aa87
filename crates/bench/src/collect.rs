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

/// What a run collected.
pub struct Collected<S> {
    pub stats: Stats,
    /// Messages the senders sent, and how long sending took (seconds).
    pub sent: u64,
    pub offered_secs: f64,
    /// The senders' sinks, kept open until the collection ended (closing them early would
    /// close the windows before their last frames arrive).
    pub sinks: Vec<S>,
}

/// Awaits the sender tasks (each answering how many it sent, and its sink) while
/// collecting `rx`; `expected_per_message` frames are due per message besides its ack.
pub async fn collect<S: Send + 'static>(
    rx: &mut mpsc::UnboundedReceiver<Observation>,
    senders: Vec<JoinHandle<(u64, S)>>,
    start: Instant,
    expected_per_message: u64,
) -> anyhow::Result<Collected<S>> {
    let mut sending = tokio::spawn(async move {
        let mut sent = 0;
        let mut sinks = Vec::new();
        for task in senders {
            if let Ok((n, sink)) = task.await {
                sent += n;
                sinks.push(sink);
            }
        }
        (sent, sinks)
    });
    let mut stats = Stats::default();
    let mut progress = tokio::time::interval(Duration::from_secs(1));
    let mut done: Option<(u64, f64, Vec<S>)> = None;
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
                done = Some((sent, start.elapsed().as_secs_f64(), sinks));
            },
            _ = progress.tick() => {
                let p99 = |h: &hdrhistogram::Histogram<u64>| h.value_at_quantile(0.99) as f64 / 1000.0;
                eprintln!(
                    "  {:>5.1}s  {} acked  {} delivered  delivery p99 {:.1} ms (last second {:.1} ms){}",
                    start.elapsed().as_secs_f64(),
                    stats.acked,
                    stats.delivered,
                    p99(&stats.delivery_latency),
                    p99(&stats.recent_delivery_latency),
                    if done.is_some() { "  (draining)" } else { "" }
                );
                stats.recent_delivery_latency.reset();
            },
        }
        if let Some((sent, _, _)) = &done {
            let complete = stats.acked >= *sent && stats.delivered >= sent * expected_per_message;
            if complete || last_frame.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
    }
    let (sent, offered_secs, sinks) = done.context("the senders did not finish")?;
    Ok(Collected {
        stats,
        sent,
        offered_secs,
        sinks,
    })
}
