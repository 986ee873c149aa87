use crate::helpers::*;
use banter::domain::User;
use banter::identity::SessionKeys;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn start_server_process(database_url: &str, key_hex: &str) -> ServerProcess {
    start_server_process_on(database_url, key_hex, free_port()).await
}

async fn start_server_process_on(database_url: &str, key_hex: &str, port: u16) -> ServerProcess {
    let env = vec![
        ("OIDC_ISSUER", "http://127.0.0.1:9/".to_owned()),
        ("BISCUIT_PRIVATE_KEY", key_hex.to_owned()),
    ];
    ServerProcess::start(database_url, port, env).await
}

#[actix_web::test]
async fn every_acknowledged_message_survives_a_kill_during_a_burst_exactly_once() {
    let database = TestDatabase::create().await;
    let database_url = database.url.clone();
    let key = SessionKeys::generate_private_bytes();
    let key_hex = hex::encode(&key);
    let mut server = start_server_process(&database_url, &key_hex).await;
    let keys = SessionKeys::from_private_bytes(&key).unwrap();
    let pool = banter::db::connect(&database_url, 2).await.unwrap();

    // 20 senders (each within the 40-message burst allowance), each writing to a peer.
    let senders = 20;
    let per_sender = 40;
    let mut people: Vec<(User, String)> = Vec::new();
    for i in 0..senders * 2 {
        let user = banter::db::users::upsert(
            &pool,
            "test",
            &format!("p{i}"),
            &format!("p{i}@example.com"),
            None,
        )
        .await
        .unwrap();
        let (token, _) = keys.mint(&user, Duration::from_secs(300)).unwrap();
        people.push((user, token));
    }
    let acked: Arc<Mutex<HashMap<(String, String), serde_json::Value>>> = Default::default();
    let ack_count = Arc::new(AtomicUsize::new(0));
    let url = format!("ws://127.0.0.1:{}/ws", server.port);
    let mut tasks = Vec::new();
    for i in 0..senders {
        let (sender, token) = people[i].clone();
        let peer = people[senders + i].0.id.to_string();
        let (url, acked, ack_count) = (url.clone(), acked.clone(), ack_count.clone());
        tasks.push(actix_web::rt::spawn(async move {
            let mut ws = Ws::connect(&url).await;
            ws.send(json!({"type": "auth", "token": token})).await;
            // Send everything, then collect acks until the server dies.
            for n in 0..per_sender {
                ws.send_raw(tokio_tungstenite::tungstenite::Message::Text(
                    json!({"type": "send", "client_id": format!("s{i}-{n}"), "body": format!("{i}/{n}"), "to": peer}).to_string(),
                ))
                .await;
            }
            while let Some(frame) = ws.try_recv_until_closed(WAIT).await {
                if frame["type"] == "ack" {
                    let m = frame["message"].clone();
                    acked
                        .lock()
                        .unwrap()
                        .insert((sender.id.to_string(), m["client_id"].as_str().unwrap().to_owned()), m);
                    ack_count.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    // Kill the server in the middle of the burst.
    let deadline = tokio::time::Instant::now() + WAIT;
    while ack_count.load(Ordering::SeqCst) < 100 {
        assert!(tokio::time::Instant::now() < deadline, "no acks arrived");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.start_kill().unwrap();
    let _ = tokio::time::timeout(WAIT, server.child.wait())
        .await
        .expect("the server died");
    for t in tasks {
        tokio::time::timeout(WAIT, t)
            .await
            .expect("client finished")
            .unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100);
    let conn = pool.get().await.unwrap();
    let rows = conn
        .query(
            "SELECT id::text, sender_id::text, client_id, seq, conversation_id::text FROM messages",
            &[],
        )
        .await
        .unwrap();
    let mut stored: HashMap<(String, String), (String, i64)> = HashMap::new();
    let mut per_conversation: HashMap<String, Vec<i64>> = HashMap::new();
    for r in &rows {
        let key = (r.get::<_, String>(1), r.get::<_, String>(2));
        assert!(
            stored.insert(key, (r.get(0), r.get(3))).is_none(),
            "stored once"
        );
        per_conversation.entry(r.get(4)).or_default().push(r.get(3));
    }
    for (key, message) in &acked {
        let (id, seq) = stored
            .get(key)
            .unwrap_or_else(|| panic!("acknowledged {key:?} is stored"));
        assert_eq!(message["id"], id.as_str());
        assert_eq!(message["seq"], *seq);
    }
    for (conversation, mut seqs) in per_conversation {
        seqs.sort();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "gapless seq in {conversation}"
        );
    }
    println!(
        "acknowledged {} of {} sent; {} stored",
        acked.len(),
        senders * per_sender,
        rows.len()
    );
}

#[actix_web::test]
async fn a_client_resumes_across_a_server_restart_with_nothing_lost() {
    let database = TestDatabase::create().await;
    let database_url = database.url.clone();
    let key = SessionKeys::generate_private_bytes();
    let key_hex = hex::encode(&key);
    let keys = SessionKeys::from_private_bytes(&key).unwrap();
    let mut server = start_server_process(&database_url, &key_hex).await;
    let pool = banter::db::connect(&database_url, 2).await.unwrap();
    let alice = banter::db::users::upsert(&pool, "test", "alice", "alice@example.com", None)
        .await
        .unwrap();
    let bob = banter::db::users::upsert(&pool, "test", "bob", "bob@example.com", None)
        .await
        .unwrap();
    let (alice_token, _) = keys.mint(&alice, Duration::from_secs(300)).unwrap();
    let (bob_token, _) = keys.mint(&bob, Duration::from_secs(300)).unwrap();

    let url = format!("ws://127.0.0.1:{}/ws", server.port);
    let mut b = Ws::connect(&url).await;
    b.send(json!({"type": "auth", "token": bob_token})).await;
    b.recv_type("ready").await;
    let mut a = Ws::connect(&url).await;
    a.send(json!({"type": "auth", "token": alice_token})).await;
    a.recv_type("ready").await;
    a.send(
        json!({"type": "send", "client_id": "before", "body": "before", "to": bob.id.to_string()}),
    )
    .await;
    let seen = b.recv_type("message").await["message"].clone();

    server.child.start_kill().unwrap();
    tokio::time::timeout(WAIT, server.child.wait())
        .await
        .unwrap()
        .unwrap();
    let server = start_server_process_on(&database_url, &key_hex, server.port).await;

    let mut a = Ws::connect(&url).await;
    a.send(json!({"type": "auth", "token": alice_token})).await;
    a.recv_type("ready").await;
    a.send(
        json!({"type": "send", "client_id": "after", "body": "after", "to": bob.id.to_string()}),
    )
    .await;
    a.recv_type("ack").await;
    let mut b = Ws::connect(&url).await;
    b.send(json!({"type": "auth", "token": bob_token})).await;
    b.recv_type("ready").await;
    b.send(json!({"type": "history", "conversation_id": seen["conversation_id"], "after_seq": seen["seq"]})).await;
    let history = b.recv_type("history").await;
    let bodies: Vec<_> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies, vec![json!("after")]);
    drop(server);
}

#[actix_web::test]
async fn a_message_sent_after_postgres_dropped_every_connection_is_still_acknowledged_and_delivered(
) {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    // A first message opens the conversation and the write connection.
    a.send(json!({"type": "send", "client_id": "before", "body": "one", "to": bob.id}))
        .await;
    assert_eq!(a.recv_type("ack").await["message"]["seq"], 1);
    b.recv_type("message").await;

    let admin = app.db().await;
    let dropped = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(dropped >= 1, "the server's connections were dropped");

    a.send(json!({"type": "send", "client_id": "after", "body": "two", "to": bob.id}))
        .await;
    let ack = a.recv_type("ack").await;
    assert_eq!(ack["message"]["seq"], 2, "{ack}");
    assert_eq!(b.recv_type("message").await["message"]["body"], "two");
    assert_eq!(app.count_messages().await, 2);
}
