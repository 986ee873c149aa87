//! SIGTERM (every deploy, every daily restart) loses nothing.

use crate::helpers::*;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[actix_web::test]
async fn sigterm_under_traffic_commits_everything_once_and_clients_carry_on_elsewhere() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "stays")).await;
    let stays = app.node();
    stays.wait_ready(&app.http).await;
    let env = app.peer_env("goes");
    let mut goes = ServerProcess::start(&app.database_url, free_port(), env).await;
    goes.node().wait_ready(&app.http).await;

    let receiver = app.sign_in("receiver@example.com").await;
    let (mut inbox, _) = app.window_at(&stays, &receiver).await;
    let senders = 4;
    // Within the send allowance (a burst of 40), spread over about a second.
    let per_sender = 40;
    let mut people = Vec::new();
    for i in 0..senders {
        people.push(app.sign_in(&format!("sender{i}@example.com")).await);
    }
    // Acks each sender got from the doomed node, so the signal lands mid-stream for all.
    let progress: std::sync::Arc<Vec<std::sync::atomic::AtomicUsize>> =
        std::sync::Arc::new((0..senders).map(|_| Default::default()).collect());
    let mut tasks = Vec::new();
    for (i, person) in people.into_iter().enumerate() {
        let progress = progress.clone();
        let (first, second) = (goes.node(), stays.clone());
        let to = receiver.id.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let ids: Vec<String> = (0..per_sender).map(|n| format!("s{i}-{n}")).collect();
            let mut acked: HashMap<String, serde_json::Value> = HashMap::new();
            let mut closes = Vec::new();
            // Node "goes" first; when it closes us, carry on through "stays", resending
            // whatever was not acknowledged with its original client_id.
            'nodes: for node in [first, second] {
                let mut ws = Ws::connect(&node.ws_url).await;
                ws.send(json!({"type": "auth", "token": person.token}))
                    .await;
                if ws.try_recv_until_closed(WAIT).await.is_none() {
                    continue;
                }
                for id in &ids {
                    if acked.contains_key(id) {
                        continue;
                    }
                    ws.send_raw(tokio_tungstenite::tungstenite::Message::Text(
                        json!({"type": "send", "client_id": id, "body": id, "to": to}).to_string(),
                    ))
                    .await;
                    loop {
                        match ws.next_or_close(WAIT).await {
                            Ok(frame) if frame["type"] == "ack" => {
                                let m = frame["message"].clone();
                                acked.insert(m["client_id"].as_str().unwrap().to_owned(), m);
                                progress[i].store(acked.len(), std::sync::atomic::Ordering::SeqCst);
                                break;
                            }
                            Ok(_) => {}
                            Err(code) => {
                                closes.push(code);
                                continue 'nodes;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                break;
            }
            (person, acked, closes)
        }));
    }
    // Terminate "goes" in the middle of the traffic: once every sender has some acks.
    let deadline = tokio::time::Instant::now() + WAIT;
    while progress
        .iter()
        .any(|p| p.load(std::sync::atomic::Ordering::SeqCst) < 3)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the senders never got going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let terminated = std::time::Instant::now();
    goes.terminate();
    let status = tokio::time::timeout(Duration::from_secs(30), goes.child.wait())
        .await
        .expect("exits well within 30 s")
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        terminated.elapsed() < Duration::from_secs(15),
        "took {:?}",
        terminated.elapsed()
    );

    let mut all_acked = HashSet::new();
    for t in tasks {
        let (person, acked, closes) = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(acked.len(), per_sender, "{} got every ack", person.email);
        assert_eq!(
            closes,
            vec![Closed::Code(1012)],
            "{} was told to reconnect",
            person.email
        );
        for (id, m) in acked {
            all_acked.insert((person.id.clone(), id, m["id"].as_str().unwrap().to_owned()));
        }
    }

    // Every acknowledged message is stored exactly once, as acknowledged.
    let db = app.db().await;
    let rows = db
        .query(
            "SELECT sender_id::text, client_id, id::text FROM messages",
            &[],
        )
        .await
        .unwrap();
    let stored: HashSet<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows.len(), senders * per_sender, "no duplicates");
    assert_eq!(stored, all_acked);

    // The receiver, on the node that stayed, saw every message, each once.
    let mut seen = HashSet::new();
    while seen.len() < senders * per_sender {
        let frame = inbox.recv_type("message").await;
        assert!(
            seen.insert(frame["message"]["id"].as_str().unwrap().to_owned()),
            "delivered once"
        );
    }
}

#[actix_web::test]
async fn sigterm_exits_within_the_shutdown_timeout_even_with_a_write_stuck_in_postgres() {
    let app = spawn_app().await;
    let mut env = app.peer_env("stuck");
    env.push(("SHUTDOWN_TIMEOUT_MS", "2000".to_owned()));
    // A write may wait a minute for its lock: only the deadline can end the drain sooner.
    env.push(("DATABASE_WRITE_STATEMENT_TIMEOUT_MS", "60000".to_owned()));
    let mut server = ServerProcess::start(&app.database_url, free_port(), env).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut ws, _) = app.window_at(&server.node(), &alice).await;
    // Every insert into messages waits behind this lock for 30 s.
    let lock = holding_lock(
        &app,
        "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE".into(),
        Duration::from_secs(30),
    )
    .await;
    ws.send(
        json!({"type": "send", "ref": "s", "client_id": "stuck-1", "body": "stuck", "to": bob.id}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.terminate();
    let exited = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("the server exits while the write is still stuck (30 s)")
        .expect("wait for the server");
    assert!(!lock.is_finished(), "the lock was released before the exit");
    assert!(exited.success(), "{exited:?}");
    // Not acknowledged, and so not promised: the socket closed without an ack.
    let mut frames = Vec::new();
    while let Ok(frame) = ws.next_or_close(Duration::from_secs(2)).await {
        frames.push(frame);
    }
    assert!(
        frames.iter().all(|f| f["type"] != "ack"),
        "acknowledged: {frames:?}"
    );
    lock.abort();
}
