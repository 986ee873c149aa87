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
    /// Window `window` got the edit of message `k` (`--changes`), `latency_us` after the
    /// edit was sent; `caught_up` when a `changes` frame brought it rather than a
    /// `message_edited`.
    Edited {
        k: u64,
        window: u32,
        latency_us: u64,
        caught_up: bool,
    },
    /// Window `window` got the sender's reaction to message `k` (`--changes`); `caught_up`
    /// as for [`Observation::Edited`].
    Reacted {
        k: u64,
        window: u32,
        caught_up: bool,
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
    /// Edits (`--changes`) delivered, their latency from the edit's send time, and
    /// reactions delivered; each once per window.
    pub edits_delivered: u64,
    pub change_latency: Histogram<u64>,
    pub reactions_delivered: u64,
    /// Of those, how many a `changes` frame brought (the server filling a gap).
    pub changes_caught_up: u64,
    /// A change delivered to a window a second time.
    pub changes_duplicated: u64,
    /// Deliveries per message, to tell loss from duplication.
    seen: HashMap<u64, Vec<u32>>,
    /// Deliveries per changed message (a message has at most one change).
    changes_seen: HashMap<u64, Vec<u32>>,
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
            edits_delivered: 0,
            change_latency: histogram(),
            reactions_delivered: 0,
            changes_caught_up: 0,
            changes_duplicated: 0,
            seen: HashMap::new(),
            changes_seen: HashMap::new(),
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
            Observation::Edited {
                k,
                window,
                latency_us,
                caught_up,
            } => {
                if self.first_change(k, window, caught_up) {
                    self.edits_delivered += 1;
                    let _ = self.change_latency.record(latency_us.max(1));
                }
            }
            Observation::Reacted {
                k,
                window,
                caught_up,
            } => {
                if self.first_change(k, window, caught_up) {
                    self.reactions_delivered += 1;
                }
            }
            Observation::Refused { code } => *self.refused.entry(code).or_default() += 1,
        }
    }

    /// Whether this is the first time `window` got message `k`'s change (else it counts
    /// as a duplicate).
    fn first_change(&mut self, k: u64, window: u32, caught_up: bool) -> bool {
        let windows = self.changes_seen.entry(k).or_default();
        if windows.contains(&window) {
            self.changes_duplicated += 1;
            return false;
        }
        windows.push(window);
        self.changes_caught_up += u64::from(caught_up);
        true
    }

    /// Change deliveries missing, given how many changes the messages sent were due, how
    /// many were sent (a change goes out once its message is acknowledged: one never sent
    /// misses every delivery) and how many windows each should reach.
    pub fn changes_lost(
        &self,
        changes_due: u64,
        changes_sent: u64,
        expected_per_change: u64,
    ) -> u64 {
        (changes_due.max(changes_sent) * expected_per_change)
            .saturating_sub(self.edits_delivered + self.reactions_delivered)
    }

    /// Up to `most` changed messages whose change reached some windows but not all, and
    /// the windows it reached.
    pub fn changes_missing(&self, expected_per_change: usize, most: usize) -> Vec<(u64, Vec<u32>)> {
        let mut partial: Vec<(u64, Vec<u32>)> = self
            .changes_seen
            .iter()
            .filter(|(_, got)| got.len() < expected_per_change)
            .map(|(k, got)| (*k, got.clone()))
            .collect();
        partial.sort();
        partial.truncate(most);
        partial
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

    /// `--changes`' verdict: an error unless every change reached every window once.
    pub fn ensure_changes_arrived(&self, changes_lost: u64) -> anyhow::Result<()> {
        anyhow::ensure!(
            changes_lost == 0 && self.changes_duplicated == 0,
            "{changes_lost} change deliveries lost and {} duplicated",
            self.changes_duplicated
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

    #[test]
    fn changes_count_once_per_window_and_what_is_missing_is_lost() {
        let mut s = Stats::default();
        for (window, caught_up) in [(0, false), (1, true), (1, false)] {
            s.observe(Observation::Edited {
                k: 4,
                window,
                latency_us: 3_000,
                caught_up,
            });
        }
        s.observe(Observation::Reacted {
            k: 9,
            window: 0,
            caught_up: false,
        });
        assert_eq!(
            (
                s.edits_delivered,
                s.reactions_delivered,
                s.changes_caught_up,
                s.changes_duplicated
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(s.change_latency.len(), 2);
        // Two changes sent, each owed to 2 windows: the reaction missed window 1; a third
        // due but never sent (its message unacknowledged) misses both.
        assert_eq!(s.changes_lost(2, 2, 2), 1);
        assert_eq!(s.changes_lost(3, 2, 2), 3);
        assert_eq!(s.changes_missing(2, 10), vec![(9, vec![0])]);
        assert!(s.ensure_changes_arrived(1).is_err());
        // The edit's delivery to a window that already had it is a duplicate.
        assert!(s.ensure_changes_arrived(0).is_err());
        assert!(Stats::default().ensure_changes_arrived(0).is_ok());
    }
}
