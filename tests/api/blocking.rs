use crate::helpers::*;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn a_block_hides_both_people_from_each_other_on_every_window_and_unblock_restores() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let (mut b1, ready) = app.window(&bob).await;
    assert_eq!(ids(&ready["online"]), vec![alice.id.clone()]);
    let (mut b2, _) = app.window(&bob).await;
    for w in [&mut a1, &mut a2] {
        assert_eq!(w.recv_presence().await["user"]["id"], bob.id);
    }

    a1.send(json!({"type": "block", "user_id": bob.id})).await;

    // Alice's other window mirrors the block; both of alice's windows lose bob.
    let blocked = a2.recv_type("blocked").await;
    assert_eq!(blocked["user"]["id"], bob.id);
    for w in [&mut a1, &mut a2] {
        let p = w.recv_presence().await;
        assert_eq!(
            (p["user"]["id"].clone(), p["online"].clone()),
            (json!(bob.id), json!(false))
        );
    }
    // Every window of bob loses alice.
    for w in [&mut b1, &mut b2] {
        let p = w.recv_presence().await;
        assert_eq!(
            (p["user"]["id"].clone(), p["online"].clone()),
            (json!(alice.id), json!(false))
        );
    }
    let (_, online) = app.get("/api/users/online", &bob.token).await;
    assert_eq!(ids(&online["users"]), Vec::<String>::new());
    let (_, blocks) = app.get("/api/blocks", &alice.token).await;
    assert_eq!(ids(&blocks["blocked"]), vec![bob.id.clone()]);
    // A new window of bob's does not see alice either; alice's sees her block list.
    let (b3, ready) = app.window(&bob).await;
    assert_eq!(ids(&ready["online"]), Vec::<String>::new());
    let (_, ready) = app.window(&alice).await;
    assert_eq!(ids(&ready["blocked"]), vec![bob.id.clone()]);
    assert_eq!(ids(&ready["online"]), Vec::<String>::new());

    // Unblocking restores visibility both ways.
    a1.send(json!({"type": "unblock", "user_id": bob.id})).await;
    assert_eq!(a2.recv_type("unblocked").await["user"]["id"], bob.id);
    for w in [&mut b1, &mut b2] {
        let p = w.recv_presence().await;
        assert_eq!(
            (p["user"]["id"].clone(), p["online"].clone()),
            (json!(alice.id), json!(true))
        );
    }
    let p = a1.recv_presence().await;
    assert_eq!(
        (p["user"]["id"].clone(), p["online"].clone()),
        (json!(bob.id), json!(true))
    );
    drop(b3);

    // Both the block and the unblock are on record with their times.
    let db = app.db().await;
    let rows = db
        .query("SELECT action FROM block_events ORDER BY id", &[])
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(actions, vec!["block", "unblock"]);
}

#[actix_web::test]
async fn blocked_direct_messages_are_refused_in_both_directions() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    a.send(json!({"type": "send", "ref": "hello", "client_id": new_client_id(), "body": "hi bob", "to": bob.id})).await;
    assert_eq!(a.recv_type("ack").await["ref"], "hello");
    let conversation = b.recv_type("message").await["message"]["conversation_id"].clone();

    let (status, _) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/blocks/{}", bob.id),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, 200);

    b.send(json!({"type": "send", "ref": "r1", "client_id": new_client_id(), "body": "hey", "to": alice.id})).await;
    let error = b.recv_type("error").await;
    assert_eq!(error["code"], "blocked");
    assert_eq!(error["ref"], "r1");
    b.send(json!({"type": "send", "ref": "r2", "client_id": new_client_id(), "body": "hey", "conversation_id": conversation})).await;
    assert_eq!(b.recv_type("error").await["code"], "blocked");
    a.send(json!({"type": "send", "ref": "r3", "client_id": new_client_id(), "body": "bye", "to": bob.id})).await;
    assert_eq!(a.recv_type("error").await["code"], "blocked");
    let (status, body) = app
        .post_message(
            &bob.token,
            conversation.as_str().unwrap(),
            "over http",
            &new_client_id(),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("blocked"))
    );
    a.assert_no("message", Duration::from_millis(300)).await;

    // Nothing refused was stored.
    assert_eq!(app.count_messages().await, 1);
}

#[actix_web::test]
async fn blocking_yourself_or_nobody_is_a_clear_error() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(json!({"type": "block", "user_id": alice.id})).await;
    assert_eq!(a.recv_type("error").await["code"], "bad_request");
    a.send(json!({"type": "block", "user_id": uuid::Uuid::new_v4().to_string()}))
        .await;
    assert_eq!(a.recv_type("error").await["code"], "not_found");
    a.send(json!({"type": "block", "user_id": "nobody"})).await;
    assert_eq!(a.recv_type("error").await["code"], "bad_request");
}
