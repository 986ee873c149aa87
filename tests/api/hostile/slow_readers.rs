//! Attacks on a node's memory through sockets that stop reading: what waits towards a
//! socket is bounded in bytes, and a socket that falls behind or stops taking bytes has
//! its connection cut, its memory freed and its window slot given back.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

type RawSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A memory figure of process `pid` from `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("memory figure")
}

/// A conversation of `a` and `b` at `base` holding `count` messages of 4,000 control
/// characters each: every one is ~24 KB as JSON, so a page of 50 is ~1.2 MB.
async fn heavy_conversation(
    http: &reqwest::Client,
    base: &str,
    a: &Person,
    b: &Person,
    count: usize,
) -> String {
    let direct: Value = http
        .post(format!("{base}/api/direct/{}", b.id))
        .bearer_auth(&a.token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let conversation = direct["id"].as_str().expect("conversation id").to_owned();
    let body = "\u{1}".repeat(4000);
    for i in 0..count {
        let sender = if i % 2 == 0 { a } else { b };
        let status = http
            .post(format!("{base}/api/conversations/{conversation}/messages"))
            .bearer_auth(&sender.token)
            .json(&json!({"body": body, "client_id": new_client_id()}))
            .send()
            .await
            .expect("answered")
            .status();
        assert_eq!(status.as_u16(), 201, "message {i} stored");
    }
    conversation
}

/// A socket of `person` at `ws_url` that has read its `ready` and from now on only writes.
async fn reader_that_stops(ws_url: &str, person: &Person) -> RawSocket {
    let (mut socket, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(ws_url))
        .await
        .expect("connect in time")
        .expect("connect");
    socket
        .send(WsMessage::Text(
            json!({"type": "auth", "token": person.token}).to_string(),
        ))
        .await
        .expect("auth sent");
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("ready in time")
            .expect("open")
            .expect("frame");
        if let WsMessage::Text(text) = frame {
            if text.contains("\"type\":\"ready\"") {
                return socket;
            }
        }
    }
}

/// Asks for `pages` pages of 50 messages of `conversation`, reading nothing.
async fn ask_for_pages(socket: &mut RawSocket, conversation: &str, pages: usize) {
    for i in 0..pages {
        let frame = json!({"type": "history", "ref": format!("h{i}"),
                           "conversation_id": conversation, "after_seq": 0, "limit": 50});
        let sent = tokio::time::timeout(WAIT, socket.send(WsMessage::Text(frame.to_string())))
            .await
            .expect("written in time");
        if sent.is_err() {
            return; // already cut
        }
    }
}

/// Reads what the socket still holds until it ends; returns the bytes read, or `None` if
/// it did not end within `within`.
async fn drain_until_cut(socket: &mut RawSocket, within: Duration) -> Option<usize> {
    let deadline = Instant::now() + within;
    let mut bytes = 0;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await {
            Err(_) => return None,
            Ok(None | Some(Err(_))) => return Some(bytes),
            Ok(Some(Ok(WsMessage::Close(_)))) => return Some(bytes),
            Ok(Some(Ok(message))) => bytes += message.len(),
        }
    }
}

/// The value of a counter or gauge in a `/metrics` text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[actix_web::test]
async fn a_socket_that_asks_for_pages_and_never_reads_is_cut_and_its_memory_freed() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app.database_url, free_port(), app.peer_env("slow")).await;
    let pid = server.child.id().expect("server pid");
    let base = format!("http://127.0.0.1:{}", server.port);
    let ws_url = format!("ws://127.0.0.1:{}/ws", server.port);
    let mallory = app.sign_in("mallory@example.com").await;
    let friend = app.sign_in("friend@example.com").await;
    let conversation = heavy_conversation(&app.http, &base, &mallory, &friend, 50).await;
    let (alice, bob) = (
        app.sign_in("alice@example.com").await,
        app.sign_in("bob@example.com").await,
    );
    let bob_node = Node {
        address: base.clone(),
        ws_url: ws_url.clone(),
    };
    let (mut bobs_window, _) = app.window_at(&bob_node, &bob).await;
    let before = status_kib(pid, "VmHWM:");

    // 150 pages of ~1.2 MB asked for (~180 MB), none read.
    let mut attacker = reader_that_stops(&ws_url, &mallory).await;
    ask_for_pages(&mut attacker, &conversation, 150).await;

    // The node notices and cuts the socket.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = app
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if metric(&text, "banter_slow_consumers_total") >= 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled socket was never cut"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Meanwhile the node answers at once and delivers others' messages promptly.
    let started = Instant::now();
    let health = app
        .http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_millis(100));
    let started = Instant::now();
    let direct: Value = app
        .http
        .post(format!("{base}/api/direct/{}", bob.id))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let status = app
        .http
        .post(format!(
            "{base}/api/conversations/{}/messages",
            direct["id"].as_str().unwrap()
        ))
        .bearer_auth(&alice.token)
        .json(&json!({"body": "still here", "client_id": new_client_id()}))
        .send()
        .await
        .expect("answered")
        .status();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(
        bobs_window.recv_type("message").await["message"]["body"],
        "still here"
    );
    assert!(started.elapsed() < Duration::from_secs(1));

    // What reaches the attacker is what the kernels held, then the end; the rest of the
    // 180 MB was never kept.
    let read = drain_until_cut(&mut attacker, Duration::from_secs(20))
        .await
        .expect("the connection was cut");
    assert!(read < 40 * 1024 * 1024, "the attacker read {read} bytes");
    let grew_mib = status_kib(pid, "VmHWM:").saturating_sub(before) / 1024;
    assert!(grew_mib < 64, "peak memory grew by {grew_mib} MiB");

    // The cut socket's window slot is given back only once it is really gone: the node
    // counts Bob's window alone.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = app
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if metric(&text, "banter_sockets_open") == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the cut socket still counts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_again, ready) = app.window_at(&bob_node, &mallory).await;
    assert_eq!(
        ready["type"], "ready",
        "the attacker may come back and read"
    );
}

#[actix_web::test]
async fn a_socket_whose_bytes_stop_moving_is_cut_though_it_is_within_its_budget() {
    let app = spawn_app_with(|s| {
        s.limits.outbound_bytes = 1 << 30;
        s.limits.outbound_stall = Duration::from_millis(500);
        s.limits.send_rate_per_second = 1000;
        s.limits.send_burst = 1000;
    })
    .await;
    let (mallory, friend) = (
        app.sign_in("mallory@example.com").await,
        app.sign_in("friend@example.com").await,
    );
    let conversation = heavy_conversation(&app.http, &app.address, &mallory, &friend, 50).await;
    let mut attacker = reader_that_stops(&app.ws_url, &mallory).await;
    // ~24 MB asked for: far more than the kernels hold, far less than the budget.
    ask_for_pages(&mut attacker, &conversation, 20).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&app.metrics().await, "banter_slow_consumers_total") < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled socket was never cut"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let read = drain_until_cut(&mut attacker, Duration::from_secs(20))
        .await
        .expect("the connection was cut");
    assert!(read < 20 * 1024 * 1024, "the attacker read {read} bytes");
}

#[actix_web::test]
async fn a_window_that_reads_slowly_but_steadily_is_not_cut() {
    let app = spawn_app_with(|s| {
        s.limits.outbound_stall = Duration::from_millis(500);
        s.limits.send_rate_per_second = 1000;
        s.limits.send_burst = 1000;
    })
    .await;
    let (reader, friend) = (
        app.sign_in("reader@example.com").await,
        app.sign_in("friend@example.com").await,
    );
    let conversation = heavy_conversation(&app.http, &app.address, &reader, &friend, 50).await;
    let (mut ws, _) = app.window(&reader).await;
    // Three ~1.2 MB pages, one at a time, read with pauses shorter than the stall limit.
    for i in 0..3 {
        ws.send(json!({"type": "history", "ref": format!("h{i}"),
                       "conversation_id": conversation, "after_seq": 0, "limit": 50}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let page = ws.recv_type("history").await;
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(50));
    }
    assert_eq!(
        metric(&app.metrics().await, "banter_slow_consumers_total"),
        0.0
    );
}
