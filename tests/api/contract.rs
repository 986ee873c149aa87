//! The protocol to the letter, as a script sees it: every frame with a `ref` is answered
//! once with it, one socket's frames take effect in the order they were sent, and the
//! corners docs/protocol.md names (reads that do not move, reused `client_id`s, long
//! `ref`s, renewals with someone else's token, room actions of non-members).

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Every frame `ws` receives within `within`.
async fn frames_within(ws: &mut Ws, within: Duration) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(Ok(frame)) = ws.next_within(within).await {
        frames.push(frame);
    }
    frames
}

/// A direct conversation between `from` and `to` holding `n` messages of `from`; its id.
async fn conversation_with(app: &TestApp, from: &Person, to: &Person, n: usize) -> String {
    let (status, opened) = app.open_direct(&from.token, &to.id).await;
    assert_eq!(status, 200, "{opened}");
    let conversation = opened["id"].as_str().expect("a conversation id").to_owned();
    for i in 0..n {
        let (status, _) = app
            .post_message(
                &from.token,
                &conversation,
                &format!("m{i}"),
                &new_client_id(),
            )
            .await;
        assert_eq!(status, 201);
    }
    conversation
}

#[actix_web::test]
async fn the_first_auth_and_a_renewal_get_their_ref_back() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let mut ws = Ws::connect(&app.ws_url).await;
    ws.send(json!({"type": "auth", "ref": "hello", "token": alice.token}))
        .await;
    let ready = ws.recv_type("ready").await;
    assert_eq!(ready["ref"], "hello");
    ws.send(json!({"type": "auth", "ref": "renew", "token": alice.token}))
        .await;
    let session = ws.recv_type("session").await;
    assert_eq!(session["ref"], "renew");
    assert!(session["expires_at"].is_string());
    // A window opened without a ref gets a `ready` without one.
    let (_, ready) = app.window(&alice).await;
    assert!(ready.get("ref").is_none(), "{ready}");
}

#[actix_web::test]
async fn every_frame_with_a_ref_gets_exactly_one_reply_carrying_it() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let conversation = conversation_with(&app, &bob, &alice, 2).await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let frames = [
        json!({"type": "read", "ref": "read", "conversation_id": conversation, "seq": 1}),
        json!({"type": "ui", "ref": "ui", "state": {"draft": "x"}}),
        json!({"type": "typing", "ref": "typing", "conversation_id": conversation}),
        json!({"type": "block", "ref": "block", "user_id": bob.id}),
        json!({"type": "unblock", "ref": "unblock", "user_id": bob.id}),
        json!({"type": "history", "ref": "history", "conversation_id": conversation}),
        json!({"type": "online", "ref": "online"}),
        json!({"type": "rooms", "ref": "rooms"}),
        json!({"type": "ping", "ref": "ping"}),
        json!({"type": "send", "ref": "send", "client_id": new_client_id(), "body": "hi", "to": bob.id}),
        json!({"type": "history", "ref": "refused", "conversation_id": new_client_id()}),
    ];
    for frame in &frames {
        a1.send(frame.clone()).await;
    }
    let seen = frames_within(&mut a1, Duration::from_millis(1500)).await;
    let mut replies: HashMap<String, Vec<String>> = HashMap::new();
    for frame in &seen {
        if let Some(reference) = frame["ref"].as_str() {
            replies
                .entry(reference.to_owned())
                .or_default()
                .push(frame["type"].as_str().unwrap().to_owned());
        }
    }
    let expected = [
        ("read", "ok"),
        ("ui", "ok"),
        ("typing", "ok"),
        ("block", "blocked"),
        ("unblock", "unblocked"),
        ("history", "history"),
        ("online", "online_page"),
        ("rooms", "rooms"),
        ("ping", "ok"),
        ("send", "ack"),
        ("refused", "error"),
    ];
    for (reference, kind) in expected {
        assert_eq!(
            replies.get(reference),
            Some(&vec![kind.to_owned()]),
            "replies to {reference}: {seen:?}"
        );
    }
    assert_eq!(replies.len(), expected.len(), "{replies:?}");
    // The other window mirrors the block without the asking window's ref.
    let blocked = a2.recv_type("blocked").await;
    assert!(blocked.get("ref").is_none(), "{blocked}");
    // Without a ref, `read`, `ui` and `typing` are answered by nothing.
    a2.send(json!({"type": "ui", "state": {"draft": "y"}}))
        .await;
    a2.assert_no("ok", Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn a_ping_with_a_ref_is_answered_ok_and_one_without_is_not() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(json!({"type": "ping", "ref": "h1"})).await;
    assert_eq!(a.recv().await, json!({"type": "ok", "ref": "h1"}));
    // At once: a write held up in Postgres before it does not hold up its `ok` (a busy
    // server must not look dead to a client's heartbeat).
    let held = holding_lock(
        &app,
        "LOCK TABLE users IN EXCLUSIVE MODE".to_owned(),
        Duration::from_millis(500),
    )
    .await;
    a.send(json!({"type": "ui", "ref": "ui", "state": {"draft": "x"}}))
        .await;
    a.send(json!({"type": "ping", "ref": "h2"})).await;
    assert_eq!(a.recv().await, json!({"type": "ok", "ref": "h2"}));
    held.await.unwrap();
    assert_eq!(a.recv().await, json!({"type": "ok", "ref": "ui"}));
    // Without a ref, nothing: the next frame is the reply to the one sent after it.
    a.send(json!({"type": "ping"})).await;
    a.send(json!({"type": "ping", "ref": "h3"})).await;
    assert_eq!(a.recv().await, json!({"type": "ok", "ref": "h3"}));
    a.assert_no("ok", Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn frames_of_one_socket_take_effect_in_the_order_they_were_sent() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut a, "Order", None).await;
    app.join_room(&bob.token, &room).await;
    for i in 0..3 {
        let (status, _) = app
            .post_message(&bob.token, &room, &format!("bob {i}"), &new_client_id())
            .await;
        assert_eq!(status, 201);
    }
    let senders = |history: &Value| -> Vec<String> {
        history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["sender_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Each write is held back 300 ms in Postgres (a lock it needs), and a `history`
    // follows it at once on the same socket: answered before the write committed, the
    // history would show the state before it.
    let hold = Duration::from_millis(300);
    let events_lock = || "LOCK TABLE block_events IN EXCLUSIVE MODE".to_owned();

    let held = holding_lock(&app, events_lock(), hold).await;
    a.send(json!({"type": "block", "user_id": bob.id})).await;
    a.send(json!({"type": "history", "ref": "after-block", "conversation_id": room}))
        .await;
    let history = a.recv_type("history").await;
    held.await.unwrap();
    assert_eq!(history["ref"], "after-block");
    assert!(
        !senders(&history).contains(&bob.id),
        "a history after block shows bob: {history}"
    );

    let held = holding_lock(&app, events_lock(), hold).await;
    a.send(json!({"type": "unblock", "user_id": bob.id})).await;
    a.send(json!({"type": "history", "ref": "after-unblock", "conversation_id": room}))
        .await;
    let history = a.recv_type("history").await;
    held.await.unwrap();
    assert_eq!(
        senders(&history).iter().filter(|s| **s == bob.id).count(),
        3,
        "a history after unblock hides bob: {history}"
    );

    // A send takes its conversation's row lock to number the message.
    let row_lock = format!("SELECT 1 FROM conversations WHERE id = '{room}' FOR UPDATE");
    let held = holding_lock(&app, row_lock, hold).await;
    a.send(json!({"type": "send", "client_id": new_client_id(), "body": "mine", "conversation_id": room}))
        .await;
    a.send(json!({"type": "history", "ref": "after-send", "conversation_id": room}))
        .await;
    let history = a.recv_type("history").await;
    held.await.unwrap();
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.last(), Some(&"mine"), "{history}");
}

#[actix_web::test]
async fn a_read_that_does_not_move_the_position_is_told_to_no_other_window() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let conversation = conversation_with(&app, &bob, &alice, 5).await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    a1.send(json!({"type": "read", "conversation_id": conversation, "seq": 5}))
        .await;
    assert_eq!(a2.recv_type("read").await["seq"], 5);
    a1.send(json!({"type": "read", "ref": "back", "conversation_id": conversation, "seq": 3}))
        .await;
    assert_eq!(a1.recv_type("ok").await["ref"], "back");
    a2.assert_no("read", Duration::from_millis(400)).await;
    // Nor over HTTP; the answer still says where the position is.
    let (status, position) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{conversation}/read"),
            &alice.token,
            Some(json!({"seq": 2})),
        )
        .await;
    assert_eq!((status, position["seq"].clone()), (200, json!(5)));
    a2.assert_no("read", Duration::from_millis(400)).await;
}

#[actix_web::test]
async fn a_client_id_reused_for_another_message_is_a_conflict_never_the_other_message() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let frame =
        json!({"type": "send", "ref": "1", "client_id": "x", "body": "to bob", "to": bob.id});
    a.send(frame.clone()).await;
    let original = a.recv_type("ack").await["message"].clone();

    // The same id to another person, or with another body: refused.
    a.send(json!({"type": "send", "ref": "2", "client_id": "x", "body": "to bob", "to": carol.id}))
        .await;
    let refused = a.recv_type("error").await;
    assert_eq!(
        (refused["ref"].clone(), refused["code"].clone()),
        (json!("2"), json!("conflict"))
    );
    a.send(json!({"type": "send", "ref": "3", "client_id": "x", "body": "changed", "to": bob.id}))
        .await;
    assert_eq!(a.recv_type("error").await["code"], "conflict");
    // Into another conversation over HTTP: 409.
    let (_, opened) = app.open_direct(&alice.token, &carol.id).await;
    let with_carol = opened["id"].as_str().unwrap();
    let (status, body) = app
        .post_message(&alice.token, with_carol, "to bob", "x")
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("conflict")),
        "{body}"
    );
    // Two sends with one id in one socket burst (one commit): the second is refused too.
    a.send(json!({"type": "send", "ref": "4", "client_id": "y", "body": "one", "to": bob.id}))
        .await;
    a.send(json!({"type": "send", "ref": "5", "client_id": "y", "body": "one", "to": carol.id}))
        .await;
    let mut answers = HashMap::new();
    for _ in 0..2 {
        let frame = loop {
            let f = a.recv().await;
            if f["ref"] == "4" || f["ref"] == "5" {
                break f;
            }
        };
        answers.insert(
            frame["ref"].as_str().unwrap().to_owned(),
            frame["type"].clone(),
        );
    }
    assert_eq!(answers["4"], "ack");
    assert_eq!(answers["5"], "error");

    // A true retry is still answered with the original.
    a.send(frame).await;
    assert_eq!(a.recv_type("ack").await["message"], original);
    assert_eq!(app.count_messages().await, 2, "'to bob' and 'one'");
}

#[actix_web::test]
async fn a_ref_over_100_characters_is_refused_with_the_ref_so_it_can_be_matched() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let long = "r".repeat(101);
    a.send(json!({"type": "ui", "ref": long, "state": {}}))
        .await;
    let error = a.recv_type("error").await;
    assert_eq!(
        (error["code"].clone(), error["ref"].clone()),
        (json!("bad_request"), json!(long))
    );
}

#[actix_web::test]
async fn renewing_with_someone_else_s_token_is_unauthorized_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(json!({"type": "auth", "ref": "swap", "token": bob.token}))
        .await;
    let error = a.recv_type("error").await;
    assert_eq!(
        (error["ref"].clone(), error["code"].clone()),
        (json!("swap"), json!("unauthorized"))
    );
    a.send(json!({"type": "online", "ref": "still"})).await;
    assert_eq!(a.recv_type("online_page").await["ref"], "still");
}

#[actix_web::test]
async fn room_actions_of_a_non_member_are_answered_as_documented() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (open, _) = create_room(&mut a, "Open", None).await;
    let (locked, _) = create_room(&mut a, "Locked", Some("pw")).await;
    let (mut b, _) = app.window(&bob).await;
    // members: anyone, for an open room; members only, for a room with a password.
    b.send(json!({"type": "members", "ref": "m", "room_id": open}))
        .await;
    assert_eq!(
        ids(&b.recv_type("members").await["members"]),
        vec![alice.id.clone()]
    );
    b.send(json!({"type": "members", "ref": "m", "room_id": locked}))
        .await;
    assert_eq!(b.recv_type("error").await["code"], "forbidden");
    // leave_room: already not a member, so done (a retry is safe); nothing changes.
    b.send(json!({"type": "leave_room", "ref": "l", "room_id": open}))
        .await;
    assert_eq!(b.recv_type("left").await["ref"], "l");
    // delete_room: its creator only.
    b.send(json!({"type": "delete_room", "ref": "d", "room_id": open}))
        .await;
    assert_eq!(b.recv_type("error").await["code"], "forbidden");
    // A room that does not exist: not_found, for each of them.
    let missing = new_client_id();
    for kind in ["members", "leave_room", "delete_room"] {
        b.send(json!({"type": kind, "ref": kind, "room_id": missing}))
            .await;
        let error = b.recv_type("error").await;
        assert_eq!(
            (error["ref"].clone(), error["code"].clone()),
            (json!(kind), json!("not_found"))
        );
    }
    a.assert_no("member", Duration::from_millis(200)).await;
}
