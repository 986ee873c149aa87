//! The room everyone shares: every new account is in it from its first `ready`; nobody can
//! delete it; anyone may leave it and come back; signing in again does not re-join.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

fn everyone_room(ready: &Value) -> Option<Value> {
    ready["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["everyone"] == true)
        .cloned()
}

#[actix_web::test]
async fn every_new_person_is_in_the_shared_room_which_nobody_can_delete() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, ready) = app.window(&alice).await;
    let general = everyone_room(&ready).expect("alice is in the shared room");
    assert_eq!(general["name"], "general");
    assert_eq!(general["members"], 2, "{general}");
    assert!(ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == general["id"]));

    // Everyone talks there from the start; someone who arrives later has nothing unread.
    let (mut bob_ws, _) = app.window(&bob).await;
    alice_ws
        .send(json!({"type": "send", "client_id": new_client_id(), "body": "hello all", "conversation_id": general["id"]}))
        .await;
    assert_eq!(
        bob_ws.recv_type("message").await["message"]["body"],
        "hello all"
    );

    // Not even by someone who could delete rooms they made.
    alice_ws
        .send(json!({"type": "delete_room", "ref": "d", "room_id": general["id"]}))
        .await;
    let refused = alice_ws.recv_type("error").await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    let (status, _) = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/rooms/{}", general["id"].as_str().unwrap()),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn leaving_the_shared_room_lasts_past_signing_in_again_and_joining_brings_one_back() {
    let app = spawn_app().await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut ws, ready) = app.window(&carol).await;
    let general = everyone_room(&ready).unwrap();
    ws.send(json!({"type": "leave_room", "ref": "l", "room_id": general["id"]}))
        .await;
    assert_eq!(ws.recv_type("left").await["room_id"], general["id"]);
    let carol = app.sign_in("carol@example.com").await;
    let (mut ws, ready) = app.window(&carol).await;
    assert_eq!(everyone_room(&ready), None, "signing in again re-joined");
    ws.send(json!({"type": "join_room", "ref": "j", "room_id": general["id"]}))
        .await;
    let joined = ws.recv_type("joined").await;
    assert_eq!(joined["room"]["everyone"], true, "{joined}");
    // Its member count is kept on the room as people come and go.
    let (_, directory) = app.get("/api/rooms?query=general", &carol.token).await;
    assert_eq!(directory["rooms"][0]["members"], 1, "{directory}");
}

/// The next event published on `pubsub`'s channels that is not presence.
async fn next_event_not_presence(pubsub: &mut redis::aio::PubSub) -> Value {
    loop {
        let (_, envelope) = next_envelope(pubsub).await;
        if envelope["event"]["type"] != "presence" {
            return envelope["event"].clone();
        }
    }
}

#[actix_web::test]
async fn the_shared_room_reaches_its_members_on_every_node_without_listing_them_but_not_who_left_or_blocked_the_sender(
) {
    let (app, a, b, prefix) = nodes_a_and_b(&test_redis_url(), |_| {}).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let dave = app.sign_in("dave@example.com").await;
    app.block(&dave, &alice).await;
    let (mut alice_a, ready) = app.window_at(&a, &alice).await;
    let general = everyone_room(&ready).unwrap()["id"].clone();
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (mut dave_b, _) = app.window_at(&b, &dave).await;
    let (mut carol_b, _) = app.window_at(&b, &carol).await;
    carol_b
        .send(json!({"type": "leave_room", "ref": "l", "room_id": general}))
        .await;
    carol_b.recv_type("left").await;
    // Its members are not told of a leave (they are everyone online).
    bob_b.assert_no("member", Duration::from_millis(300)).await;

    // Alice writes, types and edits there, from a.
    let mut published = watch(&[format!("{prefix}events")]).await;
    let send = json!({"type": "send", "client_id": new_client_id(), "body": "hello all", "conversation_id": general});
    let seq = ask(&mut alice_a, send).await["message"]["seq"].clone();
    let event = next_event_not_presence(&mut published).await;
    assert_eq!(event["message"]["body"], "hello all", "{event}");
    assert_eq!(event["everyone"], true, "{event}");
    assert_eq!(event["recipients"], json!([]), "no member list: {event}");
    assert_eq!(event["hidden_from"], json!([dave.id]), "{event}");
    alice_a
        .send(json!({"type": "typing", "conversation_id": general}))
        .await;
    let edit =
        json!({"type": "edit", "conversation_id": general, "seq": seq, "body": "hello everyone"});
    assert_eq!(ask(&mut alice_a, edit).await["type"], "message_edited");

    // Bob, a member on b, gets each; Carol (who left) and Dave (who blocked Alice), on
    // the same node, get none.
    assert_eq!(
        bob_b.recv_type("message").await["message"]["body"],
        "hello all"
    );
    assert_eq!(bob_b.recv_type("typing").await["user_id"], alice.id);
    assert_eq!(
        bob_b.recv_type("message_edited").await["body"],
        "hello everyone"
    );
    for ws in [&mut carol_b, &mut dave_b] {
        for kind in ["message", "typing", "message_edited"] {
            ws.assert_no(kind, Duration::from_millis(300)).await;
        }
    }

    // Carol comes back: from then on she is sent its news again.
    carol_b
        .send(json!({"type": "join_room", "ref": "j", "room_id": general}))
        .await;
    carol_b.recv_type("joined").await;
    bob_b.assert_no("member", Duration::from_millis(300)).await;
    let again = json!({"type": "send", "client_id": new_client_id(), "body": "welcome back", "conversation_id": general});
    ask(&mut alice_a, again).await;
    assert_eq!(
        carol_b.recv_type("message").await["message"]["body"],
        "welcome back"
    );
    dave_b
        .assert_no("message", Duration::from_millis(300))
        .await;
}
