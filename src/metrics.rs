//! Prometheus metrics, owned by the application (no global registry) and rendered by
//! `GET /metrics`.

use prometheus::{Encoder, Histogram, HistogramOpts, IntCounter, IntGauge, Registry, TextEncoder};

/// Cheap to clone: every field is a handle onto the same series.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Authenticated sockets open on this node.
    pub sockets_open: IntGauge,
    /// Users with at least one socket on this node.
    pub users_online: IntGauge,
    pub socket_connects: IntCounter,
    pub messages_committed: IntCounter,
    /// Writes per transaction: how much group commit is grouping.
    pub commit_batch_size: Histogram,
    /// How long each group-commit transaction took, retries included: with one in flight
    /// at a time, batch size over this is the write path's throughput.
    pub commit_seconds: Histogram,
    /// From a write reaching the PersistActor to its frames being handed to sockets.
    pub delivery_latency: Histogram,
    /// Sockets closed because they did not read fast enough.
    pub slow_consumers: IntCounter,
    /// From a window's attach to its `ready` going out: what a connect waits for under a
    /// storm (its snapshot's batched read, its block sets).
    pub snapshot_seconds: Histogram,
    /// Windows closed with 1013 because their snapshot could not be read soon enough.
    pub snapshots_shed: IntCounter,
    /// Windows with a view of the online list (set every presence tick).
    pub online_views: IntGauge,
    /// `online_changes` and unsolicited `online_page` frames sent: presence's cost, which
    /// follows what windows show, not the population.
    pub presence_frames: IntCounter,
    /// Windows waiting at the connect gate for their turn to be admitted
    /// (`actors/admission.rs`): how far a connect storm is queued.
    pub connects_waiting: IntGauge,
    /// Windows the connect gate turned away (closed with 1013 and a `retry_after`).
    pub connects_turned_away: IntCounter,
    /// Events from other nodes (and presence from Redis) this node decoded: with routed
    /// events, what its windows need, not the deployment's whole traffic.
    pub cluster_events_received: IntCounter,
    /// Of those, the ones that concerned someone with a window here (presence always
    /// does: it can move any online list). Received less delivered is routing's waste.
    pub cluster_events_delivered: IntCounter,
    /// Events this node committed while Redis was unreachable, so not sent to the
    /// others (their windows read them from Postgres once Redis is back).
    pub cluster_events_dropped: IntCounter,
    /// UserActors whose watch is ticking (`actors/user/watch.rs`): those with bytes
    /// waiting towards a socket, a gap or a catch-up, not everyone online.
    pub user_watches: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("banter".into()), None).unwrap_or_default();
        let metrics = Metrics {
            sockets_open: IntGauge::new("sockets_open", "Authenticated sockets open on this node")
                .unwrap(),
            users_online: IntGauge::new("users_online", "Users with a socket on this node")
                .unwrap(),
            socket_connects: IntCounter::new("socket_connects_total", "Sockets authenticated")
                .unwrap(),
            messages_committed: IntCounter::new(
                "messages_committed_total",
                "Messages committed to Postgres",
            )
            .unwrap(),
            commit_batch_size: Histogram::with_opts(
                HistogramOpts::new("commit_batch_size", "Writes per group-commit transaction")
                    .buckets(vec![
                        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
                    ]),
            )
            .unwrap(),
            commit_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "commit_seconds",
                    "Duration of each group-commit transaction",
                )
                .buckets(prometheus::exponential_buckets(0.0005, 2.0, 14).unwrap()),
            )
            .unwrap(),
            delivery_latency: Histogram::with_opts(
                HistogramOpts::new(
                    "delivery_latency_seconds",
                    "From a write reaching the PersistActor to its frames reaching the sockets",
                )
                .buckets(prometheus::exponential_buckets(0.0005, 2.0, 14).unwrap()),
            )
            .unwrap(),
            slow_consumers: IntCounter::new(
                "slow_consumers_total",
                "Sockets closed for reading too slowly",
            )
            .unwrap(),
            snapshot_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "snapshot_seconds",
                    "From a window's attach to its ready frame going out",
                )
                .buckets(prometheus::exponential_buckets(0.001, 2.0, 16).unwrap()),
            )
            .unwrap(),
            snapshots_shed: IntCounter::new(
                "snapshots_shed_total",
                "Windows closed with 1013 because their snapshot could not be read in time",
            )
            .unwrap(),
            online_views: IntGauge::new(
                "online_views",
                "Windows on this node with a view of the online list",
            )
            .unwrap(),
            presence_frames: IntCounter::new(
                "presence_frames_total",
                "online_changes and unsolicited online_page frames sent to windows",
            )
            .unwrap(),
            connects_waiting: IntGauge::new(
                "connects_waiting",
                "Windows waiting at the connect gate for their turn",
            )
            .unwrap(),
            connects_turned_away: IntCounter::new(
                "connects_turned_away_total",
                "Windows the connect gate closed with 1013 (queue full or waited too long)",
            )
            .unwrap(),
            cluster_events_received: IntCounter::new(
                "cluster_events_received_total",
                "Events from other nodes and presence from Redis decoded by this node",
            )
            .unwrap(),
            cluster_events_delivered: IntCounter::new(
                "cluster_events_delivered_total",
                "Received cluster events that concerned someone with a window on this node",
            )
            .unwrap(),
            cluster_events_dropped: IntCounter::new(
                "cluster_events_dropped_total",
                "Events committed here that Redis could not take (the others catch up from Postgres)",
            )
            .unwrap(),
            user_watches: IntGauge::new(
                "user_watches",
                "UserActors whose watch (stalled sockets, gaps, catch-ups) is ticking",
            )
            .unwrap(),
            registry,
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 18] = [
            Box::new(metrics.sockets_open.clone()),
            Box::new(metrics.users_online.clone()),
            Box::new(metrics.socket_connects.clone()),
            Box::new(metrics.messages_committed.clone()),
            Box::new(metrics.commit_batch_size.clone()),
            Box::new(metrics.commit_seconds.clone()),
            Box::new(metrics.delivery_latency.clone()),
            Box::new(metrics.slow_consumers.clone()),
            Box::new(metrics.snapshot_seconds.clone()),
            Box::new(metrics.snapshots_shed.clone()),
            Box::new(metrics.online_views.clone()),
            Box::new(metrics.presence_frames.clone()),
            Box::new(metrics.connects_waiting.clone()),
            Box::new(metrics.connects_turned_away.clone()),
            Box::new(metrics.cluster_events_received.clone()),
            Box::new(metrics.cluster_events_delivered.clone()),
            Box::new(metrics.cluster_events_dropped.clone()),
            Box::new(metrics.user_watches.clone()),
        ];
        for c in collectors {
            metrics
                .registry
                .register(c)
                .expect("metric names are unique");
        }
        metrics
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buffer) {
            log::error!("encoding metrics failed: {}", crate::error_chain(&e));
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
