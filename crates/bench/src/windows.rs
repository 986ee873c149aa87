//! Opening many windows quickly and knowing when presence has settled.
//!
//! Windows open [`CONCURRENCY`] at a time, and each gets its reader the moment its `ready`
//! arrives: a window nobody reads lets the presence frames of everyone arriving after it
//! pile up in the server's buffers, which would inflate the memory `idle` reports and
//! start `dm` on a backlog. A run starts only once every window counts everyone online
//! ([`Settling`]), so the connect storm's presence fan-out is not mistaken for message
//! latency.
//!
//! Settled is a count (protocol v2): a window is told of arrivals and departures only in
//! its page of the online list and among its conversation partners, but every window
//! gets the number of people it may see online, in `ready` (`online_count`) and in each
//! `online_changes` (`count`). A window whose page does not move hears the count at most
//! every ~10 s, so settling may take that long past the last arrival.

use super::frames::Head;
use super::{connect_from, Socket};
use futures_util::{StreamExt, TryStreamExt};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Windows being opened at once: enough to keep the server's handshake path busy, few
/// enough not to time out handshakes behind a queue.
pub const CONCURRENCY: usize = 64;

/// How long the generator waits for presence to settle before it gives up.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

/// One window's count of who is online, counting towards a shared tally once it reaches
/// the expected number of people.
pub struct Settling {
    online: usize,
    expected: usize,
    counted: bool,
    tally: Arc<AtomicUsize>,
}

impl Settling {
    fn check(&mut self) {
        if !self.counted && self.online >= self.expected {
            self.counted = true;
            self.tally.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Folds a frame in: the count of an `online_changes` (or of a whole-list
    /// `online_page`); other frames are ignored.
    pub fn observe(&mut self, frame: &Head) {
        if let Some(count) = frame.online_count() {
            self.count(count);
        }
    }

    /// Takes `online` as the number of people the window counts online now.
    pub fn count(&mut self, online: usize) {
        self.online = online;
        self.check();
    }
}

/// What every window's [`Settling`] reports to.
#[derive(Clone)]
pub struct Tally {
    settled: Arc<AtomicUsize>,
    expected_online: usize,
}

impl Tally {
    /// Every window should come to see `expected_online` people.
    pub fn new(expected_online: usize) -> Self {
        Tally {
            settled: Arc::new(AtomicUsize::new(0)),
            expected_online,
        }
    }

    /// A window whose `ready` counted `online` people (`online_count`).
    pub fn window(&self, online: usize) -> Settling {
        let mut s = Settling {
            online,
            expected: self.expected_online,
            counted: false,
            tally: self.settled.clone(),
        };
        s.check();
        s
    }

    /// Waits until `windows` windows count everyone online; answers how long that took.
    pub async fn wait(&self, windows: usize) -> anyhow::Result<f64> {
        let started = Instant::now();
        while self.settled.load(Ordering::Relaxed) < windows {
            anyhow::ensure!(
                started.elapsed() < SETTLE_LIMIT,
                "presence did not settle within {SETTLE_LIMIT:?}: {} of {windows} windows count everyone online",
                self.settled.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(started.elapsed().as_secs_f64())
    }
}

/// Reads `socket` until it closes (answering pings as it reads), folding presence into
/// `presence`.
pub fn keep_reading(mut socket: Socket, mut presence: Settling) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            if let WsMessage::Text(text) = frame {
                if let Some(head) = Head::parse(&text) {
                    presence.observe(&head);
                }
            }
        }
    })
}

/// Where window `i` goes: its server's WebSocket URL, its token and its local address.
pub struct Placement<'a> {
    pub url: &'a str,
    pub token: &'a str,
    pub source: Option<Ipv4Addr>,
}

/// Opens `count` windows, [`CONCURRENCY`] at a time; `adopt(i, socket, online)` takes each
/// as soon as its `ready` arrived (with the number of people it counted online) and
/// starts reading it. Answers what `adopt` returned, in window order, and the seconds
/// it took.
pub async fn open<'a, T>(
    count: usize,
    place: impl Fn(usize) -> Placement<'a>,
    adopt: impl Fn(usize, Socket, usize) -> T,
) -> anyhow::Result<(Vec<T>, f64)> {
    let started = Instant::now();
    let opened: Vec<T> = futures_util::stream::iter((0..count).map(|i| {
        let p = place(i);
        async move {
            connect_from(p.url, p.token, p.source)
                .await
                .map(|(socket, ready)| (i, socket, ready.online))
        }
    }))
    .buffered(CONCURRENCY)
    .map_ok(|(i, socket, online)| {
        if (i + 1) % 1000 == 0 {
            eprintln!("  {} windows open", i + 1);
        }
        adopt(i, socket, online)
    })
    .try_collect()
    .await?;
    Ok((opened, started.elapsed().as_secs_f64()))
}

/// The local address for window `i` when spreading over `sources` addresses.
pub fn source(i: usize, sources: u8) -> Option<Ipv4Addr> {
    let n = sources.max(1) as usize;
    Some(Ipv4Addr::new(127, 0, 0, 1 + (i % n) as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head<'_> {
        Head::parse(text).unwrap()
    }

    #[test]
    fn a_window_counts_as_settled_once_its_count_reaches_everyone_and_only_once() {
        let tally = Tally::new(3);
        let mut w = tally.window(1);
        assert_eq!(tally.settled.load(Ordering::Relaxed), 0);
        // Arrivals it is told of, and arrivals only counted: the count is what counts.
        w.observe(&head(
            r#"{"type":"online_changes","came":[{"id":"b","email":"b"}],"went":[],"count":2}"#,
        ));
        assert_eq!(tally.settled.load(Ordering::Relaxed), 0);
        w.observe(&head(
            r#"{"type":"online_changes","came":[],"went":[],"count":3}"#,
        ));
        assert_eq!(tally.settled.load(Ordering::Relaxed), 1);
        w.observe(&head(
            r#"{"type":"online_changes","came":[],"went":["b"],"count":2}"#,
        ));
        w.observe(&head(
            r#"{"type":"online_changes","came":[],"went":[],"count":4}"#,
        ));
        w.observe(&head(r#"{"type":"message"}"#));
        assert_eq!(tally.settled.load(Ordering::Relaxed), 1);
        let _already = tally.window(3);
        assert_eq!(tally.settled.load(Ordering::Relaxed), 2);
    }
}
