//! Floods of actions that fan out or write: each person has an allowance per action
//! (docs/security.md), answered past it with `rate_limited` while the socket stays
//! usable and nobody else is held back; the ones that write hold across nodes.

use crate::helpers::*;
use serde_json::json;
use std::time::Duration;

/// The codes of the `error` frames that arrive until the socket is quiet for 500 ms.
async fn errors_until_quiet(ws: &mut Ws) -> Vec<String> {
    let mut codes = Vec::new();
    while let Some(frame) = ws.try_recv(Duration::from_millis(500)).await {
        if frame["type"] == "error" {
            codes.push(frame["code"].as_str().unwrap_or_default().to_owned());
        }
    }
    codes
}

/// The error code answering `reference`, or `None` once an `answer` frame (or, for
/// frames answered by nothing, a short quiet) says it was done.
async fn answer_to(ws: &mut Ws, reference: &str, answer: &str) -> Option<String> {
    loop {
        let Some(frame) = ws.try_recv(Duration::from_millis(300)).await else {
            return None; // nothing came back: done (typing, ui, block have no reply)
        };
        if frame["type"] == "error" && frame["ref"] == reference {
            return frame["code"].as_str().map(str::to_owned);
        }
        if frame["type"] == answer && frame["ref"] == reference {
            return None;
        }
    }
}

/// The attacker and a bystander, signed in.
async fn mallory_and_bob(app: &TestApp) -> (Person, Person) {
    (
        app.sign_in("mallory@example.com").await,
        app.sign_in("bob@example.com").await,
    )
}

fn count(codes: &[Option<String>], code: Option<&str>) -> usize {
    codes.iter().filter(|c| c.as_deref() == code).count()
}

#[actix_web::test]
async fn typing_floods_are_refused_past_the_burst_and_nobody_else_is_held_back() {
    let app = spawn_app().await;
    let (mallory, bob) = mallory_and_bob(&app).await;
    let (_, direct) = app.open_direct(&mallory.token, &bob.id).await;
    let (mut ws, _) = app.window(&mallory).await;
    let (mut bobs, _) = app.window(&bob).await;
    let typing = json!({"type": "typing", "conversation_id": direct["id"]});
    for i in 0..8 {
        let mut frame = typing.clone();
        frame["ref"] = json!(format!("t{i}"));
        ws.send(frame).await;
    }
    let codes = errors_until_quiet(&mut ws).await;
    assert_eq!(codes, vec!["rate_limited"; 3], "5 at once, then refused");
    let mut shown = 0;
    while let Some(frame) = bobs.try_recv(Duration::from_millis(300)).await {
        shown += usize::from(frame["type"] == "typing");
    }
    assert_eq!(shown, 5, "bob's window saw only the allowed notices");
    // Bob is not held back by Mallory's allowance.
    let typing_back = json!({"type": "typing", "conversation_id": direct["id"], "ref": "b"});
    bobs.send(typing_back).await;
    assert_eq!(ws.recv_type("typing").await["user_id"], bob.id);
}

#[actix_web::test]
async fn ui_state_floods_are_refused_past_the_burst_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let mallory = app.sign_in("mallory@example.com").await;
    let (mut ws, _) = app.window(&mallory).await;
    let (mut other, _) = app.window(&mallory).await;
    for i in 0..24 {
        ws.send(json!({"type": "ui", "ref": format!("u{i}"),
                       "state": {"selected": null, "draft": format!("draft {i}")}}))
            .await;
    }
    let refused = errors_until_quiet(&mut ws).await;
    assert_eq!(refused, vec!["rate_limited"; 4], "20 at once, then refused");
    assert_eq!(other.recv_type("ui").await["state"]["draft"], "draft 0");
    ws.send(json!({"type": "history", "ref": "h", "conversation_id": "not-an-id"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "bad_request");
}

#[actix_web::test]
async fn block_toggles_past_thirty_a_minute_are_refused_saying_when_to_come_back() {
    let app = spawn_app().await;
    let (mallory, bob) = mallory_and_bob(&app).await;
    let (mut ws, _) = app.window(&mallory).await;
    // 30 a minute: one more every 2 s once the burst of 30 is spent.
    for i in 0..32 {
        let kind = if i % 2 == 0 { "block" } else { "unblock" };
        ws.send(json!({"type": kind, "ref": format!("b{i}"), "user_id": bob.id}))
            .await;
    }
    let mut waits = Vec::new();
    while let Some(frame) = ws.try_recv(Duration::from_millis(500)).await {
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "rate_limited", "{frame}");
            waits.push(frame["retry_after_ms"].as_u64().expect("retry_after_ms"));
        }
    }
    assert_eq!(waits.len(), 2);
    assert!(waits.iter().all(|w| (1..=2000).contains(w)), "{waits:?}");
    // Over HTTP too (the allowance is the person's, not the socket's): Retry-After in
    // whole seconds, and the same field in the body.
    let response = app
        .http
        .put(format!("{}/api/blocks/{}", app.address, bob.id))
        .bearer_auth(&mallory.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    let ms = body["error"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=2000).contains(&ms), "{body}");
    assert_eq!(retry_after, ms.div_ceil(1000));
    // Waiting that long is enough.
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let (status, _) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/blocks/{}", bob.id),
            &mallory.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn joining_and_leaving_in_a_loop_is_refused_past_thirty_a_minute() {
    let app = spawn_app().await;
    let (owner, mallory) = (
        app.sign_in("owner@example.com").await,
        app.sign_in("mallory@example.com").await,
    );
    let room = app.post_room(&owner.token, "lobby").await;
    let (mut ws, _) = app.window(&mallory).await;
    let mut codes = Vec::new();
    for i in 0..16 {
        ws.send(json!({"type": "join_room", "ref": format!("j{i}"), "room_id": room}))
            .await;
        codes.push(answer_to(&mut ws, &format!("j{i}"), "joined").await);
        ws.send(json!({"type": "leave_room", "ref": format!("l{i}"), "room_id": room}))
            .await;
        codes.push(answer_to(&mut ws, &format!("l{i}"), "left").await);
    }
    assert_eq!(count(&codes, None), 30, "{codes:?}");
    assert_eq!(count(&codes, Some("rate_limited")), 2, "{codes:?}");
    // The owner is not held back.
    let (mut owners, _) = app.window(&owner).await;
    owners
        .send(json!({"type": "leave_room", "ref": "o", "room_id": room}))
        .await;
    assert_eq!(owners.recv_type("left").await["ref"], "o");
}

#[actix_web::test]
async fn history_floods_are_refused_past_the_burst() {
    let app = spawn_app().await;
    let (mallory, bob) = mallory_and_bob(&app).await;
    let (_, direct) = app.open_direct(&mallory.token, &bob.id).await;
    let (mut ws, _) = app.window(&mallory).await;
    for i in 0..45 {
        ws.send(json!({"type": "history", "ref": format!("h{i}"),
                       "conversation_id": direct["id"], "after_seq": 0}))
            .await;
    }
    let (mut pages, mut refused) = (0, 0);
    // Until every one of the 45 is answered (each is: a page or a refusal), or the
    // socket goes quiet for long enough to say one never will be.
    while pages + refused < 45 {
        let Some(frame) = ws.try_recv(Duration::from_secs(3)).await else {
            break;
        };
        match frame["type"].as_str() {
            Some("history") => pages += 1,
            Some("error") if frame["code"] == "rate_limited" => refused += 1,
            _ => {}
        }
    }
    assert!(
        pages >= 40 && pages + refused == 45,
        "{pages} pages, {refused} refused"
    );
    assert!(refused >= 1, "a burst beyond 40 is refused");
    // One answer each, no more.
    ws.assert_no("history", Duration::from_millis(300)).await;
    ws.assert_no("error", Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn room_creations_are_counted_across_nodes() {
    let prefix = test_prefix();
    let redis = test_redis_url();
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "a")).await;
    let a = app.node();
    a.wait_ready(&app.http).await;
    let b = app.spawn_peer("b").await;
    let mallory = app.sign_in("mallory@example.com").await;
    let (mut on_a, _) = app.window_at(&a, &mallory).await;
    let (mut on_b, _) = app.window_at(&b, &mallory).await;
    for i in 0..5 {
        for (ws, node) in [(&mut on_a, "a"), (&mut on_b, "b")] {
            let reference = format!("{node}{i}");
            ws.send(json!({"type": "create_room", "ref": reference, "name": reference}))
                .await;
            assert_eq!(answer_to(ws, &reference, "joined").await, None, "made");
        }
    }
    // Ten made, five on each node: the eleventh is refused on either.
    on_b.send(json!({"type": "create_room", "ref": "c11", "name": "b5"}))
        .await;
    assert_eq!(
        answer_to(&mut on_b, "c11", "joined").await.as_deref(),
        Some("rate_limited")
    );
    on_a.send(json!({"type": "create_room", "ref": "c12", "name": "a5"}))
        .await;
    assert_eq!(
        answer_to(&mut on_a, "c12", "joined").await.as_deref(),
        Some("rate_limited")
    );
}

#[actix_web::test]
async fn session_renewals_past_three_in_ten_seconds_are_refused_without_verifying() {
    let app = spawn_app().await;
    let mallory = app.sign_in("mallory@example.com").await;
    let (mut ws, _) = app.window(&mallory).await;
    let mut answers = Vec::new();
    for i in 0..5 {
        let reference = format!("a{i}");
        ws.send(json!({"type": "auth", "ref": reference, "token": mallory.token}))
            .await;
        answers.push(answer_to(&mut ws, &reference, "session").await);
    }
    assert_eq!(
        answers,
        vec![
            None,
            None,
            None,
            Some("rate_limited".to_owned()),
            Some("rate_limited".to_owned())
        ]
    );
    // The socket stays open and usable.
    ws.send(json!({"type": "members", "ref": "m", "room_id": "not-an-id"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "bad_request");
}
