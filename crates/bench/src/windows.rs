//! Opening many windows quickly and knowing when presence has settled.
//!
//! Windows open [`CONCURRENCY`] at a time, and each gets its reader the moment its `ready`
//! arrives: a window nobody reads lets the presence frames of everyone arriving after it
//! pile up in the server's buffers, which would inflate the memory `idle` reports and
//! start `dm` on a backlog. A run starts only once every window sees everyone online
//! ([`Settling`]), so the connect storm's presence fan-out is not mistaken for message
//! latency.

use super::{connect_from, Socket};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;
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

/// One window's view of who is online, counting towards a shared tally once it shows
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

    /// Folds a `presence` frame in (other frames are ignored).
    pub fn observe(&mut self, frame: &Value) {
        if frame["type"] == "presence" {
            match frame["online"].as_bool() {
                Some(true) => self.online += 1,
                Some(false) => self.online = self.online.saturating_sub(1),
                None => {}
            }
            self.check();
        }
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

    /// A window whose `ready` listed `online` people.
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

    /// Waits until `windows` windows see everyone online; answers how long that took.
    pub async fn wait(&self, windows: usize) -> anyhow::Result<f64> {
        let started = Instant::now();
        while self.settled.load(Ordering::Relaxed) < windows {
            anyhow::ensure!(
                started.elapsed() < SETTLE_LIMIT,
                "presence did not settle within {SETTLE_LIMIT:?}: {} of {windows} windows see everyone",
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
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    presence.observe(&v);
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
/// as soon as its `ready` arrived (with the number of people it listed online) and
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
                .map(|(socket, online)| (i, socket, online))
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
    use serde_json::json;

    #[test]
    fn a_window_counts_as_settled_once_it_sees_everyone_and_only_once() {
        let tally = Tally::new(2);
        let mut w = tally.window(1);
        assert_eq!(tally.settled.load(Ordering::Relaxed), 0);
        w.observe(&json!({"type": "presence", "online": true}));
        w.observe(&json!({"type": "presence", "online": false}));
        w.observe(&json!({"type": "presence", "online": true}));
        w.observe(&json!({"type": "message"}));
        assert_eq!(tally.settled.load(Ordering::Relaxed), 1);
        let _already = tally.window(2);
        assert_eq!(tally.settled.load(Ordering::Relaxed), 2);
    }
}
