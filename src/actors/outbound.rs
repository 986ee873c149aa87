//! A socket's outbound budget: the bytes handed to it that have not left for the
//! network yet, when they last moved, and a way to cut its TCP connection.
//!
//! A socket whose peer stops reading stops being polled by the HTTP layer once its write
//! buffer is full, so its own actor can neither notice nor close itself, and frames pile
//! up in its mailbox. The UserActor handing it frames therefore keeps the count here:
//! [`Outbound::charge`] refuses a frame that would put more than the budget in waiting
//! (a single frame larger than the budget still passes when nothing waits), and
//! [`Outbound::stalled`] tells when bytes have waited without moving for too long. Either
//! way the UserActor calls [`Outbound::abort`], which shuts the TCP connection down: the
//! HTTP layer's pending write fails, it drops the connection and with it the socket's
//! actor, mailbox and buffers, and the socket's `stopped` hook frees its window slot.
//!
//! [`super::paced::Paced`], the socket's response body, counts bytes out as the HTTP
//! layer takes them ([`Outbound::sent`]) and forgets the connection when it is dropped
//! ([`Outbound::released`]), which happens before the HTTP layer closes the connection,
//! so a shutdown never reaches a descriptor the kernel has since given to someone else.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The accepted TCP connection's descriptor, kept in the connection's data by the
/// server's `on_connect` hook so a socket can cut its own connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionFd(pub RawFd);

/// What [`Outbound::charge`] decided about a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charged {
    /// Counted; hand it over.
    Accepted,
    /// It would put more than the budget in waiting: the peer is too far behind.
    OverBudget,
}

#[derive(Debug)]
pub struct Outbound {
    /// Most bytes that may wait (a single larger frame passes when nothing waits).
    budget: usize,
    /// Bytes charged and not yet taken by the HTTP layer. Frames the socket writes
    /// itself that are not charged (pings) make the count err low, never high.
    queued: AtomicUsize,
    /// When bytes last moved (or the queue last started from empty), in milliseconds
    /// since `epoch`: the stall clock.
    moved_at: AtomicU64,
    epoch: Instant,
    /// The connection while the socket's response body lives; `None` after.
    connection: Mutex<Option<RawFd>>,
}

impl Outbound {
    pub fn new(budget: usize, connection: Option<ConnectionFd>) -> Arc<Self> {
        Arc::new(Outbound {
            budget,
            queued: AtomicUsize::new(0),
            moved_at: AtomicU64::new(0),
            epoch: Instant::now(),
            connection: Mutex::new(connection.map(|c| c.0)),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts a frame of `bytes` towards the budget, unless it would overrun it.
    pub fn charge(&self, bytes: usize) -> Charged {
        let waiting = self.queued.load(Ordering::Acquire);
        if waiting > 0 && waiting.saturating_add(bytes) > self.budget {
            return Charged::OverBudget;
        }
        if self.queued.fetch_add(bytes, Ordering::AcqRel) == 0 {
            // The stall clock starts when something starts waiting.
            self.moved_at.store(self.now_ms(), Ordering::Release);
        }
        Charged::Accepted
    }

    /// Takes back a charge whose frame was never handed over (its mailbox was full or
    /// gone).
    pub fn refund(&self, bytes: usize) {
        self.sent(bytes);
    }

    /// `bytes` left for the HTTP layer.
    pub fn sent(&self, bytes: usize) {
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                Some(q.saturating_sub(bytes))
            });
        self.moved_at.store(self.now_ms(), Ordering::Release);
    }

    /// Bytes waiting now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Have bytes waited without any moving for longer than `limit`?
    pub fn stalled(&self, limit: Duration) -> bool {
        if self.queued() == 0 {
            return false;
        }
        let since = self
            .now_ms()
            .saturating_sub(self.moved_at.load(Ordering::Acquire));
        Duration::from_millis(since) > limit
    }

    /// Cuts the TCP connection (both directions), so the HTTP layer drops the socket
    /// whether or not it is being polled. Returns whether there was a connection to cut.
    pub fn abort(&self) -> bool {
        let Ok(connection) = self.connection.lock() else {
            return false;
        };
        let Some(fd) = *connection else {
            return false;
        };
        // SAFETY: `fd` belongs to this socket's live connection: the HTTP layer closes it
        // only after dropping the response body, whose drop clears `connection` under
        // this same lock first. The borrow does not outlive this call.
        let socket = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        match socket2::SockRef::from(&socket).shutdown(std::net::Shutdown::Both) {
            Ok(()) => true,
            Err(e) => {
                log::debug!("could not shut a slow socket's connection down: {e}");
                false
            }
        }
    }

    /// The socket's response body is gone; its connection may close at any moment.
    pub fn released(&self) {
        if let Ok(mut connection) = self.connection.lock() {
            *connection = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_counted_until_they_leave() {
        let out = Outbound::new(100, None);
        assert_eq!(out.charge(40), Charged::Accepted);
        assert_eq!(out.charge(60), Charged::Accepted);
        assert_eq!(out.queued(), 100);
        out.sent(70);
        assert_eq!(out.queued(), 30);
        out.sent(1_000);
        assert_eq!(
            out.queued(),
            0,
            "uncharged bytes (pings, headers) never go below 0"
        );
    }

    #[test]
    fn a_frame_that_would_overrun_the_budget_is_refused_unless_nothing_waits() {
        let out = Outbound::new(100, None);
        assert_eq!(
            out.charge(500),
            Charged::Accepted,
            "one large frame alone passes"
        );
        assert_eq!(out.charge(1), Charged::OverBudget);
        out.sent(500);
        assert_eq!(out.charge(90), Charged::Accepted);
        assert_eq!(out.charge(11), Charged::OverBudget);
        assert_eq!(out.charge(10), Charged::Accepted);
        assert_eq!(out.queued(), 100);
    }

    #[test]
    fn only_bytes_that_wait_without_moving_count_as_a_stall() {
        let out = Outbound::new(100, None);
        assert!(!out.stalled(Duration::ZERO), "nothing waits");
        out.charge(10);
        std::thread::sleep(Duration::from_millis(30));
        assert!(out.stalled(Duration::from_millis(10)));
        out.sent(5);
        assert!(
            !out.stalled(Duration::from_millis(10)),
            "bytes moved just now"
        );
        out.sent(5);
        std::thread::sleep(Duration::from_millis(30));
        assert!(!out.stalled(Duration::from_millis(10)), "nothing waits");
    }

    #[test]
    fn a_socket_without_a_known_connection_cannot_be_cut() {
        let out = Outbound::new(100, None);
        assert!(!out.abort());
    }

    #[test]
    fn abort_shuts_the_connection_down_until_it_is_released() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let out = Outbound::new(100, Some(ConnectionFd(server.as_raw_fd())));
        assert!(out.abort());
        let mut buf = [0u8; 8];
        assert_eq!(client.read(&mut buf).unwrap(), 0, "the peer sees the end");
        out.released();
        assert!(!out.abort(), "a released connection is left alone");
    }
}
