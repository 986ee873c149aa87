//! Attacks on a node's memory through sockets that stop reading: what waits towards a
//! socket is bounded in bytes, and a socket that falls behind or stops taking bytes has
//! its connection cut, its memory freed and its window slot given back.

use super::watch::Watched;
use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

type RawSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A conversation of `a` and `b` at `base` holding `count` messages of 4,000 control
/// characters each: every one is ~24 KB as JSON, so a page of 50 is ~1.2 MB.
async fn heavy_conversation(
    http: &reqwest::Client,
    node: &Node,
    a: &Person,
    b: &Person,
    count: usize,
) -> String {
    let direct = node
        .post(http, &format!("/api/direct/{}", b.id), &a.token, None)
        .await;
    let conversation = direct["id"].as_str().expect("conversation id").to_owned();
    let body = "\u{1}".repeat(4000);
    for i in 0..count {
        let sender = if i % 2 == 0 { a } else { b };
        let stored = node
            .post(
                http,
                &format!("/api/conversations/{conversation}/messages"),
                &sender.token,
                Some(json!({"body": body, "client_id": new_client_id()})),
            )
            .await;
        assert!(stored["seq"].is_i64(), "message {i} stored: {stored}");
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

#[actix_web::test]
async fn a_socket_that_asks_for_pages_and_never_reads_is_cut_and_its_memory_freed() {
    let mut watched = Watched::start("slow").await;
    let node = watched.node.clone();
    let http = watched.app.http.clone();
    let mallory = watched.person("mallory@example.com").await;
    let friend = watched.person("friend@example.com").await;
    let conversation = heavy_conversation(&http, &node, &mallory, &friend, 50).await;

    // 150 pages of ~1.2 MB asked for (~180 MB), none read, until the node cuts the socket.
    let mut attacker = watched
        .during(async {
            let mut attacker = reader_that_stops(&node.ws_url, &mallory).await;
            ask_for_pages(&mut attacker, &conversation, 150).await;
            node.wait_for_metric(
                &http,
                "banter_slow_consumers_total",
                Duration::from_secs(20),
                |cut| cut >= 1.0,
                "the stalled socket was never cut",
            )
            .await;
            attacker
        })
        .await;
    // The node answered and delivered promptly throughout, and kept none of the 180 MB.
    watched.assert_well();
    // What reaches the attacker is what the kernels held, then the end.
    let read = drain_until_cut(&mut attacker, Duration::from_secs(20))
        .await
        .expect("the connection was cut");
    assert!(read < 40 * 1024 * 1024, "the attacker read {read} bytes");

    // The cut socket's window slot is given back once it is really gone: the node counts
    // the two bystanders' windows alone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while watched.metric("banter_sockets_open").await != 2.0 {
        assert!(Instant::now() < deadline, "the cut socket still counts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_again, ready) = watched.app.window_at(&node, &mallory).await;
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
    let conversation = heavy_conversation(&app.http, &app.node(), &mallory, &friend, 50).await;
    let mut attacker = reader_that_stops(&app.ws_url, &mallory).await;
    // ~24 MB asked for: far more than the kernels hold, far less than the budget.
    ask_for_pages(&mut attacker, &conversation, 20).await;

    app.node()
        .wait_for_metric(
            &app.http,
            "banter_slow_consumers_total",
            Duration::from_secs(20),
            |cut| cut >= 1.0,
            "the stalled socket was never cut",
        )
        .await;
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
    let conversation = heavy_conversation(&app.http, &app.node(), &reader, &friend, 50).await;
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
        app.node()
            .metric(&app.http, "banter_slow_consumers_total")
            .await,
        0.0
    );
}
