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
use crate::domain::UserId;
use crate::metrics::Metrics;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The close reason of a window the gate turned away: when to come back.
pub const GATE_BUSY_REASON: &str = "server busy; retry_after=5";

/// The gate every new window passes (one per node).
pub struct ConnectGate {
    turns: Arc<Semaphore>,
    /// Windows waiting now (bounded by `limits.waiting`).
    waiting: AtomicUsize,
    /// Windows waiting now, per person (bounded by `limits.per_person`, so one token
    /// opening sockets without end fills no more than its share of the queue). An
    /// entry goes when its count reaches 0: the map holds only people waiting.
    waiting_by_person: Mutex<HashMap<UserId, usize>>,
    limits: GateLimits,
    /// The most windows one person may open: as many may wait.
    per_person: usize,
    metrics: Metrics,
}

/// A window's turn: held until its `ready` is sent (or it fails), then the next
/// waiting window goes.
#[derive(Debug)]
pub struct Admitted {
    _turn: OwnedSemaphorePermit,
}

/// Why a window was turned away: closed with 1013 and [`GATE_BUSY_REASON`], with 4403
/// when its person already has as many windows waiting as they may open, or with 1012
/// when the node is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TurnedAway {
    #[error("too many windows are already waiting to connect")]
    QueueFull,
    #[error("this person already has as many windows waiting to connect as they may open")]
    TooManyOfOnePerson,
    #[error("no turn to connect came within the wait allowed")]
    WaitedTooLong,
    #[error("the node is shutting down")]
    ShuttingDown,
}

/// Counts a window of `person` as waiting while it lives.
struct Waiting<'a> {
    gate: &'a ConnectGate,
    person: UserId,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.gate.waiting.fetch_sub(1, Ordering::Relaxed);
        self.gate.metrics.connects_waiting.dec();
        let mut by_person = self.gate.by_person();
        if let Some(n) = by_person.get_mut(&self.person) {
            *n -= 1;
            if *n == 0 {
                by_person.remove(&self.person);
            }
        }
    }
}

impl ConnectGate {
    /// A gate of `limits`, letting each person queue at most `per_person` windows (the
    /// most they may open).
    pub fn new(limits: GateLimits, per_person: usize, metrics: Metrics) -> Arc<Self> {
        Arc::new(ConnectGate {
            turns: Arc::new(Semaphore::new(limits.in_flight.max(1))),
            waiting: AtomicUsize::new(0),
            waiting_by_person: Mutex::default(),
            limits,
            per_person,
            metrics,
        })
    }

    fn by_person(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        // Nothing panics while holding it; a poisoned map is still a right map.
        self.waiting_by_person
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for the turn of a window of `person` (at once, when fewer than `in_flight`
    /// are being admitted and nobody waits).
    pub async fn enter(&self, person: UserId) -> Result<Admitted, TurnedAway> {
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
        {
            let mut by_person = self.by_person();
            let mine = by_person.get(&person).copied().unwrap_or(0);
            if mine >= self.per_person {
                drop(by_person);
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                self.metrics.connects_turned_away.inc();
                return Err(TurnedAway::TooManyOfOnePerson);
            }
            by_person.insert(person, mine + 1);
        }
        self.metrics.connects_waiting.inc();
        let _waiting = Waiting { gate: self, person };
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
            2,
            Metrics::new(),
        )
    }

    #[tokio::test]
    async fn windows_past_the_in_flight_bound_wait_for_a_turn_in_arrival_order() {
        let gate = gate(2, 10, 5_000);
        let first = gate.enter(UserId::new()).await.unwrap();
        let _second = gate.enter(UserId::new()).await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..2 {
            let (gate, order) = (gate.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let turn = gate.enter(UserId::new()).await.unwrap();
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
        let _only = gate.enter(UserId::new()).await.unwrap();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter(UserId::new()).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            gate.enter(UserId::new()).await.unwrap_err(),
            TurnedAway::QueueFull
        );
        assert_eq!(
            waiter.await.unwrap().unwrap_err(),
            TurnedAway::WaitedTooLong
        );
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
        assert_eq!(gate.metrics.connects_turned_away.get(), 2);
    }

    #[tokio::test]
    async fn one_person_queues_no_more_windows_than_they_may_open() {
        let gate = gate(1, 10, 5_000);
        let _only = gate.enter(UserId::new()).await.unwrap();
        let mallory = UserId::new();
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move { gate.enter(mallory).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            gate.enter(mallory).await.unwrap_err(),
            TurnedAway::TooManyOfOnePerson
        );
        // Someone else still queues.
        let other = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter(UserId::new()).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 3);
        for waiter in queued {
            waiter.abort();
        }
        other.abort();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
        assert!(gate.by_person().is_empty(), "the map shrinks back");
    }

    #[tokio::test]
    async fn a_closed_gate_turns_the_waiting_and_the_later_away_as_shutting_down() {
        let gate = gate(1, 10, 5_000);
        let _only = gate.enter(UserId::new()).await.unwrap();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter(UserId::new()).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        gate.close();
        assert_eq!(waiter.await.unwrap().unwrap_err(), TurnedAway::ShuttingDown);
        assert_eq!(
            gate.enter(UserId::new()).await.unwrap_err(),
            TurnedAway::ShuttingDown
        );
        assert_eq!(gate.waiting.load(Ordering::Relaxed), 0);
    }
}
