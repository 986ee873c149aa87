//! Scenario `storm`: a connect storm under message load, as a deploy or a network blip
//! makes one. `--users` people (× `--windows`) are online and run the `dm` load at
//! `--rate`; one second into it, `--storm` more people open one window each, as fast as
//! the generator can ([`STORM_CONCURRENCY`] handshakes at a time). The report adds to
//! `dm`'s (message latency and loss over the whole load, which should outlast the storm:
//! pick `--duration` accordingly) how fast the storm's windows connected, when the last
//! had its `ready`, when presence settled (every window counts everyone), and what the
//! server says its snapshots waited (its `/metrics`).

use super::windows::{self, Tally};
use super::{connect_from, Ready, READY_LISTS};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Handshakes in flight at once during the storm.
pub const STORM_CONCURRENCY: usize = 512;

/// Tries per storm window before the run fails.
const CONNECT_ATTEMPTS: usize = 5;

/// How long after the last `ready` the storm waits for presence to settle.
const SETTLE_WAIT: Duration = Duration::from_secs(60);

/// The storm: who connects, where, and who should be seen online at the end.
pub struct Storm {
    /// Tokens of the people who connect in the storm.
    pub tokens: Vec<String>,
    pub ws_urls: Vec<String>,
    /// The server's base URL, for its `/metrics`.
    pub base: String,
    pub source_addresses: u8,
    /// How many people everyone should see online once it settled (all but themselves).
    pub expected_online: usize,
}

/// The storm's own runtime, on threads of its own. Its windows read every presence frame
/// they get, for its count (15,000 windows, up to five frames a second each); on the
/// load's runtime that work would queue ahead of the measured windows' deliveries and
/// add the generator's own delay to the latency it reports, which clients on other
/// machines would not.
/// Dropped, it stops its tasks (the storm's readers) without waiting for them.
pub struct StormRuntime(Option<tokio::runtime::Runtime>);

impl StormRuntime {
    pub fn new() -> std::io::Result<StormRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("storm")
            .enable_all()
            .build()?;
        Ok(StormRuntime(Some(runtime)))
    }

    /// Runs `storm` there once `after` has passed.
    pub fn spawn(
        &self,
        storm: Storm,
        after: Duration,
    ) -> tokio::task::JoinHandle<anyhow::Result<Value>> {
        self.spawn_after(after, run(storm))
    }

    /// Runs `work` there once `after` has passed (`relay`'s storm is its own).
    pub fn spawn_after<F>(&self, after: Duration, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self.0.as_ref().expect("present until dropped");
        runtime.spawn(async move {
            tokio::time::sleep(after).await;
            work.await
        })
    }
}

impl Drop for StormRuntime {
    fn drop(&mut self) {
        // Not `Runtime`'s own drop: it blocks, which the load's runtime, where this is
        // dropped, does not allow.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs the storm and answers its part of the report.
pub async fn run(storm: Storm) -> anyhow::Result<Value> {
    let before = snapshot_histogram(&storm.base).await;
    // Settled: every storm window (the last to arrive) counts everyone online.
    let tally = Tally::new(storm.expected_online);
    let started = Instant::now();
    let n = storm.tokens.len();
    // As real clients do, a window whose connect failed (refused, timed out, closed
    // before `ready`: 1013 under load) tries again after a second, up to five times.
    let failed = AtomicUsize::new(0);
    // The largest `ready` a storm window got (protocol v2 bounds it: first page, partners),
    // and the length of each of its lists.
    let largest = std::sync::Mutex::new(None::<Ready>);
    let tally_ref = &tally;
    let failed_ref = &failed;
    let largest_ref = &largest;
    let storm_ref = &storm;
    let readers: Vec<_> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let url = &storm_ref.ws_urls[i % storm_ref.ws_urls.len()];
            let source = windows::source(i, storm_ref.source_addresses);
            for attempt in 1..=CONNECT_ATTEMPTS {
                match connect_from(url, &storm_ref.tokens[i], source).await {
                    Ok((socket, ready)) => {
                        let mut largest = largest_ref.lock().expect("not poisoned");
                        if largest.is_none_or(|l| l.bytes < ready.bytes) {
                            *largest = Some(ready);
                        }
                        drop(largest);
                        return Ok(windows::keep_reading(
                            socket,
                            tally_ref.window(ready.online),
                        ));
                    }
                    Err(e) if attempt == CONNECT_ATTEMPTS => return Err(e),
                    Err(_) => {
                        failed_ref.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            unreachable!("the last attempt returns")
        })
        .buffer_unordered(STORM_CONCURRENCY)
        .try_collect()
        .await?;
    let connect_secs = started.elapsed().as_secs_f64();
    let all_ready_s = started.elapsed().as_secs_f64();
    // The readers (detached tasks) go on until the generator exits.
    eprintln!(
        "storm: {n} windows ready in {all_ready_s:.2}s ({:.0}/s)",
        n as f64 / connect_secs
    );
    let settle = tokio::time::timeout(SETTLE_WAIT, tally.wait(readers.len())).await;
    let settled_s = match settle {
        Ok(Ok(_)) => Some(started.elapsed().as_secs_f64()),
        _ => None,
    };
    eprintln!(
        "storm: presence settled {}",
        settled_s.map_or(
            format!("not within {SETTLE_WAIT:?} of the last ready"),
            |s| format!("{s:.2}s after the storm began")
        )
    );
    let largest_ready = *largest.lock().expect("not poisoned");
    let after = snapshot_histogram(&storm.base).await;
    let waits = match (before, after) {
        (Some(b), Some(a)) => Some(a.since(&b)),
        _ => None,
    };
    Ok(json!({
        "storm_windows": n,
        "storm_connect_per_s": (n as f64 / connect_secs).round(),
        "storm_all_ready_s": (all_ready_s * 100.0).round() / 100.0,
        "storm_presence_settled_s": settled_s.map(|s| (s * 100.0).round() / 100.0),
        "storm_expected_online": storm.expected_online,
        "storm_failed_connects": failed.load(Ordering::Relaxed),
        "storm_ready_bytes_max": largest_ready.map_or(0, |r| r.bytes),
        "storm_ready_largest_lists": largest_ready.map(|r| READY_LISTS
            .iter()
            .zip(r.lists)
            .map(|(list, n)| (list.to_string(), json!(n)))
            .collect::<serde_json::Map<_, _>>()),
        "server_snapshot_wait_ms": waits.as_ref().map(|w| json!({
            "p50": w.quantile_ms(0.5), "p99": w.quantile_ms(0.99), "max_bucket": w.quantile_ms(1.0),
        })),
        "server_snapshots_shed": waits.as_ref().map(|w| w.shed),
    }))
}

/// The server's `banter_snapshot_seconds` histogram (cumulative buckets) and
/// `banter_snapshots_shed_total`, read from its `/metrics`.
#[derive(Debug, Clone, PartialEq)]
struct SnapshotWaits {
    /// `(upper bound in seconds, cumulative count)`, ascending.
    buckets: Vec<(f64, f64)>,
    shed: u64,
}

impl SnapshotWaits {
    fn parse(text: &str) -> SnapshotWaits {
        let mut buckets = Vec::new();
        let mut shed = 0;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("banter_snapshot_seconds_bucket{le=\"") {
                let mut parts = rest.splitn(2, "\"} ");
                let (le, count) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::NAN)
                };
                if let Ok(count) = count.trim().parse::<f64>() {
                    buckets.push((le, count));
                }
            } else if let Some(rest) = line.strip_prefix("banter_snapshots_shed_total ") {
                shed = rest.trim().parse().unwrap_or(0);
            }
        }
        SnapshotWaits { buckets, shed }
    }

    /// The observations since `before`.
    fn since(&self, before: &SnapshotWaits) -> SnapshotWaits {
        let buckets = self
            .buckets
            .iter()
            .map(|(le, n)| {
                let earlier = before
                    .buckets
                    .iter()
                    .find(|(b, _)| b == le)
                    .map_or(0.0, |(_, m)| *m);
                (*le, n - earlier)
            })
            .collect();
        SnapshotWaits {
            buckets,
            shed: self.shed.saturating_sub(before.shed),
        }
    }

    /// The upper bound (ms) of the bucket holding quantile `q`; `None` with no data.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = (q * total).ceil().max(1.0);
        self.buckets
            .iter()
            .find(|(_, n)| *n >= rank)
            .map(|(le, _)| {
                if le.is_finite() {
                    (le * 1000.0 * 100.0).round() / 100.0
                } else {
                    f64::INFINITY
                }
            })
    }
}

async fn snapshot_histogram(base: &str) -> Option<SnapshotWaits> {
    let text = crate::nodes::metrics_text(&reqwest::Client::new(), base).await?;
    Some(SnapshotWaits::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::SnapshotWaits;

    const METRICS: &str = "# HELP banter_snapshot_seconds x
banter_snapshot_seconds_bucket{le=\"0.001\"} 2
banter_snapshot_seconds_bucket{le=\"0.002\"} 8
banter_snapshot_seconds_bucket{le=\"0.004\"} 10
banter_snapshot_seconds_bucket{le=\"+Inf\"} 10
banter_snapshot_seconds_sum 0.02
banter_snapshots_shed_total 3
";

    #[test]
    fn the_snapshot_histogram_is_read_from_metrics_and_differenced() {
        let after = SnapshotWaits::parse(METRICS);
        assert_eq!(after.buckets.len(), 4);
        assert_eq!(after.shed, 3);
        assert_eq!(after.quantile_ms(0.5), Some(2.0));
        assert_eq!(after.quantile_ms(0.99), Some(4.0));
        let before = SnapshotWaits::parse(
            &METRICS
                .replace("} 8", "} 2")
                .replace("} 10", "} 2")
                .replace("total 3", "total 1"),
        );
        let since = after.since(&before);
        assert_eq!(since.shed, 2);
        assert_eq!(since.buckets[0].1, 0.0);
        assert_eq!(since.quantile_ms(0.1), Some(2.0));
    }
}
