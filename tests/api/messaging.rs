use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

#[actix_web::test]
async fn a_direct_message_is_acknowledged_to_its_window_and_delivered_to_every_other() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut b2, _) = app.window(&bob).await;
    let client_id = new_client_id();
    a1.send(json!({"type": "send", "ref": "r1", "client_id": client_id, "body": "hi bob", "to": bob.id})).await;

    let ack = a1.recv_type("ack").await;
    assert_eq!(ack["ref"], "r1");
    let message = ack["message"].clone();
    assert_eq!(message["seq"], 1);
    assert_eq!(message["sender_id"], alice.id);
    assert_eq!(message["body"], "hi bob");
    assert_eq!(message["client_id"], client_id);
    for w in [&mut a2, &mut b1, &mut b2] {
        assert_eq!(w.recv_type("message").await["message"], message);
    }
    a1.assert_no("message", Duration::from_millis(300)).await;

    // The conversation now exists for both, with unread counts.
    let (_, list) = app.get("/api/conversations", &bob.token).await;
    let conversation = &list["conversations"][0];
    assert_eq!(conversation["kind"], "direct");
    assert_eq!(conversation["peer"]["id"], alice.id);
    assert_eq!(
        (
            conversation["last_seq"].clone(),
            conversation["unread"].clone()
        ),
        (json!(1), json!(1))
    );
    let (_, list) = app.get("/api/conversations", &alice.token).await;
    assert_eq!(
        list["conversations"][0]["unread"], 0,
        "the sender has read their own message"
    );
}

#[actix_web::test]
async fn the_sender_is_always_the_token_user_whatever_the_frame_says() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(
        json!({"type": "send", "client_id": new_client_id(), "body": "me", "to": bob.id,
                  "sender_id": bob.id, "from": bob.id}),
    )
    .await;
    assert_eq!(a.recv_type("ack").await["message"]["sender_id"], alice.id);
}

#[actix_web::test]
async fn a_resend_with_the_same_client_id_returns_the_original_and_delivers_nothing_new() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    let client_id = new_client_id();
    let frame = json!({"type": "send", "ref": "first", "client_id": client_id, "body": "once", "to": bob.id});
    a.send(frame.clone()).await;
    let original = a.recv_type("ack").await["message"].clone();
    assert_eq!(b.recv_type("message").await["message"], original);

    // A retry after a reconnect, from a new window.
    drop(a);
    let (mut a, _) = app.window(&alice).await;
    let mut retry = frame;
    retry["ref"] = json!("again");
    a.send(retry).await;
    let ack = a.recv_type("ack").await;
    assert_eq!(ack["ref"], "again");
    assert_eq!(ack["message"], original);
    b.assert_no("message", Duration::from_millis(400)).await;

    // And over HTTP.
    let conversation = original["conversation_id"].as_str().unwrap();
    let (status, body) = app
        .post_message(&alice.token, conversation, "once", &client_id)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, original);
    assert_eq!(app.count_messages().await, 1);
}

#[actix_web::test]
async fn a_resend_another_node_stored_first_is_answered_with_the_stored_message_not_an_error() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(json!({"type": "send", "client_id": new_client_id(), "body": "first", "to": bob.id}))
        .await;
    let first = a.recv_type("ack").await["message"].clone();
    let conversation: uuid::Uuid = first["conversation_id"].as_str().unwrap().parse().unwrap();
    let sender: uuid::Uuid = alice.id.parse().unwrap();

    // Another node writes the same message (the window sent it there before it moved
    // here): its transaction holds the conversation and has stored the message.
    let other_node = app.db().await;
    other_node.batch_execute("BEGIN").await.unwrap();
    let seq: i64 = other_node
        .query_one(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
            &[&conversation],
        )
        .await
        .unwrap()
        .get(0);
    other_node
        .execute(
            "INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_id)
             VALUES ($1, $2, $3, $4, 'moved', 'moved-1')",
            &[&uuid::Uuid::new_v4(), &conversation, &seq, &sender],
        )
        .await
        .unwrap();
    a.send(json!({"type": "send", "ref": "resend", "client_id": "moved-1", "body": "moved", "to": bob.id}))
        .await;
    // This node's write waits for the conversation; the other commits first.
    let watcher = app.db().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the write never waited for the conversation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    other_node.batch_execute("COMMIT").await.unwrap();

    let answer = reply_to(&mut a, "resend").await;
    assert_eq!(answer["type"], "ack", "{answer}");
    assert_eq!(answer["message"]["seq"], seq);
    assert_eq!(answer["message"]["client_id"], "moved-1");
    assert_eq!(app.count_messages().await, 2, "stored once");
}

#[actix_web::test]
async fn five_hundred_messages_in_a_burst_arrive_in_seq_order_each_once() {
    let app = spawn_app_with(|s| {
        s.limits.send_rate_per_second = 10_000;
        s.limits.send_burst = 10_000;
        s.limits.frame_rate_per_second = 10_000;
        s.limits.frame_burst = 10_000;
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    for i in 0..500 {
        a1.send(json!({"type": "send", "ref": i.to_string(), "client_id": format!("burst-{i}"), "body": format!("m{i}"), "to": bob.id}))
            .await;
    }
    let mut acked = Vec::new();
    while acked.len() < 500 {
        let frame = a1.recv_type("ack").await;
        acked.push(frame["message"]["seq"].as_i64().unwrap());
    }
    assert_eq!(acked, (1..=500).collect::<Vec<_>>(), "acks in seq order");
    for w in [&mut a2, &mut b] {
        let mut seqs = Vec::new();
        while seqs.len() < 500 {
            let frame = w.recv_type("message").await;
            let m = &frame["message"];
            assert_eq!(
                m["body"],
                format!("m{}", m["seq"].as_i64().unwrap() - 1),
                "bodies in send order"
            );
            seqs.push(m["seq"].as_i64().unwrap());
        }
        assert_eq!(seqs, (1..=500).collect::<Vec<_>>(), "each once, in order");
        w.assert_no("message", Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn a_reconnecting_window_fills_its_gap_with_history_after_seq() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    a.send(json!({"type": "send", "client_id": new_client_id(), "body": "one", "to": bob.id}))
        .await;
    a.recv_type("ack").await;
    let seen = b.recv_type("message").await["message"].clone();
    let conversation = seen["conversation_id"].as_str().unwrap().to_owned();

    // Bob disconnects; alice writes on.
    b.close().await;
    for body in ["two", "three", "four"] {
        a.send(json!({"type": "send", "client_id": new_client_id(), "body": body, "conversation_id": conversation})).await;
        a.recv_type("ack").await;
    }
    let (mut b, ready) = app.window(&bob).await;
    let summary = ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation.as_str())
        .unwrap()
        .clone();
    assert_eq!(summary["last_seq"], 4);
    assert_eq!(summary["unread"], 4);
    b.send(json!({"type": "history", "ref": "gap", "conversation_id": conversation, "after_seq": seen["seq"], "limit": 50})).await;
    let history = b.recv_type("history").await;
    assert_eq!(history["ref"], "gap");
    let bodies: Vec<Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies, vec![json!("two"), json!("three"), json!("four")]);

    // Paging backwards, and over HTTP.
    b.send(
        json!({"type": "history", "conversation_id": conversation, "before_seq": 3, "limit": 1}),
    )
    .await;
    let page = b.recv_type("history").await;
    assert_eq!(page["messages"][0]["seq"], 2);
    let (status, body) = app
        .get(
            &format!("/api/conversations/{conversation}/messages?after_seq=2&limit=200"),
            &bob.token,
        )
        .await;
    assert_eq!(status, 200);
    let seqs: Vec<i64> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![3, 4]);

    // A window: after_seq and before_seq together.
    let (status, body) = app
        .get(
            &format!("/api/conversations/{conversation}/messages?after_seq=1&before_seq=4"),
            &bob.token,
        )
        .await;
    assert_eq!(status, 200);
    let seqs: Vec<i64> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
}

#[actix_web::test]
async fn history_of_a_conversation_you_are_not_in_is_not_found() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (_, conversation) = app.open_direct(&alice.token, &bob.id).await;
    let id = conversation["id"].as_str().unwrap();
    let (mut c, _) = app.window(&carol).await;
    c.send(json!({"type": "history", "ref": "peek", "conversation_id": id}))
        .await;
    let error = c.recv_type("error").await;
    assert_eq!(
        (error["code"].clone(), error["ref"].clone()),
        (json!("not_found"), json!("peek"))
    );
    c.send(json!({"type": "send", "client_id": new_client_id(), "body": "intrude", "conversation_id": id})).await;
    assert_eq!(c.recv_type("error").await["code"], "not_found");
    let (status, _) = app
        .get(&format!("/api/conversations/{id}/messages"), &carol.token)
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn read_positions_move_forward_only_and_reach_the_other_windows() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut b2, _) = app.window(&bob).await;
    let mut conversation = String::new();
    for i in 0..3 {
        a.send(json!({"type": "send", "client_id": new_client_id(), "body": format!("m{i}"), "to": bob.id})).await;
        conversation = a.recv_type("ack").await["message"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    b1.send(json!({"type": "read", "conversation_id": conversation, "seq": 2}))
        .await;
    let read = b2.recv_type("read").await;
    assert_eq!(
        (read["conversation_id"].clone(), read["seq"].clone()),
        (json!(conversation), json!(2))
    );
    b1.assert_no("read", Duration::from_millis(200)).await;
    // Going back does not move it; going past the end stops at the end.
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{conversation}/read"),
            &bob.token,
            Some(json!({"seq": 1})),
        )
        .await;
    assert_eq!((status, body["seq"].clone()), (200, json!(2)));
    let (_, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{conversation}/read"),
            &bob.token,
            Some(json!({"seq": 99})),
        )
        .await;
    assert_eq!(body["seq"], 3);
    // Only the move is told: the read that stayed at 2 is not.
    assert_eq!(b1.recv_type("read").await["seq"], 3);
    let (_, list) = app.get("/api/conversations", &bob.token).await;
    assert_eq!(list["conversations"][0]["unread"], 0);
}

#[actix_web::test]
async fn typing_reaches_the_other_member_but_not_someone_blocked() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (_, conversation) = app.open_direct(&alice.token, &bob.id).await;
    let id = conversation["id"].as_str().unwrap().to_owned();
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    a.send(json!({"type": "typing", "conversation_id": id}))
        .await;
    let typing = b.recv_type("typing").await;
    assert_eq!(
        (typing["conversation_id"].clone(), typing["user_id"].clone()),
        (json!(id), json!(alice.id))
    );
    b.send(json!({"type": "block", "user_id": alice.id})).await;
    b.recv_presence().await;
    a.send(json!({"type": "typing", "conversation_id": id}))
        .await;
    b.assert_no("typing", Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn messages_sent_over_http_reach_every_window_like_socket_sends() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (status, conversation) = app.open_direct(&alice.token, &bob.id).await;
    assert_eq!(status, 200);
    assert_eq!(conversation["peer"]["id"], bob.id);
    let id = conversation["id"].as_str().unwrap();
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    let (status, message) = app
        .post_message(&alice.token, id, "from a script", &new_client_id())
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        a.recv_type("message").await["message"],
        message,
        "the sender's windows get it too"
    );
    assert_eq!(b.recv_type("message").await["message"], message);
}

#[actix_web::test]
async fn the_same_client_id_twice_in_quick_succession_is_stored_once() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    // Back to back, so both usually land in one group commit; the twin is a retry (the
    // same message), so it answers like the first.
    for (r, id, body) in [
        ("1", "twin", "body 1"),
        ("2", "twin", "body 1"),
        ("3", "other", "body 3"),
    ] {
        a.send(json!({"type": "send", "ref": r, "client_id": id, "body": body, "to": bob.id}))
            .await;
    }
    let mut acks = Vec::new();
    while acks.len() < 3 {
        let ack = a.recv_type("ack").await;
        acks.push((
            ack["ref"].as_str().unwrap().to_owned(),
            ack["message"].clone(),
        ));
    }
    acks.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        acks[0].1, acks[1].1,
        "both sends of the twin answer with one message"
    );
    assert_eq!(acks[0].1["body"], "body 1");
    assert_ne!(acks[0].1["id"], acks[2].1["id"]);
    let mut delivered = [b.recv_type("message").await, b.recv_type("message").await];
    delivered.sort_by_key(|m| m["message"]["seq"].as_i64());
    assert_eq!(delivered[0]["message"]["client_id"], "twin");
    assert_eq!(delivered[1]["message"]["client_id"], "other");
    b.assert_no("message", Duration::from_millis(300)).await;
}
