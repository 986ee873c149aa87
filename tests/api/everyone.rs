//! The room everyone shares: every new account is in it from its first `ready`; nobody can
//! delete it; anyone may leave it and come back; signing in again does not re-join.

use crate::helpers::*;
use serde_json::{json, Value};

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
