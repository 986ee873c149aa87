use crate::helpers::*;
use banter::configuration::Settings;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[actix_web::test]
async fn malformed_frames_get_error_codes_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let cases = [
        ("{not json".to_owned(), "bad_request"),
        ("[]".to_owned(), "bad_request"),
        (json!({"type": "fly"}).to_string(), "bad_request"),
        (json!({"type": "send", "ref": "x", "body": "no client id", "to": bob.id}).to_string(), "bad_request"),
        (json!({"type": "send", "client_id": "c", "body": "   ", "to": bob.id}).to_string(), "bad_request"),
        (json!({"type": "send", "client_id": "c", "body": "x".repeat(4001), "to": bob.id}).to_string(), "too_large"),
        (json!({"type": "send", "client_id": "c", "body": "hi", "to": "bob"}).to_string(), "bad_request"),
        (json!({"type": "send", "client_id": "c", "body": "hi", "to": uuid::Uuid::new_v4().to_string()}).to_string(), "not_found"),
        (json!({"type": "send", "client_id": "c", "body": "hi", "to": alice.id}).to_string(), "bad_request"),
        (json!({"type": "history", "conversation_id": uuid::Uuid::new_v4().to_string(), "limit": 500}).to_string(), "bad_request"),
        (json!({"type": "read", "conversation_id": uuid::Uuid::new_v4().to_string(), "seq": 3}).to_string(), "not_found"),
        (json!({"type": "ui", "state": {"draft": "x".repeat(20_000)}}).to_string(), "too_large"),
        (json!({"type": "auth", "token": "garbage"}).to_string(), "unauthorized"),
    ];
    for (frame, code) in cases {
        a.send_text(frame.clone()).await;
        let error = a.recv_type("error").await;
        assert_eq!(error["code"], code, "{frame:.80}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    a.send_raw(WsMessage::Binary(vec![1, 2, 3])).await;
    assert_eq!(a.recv_type("error").await["code"], "bad_request");
    // Still usable.
    a.send(json!({"type": "send", "ref": "ok", "client_id": new_client_id(), "body": "still here", "to": bob.id})).await;
    assert_eq!(a.recv_type("ack").await["ref"], "ok");
    assert_eq!(app.count_messages().await, 1, "nothing half-written");
}

#[actix_web::test]
async fn sending_faster_than_the_rate_limit_is_refused_with_rate_limited() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    for i in 0..45 {
        a.send(json!({"type": "send", "ref": i.to_string(), "client_id": format!("c{i}"), "body": "spam", "to": bob.id})).await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < 45 {
        let frame = a.recv().await;
        match frame["type"].as_str().unwrap() {
            "ack" => acks += 1,
            "error" => {
                assert_eq!(frame["code"], "rate_limited");
                limited += 1
            }
            _ => {}
        }
    }
    assert!(
        (40..=42).contains(&acks),
        "the burst of 40 passes (plus what refilled): {acks}"
    );
    assert!(limited >= 3, "the rest is refused: {limited}");
}

#[actix_web::test]
async fn a_socket_without_auth_is_closed_with_4408() {
    let app = spawn_app_with(|s| s.limits.auth_timeout = Duration::from_millis(300)).await;
    let mut ws = Ws::connect(&app.ws_url).await;
    ws.send(json!({"type": "send", "client_id": "c", "body": "hi", "to": uuid::Uuid::new_v4().to_string()})).await;
    assert_eq!(ws.recv_type("error").await["code"], "unauthorized");
    assert_eq!(ws.closed().await, Closed::Code(4408));
}

#[actix_web::test]
async fn a_bad_token_closes_the_socket_with_4401() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app.ws_url).await;
    ws.send(json!({"type": "auth", "token": "EnoughWithTheGarbage"}))
        .await;
    assert_eq!(ws.closed().await, Closed::Code(4401));
}

#[actix_web::test]
async fn an_expiring_session_is_closed_with_4401_unless_renewed() {
    let app = spawn_app_with(|s| s.limits.session_ttl = Duration::from_secs(3)).await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut renewed, _) = app.window(&alice).await;
    let (mut lapsing, _) = app.window(&alice).await;
    // Expiry has whole-second precision (rounded up): a token minted 1.1 s later lasts longer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = app.sign_in("alice@example.com").await;
    renewed
        .send(json!({"type": "auth", "token": fresh.token}))
        .await;
    assert!(renewed.recv_type("session").await["expires_at"].is_string());
    assert_eq!(lapsing.closed().await, Closed::Code(4401));
    // The renewed window outlives the first token (by less than its own 3 s).
    renewed.assert_no("error", Duration::from_millis(300)).await;
    renewed
        .send(json!({"type": "ui", "state": {"draft": "alive"}}))
        .await;
    renewed.assert_no("error", Duration::from_millis(200)).await;
}

/// Frame limits a test can exceed quickly: 5 a second, bursts of 10.
fn five_frames_a_second(s: &mut Settings) {
    s.limits.frame_rate_per_second = 5;
    s.limits.frame_burst = 10;
}

/// Thirty frames at once: three times the burst of [`five_frames_a_second`].
async fn flood(ws: &mut Ws) {
    for _ in 0..30 {
        ws.send_raw(WsMessage::Text(
            json!({"type": "typing", "conversation_id": "x"}).to_string(),
        ))
        .await;
    }
}

#[actix_web::test]
async fn flooding_closes_the_socket_with_4429() {
    let app = spawn_app_with(five_frames_a_second).await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    flood(&mut a).await;
    assert_eq!(a.closed().await, Closed::Code(4429));
}

#[actix_web::test]
async fn a_flooding_socket_is_closed_and_another_person_s_socket_keeps_its_whole_allowance() {
    let app = spawn_app_with(five_frames_a_second).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    flood(&mut a).await;
    assert_eq!(a.closed().await, Closed::Code(4429));
    // The sockets share the node's clock, not their counts: Bob's burst (his `auth`
    // and these eight) is his own.
    for i in 0..8 {
        b.send(json!({"type": "send", "ref": format!("m{i}"), "client_id": new_client_id(), "body": "hi", "to": carol.id}))
            .await;
    }
    for i in 0..8 {
        assert_eq!(b.recv_type("ack").await["ref"], format!("m{i}"));
    }
}

#[actix_web::test]
async fn an_oversized_frame_closes_the_socket_with_4413() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send_raw(WsMessage::Text("x".repeat(65 * 1024))).await;
    assert_eq!(a.closed().await, Closed::Code(4413));
}

#[actix_web::test]
async fn a_seventeenth_window_is_refused() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let mut windows = Vec::new();
    for _ in 0..16 {
        windows.push(app.window(&alice).await.0);
    }
    let mut extra = Ws::connect(&app.ws_url).await;
    extra
        .send(json!({"type": "auth", "token": alice.token}))
        .await;
    assert_eq!(extra.closed().await, Closed::Code(4403));
    drop(windows);
}

#[actix_web::test]
async fn a_foreign_origin_is_refused_with_1008_and_the_own_origin_is_allowed() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let mut request = app.ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let mut ws = Ws::connect_request(request).await;
    assert_eq!(ws.closed().await, Closed::Code(1008));

    let mut request = app.ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "origin",
        format!("http://127.0.0.1:{}", app.port).parse().unwrap(),
    );
    let mut ws = Ws::connect_request(request).await;
    ws.send(json!({"type": "auth", "token": alice.token})).await;
    assert_eq!(ws.recv().await["type"], "ready");
}

#[actix_web::test]
async fn configured_origins_are_the_only_ones_allowed() {
    let app =
        spawn_app_with(|s| s.allowed_origins = Some(vec!["https://chat.example".into()])).await;
    let mut request = app.ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "origin",
        format!("http://127.0.0.1:{}", app.port).parse().unwrap(),
    );
    assert_eq!(
        Ws::connect_request(request).await.closed().await,
        Closed::Code(1008)
    );
    let mut request = app.ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://chat.example".parse().unwrap());
    let mut ws = Ws::connect_request(request).await;
    ws.send(json!({"type": "auth", "token": "x"})).await;
    assert_eq!(
        ws.closed().await,
        Closed::Code(4401),
        "allowed through to authentication"
    );
}

#[actix_web::test]
async fn a_non_browser_client_may_authenticate_with_a_header() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let mut request = app.ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", alice.token).parse().unwrap(),
    );
    let mut ws = Ws::connect_request(request).await;
    let ready = ws.recv().await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["me"]["id"], alice.id);
}

/// An app without send or frame limits, whose healthy windows drain their queues as fast
/// as commits arrive, a batch at a time (`more` sets the rest), and alice and bob.
async fn for_a_burst(more: impl FnOnce(&mut Settings)) -> (TestApp, Person, Person) {
    let app = spawn_app_with(|s| {
        s.limits.max_commit_batch = 32;
        s.limits.send_rate_per_second = 100_000;
        s.limits.send_burst = 100_000;
        s.limits.frame_rate_per_second = 100_000;
        s.limits.frame_burst = 100_000;
        more(s);
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    (app, alice, bob)
}

/// Sends `n` messages of 4000 characters from `a` to `to`, read as they come by `reader`
/// (a window of `to`). The sender reads its acks 32 at a time and stays at most 32
/// messages ahead of the reading window (a quarter of a 128-frame queue), so both keep up
/// however the test's own tasks are scheduled.
async fn burst_read_by(a: &mut Ws, reader: &mut Ws, to: &str, n: usize) {
    let body = "y".repeat(4000);
    let credit = tokio::sync::Semaphore::new(32);
    let sender = async {
        for i in 0..n {
            credit.acquire().await.expect("open").forget();
            a.send(
                json!({"type": "send", "client_id": format!("big-{i}"), "body": body, "to": to}),
            )
            .await;
            if (i + 1) % 32 == 0 {
                for _ in 0..32 {
                    a.recv_type("ack").await;
                }
            }
        }
    };
    let reading = async {
        for _ in 0..n {
            reader.recv_type("message").await;
            credit.add_permits(1);
        }
    };
    tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join(sender, reading),
    )
    .await
    .expect("the burst is delivered to the reading window in time");
}

#[actix_web::test]
async fn a_window_that_stops_reading_has_its_connection_cut_as_a_slow_consumer() {
    let (app, alice, bob) = for_a_burst(|s| s.limits.outbound_queue = 128).await;
    let (mut a, _) = app.window(&alice).await;
    let (mut stalled, _) = app.window(&bob).await;
    let (mut b_ok, _) = app.window(&bob).await;
    // Bodies of 4000 characters fill the socket buffers quickly; the stalled window never
    // reads.
    burst_read_by(&mut a, &mut b_ok, &bob.id, 5000).await;
    // No close frame could get past what it did not read: its connection is cut.
    assert_eq!(stalled.closed().await, Closed::WithoutCode);
}

/// `banter_user_watches`: UserActors whose watch (stalled sockets, gaps, catch-ups) ticks.
const WATCHES: &str = "banter_user_watches";

/// Waits up to 5 s for no UserActor's watch to tick.
async fn until_no_watch_ticks(app: &TestApp) {
    app.node()
        .wait_for_metric(
            &app.http,
            WATCHES,
            Duration::from_secs(5),
            |ticking| ticking == 0.0,
            "a watch still ticks with nothing left to watch",
        )
        .await;
}

#[actix_web::test]
async fn people_online_with_nothing_moving_have_no_watch_ticking() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    a.send(json!({"type": "send", "client_id": "hello", "body": "hello", "to": bob.id}))
        .await;
    a.recv_type("ack").await;
    b.recv_type("message").await;
    // The frames just handed over left: every watch stops on its next tick.
    until_no_watch_ticks(&app).await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(app.node().metric(&app.http, WATCHES).await, 0.0);
    }
    // Both are still online and served.
    a.send(json!({"type": "send", "client_id": "again", "body": "again", "to": bob.id}))
        .await;
    a.recv_type("ack").await;
    assert_eq!(b.recv_type("message").await["message"]["body"], "again");
}

#[actix_web::test]
async fn a_window_whose_bytes_stop_leaving_is_cut_though_nothing_more_is_sent_to_it() {
    let (app, alice, bob) = for_a_burst(|s| {
        // Only the stall can cut the window: its budget is never reached.
        s.limits.outbound_bytes = 512 * 1024 * 1024;
        s.limits.outbound_queue = 100_000;
        s.limits.outbound_stall = Duration::from_secs(1);
    })
    .await;
    let (mut a, _) = app.window(&alice).await;
    let (mut stalled, _) = app.window(&bob).await;
    let (mut b_ok, _) = app.window(&bob).await;
    until_no_watch_ticks(&app).await;
    // 24 MB, more than the loopback connection's buffers hold: the rest waits at the
    // node for the window that never reads.
    burst_read_by(&mut a, &mut b_ok, &bob.id, 6000).await;
    // Nothing more is sent to bob: the watch the burst started cuts the stalled window.
    assert_eq!(stalled.closed().await, Closed::WithoutCode);
    assert_eq!(
        app.node()
            .metric(&app.http, "banter_slow_consumers_total")
            .await,
        1.0
    );
    // With its bytes gone, the watch stops again.
    until_no_watch_ticks(&app).await;
}
