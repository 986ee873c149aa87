//! Display names: seeded by the identity provider at sign-in, chosen with `set_name`,
//! shown to the person's windows and to everyone who shows them, on every node, and
//! never past a block.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Signs in with a provider token whose claims are `claims` (beside sub, email).
async fn sign_in_with(app: &TestApp, subject: &str, email: Option<&str>, extra: Value) -> Value {
    let mut claims = app.issuer.claims(subject, email);
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let token = app
        .issuer
        .sign(&claims, jsonwebtoken::Algorithm::RS256, "rsa-1");
    let response = app.post_session(&token).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Sends `set_name` and answers its reply (`ok` or `error`).
async fn set_name(ws: &mut Ws, name: &str) -> Value {
    set_name_seeing(ws, name).await.0
}

/// [`set_name`], with the other frames that came before the reply.
async fn set_name_seeing(ws: &mut Ws, name: &str) -> (Value, Vec<Value>) {
    ws.send(json!({"type": "set_name", "ref": "n", "name": name}))
        .await;
    let mut before = Vec::new();
    loop {
        let frame = ws.recv().await;
        if frame["ref"] == "n" {
            return (frame, before);
        }
        before.push(frame);
    }
}

#[actix_web::test]
async fn the_providers_name_seeds_the_display_name_and_the_persons_own_choice_stays() {
    let app = spawn_app().await;
    let alice = sign_in_with(
        &app,
        "sub|alice",
        Some("alice@example.com"),
        json!({"name": "Alice Liddell", "nickname": "ally"}),
    )
    .await;
    assert_eq!(alice["user"]["name"], "Alice Liddell");
    // A `name` that is the email (as Auth0 gives password accounts) names nobody.
    let bob = sign_in_with(
        &app,
        "sub|bob",
        Some("bob@example.com"),
        json!({"name": "bob@example.com", "nickname": "bob"}),
    )
    .await;
    assert!(bob["user"].get("name").is_none(), "{bob}");
    // No name in the token: userinfo's (the test issuer names `named|…` subjects).
    let zed = sign_in_with(
        &app,
        "named|Zed Zimmer|1",
        Some("zed@example.com"),
        json!({}),
    )
    .await;
    assert_eq!(zed["user"]["name"], "Zed Zimmer");

    let person = Person {
        token: alice["token"].as_str().unwrap().into(),
        id: alice["user"]["id"].as_str().unwrap().into(),
        email: "alice@example.com".into(),
    };
    let (mut ws, ready) = app.window(&person).await;
    assert_eq!(ready["me"]["name"], "Alice Liddell");
    assert_eq!(set_name(&mut ws, "  Al  ").await["type"], "ok");
    // The next sign-in brings the provider's name again: the person's choice stays.
    let again = sign_in_with(
        &app,
        "sub|alice",
        Some("alice@example.com"),
        json!({"name": "Alice Liddell"}),
    )
    .await;
    assert_eq!(again["user"]["name"], "Al");
}

#[actix_web::test]
async fn a_new_name_reaches_my_other_windows_and_whoever_shows_me_but_not_past_a_block() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    app.block(&carol, &alice).await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let (mut carol_ws, _) = app.window(&carol).await;
    let (mut alice_1, _) = app.window(&alice).await;
    let (mut alice_2, _) = app.window(&alice).await;
    bob_ws.recv_presence().await;

    let (reply, before) = set_name_seeing(&mut alice_1, "Alice 🎈").await;
    assert_eq!(reply["type"], "ok");
    // The asking window is told too (before or after its `ok`), as every window is.
    let mine = match before.into_iter().find(|f| f["type"] == "user_updated") {
        Some(frame) => frame,
        None => alice_1.recv_type("user_updated").await,
    };
    for updated in [
        mine,
        alice_2.recv_type("user_updated").await,
        bob_ws.recv_type("user_updated").await,
    ] {
        assert_eq!(updated["user"]["id"], alice.id.as_str());
        assert_eq!(updated["user"]["name"], "Alice 🎈");
        assert_eq!(updated["user"]["email"], "alice@example.com");
    }
    carol_ws
        .assert_no("user_updated", Duration::from_millis(600))
        .await;

    // Everything that lists her afterwards says it: a new window of hers and of bob's,
    // the directory (by name too), a room's member list.
    let (_, mine) = app.window(&alice).await;
    assert_eq!(mine["me"]["name"], "Alice 🎈");
    let (_, bobs) = app.window(&bob).await;
    assert_eq!(bobs["online"][0]["name"], "Alice 🎈");
    let (status, found) = app
        .get("/api/people?q=ALICE%20%F0%9F%8E%88", &bob.token)
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["people"][0]["id"], alice.id.as_str());
    let (_, hidden) = app.get("/api/people?q=alice", &carol.token).await;
    assert_eq!(hidden["people"], json!([]), "a block hides her name too");
    let room = app.post_room(&bob.token, "Names").await;
    app.join_room(&alice.token, &room).await;
    let (_, members) = app
        .get(&format!("/api/rooms/{room}/members"), &bob.token)
        .await;
    let named: Vec<&Value> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "Alice 🎈")
        .collect();
    assert_eq!(named.len(), 1, "{members}");
    // Carol, who blocked her, sees her in the room by email only, and in a conversation
    // they had before the block.
    let (_, seen_by_carol) = app
        .get(&format!("/api/rooms/{room}/members"), &carol.token)
        .await;
    let alice_there = seen_by_carol["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == alice.id.as_str())
        .cloned()
        .unwrap();
    assert!(alice_there.get("name").is_none(), "{alice_there}");
}

#[actix_web::test]
async fn a_bad_name_is_a_clear_error_and_renaming_is_paced() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut ws, _) = app.window(&alice).await;
    let too_long = "x".repeat(65);
    for bad in [
        json!(""),
        json!("   "),
        json!(too_long),
        json!("a\u{7}b"),
        json!("\u{202E}gnp.exe"),
        json!("\u{200B}"),
        json!(5),
        json!(null),
    ] {
        ws.send(json!({"type": "set_name", "ref": "bad", "name": bad}))
            .await;
        let refused = ws.recv_type("error").await;
        assert_eq!(refused["code"], "bad_request", "{bad}: {refused}");
        assert_eq!(refused["ref"], "bad");
    }
    let db = app.db().await;
    let stored: Option<String> = db
        .query_one(
            "SELECT display_name FROM users WHERE email = 'alice@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, None, "nothing refused was stored");

    // Ten renames a minute; the eleventh waits, with a clear error, the socket intact.
    for i in 0..10 {
        assert_eq!(set_name(&mut ws, &format!("Alice {i}")).await["type"], "ok");
    }
    let paced = set_name(&mut ws, "Alice 10").await;
    assert_eq!(paced["code"], "rate_limited", "{paced}");
    assert!(paced["retry_after_ms"].as_u64().unwrap() > 0);
    ws.send(json!({"type": "ping", "ref": "p"})).await;
    assert_eq!(ws.recv_type("ok").await["ref"], "p");
}

#[actix_web::test]
async fn a_name_crosses_nodes_and_a_person_comes_back_under_it_whatever_their_token() {
    let (app, a, b, prefix) = nodes_a_and_b(&test_redis_url(), |_| {}).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    bob_b.recv_presence().await;

    assert_eq!(set_name(&mut alice_a, "Alice A").await["type"], "ok");
    let updated = bob_b.recv_type("user_updated").await;
    assert_eq!(updated["user"]["name"], "Alice A");

    // Alice leaves, and comes back on b with the token she signed in with before the
    // rename: she is announced under the name Postgres has, and her `ready` says it.
    alice_a.close().await;
    let gone = bob_b.recv_presence().await;
    assert_eq!(gone["online"], false, "{gone}");
    let (_alice_b, ready) = app.window_at(&b, &alice).await;
    assert_eq!(ready["me"]["name"], "Alice A");
    let back = bob_b.recv_presence().await;
    assert_eq!(back["online"], true, "{back}");
    assert_eq!(back["user"]["name"], "Alice A", "{back}");
    // Both nodes' lists, and the mirror in Redis a new node would read, agree.
    for node in [&a, &b] {
        let users = node.online_users(&app.http, &bob.token).await;
        assert_eq!(users[0]["name"], "Alice A", "{}", node.address);
    }
    let prefix_online = format!("{prefix}online");
    let mut redis = redis::Client::open(test_redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: String = redis::cmd("HGET")
        .arg(&prefix_online)
        .arg(&alice.id)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(stored.contains("Alice A"), "{stored}");
}
