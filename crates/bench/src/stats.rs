//! What the load generator measures: latency histograms and delivery accounting.

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::HashMap;

/// An acknowledged message's place in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAt {
    pub conversation: String,
    pub id: String,
    pub seq: i64,
}

/// What a window's reader saw, sent to the collector.
#[derive(Debug)]
pub enum Observation {
    /// The sender's window got the `ack` of message `k`, `latency_us` after its intended send time.
    Acked {
        k: u64,
        latency_us: u64,
        /// Where the server says it stored the message, for the check afterwards.
        stored: StoredAt,
    },
    /// The sender's window got the acknowledgement of message `k` from something that
    /// stores nothing (the `relay` floor), `latency_us` after its intended send time.
    AckedUnstored { k: u64, latency_us: u64 },
    /// Window `window` got message `k` as a `message` frame; `cross_node` when it is on
    /// another node than the sending window.
    Delivered {
        k: u64,
        window: u32,
        latency_us: u64,
        cross_node: bool,
    },
    /// An `error` frame.
    Refused { code: String },
}

/// Latency in microseconds, 1 µs to 60 s, three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

pub struct Stats {
    pub ack_latency: Histogram<u64>,
    pub delivery_latency: Histogram<u64>,
    /// Deliveries to a window on another node than the sender's.
    pub cross_node_latency: Histogram<u64>,
    /// Deliveries since the last progress line (the progress shows the recent p99, which
    /// moves when the server falls behind; the whole run's p99 only ever grows).
    pub recent_delivery_latency: Histogram<u64>,
    pub acked: u64,
    pub delivered: u64,
    pub duplicated: u64,
    pub refused: HashMap<String, u64>,
    /// Deliveries per message, to tell loss from duplication.
    seen: HashMap<u64, Vec<u32>>,
    acked_ids: Vec<u64>,
    /// Acknowledged messages per conversation, with the sending message number.
    pub stored: HashMap<String, Vec<(u64, StoredAt)>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            ack_latency: histogram(),
            delivery_latency: histogram(),
            cross_node_latency: histogram(),
            recent_delivery_latency: histogram(),
            acked: 0,
            delivered: 0,
            duplicated: 0,
            refused: HashMap::new(),
            seen: HashMap::new(),
            acked_ids: Vec::new(),
            stored: HashMap::new(),
        }
    }
}

impl Stats {
    pub fn observe(&mut self, o: Observation) {
        match o {
            Observation::Acked {
                k,
                latency_us,
                stored,
            } => {
                self.acked += 1;
                self.acked_ids.push(k);
                self.stored
                    .entry(stored.conversation.clone())
                    .or_default()
                    .push((k, stored));
                let _ = self.ack_latency.record(latency_us.max(1));
            }
            Observation::AckedUnstored { k, latency_us } => {
                self.acked += 1;
                self.acked_ids.push(k);
                let _ = self.ack_latency.record(latency_us.max(1));
            }
            Observation::Delivered {
                k,
                window,
                latency_us,
                cross_node,
            } => {
                let windows = self.seen.entry(k).or_default();
                if windows.contains(&window) {
                    self.duplicated += 1;
                } else {
                    windows.push(window);
                    self.delivered += 1;
                    let _ = self.delivery_latency.record(latency_us.max(1));
                    let _ = self.recent_delivery_latency.record(latency_us.max(1));
                    if cross_node {
                        let _ = self.cross_node_latency.record(latency_us.max(1));
                    }
                }
            }
            Observation::Refused { code } => *self.refused.entry(code).or_default() += 1,
        }
    }

    /// Up to `most` acknowledged messages with a delivery missing, and the windows that
    /// did get them: where to start looking when `lost` is not zero.
    pub fn missing(&self, expected_per_message: usize, most: usize) -> Vec<(u64, Vec<u32>)> {
        self.acked_ids
            .iter()
            .filter_map(|k| {
                let got = self.seen.get(k).cloned().unwrap_or_default();
                (got.len() < expected_per_message).then_some((*k, got))
            })
            .take(most)
            .collect()
    }

    /// Deliveries still missing for the acknowledged messages, given how many windows
    /// each message should reach.
    pub fn lost(&self, expected_per_message: u64) -> u64 {
        (self.acked * expected_per_message).saturating_sub(self.delivered)
    }

    /// Deliveries lost of `sent` messages: those missing for acknowledged messages, and
    /// every delivery of a message never acknowledged.
    pub fn lost_of_sent(&self, sent: u64, expected_per_message: u64) -> u64 {
        self.lost(expected_per_message) + (sent - self.acked.min(sent)) * expected_per_message
    }
}

impl Stats {
    /// The run's verdict: an error unless no delivery was `lost` or duplicated and every
    /// acknowledged message was stored exactly once.
    pub fn ensure_nothing_lost(
        &self,
        lost: u64,
        stored_missing: u64,
        stored_twice: u64,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            lost == 0 && self.duplicated == 0,
            "{lost} deliveries lost and {} duplicated",
            self.duplicated
        );
        anyhow::ensure!(
            stored_missing == 0 && stored_twice == 0,
            "{stored_missing} acknowledged messages not stored, {stored_twice} stored twice"
        );
        Ok(())
    }
}

pub fn percentiles_ms(h: &Histogram<u64>) -> Value {
    let ms = |us: u64| (us as f64 / 1000.0 * 1000.0).round() / 1000.0;
    json!({
        "p50": ms(h.value_at_quantile(0.50)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p999": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_delivery_to_the_same_window_counts_as_a_duplicate_not_a_delivery() {
        let mut s = Stats::default();
        s.observe(Observation::Acked {
            k: 1,
            latency_us: 10,
            stored: StoredAt {
                conversation: "c".into(),
                id: "m".into(),
                seq: 1,
            },
        });
        for window in [0, 1, 1] {
            s.observe(Observation::Delivered {
                k: 1,
                window,
                latency_us: 20,
                cross_node: false,
            });
        }
        assert_eq!((s.delivered, s.duplicated), (2, 1));
        assert_eq!(s.lost(3), 1);
    }
}
