//! Two nodes behind HAProxy on one URL, as in production behind Heroku's router: a
//! rolling restart (each node SIGTERMed and started again in turn, as a deploy does)
//! loses nothing acknowledged and stores nothing twice, while people keep talking.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Opens a window through the balancer, retrying while no node takes it (one is
/// restarting); panics if none does within `WAIT`. Also says how long it took.
async fn open(url: &str, token: &str) -> (Ws, Value, Duration) {
    let started = Instant::now();
    loop {
        if let Some(mut ws) = Ws::try_connect(url, Duration::from_secs(2)).await {
            ws.send_raw(WsMessage::Text(
                json!({"type": "auth", "token": token}).to_string(),
            ))
            .await;
            loop {
                match ws.next_within(WAIT).await {
                    Some(Ok(frame)) if frame["type"] == "ready" => {
                        return (ws, frame, started.elapsed())
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break, // taken by a node on its way down
                }
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "no node took the window back within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one sender ends with.
struct Sent {
    /// client_id → the acknowledged message's id.
    acked: HashMap<String, String>,
    /// How each of its sockets ended.
    closes: Vec<Closed>,
    /// The longest it took to get a window back.
    longest_reconnect: Duration,
}

/// Sends to `to` every 100 ms (half the send allowance) until `stop`, through `url`;
/// when a node closes the socket, opens another and resends the unacknowledged message
/// with its original client_id.
async fn keep_sending(
    url: String,
    me: Person,
    to: String,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicUsize>,
) -> Sent {
    let mut sent = Sent {
        acked: HashMap::new(),
        closes: Vec::new(),
        longest_reconnect: Duration::ZERO,
    };
    let mut pending: Option<String> = None;
    let mut next = 0;
    'connect: loop {
        let (mut ws, _, took) = open(&url, &me.token).await;
        if !sent.acked.is_empty() || !sent.closes.is_empty() {
            sent.longest_reconnect = sent.longest_reconnect.max(took);
        }
        loop {
            let id = match &pending {
                Some(id) => id.clone(),
                None if stop.load(Ordering::SeqCst) => break 'connect,
                None => {
                    next += 1;
                    let id = format!("{}-{next}", me.email);
                    pending = Some(id.clone());
                    id
                }
            };
            ws.send_raw(WsMessage::Text(
                json!({"type": "send", "client_id": id, "body": id, "to": to}).to_string(),
            ))
            .await;
            loop {
                match ws.next_or_close(WAIT).await {
                    Ok(frame) if frame["type"] == "ack" => {
                        assert_eq!(frame["message"]["client_id"], id.as_str());
                        let message = frame["message"]["id"].as_str().unwrap().to_owned();
                        sent.acked.insert(id, message);
                        pending = None;
                        progress.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    Ok(frame) if frame["type"] == "error" => panic!("refused: {frame}"),
                    Ok(_) => {}
                    Err(closed) => {
                        sent.closes.push(closed);
                        continue 'connect;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    sent
}

/// What one receiver ends with: the ids of the messages it saw (live, or read back
/// after it reconnected), and how each of its sockets ended.
struct Received {
    seen: HashSet<String>,
    closes: Vec<Closed>,
}

/// Reads through `url` until it has seen every message id `expected` comes to hold (it
/// is told once every sender is done); on
/// each reconnect, asks for each conversation's messages past the last it saw.
async fn keep_reading(
    url: String,
    me: Person,
    mut expected: watch::Receiver<Option<HashSet<String>>>,
) -> Received {
    let mut received = Received {
        seen: HashSet::new(),
        closes: Vec::new(),
    };
    let mut last_seq: HashMap<String, i64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    'connect: loop {
        let (mut ws, ready, _) = open(&url, &me.token).await;
        for conversation in ready["conversations"].as_array().unwrap() {
            let id = conversation["id"].as_str().unwrap();
            let after = last_seq.get(id).copied().unwrap_or(0);
            if conversation["last_seq"].as_i64().unwrap() > after {
                ws.send_raw(WsMessage::Text(
                    json!({"type": "history", "conversation_id": id, "after_seq": after, "limit": 200})
                        .to_string(),
                ))
                .await;
            }
        }
        loop {
            if let Some(all) = &*expected.borrow_and_update() {
                if all.is_subset(&received.seen) {
                    return received;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} never saw every acknowledged message",
                me.email
            );
            let messages = match ws.next_within(Duration::from_millis(100)).await {
                None => continue,
                Some(Err(closed)) => {
                    received.closes.push(closed);
                    continue 'connect;
                }
                Some(Ok(frame)) if frame["type"] == "message" => vec![frame["message"].clone()],
                Some(Ok(frame)) if frame["type"] == "history" => {
                    frame["messages"].as_array().unwrap().clone()
                }
                Some(Ok(_)) => continue,
            };
            for m in messages {
                received.seen.insert(m["id"].as_str().unwrap().to_owned());
                let seq = last_seq
                    .entry(m["conversation_id"].as_str().unwrap().to_owned())
                    .or_default();
                *seq = (*seq).max(m["seq"].as_i64().unwrap());
            }
        }
    }
}

#[actix_web::test]
async fn a_rolling_restart_behind_haproxy_loses_and_duplicates_nothing() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    // Everyone signs in and talks through the balancer; the in-process node only makes
    // the database and the issuer.
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "sign-in")).await;
    let ports = [free_port(), free_port()];
    let mut nodes = Vec::new();
    for (name, port) in ["a", "b"].into_iter().zip(ports) {
        let node = ServerProcess::start(&app.database_url, port, app.peer_env(name)).await;
        node.node().wait_ready(&app.http).await;
        nodes.push((name, node));
    }
    let balancer = Balancer::start(ports[0], ports[1]).await;
    let url = balancer.node().ws_url;
    // Both nodes answer through the one URL, in turn.
    let mut answered = HashSet::new();
    for _ in 0..4 {
        answered.insert(balancer.node_answering(&app.http).await.expect("an answer"));
    }
    assert_eq!(answered, HashSet::from(["a".to_owned(), "b".to_owned()]));

    let pairs = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let mut expectations = Vec::new();
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    let mut progress = Vec::new();
    for i in 0..pairs {
        let from = app
            .sign_in_at(&balancer.node().address, &format!("sender{i}@example.com"))
            .await;
        let to = app
            .sign_in_at(
                &balancer.node().address,
                &format!("receiver{i}@example.com"),
            )
            .await;
        let (expect, expected) = watch::channel(None);
        expectations.push(expect);
        receivers.push(actix_web::rt::spawn(keep_reading(
            url.clone(),
            to.clone(),
            expected,
        )));
        let acks = Arc::new(AtomicUsize::new(0));
        progress.push(acks.clone());
        senders.push(actix_web::rt::spawn(keep_sending(
            url.clone(),
            from,
            to.id.clone(),
            stop.clone(),
            acks,
        )));
    }
    let every_sender_reaches = |acks: usize| {
        let progress = progress.clone();
        async move {
            let deadline = Instant::now() + WAIT;
            while progress.iter().any(|p| p.load(Ordering::SeqCst) < acks) {
                assert!(Instant::now() < deadline, "the senders stalled");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    every_sender_reaches(3).await;

    // The deploy: each node in turn gets SIGTERM, exits, and starts again on its port.
    let mut redis_conn = redis::Client::open(redis.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for (name, node) in &mut nodes {
        node.terminate();
        let status = tokio::time::timeout(Duration::from_secs(30), node.child.wait())
            .await
            .expect("exits well within 30 s")
            .unwrap();
        assert!(status.success(), "node {name} exited with {status:?}");
        // It left the cluster on its way out, and did not come back in before exiting:
        // no heartbeat, no membership, no routes or sockets left for the others to reap.
        let left: (bool, bool, bool, Vec<String>) = redis::pipe()
            .exists(format!("{prefix}node:{name}"))
            .sismember(format!("{prefix}nodes"), *name)
            .sismember(format!("{prefix}routed_nodes"), *name)
            .smembers(format!("{prefix}node_routes:{name}"))
            .query_async(&mut redis_conn)
            .await
            .unwrap();
        assert_eq!(
            left,
            (false, false, false, vec![]),
            "node {name} left traces"
        );
        let port = node.port;
        *node = ServerProcess::start(&app.database_url, port, app.peer_env(name)).await;
        node.node().wait_ready(&app.http).await;
        balancer.wait_until_it_routes_to(&app.http, name).await;
    }
    // Traffic carries on after the last restart.
    let sent_so_far = progress
        .iter()
        .map(|p| p.load(Ordering::SeqCst))
        .max()
        .unwrap();
    every_sender_reaches(sent_so_far + 3).await;
    stop.store(true, Ordering::SeqCst);

    let mut all_acked = HashSet::new();
    let mut per_receiver = Vec::new();
    let mut longest = Duration::ZERO;
    let mut told_1012 = false;
    for sender in senders {
        let sent = tokio::time::timeout(Duration::from_secs(60), sender)
            .await
            .expect("the sender finishes")
            .unwrap();
        assert!(moved_by_the_deploy(&sent.closes), "{:?}", sent.closes);
        told_1012 |= sent.closes.contains(&Closed::Code(1012));
        longest = longest.max(sent.longest_reconnect);
        let ids: HashSet<String> = sent.acked.values().cloned().collect();
        all_acked.extend(sent.acked);
        per_receiver.push(ids);
    }
    eprintln!(
        "rolling restart: {} messages acknowledged, longest reconnect {longest:?}",
        all_acked.len()
    );

    // Every acknowledged message is stored once, as acknowledged.
    let rows = app
        .db()
        .await
        .query("SELECT client_id, id::text FROM messages", &[])
        .await
        .unwrap();
    let stored: HashSet<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows.len(), all_acked.len(), "nothing stored twice");
    assert_eq!(stored, all_acked);

    // Each receiver saw every message sent to it, live or read back after reconnecting.
    for (expect, sent_to_it) in expectations.iter().zip(&per_receiver) {
        expect.send(Some(sent_to_it.clone())).unwrap();
    }
    for (receiver, sent_to_it) in receivers.into_iter().zip(per_receiver) {
        let received = tokio::time::timeout(Duration::from_secs(150), receiver)
            .await
            .expect("the receiver finishes")
            .unwrap();
        assert!(sent_to_it.is_subset(&received.seen));
        assert!(
            moved_by_the_deploy(&received.closes),
            "{:?}",
            received.closes
        );
        told_1012 |= received.closes.contains(&Closed::Code(1012));
    }
    assert!(
        told_1012,
        "the deploy's 1012 reached clients through the balancer"
    );
}

/// Was a window moved by the deploy, and only by it? Every window is on one of the two
/// nodes, so each is closed at least once: with 1012 (restarting), or, when a node's
/// process ends before its close frame gets through the balancer, without a code.
fn moved_by_the_deploy(closes: &[Closed]) -> bool {
    !closes.is_empty()
        && closes
            .iter()
            .all(|c| matches!(c, Closed::Code(1012) | Closed::WithoutCode))
}
