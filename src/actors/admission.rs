//! Admission of new windows: under a connect storm, connects queue and message traffic
//! keeps its latency, never the other way round.
//!
//! Building a window's `ready` is the node's most expensive step (the registry's attach,
//! block sets, presence in Redis, the snapshot rows, the first page). Left alone, a deploy
//! that sends 15,000 windows at a node at once puts 15,000 attaches in the registry's
//! mailbox and the actors' run queues, and every message of the people already online
//! waits behind them. The gate lets at most `in_flight` windows be between their accepted
//! `auth` and their `ready`; the others wait their turn in arrival order (tokio's
//! semaphore is fair), at most `waiting` of them and none longer than `max_wait`. One
//! turned away is closed with 1013 and a `retry_after` in the reason (its client comes
//! back later), never left to time out somewhere inside.

pub use crate::configuration::GateLimits;
use crate::metrics::Metrics;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The close reason of a window the gate turned away: when to come back.
pub const GATE_BUSY_REASON: &str = "server busy; retry_after=5";

/// The gate every new window passes (one per node).
pub struct ConnectGate {
    turns: Arc<Semaphore>,
    /// Windows waiting now (bounded by `limits.waiting`).
    waiting: AtomicUsize,
    limits: GateLimits,
    metrics: Metrics,
}

/// A window's turn: held until its `ready` is sent (or it fails), then the next
/// waiting window goes.
#[derive(Debug)]
pub struct Admitted {
    _turn: OwnedSemaphorePermit,
}

/// Why a window was turned away: closed with 1013 and [`GATE_BUSY_REASON`], or with 1012
/// when the node is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TurnedAway {
    #[error("too many windows are already waiting to connect")]
    QueueFull,
    #[error("no turn to connect came within the wait allowed")]
    WaitedTooLong,
    #[error("the node is shutting down")]
    ShuttingDown,
}

/// Counts a window as waiting while it lives.
struct Waiting<'a> {
    gate: &'a ConnectGate,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.gate.waiting.fetch_sub(1, Ordering::Relaxed);
        self.gate.metrics.connects_waiting.dec();
    }
}

impl ConnectGate {
    pub fn new(limits: GateLimits, metrics: Metrics) -> Arc<Self> {
        Arc::new(ConnectGate {
            turns: Arc::new(Semaphore::new(limits.in_flight.max(1))),
            waiting: AtomicUsize::new(0),
            limits,
            metrics,
        })
    }

    /// Waits for this window's turn (at once, when fewer than `in_flight` are being
    /// admitted and nobody waits).
    pub async fn enter(&self) -> Result<Admitted, TurnedAway> {
        match self.turns.clone().try_acquire_owned() {
            Ok(turn) => return Ok(Admitted { _turn: turn }),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(TurnedAway::ShuttingDown),
            Err(tokio::sync::TryAcquireError::NoPermits) => {}
        }
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.limits.waiting {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            self.metrics.connects_turned_away.inc();
            return Err(TurnedAway::QueueFull);
        }
        self.metrics.connects_waiting.inc();
        let _waiting = Waiting { gate: self };
        match tokio::time::timeout(self.limits.max_wait, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(Admitted { _turn: turn }),
            Ok(Err(_closed)) => Err(TurnedAway::ShuttingDown),
            Err(_) => {
                self.metrics.connects_turned_away.inc();
                Err(TurnedAway::WaitedTooLong)
            }
        }
    }

    /// Admits nobody from now on (shutdown): every waiting window is turned away at
    /// once, and every later one too.
    pub fn close(&self) {
        self.turns.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gate(in_flight: usize, waiting: usize, max_wait_ms: u64) -> Arc<ConnectGate> {
        ConnectGate::new(
            GateLimits {
                in_flight,
                waiting,
                max_wait: Duration::from_millis(max_wait_ms),
            },
            Metrics::new(),
        )
    }

    #[tokio::test]
    async fn windows_past_the_in_flight_bound_wait_for_a_turn_in_arrival_order() {
        let gate = gate(2, 10, 5_000);
        let first = gate.enter().await.unwrap();
        let _second = gate.enter().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..2 {
            let (gate, order) = (gate.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let turn = gate.enter().await.unwrap();
                order.lock().unwrap().push(i);
                turn
            }));
            // Queued in this order.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 2);
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody passes a full gate"
        );
        drop(first);
        let third = waiters.remove(0).await.unwrap();
        assert_eq!(*order.lock().unwrap(), [0]);
        drop(third);
        let _fourth = waiters.remove(0).await.unwrap();
        assert_eq!(*order.lock().unwrap(), [0, 1]);
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_full_queue_and_a_long_wait_turn_windows_away() {
        let gate = gate(1, 1, 50);
        let _only = gate.enter().await.unwrap();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(gate.enter().await.unwrap_err(), TurnedAway::QueueFull);
        assert_eq!(
            waiter.await.unwrap().unwrap_err(),
            TurnedAway::WaitedTooLong
        );
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
        assert_eq!(gate.metrics.connects_turned_away.get(), 2);
    }

    #[tokio::test]
    async fn a_closed_gate_turns_the_waiting_and_the_later_away_as_shutting_down() {
        let gate = gate(1, 10, 5_000);
        let _only = gate.enter().await.unwrap();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        gate.close();
        assert_eq!(waiter.await.unwrap().unwrap_err(), TurnedAway::ShuttingDown);
        assert_eq!(gate.enter().await.unwrap_err(), TurnedAway::ShuttingDown);
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
    }
}
