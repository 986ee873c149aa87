//! Messages that change after they are sent: edits, deletions and reactions reach every
//! window of every member once, in order after the message; a window or a node that
//! missed them catches up through the conversation's change numbers; deleted text is
//! gone from the database; blocks hold; bad changes are refused and the socket stays.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);
/// Events a node committed that Redis could not take.
const DROPPED: &str = "banter_cluster_events_dropped_total";

async fn say(ws: &mut Ws, conversation: &str, body: &str) -> Value {
    ws.send(json!({"type": "send", "ref": "s", "client_id": new_client_id(), "body": body, "conversation_id": conversation}))
        .await;
    ws.recv_type("ack").await["message"].clone()
}

async fn history(app: &TestApp, person: &Person, conversation: &str) -> Vec<Value> {
    let (status, body) = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &person.token,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().unwrap().clone()
}

fn last_change(ready: &Value, conversation: &str) -> i64 {
    ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation)
        .map(|c| c["last_change"].as_i64().unwrap_or(0))
        .unwrap()
}

#[actix_web::test]
async fn an_edit_reaches_every_window_of_every_member_once_and_history_and_search_show_it() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_1, _) = app.window(&alice).await;
    let (mut alice_2, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_1, "Kitchen", None).await;
    app.join_room(&bob.token, &room).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let sent = say(&mut alice_1, &room, "The kettle is bolied").await;
    let seq = sent["seq"].as_i64().unwrap();
    bob_ws.recv_type("message").await;

    // The asking window's reply is its copy of what every window is sent.
    let reply = ask(&mut alice_1, json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "The kettle is boiled"})).await;
    assert_eq!(reply["type"], "message_edited", "{reply}");
    alice_1.assert_no("message_edited", QUIET).await;
    for ws in [&mut alice_2, &mut bob_ws] {
        let edited = ws.recv_type("message_edited").await;
        assert_eq!(edited.get("ref"), None);
        assert_eq!(edited["edited_at"], reply["edited_at"]);
        assert_eq!(edited["seq"], seq);
        assert_eq!(edited["body"], "The kettle is boiled");
        assert_eq!(edited["change"], 1);
        assert!(edited["edited_at"].is_string());
        ws.assert_no("message_edited", QUIET).await;
    }
    // The same text again is done already: no new change, answered `ok`.
    let again = ask(&mut alice_1, json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "The kettle is boiled"})).await;
    assert_eq!(again["type"], "ok");
    bob_ws.assert_no("message_edited", QUIET).await;

    let shown = &history(&app, &bob, &room).await[0];
    assert_eq!(shown["body"], "The kettle is boiled");
    assert_eq!(shown["version"], 1);
    assert!(shown["edited_at"].is_string(), "{shown}");
    // Search finds the new text, not the old; Postgres keeps the old with who and when.
    let (_, found) = app.get("/api/search?q=boiled", &bob.token).await;
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    let (_, found) = app.get("/api/search?q=bolied", &bob.token).await;
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );
    let db = app.db().await;
    let kept = db
        .query_one(
            "SELECT body, editor_id::text FROM message_edits WHERE seq = $1",
            &[&seq],
        )
        .await
        .unwrap();
    assert_eq!(kept.get::<_, String>(0), "The kettle is bolied");
    assert_eq!(kept.get::<_, String>(1), alice.id);
}

#[actix_web::test]
async fn a_deleted_message_is_a_tombstone_everywhere_and_its_text_is_gone_from_the_database() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Secrets", None).await;
    app.join_room(&bob.token, &room).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let seq = say(&mut bob_ws, &room, "my password is hunter2").await["seq"]
        .as_i64()
        .unwrap();
    let edit = json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "my password is hunter3"});
    assert_eq!(ask(&mut bob_ws, edit).await["type"], "message_edited");
    let react = json!({"type": "react", "conversation_id": room, "seq": seq, "emoji": "😱"});
    assert_eq!(ask(&mut alice_ws, react).await["type"], "reaction");
    alice_ws
        .send(json!({"type": "send", "client_id": new_client_id(), "body": "don't!", "conversation_id": room, "reply_to": seq}))
        .await;
    let reply_seq = alice_ws.recv_type("ack").await["message"]["seq"].clone();

    // Alice created the room: she may delete anyone's message in it.
    let delete = json!({"type": "delete", "conversation_id": room, "seq": seq});
    let mine = ask(&mut alice_ws, delete.clone()).await;
    let bobs = bob_ws.recv_type("message_deleted").await;
    for deleted in [mine, bobs] {
        assert_eq!(deleted["type"], "message_deleted", "{deleted}");
        assert_eq!(deleted["seq"], seq);
        assert_eq!(deleted["change"], 3);
    }
    // Deleting it again is done already.
    assert_eq!(ask(&mut bob_ws, delete).await["type"], "ok");
    bob_ws.assert_no("message_deleted", QUIET).await;

    let messages = history(&app, &bob, &room).await;
    let tombstone = &messages[0];
    assert_eq!(tombstone["body"], "", "{tombstone}");
    assert!(tombstone["deleted_at"].is_string());
    assert!(tombstone.get("reactions").is_none(), "{tombstone}");
    assert!(tombstone.get("edited_at").is_none(), "{tombstone}");
    let reply = messages.iter().find(|m| m["seq"] == reply_seq).unwrap();
    assert_eq!(reply["reply_to"]["body"], Value::Null, "{reply}");
    let (_, found) = app.get("/api/search?q=hunter3", &alice.token).await;
    assert_eq!(
        found["results"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );
    // Not hidden: gone, with every earlier version and its reactions.
    let db = app.db().await;
    let text: i64 = db
        .query_one(
            "SELECT (SELECT count(*) FROM messages WHERE body LIKE '%hunter%')
                  + (SELECT count(*) FROM message_edits)
                  + (SELECT count(*) FROM reactions)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(text, 0);
}

#[actix_web::test]
async fn only_the_sender_edits_and_only_the_sender_or_the_room_s_creator_deletes() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Rules", None).await;
    app.join_room(&bob.token, &room).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let seq = say(&mut alice_ws, &room, "mine").await["seq"].clone();
    let reply = ask(
        &mut bob_ws,
        json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "yours"}),
    )
    .await;
    assert_eq!(reply["code"], "forbidden", "{reply}");
    let reply = ask(
        &mut bob_ws,
        json!({"type": "delete", "conversation_id": room, "seq": seq}),
    )
    .await;
    assert_eq!(reply["code"], "forbidden", "{reply}");
    assert_eq!(history(&app, &bob, &room).await[0]["body"], "mine");
}

#[actix_web::test]
async fn reactions_go_on_and_off_live_with_who_reacted_within_their_bounds() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    alice_ws
        .send(json!({"type": "send", "client_id": "hi", "body": "hi bob", "to": bob.id}))
        .await;
    let message = alice_ws.recv_type("ack").await["message"].clone();
    let (chat, seq) = (message["conversation_id"].clone(), message["seq"].clone());
    bob_ws.recv_type("message").await;

    let react = |emoji: &str, add: bool| json!({"type": "react", "conversation_id": chat, "seq": seq, "emoji": emoji, "add": add});
    let mine = ask(&mut bob_ws, react("👍", true)).await;
    let alices = alice_ws.recv_type("reaction").await;
    for reaction in [mine, alices] {
        assert_eq!(
            (reaction["emoji"].clone(), reaction["add"].clone()),
            (json!("👍"), json!(true))
        );
        assert_eq!(reaction["user_id"], bob.id);
    }
    // Already on: done, nothing sent again.
    assert_eq!(ask(&mut bob_ws, react("👍", true)).await["type"], "ok");
    alice_ws.assert_no("reaction", QUIET).await;
    assert_eq!(
        ask(&mut alice_ws, react("👍", true)).await["type"],
        "reaction"
    );
    let shown = &history(&app, &alice, chat.as_str().unwrap()).await[0];
    assert_eq!(
        shown["reactions"],
        json!([{"emoji": "👍", "users": [bob.id, alice.id]}])
    );
    assert_eq!(ask(&mut bob_ws, react("👍", false)).await["add"], false);
    let off = alice_ws.recv_type("reaction").await;
    assert_eq!(
        (off["add"].clone(), off["user_id"].clone()),
        (json!(false), json!(bob.id))
    );

    // One emoji, nothing else; the socket stays usable.
    for bad in ["", "a", "👍👍", ":+1:", "<img>"] {
        let reply = ask(&mut bob_ws, react(bad, true)).await;
        assert_eq!(reply["code"], "bad_request", "{bad:?}: {reply}");
    }
    // At most 10 of one person on a message, and 20 different ones on it.
    let emoji: Vec<String> = [
        "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰",
        "😗", "😙", "🥲", "😚", "🙂", "🤗",
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    for e in &emoji[..10] {
        assert_eq!(
            ask(&mut bob_ws, react(e, true)).await["type"],
            "reaction",
            "{e}"
        );
    }
    let reply = ask(&mut bob_ws, react(&emoji[10], true)).await;
    assert_eq!(reply["code"], "conflict", "{reply}");
    for e in &emoji[10..19] {
        assert_eq!(
            ask(&mut alice_ws, react(e, true)).await["type"],
            "reaction",
            "{e}"
        );
    }
    // 👍 (alice's) and 19 others: the 21st different one is refused, a used one is not.
    let reply = ask(&mut alice_ws, react(&emoji[20], true)).await;
    assert_eq!(reply["code"], "conflict", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("different"),
        "{reply}"
    );
    // Alice takes one of her ten off: one bob uses is hers to add again.
    assert_eq!(ask(&mut alice_ws, react("👍", false)).await["add"], false);
    let reply = ask(&mut alice_ws, react(&emoji[0], true)).await;
    assert_eq!(reply["type"], "reaction", "{reply}");
    let shown = &history(&app, &alice, chat.as_str().unwrap()).await[0];
    // 👍 went with alice's: 19 emoji, in the order they were first put on.
    assert_eq!(
        shown["reactions"].as_array().map(Vec::len),
        Some(19),
        "{shown}"
    );
    assert_eq!(shown["reactions"][0]["emoji"], emoji[0]);
    assert_eq!(shown["reactions"][0]["users"], json!([bob.id, alice.id]));
}

#[actix_web::test]
async fn bad_changes_get_their_error_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let mallory = app.sign_in("mallory@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Mine", None).await;
    let seq = say(&mut alice_ws, &room, "first").await["seq"]
        .as_i64()
        .unwrap();
    let gone = say(&mut alice_ws, &room, "second").await["seq"]
        .as_i64()
        .unwrap();
    let delete = json!({"type": "delete", "conversation_id": room, "seq": gone});
    assert_eq!(ask(&mut alice_ws, delete).await["type"], "message_deleted");

    let cases = [
        (
            json!({"type": "edit", "conversation_id": room, "seq": gone, "body": "back"}),
            "gone",
        ),
        (
            json!({"type": "react", "conversation_id": room, "seq": gone, "emoji": "👍"}),
            "gone",
        ),
        (
            json!({"type": "edit", "conversation_id": room, "seq": 99, "body": "x"}),
            "not_found",
        ),
        (
            json!({"type": "edit", "conversation_id": room, "seq": 0, "body": "x"}),
            "bad_request",
        ),
        (
            json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "   "}),
            "bad_request",
        ),
        (
            json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "x".repeat(4001)}),
            "too_large",
        ),
        (
            json!({"type": "changes", "conversation_id": room, "after": -1}),
            "bad_request",
        ),
        (
            json!({"type": "delete", "conversation_id": "nope", "seq": seq}),
            "bad_request",
        ),
    ];
    for (frame, code) in cases {
        let reply = ask(&mut alice_ws, frame.clone()).await;
        assert_eq!(reply["code"], code, "{frame}: {reply}");
    }
    // Someone outside the room cannot touch it, nor learn that it exists.
    let (mut mallory_ws, _) = app.window(&mallory).await;
    for frame in [
        json!({"type": "delete", "conversation_id": room, "seq": seq}),
        json!({"type": "react", "conversation_id": room, "seq": seq, "emoji": "💩"}),
        json!({"type": "changes", "conversation_id": room, "after": 0}),
    ] {
        let reply = ask(&mut mallory_ws, frame.clone()).await;
        assert_eq!(reply["code"], "not_found", "{frame}: {reply}");
    }
    assert_eq!(
        ask(&mut alice_ws, json!({"type": "ping"})).await["type"],
        "ok"
    );
    assert_eq!(history(&app, &alice, &room).await[0]["body"], "first");
}

#[actix_web::test]
async fn a_flood_of_reaction_toggles_is_refused_saying_when_to_come_back() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut ws, "Flood", None).await;
    let seq = say(&mut ws, &room, "toggle me").await["seq"].clone();
    for i in 0..40 {
        ws.send(json!({"type": "react", "ref": format!("t{i}"), "conversation_id": room, "seq": seq, "emoji": "🔥", "add": i % 2 == 0}))
            .await;
    }
    let mut refused = 0;
    while let Some(frame) = ws.try_recv(Duration::from_millis(500)).await {
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "rate_limited", "{frame}");
            assert!(frame["retry_after_ms"].as_u64().is_some(), "{frame}");
            refused += 1;
        }
    }
    // A burst of 20 passes, then 5 a second.
    assert!((15..=20).contains(&refused), "{refused} refused");
    assert_eq!(ask(&mut ws, json!({"type": "ping"})).await["type"], "ok");
}

#[actix_web::test]
async fn blocks_hide_reactions_from_the_blocker_and_stop_changes_in_a_direct_chat() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Hall", None).await;
    app.join_room(&bob.token, &room).await;
    app.join_room(&carol.token, &room).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let (mut carol_ws, _) = app.window(&carol).await;
    app.block(&alice, &carol).await;
    let seq = say(&mut bob_ws, &room, "news").await["seq"].clone();

    // Carol's reaction: bob sees it, alice (who blocked her) does not, live or later.
    let react = json!({"type": "react", "conversation_id": room, "seq": seq, "emoji": "🎉"});
    assert_eq!(ask(&mut carol_ws, react).await["type"], "reaction");
    assert_eq!(bob_ws.recv_type("reaction").await["user_id"], carol.id);
    alice_ws.assert_no("reaction", QUIET).await;
    assert!(history(&app, &alice, &room).await[0]
        .get("reactions")
        .is_none());
    assert_eq!(
        history(&app, &bob, &room).await[0]["reactions"][0]["users"],
        json!([carol.id])
    );
    // Carol's own messages' edits do not reach alice either; bob's reach carol.
    let carols = say(&mut carol_ws, &room, "hello").await["seq"].clone();
    let edit = json!({"type": "edit", "conversation_id": room, "seq": carols, "body": "hello all"});
    assert_eq!(ask(&mut carol_ws, edit).await["type"], "message_edited");
    assert_eq!(bob_ws.recv_type("message_edited").await["seq"], carols);
    alice_ws.assert_no("message_edited", QUIET).await;
    // ... and alice cannot react to what she is not shown.
    let react = json!({"type": "react", "conversation_id": room, "seq": carols, "emoji": "👍"});
    assert_eq!(ask(&mut alice_ws, react).await["code"], "not_found");

    // In a direct chat a block stops every change, either way, but taking one's own words
    // back.
    alice_ws
        .send(json!({"type": "send", "client_id": "dm", "body": "psst", "to": bob.id}))
        .await;
    let dm = alice_ws.recv_type("ack").await["message"].clone();
    app.block(&bob, &alice).await;
    let edit = json!({"type": "edit", "conversation_id": dm["conversation_id"], "seq": dm["seq"], "body": "psst!"});
    assert_eq!(ask(&mut alice_ws, edit).await["code"], "blocked");
    let react = json!({"type": "react", "conversation_id": dm["conversation_id"], "seq": dm["seq"], "emoji": "👍"});
    assert_eq!(ask(&mut bob_ws, react).await["code"], "blocked");
    let delete =
        json!({"type": "delete", "conversation_id": dm["conversation_id"], "seq": dm["seq"]});
    assert_eq!(ask(&mut alice_ws, delete).await["type"], "message_deleted");
    let chat = dm["conversation_id"].as_str().unwrap();
    assert_eq!(history(&app, &bob, chat).await[0]["body"], "");
}

#[actix_web::test]
async fn a_window_that_was_away_catches_up_on_every_change_with_no_gap() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Later", None).await;
    app.join_room(&bob.token, &room).await;
    let first = say(&mut alice_ws, &room, "one").await["seq"].clone();
    let second = say(&mut alice_ws, &room, "two").await["seq"].clone();
    let third = say(&mut alice_ws, &room, "three").await["seq"].clone();
    let edit = json!({"type": "edit", "conversation_id": room, "seq": first, "body": "one!"});
    assert_eq!(ask(&mut alice_ws, edit).await["type"], "message_edited");
    let (bob_ws, ready) = app.window(&bob).await;
    let seen = last_change(&ready, &room);
    assert_eq!(seen, 1);
    bob_ws.close().await;

    // While bob is away: another edit of the same message, a reaction, a deletion.
    for frame in [
        json!({"type": "edit", "conversation_id": room, "seq": first, "body": "one!!"}),
        json!({"type": "react", "conversation_id": room, "seq": second, "emoji": "👀"}),
        json!({"type": "delete", "conversation_id": room, "seq": third}),
    ] {
        let reply = ask(&mut alice_ws, frame.clone()).await;
        assert_eq!(reply["seq"], frame["seq"], "{frame}: {reply}");
    }
    let (mut bob_ws, ready) = app.window(&bob).await;
    assert_eq!(last_change(&ready, &room), 4);
    let changes = ask(
        &mut bob_ws,
        json!({"type": "changes", "conversation_id": room, "after": seen}),
    )
    .await;
    assert_eq!(changes["type"], "changes", "{changes}");
    assert_eq!(
        (changes["through"].clone(), changes["more"].clone()),
        (json!(4), json!(false))
    );
    // Each changed message once, as it is now, in change order.
    let states: Vec<(Value, Value, Value)> = changes["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["seq"].clone(), m["body"].clone(), m["version"].clone()))
        .collect();
    assert_eq!(
        states,
        vec![
            (first.clone(), json!("one!!"), json!(2)),
            (second.clone(), json!("two"), json!(3)),
            (third.clone(), json!(""), json!(4)),
        ]
    );
    assert_eq!(
        changes["messages"][1]["reactions"][0]["users"],
        json!([alice.id])
    );
    // Nothing past the last: an empty page.
    let none = ask(
        &mut bob_ws,
        json!({"type": "changes", "conversation_id": room, "after": 4}),
    )
    .await;
    assert_eq!(none["messages"], json!([]));
    assert_eq!(none["through"], 4);
    // Unread still counts messages only.
    let summary = ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == room.as_str())
        .unwrap()
        .clone();
    assert_eq!(summary["unread"], 3, "{summary}");
}

#[actix_web::test]
async fn changes_cross_nodes_after_their_message_and_a_node_that_missed_them_catches_up() {
    let port = free_port();
    let mut redis = RedisServer::start(port, vec!["--port".into(), port.to_string()]).await;
    let (app, a, b, _) = nodes_a_and_b(&format!("redis://127.0.0.1:{port}"), |_| {}).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    // Sent and edited at once: bob's window on b is shown the message, then the edit.
    alice_a
        .send(json!({"type": "send", "client_id": "x1", "body": "draft", "to": bob.id}))
        .await;
    let message = alice_a.recv_type("ack").await["message"].clone();
    let (chat, seq) = (message["conversation_id"].clone(), message["seq"].clone());
    alice_a
        .send(json!({"type": "edit", "conversation_id": chat, "seq": seq, "body": "final"}))
        .await;
    let mut order = Vec::new();
    while order.len() < 2 {
        let frame = bob_b.recv().await;
        if ["message", "message_edited"].contains(&frame["type"].as_str().unwrap_or("")) {
            order.push(frame["type"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(order, vec!["message", "message_edited"]);

    // Redis goes away: b cannot hear of what a commits; Postgres takes it all.
    redis.kill();
    a.wait_unready(&app.http).await;
    let dropped_before = a.metric(&app.http, DROPPED).await;
    for frame in [
        json!({"type": "edit", "conversation_id": chat, "seq": seq, "body": "final, really"}),
        json!({"type": "react", "conversation_id": chat, "seq": seq, "emoji": "✅"}),
    ] {
        let reply = ask(&mut alice_a, frame.clone()).await;
        assert_eq!(
            reply["change"].as_i64().map(|n| n > 1),
            Some(true),
            "{frame}: {reply}"
        );
    }
    // Both events dropped by a's publisher: one it holds while waiting to reconnect
    // would go with its next try, and so reach b live if Redis were back by then.
    a.wait_for_metric(
        &app.http,
        DROPPED,
        WAIT,
        |dropped| dropped >= dropped_before + 2.0,
        "a never dropped the two events",
    )
    .await;
    redis.restart().await;
    a.wait_ready(&app.http).await;
    b.wait_ready(&app.http).await;
    // b reads what it missed: the message as it is now, once, through change 3.
    let caught = bob_b.recv_type("changes").await;
    assert_eq!(caught["through"], 3, "{caught}");
    assert_eq!(caught["messages"][0]["body"], "final, really");
    assert_eq!(caught["messages"][0]["reactions"][0]["emoji"], "✅");
    // And the next change is live again, numbered on.
    alice_a
        .send(json!({"type": "react", "conversation_id": chat, "seq": seq, "emoji": "✅", "add": false}))
        .await;
    let live = bob_b.recv_type("reaction").await;
    assert_eq!(live["change"], 4, "{live}");
    bob_b.assert_no("changes", QUIET).await;
}

#[actix_web::test]
async fn over_http_edits_deletions_reactions_and_changes_work_and_reach_the_windows() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut alice_ws, "Desk", None).await;
    app.join_room(&bob.token, &room).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let seq = say(&mut alice_ws, &room, "typo hree").await["seq"].clone();
    let message = format!("/api/conversations/{room}/messages/{seq}");

    let (status, edited) = app
        .send_json(
            reqwest::Method::PATCH,
            &message,
            &alice.token,
            Some(json!({"body": "typo here"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (edited["body"].clone(), edited["version"].clone()),
        (json!("typo here"), json!(1))
    );
    assert_eq!(
        bob_ws.recv_type("message_edited").await["body"],
        "typo here"
    );

    let reaction = format!("{message}/reactions/%F0%9F%91%8D");
    let (status, _) = app
        .send_json(reqwest::Method::PUT, &reaction, &bob.token, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(alice_ws.recv_type("reaction").await["emoji"], "👍");
    let (status, body) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("{message}/reactions/nope"),
            &bob.token,
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("bad_request"))
    );

    let (status, changes) = app
        .get(
            &format!("/api/conversations/{room}/changes?after=1"),
            &bob.token,
        )
        .await;
    assert_eq!(status, 200, "{changes}");
    assert_eq!(changes["through"], 2);
    assert_eq!(
        changes["messages"][0]["reactions"][0]["users"],
        json!([bob.id])
    );

    let (status, body) = app
        .send_json(reqwest::Method::DELETE, &message, &bob.token, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("forbidden"))
    );
    let (status, _) = app
        .send_json(reqwest::Method::DELETE, &message, &alice.token, None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(bob_ws.recv_type("message_deleted").await["seq"], seq);
    let (status, body) = app
        .send_json(
            reqwest::Method::PATCH,
            &message,
            &alice.token,
            Some(json!({"body": "back"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (410, json!("gone"))
    );

    // Read receipts over HTTP: a room's "seen by", and the switch.
    let (status, seen) = app.get(&format!("{message}/seen"), &alice.token).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["count"], 0, "{seen}");
    let (status, body) = app
        .send_json(
            reqwest::Method::PUT,
            "/api/me/receipts",
            &alice.token,
            Some(json!({"share": false})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"share": false})));
    assert_eq!(alice_ws.recv_type("receipts").await["share"], false);
    let (status, _) = app.get(&format!("{message}/seen"), &alice.token).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn resending_a_message_that_was_edited_or_deleted_since_answers_it_as_it_is() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut ws, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut ws, "Resends", None).await;
    let send = json!({"type": "send", "ref": "s", "client_id": "once", "body": "helo", "conversation_id": room});
    ws.send(send.clone()).await;
    let seq = ws.recv_type("ack").await["message"]["seq"].clone();
    let edit = json!({"type": "edit", "conversation_id": room, "seq": seq, "body": "hello"});
    assert_eq!(ask(&mut ws, edit).await["type"], "message_edited");
    // The phone that lost the ack sends again, with its id and its (old) text.
    ws.send(send.clone()).await;
    let again = ws.recv_type("ack").await;
    assert_eq!(again["message"]["body"], "hello", "{again}");
    let delete = json!({"type": "delete", "conversation_id": room, "seq": seq});
    assert_eq!(ask(&mut ws, delete).await["type"], "message_deleted");
    ws.send(send).await;
    let again = ws.recv_type("ack").await;
    assert!(again["message"]["deleted_at"].is_string(), "{again}");
    assert_eq!(history(&app, &alice, &room).await.len(), 1, "stored once");
}

#[actix_web::test]
async fn after_leaving_and_joining_again_on_another_node_changes_still_reach_every_window() {
    let (app, a, b, _) = nodes_a_and_b(&test_redis_url(), |_| {}).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_a, _) = app.window_at(&a, &bob).await;
    let (room, _) = create_room(&mut bob_a, "Revolving", None).await;
    app.join_room(&alice.token, &room).await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut alice_b, _) = app.window_at(&b, &alice).await;
    say(&mut bob_a, &room, "first").await;
    alice_b.recv_type("message").await;

    // Alice leaves and comes back from her window on a; bob wrote meanwhile.
    alice_a
        .send(json!({"type": "leave_room", "ref": "l", "room_id": room}))
        .await;
    alice_a.recv_type("left").await;
    alice_b.recv_type("left").await;
    let away = say(&mut bob_a, &room, "while you were out").await["seq"].clone();
    alice_a
        .send(json!({"type": "join_room", "ref": "j", "room_id": room}))
        .await;
    alice_a.recv_type("joined").await;
    alice_b.recv_type("joined").await;
    // A reaction to the message she was away for reaches her window on b too.
    let react = json!({"type": "react", "conversation_id": room, "seq": away, "emoji": "👋"});
    assert_eq!(ask(&mut bob_a, react).await["type"], "reaction");
    for ws in [&mut alice_a, &mut alice_b] {
        let reaction = ws.recv_type("reaction").await;
        assert_eq!(reaction["seq"], away, "{reaction}");
    }
}
