//! Scenario `relay`: the floor of the WebSocket path alone. A minimal relay (tokio and
//! tokio-tungstenite, no authentication, no JSON, no database) runs in this process on
//! a runtime of its own, and the same open-loop load as `dm` runs against it, with the
//! same accounting. What `dm` costs above this is Banter's own work.
//!
//! Frames are plain text, `<k>|<due µs>|<to user>|<body>`. The relay reads only the
//! third field: it forwards the frame unchanged to every window of `to user` and to
//! every other window of the sender, and acknowledges it to the sending window as
//! `A|<frame>`. A window says who it is in its URL (`/u/<user index>`) and hears `R`
//! once the relay has registered it.
//!
//! With `--storm N`, one second into the load N more windows connect as `storm`'s do
//! ([`STORM_CONCURRENCY`] handshakes at a time), each waiting for its `R`: the floor of
//! `storm`, a connect storm beside the same load on the same machine. The relay runs in
//! this process, so each window holds two of its open files: keep `--users` × `--windows`
//! plus `--storm` under half the process's limit.

use super::collect::{collect, schedule, Collected, Sent};
use super::dm::STORM_AFTER;
use super::stats::{percentiles_ms, Observation};
use super::storm::{StormRuntime, STORM_CONCURRENCY};
use super::{windows, BenchArgs, Socket};
use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The relay's windows: user index → (window id, its outgoing queue).
type Registry = Arc<RwLock<HashMap<u32, Vec<(u64, mpsc::UnboundedSender<WsMessage>)>>>>;

/// The user index of a `/u/<n>` path.
fn user_of_path(path: &str) -> Option<u32> {
    path.strip_prefix("/u/")?.parse().ok()
}

/// The `to user` field of a frame: the only thing the relay reads.
fn recipient(frame: &str) -> Option<u32> {
    frame.split('|').nth(2)?.parse().ok()
}

/// `k` and the intended send time (µs since the start) of a frame or of an ack.
fn parse_frame(frame: &str) -> Option<(u64, u64)> {
    let mut fields = frame.split('|');
    let (k, due) = (fields.next()?, fields.next()?);
    Some((k.parse().ok()?, due.parse().ok()?))
}

/// The running relay: where it listens, how to stop it.
struct Relay {
    port: u16,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// The relay's listen backlog: actix-web's default, a node's, so a storm's handshakes
/// queue at the relay's door as they do at a node's.
const BACKLOG: u32 = 2048;

/// Starts the relay on 127.0.0.1:0, on its own multi-threaded runtime and threads.
fn start_relay() -> anyhow::Result<Relay> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("relay")
        .build()?;
    let listener = {
        // The listener registers with the relay's runtime, not the caller's.
        let _relay = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(([127, 0, 0, 1], 0).into())?;
        socket.listen(BACKLOG)?
    };
    let port = listener.local_addr()?.port();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("relay-main".into())
        .spawn(move || {
            runtime.block_on(async move {
                let registry = Registry::default();
                let mut next_id = 0u64;
                tokio::pin!(stopped);
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            next_id += 1;
                            tokio::spawn(relay_window(stream, next_id, registry.clone()));
                        }
                    }
                }
            });
            // Dropping the runtime here ends every window task and closes its socket.
        })?;
    Ok(Relay { port, stop, thread })
}

/// One window on the relay: register it, forward what it sends, unregister on close.
async fn relay_window(stream: tokio::net::TcpStream, id: u64, registry: Registry) {
    let _ = stream.set_nodelay(true);
    let mut user = None;
    // The refusal's type is tungstenite's own.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        user = user_of_path(request.uri().path());
        if user.is_some() {
            Ok(response)
        } else {
            let mut refusal = ErrorResponse::new(Some("expected /u/<user index>".into()));
            *refusal.status_mut() = StatusCode::NOT_FOUND;
            Err(refusal)
        }
    };
    let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let Some(user) = user else { return };
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    registry
        .write()
        .expect("registry lock")
        .entry(user)
        .or_default()
        .push((id, tx.clone()));
    let _ = tx.send(WsMessage::Text("R".into()));

    // The writer: whatever is queued goes out in one flush.
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.feed(frame).await.is_err() {
                return;
            }
            while let Ok(frame) = rx.try_recv() {
                if sink.feed(frame).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });

    while let Some(Ok(frame)) = stream.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let Some(to) = recipient(&text) else {
            continue;
        };
        {
            let windows = registry.read().expect("registry lock");
            for (_, window) in windows.get(&to).into_iter().flatten() {
                let _ = window.send(WsMessage::Text(text.clone()));
            }
            if to != user {
                for (other, window) in windows.get(&user).into_iter().flatten() {
                    if *other != id {
                        let _ = window.send(WsMessage::Text(text.clone()));
                    }
                }
            }
        }
        let _ = tx.send(WsMessage::Text(format!("A|{text}")));
    }

    if let Some(windows) = registry.write().expect("registry lock").get_mut(&user) {
        windows.retain(|(other, _)| *other != id);
    }
    drop(tx);
    let _ = writer.await;
}

/// Opens a window on the relay as user `user` and waits for its `R`.
async fn connect(
    port: u16,
    user: usize,
    source: Option<std::net::Ipv4Addr>,
) -> anyhow::Result<Socket> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind((ip, 0).into())?;
    }
    let stream = socket.connect(([127, 0, 0, 1], port).into()).await?;
    stream.set_nodelay(true)?;
    let url = format!("ws://127.0.0.1:{port}/u/{user}");
    let (mut socket, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await?;
    while let Some(frame) = socket.next().await {
        if matches!(frame?, WsMessage::Text(ref t) if t == "R") {
            return Ok(socket);
        }
    }
    anyhow::bail!("relay socket closed before it was registered")
}

async fn read_window(
    mut stream: futures_util::stream::SplitStream<Socket>,
    window: u32,
    start: Instant,
    out: mpsc::UnboundedSender<Observation>,
) {
    while let Some(Ok(frame)) = stream.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let now_us = start.elapsed().as_micros() as u64;
        let (acked, frame) = match text.strip_prefix("A|") {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let Some((k, intended)) = parse_frame(frame) else {
            continue;
        };
        let latency_us = now_us.saturating_sub(intended);
        let observation = if acked {
            Observation::AckedUnstored { k, latency_us }
        } else {
            Observation::Delivered {
                k,
                window,
                latency_us,
                cross_node: false,
            }
        };
        if out.send(observation).is_err() {
            return;
        }
    }
}

/// What a storm on the relay measured.
struct RelayStorm {
    /// The storm's windows, held open until the report (as `storm` holds its own).
    _sockets: Vec<Socket>,
    /// From the first handshake to the last window's `R`.
    secs: f64,
}

/// Opens `n` windows as users `first_user..`, [`STORM_CONCURRENCY`] at a time.
async fn storm(
    port: u16,
    first_user: usize,
    n: usize,
    source_addresses: u8,
) -> anyhow::Result<RelayStorm> {
    let started = Instant::now();
    let sockets: Vec<Socket> = futures_util::stream::iter(first_user..first_user + n)
        .map(|u| connect(port, u, windows::source(u, source_addresses)))
        .buffer_unordered(STORM_CONCURRENCY)
        .try_collect()
        .await
        .context("opening a storm window on the relay")?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "storm: {n} windows ready in {secs:.2}s ({:.0}/s)",
        n as f64 / secs
    );
    Ok(RelayStorm {
        _sockets: sockets,
        secs,
    })
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.users >= 2 && args.windows >= 1 && args.rate >= 1,
        "need at least 2 users, 1 window and a rate of 1"
    );
    let relay = start_relay().context("starting the relay")?;
    eprintln!("relay listening on 127.0.0.1:{}", relay.port);

    let connect_started = Instant::now();
    let mut sockets = Vec::with_capacity(args.users * args.windows);
    for u in 0..args.users {
        for w in 0..args.windows {
            let i = u * args.windows + w;
            sockets.push(
                connect(relay.port, u, windows::source(i, args.source_addresses))
                    .await
                    .context("opening a relay window")?,
            );
        }
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    eprintln!(
        "{} windows open in {connect_secs:.2}s ({:.0}/s)",
        sockets.len(),
        sockets.len() as f64 / connect_secs
    );

    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut senders = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        tokio::spawn(read_window(stream, i as u32, start, tx.clone()));
        if i % args.windows == 0 {
            senders.push(sink);
        }
    }
    drop(tx);
    // Kept until the report: its task holds the storm's windows.
    let storm_runtime = if args.storm > 0 {
        Some(StormRuntime::new().context("starting the storm's runtime")?)
    } else {
        None
    };
    let storming = storm_runtime.as_ref().map(|runtime| {
        let first_user = args.users;
        runtime.spawn_after(
            STORM_AFTER,
            storm(relay.port, first_user, args.storm, args.source_addresses),
        )
    });

    // Open loop, as in `dm`: message k is due at k / rate; user k % users sends it to
    // the next user.
    let body = "x".repeat(args.body.max(1));
    let per_user = schedule(&args);
    let mut tasks = Vec::new();
    for (user, (mut sink, schedule)) in senders.into_iter().zip(per_user).enumerate() {
        let body = body.clone();
        let peer = (user + 1) % args.users;
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            for (k, due_us) in schedule {
                tokio::time::sleep_until((start + Duration::from_micros(due_us)).into()).await;
                let frame = format!("{k}|{due_us}|{peer}|{body}");
                if sink.send(WsMessage::Text(frame)).await.is_err() {
                    break;
                }
                sent += 1;
            }
            (Sent::messages(sent, start), sink)
        }));
    }
    let expected_per_message = (2 * args.windows - 1) as u64;
    let Collected {
        stats,
        sent,
        offered_secs,
        sinks: _sinks,
        ..
    } = collect(&mut rx, tasks, start, expected_per_message).await?;
    let lost = stats.lost_of_sent(sent, expected_per_message);
    let storm = match storming {
        Some(task) => Some(task.await.context("the storm's task")??),
        None => None,
    };

    let _ = relay.stop.send(());
    drop(_sinks);
    let _ = tokio::task::spawn_blocking(move || relay.thread.join()).await;

    let report = json!({
        "scenario": args.scenario,
        "nodes": 1,
        "users": args.users,
        "windows": args.windows,
        "offered_per_s": (sent as f64 / offered_secs).round(),
        "sent": sent,
        "acked": stats.acked,
        "delivered": stats.delivered,
        "delivered_per_s": (stats.delivered as f64 / offered_secs).round(),
        "lost": lost,
        "duplicated": stats.duplicated,
        "ack_latency_ms": percentiles_ms(&stats.ack_latency),
        "delivery_latency_ms": percentiles_ms(&stats.delivery_latency),
        "missing_sample": stats.missing(expected_per_message as usize, 10),
        "connect_per_s": ((args.users * args.windows) as f64 / connect_secs).round(),
        "storm_windows": storm.as_ref().map(|_| args.storm),
        "storm_connect_per_s": storm.as_ref().map(|s| (args.storm as f64 / s.secs).round()),
        "storm_all_ready_s": storm.as_ref().map(|s| (s.secs * 100.0).round() / 100.0),
    });
    drop(storm);
    drop(storm_runtime);
    eprintln!(
        "\nrelay floor: {} users x {} windows, {:.0} msg/s offered for {:.1}s: {} sent, {} acked, {} delivered, {} lost, {} duplicated",
        args.users, args.windows, report["offered_per_s"].as_f64().unwrap_or(0.0), offered_secs, sent, stats.acked, stats.delivered, lost, stats.duplicated
    );
    eprintln!("ack latency      ms {}", report["ack_latency_ms"]);
    eprintln!("delivery latency ms {}", report["delivery_latency_ms"]);
    println!("{report}");
    anyhow::ensure!(
        lost == 0 && stats.duplicated == 0,
        "{lost} deliveries lost and {} duplicated",
        stats.duplicated
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_reads_the_recipient_and_the_generator_the_number_and_due_time() {
        let frame = "17|250000|18|x|y";
        assert_eq!(recipient(frame), Some(18));
        assert_eq!(parse_frame(frame), Some((17, 250_000)));
        assert_eq!(user_of_path("/u/42"), Some(42));
        assert_eq!(user_of_path("/ws"), None);
        assert_eq!(recipient("R"), None);
    }
}
