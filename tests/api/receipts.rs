//! Read receipts: in a direct chat the other person is shown how far you read, live and
//! in their conversation list; in a room, "seen by" on request. Never past a block,
//! never for someone who turned sharing off (who then sees no one's either).

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

fn summary(ready: &Value, conversation: &Value) -> Value {
    ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == *conversation)
        .cloned()
        .unwrap()
}

/// Alice writes to bob twice; returns the chat's id and the last seq.
async fn alice_writes_to_bob(alice: &mut Ws, bob: &Person) -> (Value, i64) {
    let mut last = Value::Null;
    for body in ["one", "two"] {
        alice
            .send(json!({"type": "send", "client_id": new_client_id(), "body": body, "to": bob.id}))
            .await;
        last = alice.recv_type("ack").await["message"].clone();
    }
    (
        last["conversation_id"].clone(),
        last["seq"].as_i64().unwrap(),
    )
}

#[actix_web::test]
async fn in_a_direct_chat_the_sender_is_shown_how_far_the_other_person_read() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_1, ready) = app.window(&alice).await;
    assert_eq!(ready["receipts"], true);
    let (mut alice_2, _) = app.window(&alice).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let (chat, last) = alice_writes_to_bob(&mut alice_1, &bob).await;

    let read = ask(
        &mut bob_ws,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    assert_eq!(read["type"], "ok");
    for ws in [&mut alice_1, &mut alice_2] {
        let receipt = ws.recv_type("read").await;
        assert_eq!(
            (receipt["user_id"].clone(), receipt["seq"].clone()),
            (json!(bob.id), json!(last)),
            "{receipt}"
        );
    }
    // The list says it too, to a window opened later; bob's own says nothing of alice's
    // reads beyond what she wrote.
    let (_, ready) = app.window(&alice).await;
    assert_eq!(summary(&ready, &chat)["peer_read_seq"], last);
    // Reading the same again tells no one.
    ask(
        &mut bob_ws,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    alice_1.assert_no("read", QUIET).await;
}

#[actix_web::test]
async fn someone_who_does_not_share_receipts_shows_none_and_sees_none() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (mut bob_1, _) = app.window(&bob).await;
    let (mut bob_2, _) = app.window(&bob).await;
    let (chat, last) = alice_writes_to_bob(&mut alice_ws, &bob).await;

    assert_eq!(
        ask(&mut bob_1, json!({"type": "set_receipts", "share": false})).await["type"],
        "ok"
    );
    assert_eq!(bob_2.recv_type("receipts").await["share"], false);
    let (_, ready) = app.window(&bob).await;
    assert_eq!(ready["receipts"], false);
    ask(
        &mut bob_1,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    alice_ws.assert_no("read", QUIET).await;
    let (_, ready) = app.window(&alice).await;
    assert_eq!(summary(&ready, &chat).get("peer_read_seq"), None);
    // Alice reads bob's side; bob, not sharing, is shown nothing of it.
    ask(
        &mut alice_ws,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    bob_1.assert_no("read", QUIET).await;
    let (_, ready) = app.window(&bob).await;
    assert_eq!(summary(&ready, &chat).get("peer_read_seq"), None);
    let seen = ask(
        &mut bob_1,
        json!({"type": "seen", "conversation_id": chat, "seq": 1}),
    )
    .await;
    assert_eq!(seen["code"], "forbidden", "{seen}");

    // Back on: both ways again.
    assert_eq!(
        ask(&mut bob_1, json!({"type": "set_receipts", "share": true})).await["type"],
        "ok"
    );
    let (_, ready) = app.window(&alice).await;
    assert_eq!(summary(&ready, &chat)["peer_read_seq"], last);
}

#[actix_web::test]
async fn a_block_hides_read_positions_both_ways() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (chat, last) = alice_writes_to_bob(&mut alice_ws, &bob).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    app.block(&alice, &bob).await;
    ask(
        &mut bob_ws,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    alice_ws.assert_no("read", QUIET).await;
    let (_, ready) = app.window(&alice).await;
    assert_eq!(summary(&ready, &chat).get("peer_read_seq"), None);
    let (_, ready) = app.window(&bob).await;
    assert_eq!(summary(&ready, &chat).get("peer_read_seq"), None);

    // In a room: carol has read, bob has read; alice (who blocked bob) is shown carol.
    let (room, _) = create_room(&mut alice_ws, "Readers", None).await;
    app.join_room(&bob.token, &room).await;
    app.join_room(&carol.token, &room).await;
    alice_ws
        .send(json!({"type": "send", "client_id": new_client_id(), "body": "minutes attached", "conversation_id": room}))
        .await;
    let seq = alice_ws.recv_type("ack").await["message"]["seq"].clone();
    let (mut carol_ws, _) = app.window(&carol).await;
    for ws in [&mut bob_ws, &mut carol_ws] {
        ask(
            ws,
            json!({"type": "read", "conversation_id": room, "seq": seq}),
        )
        .await;
    }
    let seen = ask(
        &mut alice_ws,
        json!({"type": "seen", "conversation_id": room, "seq": seq}),
    )
    .await;
    assert_eq!(seen["count"], 1, "{seen}");
    assert_eq!(seen["users"][0]["id"], carol.id);
    // Carol is shown both (she blocked no one, and no one blocked her).
    let seen = ask(
        &mut carol_ws,
        json!({"type": "seen", "conversation_id": room, "seq": seq}),
    )
    .await;
    assert_eq!(seen["count"], 2, "{seen}");
}

#[actix_web::test]
async fn seen_by_in_a_room_counts_everyone_and_names_the_first_hundred() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Crowd", None).await;
    alice_ws
        .send(json!({"type": "send", "client_id": new_client_id(), "body": "all read this", "conversation_id": room}))
        .await;
    let seq = alice_ws.recv_type("ack").await["message"]["seq"]
        .as_i64()
        .unwrap();
    let db = app.db().await;
    // 103 readers, and one member who has not read it.
    for i in 0..104 {
        let reader = app.sign_in(&format!("reader{i:03}@example.com")).await;
        app.join_room(&reader.token, &room).await;
        let read_seq = if i < 103 { seq } else { 0 };
        db.execute(
            "UPDATE members SET read_seq = $3 WHERE conversation_id = $1::text::uuid AND user_id = $2::text::uuid",
            &[&room, &reader.id, &read_seq],
        )
        .await
        .unwrap();
    }
    let seen = ask(
        &mut alice_ws,
        json!({"type": "seen", "conversation_id": room, "seq": seq}),
    )
    .await;
    assert_eq!(seen["count"], 103, "{}", seen["count"]);
    let named: Vec<&str> = seen["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 100);
    assert_eq!(
        (named[0], named[99]),
        ("reader000@example.com", "reader099@example.com")
    );
    // Not a member: not found; a bad seq: bad_request.
    let outsider = app.sign_in("outsider@example.com").await;
    let (mut outsider_ws, _) = app.window(&outsider).await;
    let seen = ask(
        &mut outsider_ws,
        json!({"type": "seen", "conversation_id": room, "seq": seq}),
    )
    .await;
    assert_eq!(seen["code"], "not_found");
    let seen = ask(
        &mut alice_ws,
        json!({"type": "seen", "conversation_id": room, "seq": 0}),
    )
    .await;
    assert_eq!(seen["code"], "bad_request");
}

#[actix_web::test]
async fn a_read_receipt_crosses_nodes() {
    let (app, a, b, _) = nodes_a_and_b(&test_redis_url(), |_| {}).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (chat, last) = alice_writes_to_bob(&mut alice_a, &bob).await;
    bob_b.recv_type("message").await;
    ask(
        &mut bob_b,
        json!({"type": "read", "conversation_id": chat, "seq": last}),
    )
    .await;
    let receipt = alice_a.recv_type("read").await;
    assert_eq!(receipt["user_id"], bob.id, "{receipt}");
}
