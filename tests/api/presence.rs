use crate::helpers::*;
use std::time::Duration;

#[actix_web::test]
async fn a_user_is_online_from_the_first_window_until_the_last_closes() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;

    let (mut bob_ws, ready) = app.window(&bob).await;
    assert_eq!(ids(&ready["online"]), Vec::<String>::new());

    let (alice_1, ready) = app.window(&alice).await;
    assert_eq!(ids(&ready["online"]), vec![bob.id.clone()]);
    let presence = bob_ws.recv_presence().await;
    assert_eq!(presence["user"]["id"], alice.id);
    assert_eq!(presence["user"]["email"], "alice@example.com");
    assert_eq!(presence["online"], true);

    // A second window is not a new arrival.
    let (alice_2, _) = app.window(&alice).await;
    bob_ws.assert_no_presence(Duration::from_millis(300)).await;

    // Closing one of two windows keeps alice online.
    alice_1.close().await;
    bob_ws.assert_no_presence(Duration::from_millis(300)).await;
    let (status, online) = app.get("/api/users/online", &bob.token).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&online["users"]), vec![alice.id.clone()]);

    // The last window takes her offline.
    alice_2.close().await;
    let presence = bob_ws.recv_presence().await;
    assert_eq!(presence["user"]["id"], alice.id);
    assert_eq!(presence["online"], false);
    let (_, online) = app.get("/api/users/online", &bob.token).await;
    assert_eq!(ids(&online["users"]), Vec::<String>::new());
}

#[actix_web::test]
async fn a_dropped_connection_counts_as_a_closed_window() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_ws, _) = app.window(&bob).await;
    let (alice_ws, _) = app.window(&alice).await;
    assert_eq!(bob_ws.recv_presence().await["online"], true);
    drop(alice_ws); // no close handshake: the TCP connection just goes away
    let presence = bob_ws.recv_presence().await;
    assert_eq!(presence["online"], false);
}

#[actix_web::test]
async fn a_silent_client_is_closed_with_4410_at_the_timeout_not_a_ping_later() {
    // The timeout falls just after the first ping: checked only at pings, the client
    // would go at the second one (2 s), not at 1.2 s.
    let app = spawn_app_with(|s| {
        s.limits.ping_interval = Duration::from_millis(1000);
        s.limits.client_timeout = Duration::from_millis(1200);
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_ws, _) = app.window(&bob).await;
    // Alice's client authenticates, then never reads or answers pings again.
    let (mut alice_ws, _) = app.window(&alice).await;
    let opened = std::time::Instant::now();
    assert_eq!(bob_ws.recv_presence().await["online"], true);
    // Bob keeps reading (his client answers pings automatically) ...
    let presence = bob_ws.recv_presence().await;
    assert_eq!(presence["user"]["id"], alice.id);
    assert_eq!(presence["online"], false);
    let gone = opened.elapsed();
    // ... and alice's socket ended with a close frame saying why.
    assert_eq!(alice_ws.closed().await, Closed::Code(4410));
    assert!(
        gone < Duration::from_millis(1900),
        "closed {gone:?} after the last frame; the timeout is 1.2 s"
    );
}

#[actix_web::test]
async fn closed_windows_leave_no_entries_behind() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    for _ in 0..3 {
        let mut windows = Vec::new();
        for person in [&alice, &bob, &alice] {
            windows.push(app.window(person).await.0);
        }
        for w in windows {
            w.close().await;
        }
    }
    let (mut watcher, _) = app.window(&bob).await;
    watcher.assert_no_presence(Duration::from_millis(200)).await;
    // Detaching is asynchronous: poll the gauges until they settle (bounded).
    let expected = [
        "banter_sockets_open 1\n",
        "banter_users_online 1\n",
        "banter_socket_connects_total 10\n",
    ];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = app.metrics().await;
        if expected.iter().all(|e| text.contains(e)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gauges did not settle: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
