//! @mentions: a room message naming a member (`@` and their email) counts for them apart
//! from other unread messages, until they read past it; never for the sender, someone
//! outside the room, someone a block stands between, or in a direct chat.

use crate::helpers::*;
use serde_json::{json, Value};

/// The `mentions` of conversation `id` in a fresh window's `ready` (empty when absent).
async fn mentions_in(app: &TestApp, person: &Person, id: &str) -> Vec<i64> {
    let (_, ready) = app.window(person).await;
    let conversation = ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or(Value::Null);
    conversation["mentions"]
        .as_array()
        .map(|seqs| seqs.iter().map(|s| s.as_i64().unwrap()).collect())
        .unwrap_or_default()
}

async fn say(ws: &mut Ws, conversation: &str, body: &str) -> i64 {
    ws.send(json!({"type": "send", "ref": "s", "client_id": new_client_id(), "body": body, "conversation_id": conversation}))
        .await;
    ws.recv_type("ack").await["message"]["seq"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn a_mention_counts_for_the_member_it_names_until_they_read_past_it() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Tea party", None).await;
    app.join_room(&bob.token, &room).await;

    say(&mut alice_ws, &room, "Good morning, everyone").await;
    let first = say(
        &mut alice_ws,
        &room,
        "@Bob@Example.com, @carol@example.com and @alice@example.com: tea?",
    )
    .await;
    let second = say(&mut alice_ws, &room, "(@bob@example.com.)").await;

    assert_eq!(mentions_in(&app, &bob, &room).await, vec![first, second]);
    // Not a member, and not the sender's own name.
    assert!(mentions_in(&app, &carol, &room).await.is_empty());
    assert!(mentions_in(&app, &alice, &room).await.is_empty());
    let (_, listed) = app.get("/api/conversations", &bob.token).await;
    let summary = listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == room.as_str())
        .cloned()
        .unwrap();
    assert_eq!(summary["mentions"], json!([first, second]), "{summary}");

    // Reading past the first leaves the second.
    let (mut bob_ws, _) = app.window(&bob).await;
    bob_ws
        .send(json!({"type": "read", "ref": "r", "conversation_id": room, "seq": first}))
        .await;
    assert_eq!(bob_ws.recv_type("ok").await["ref"], "r");
    assert_eq!(mentions_in(&app, &bob, &room).await, vec![second]);
}

#[actix_web::test]
async fn a_block_or_a_direct_chat_counts_no_mention() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Quiet", None).await;
    app.join_room(&bob.token, &room).await;
    say(&mut alice_ws, &room, "@bob@example.com before the block").await;
    app.block(&bob, &alice).await;
    assert!(
        mentions_in(&app, &bob, &room).await.is_empty(),
        "bob blocked alice: her mention of him is not counted"
    );

    let carol = app.sign_in("carol@example.com").await;
    alice_ws
        .send(json!({"type": "send", "ref": "d", "client_id": new_client_id(), "body": "@carol@example.com hi", "to": carol.id}))
        .await;
    let ack = alice_ws.recv_type("ack").await;
    let direct = ack["message"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(mentions_in(&app, &carol, &direct).await.is_empty());
    let stored: i64 = app
        .db()
        .await
        .query_one("SELECT count(*) FROM mentions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1, "only the room mention of bob is stored");
}
