//! Events reach only the nodes that hold a window of someone they concern: a node does
//! not decode the traffic of people it does not serve, and nothing is lost by routing,
//! neither for a window that is opening nor while an older node that does not route is
//! still up.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const RECEIVED: &str = "banter_cluster_events_received_total";
const DELIVERED: &str = "banter_cluster_events_delivered_total";

/// Nodes "a" (the TestApp) and "b" on the shared test Redis, and their key prefix.
async fn two_nodes() -> (TestApp, Node, Node, String) {
    nodes_a_and_b(&test_redis_url(), |_| {}).await
}

/// Alice and bob with a window each on a, carol with one on b, once b has heard alice
/// and bob arrive.
async fn alice_and_bob_on_a_carol_on_b(app: &TestApp, a: &Node, b: &Node) -> [(Person, Ws); 3] {
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut carol_b, _) = app.window_at(b, &carol).await;
    let (alice_a, _) = app.window_at(a, &alice).await;
    let (bob_a, _) = app.window_at(a, &bob).await;
    sees_online(&mut carol_b, &[&alice, &bob]).await;
    [(alice, alice_a), (bob, bob_a), (carol, carol_b)]
}

/// Waits until `ws`'s online list has shown each of `people` arrive: the node has then
/// received their presence.
async fn sees_online(ws: &mut Ws, people: &[&Person]) {
    let mut waiting: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
    while !waiting.is_empty() {
        let change = ws.recv_presence().await;
        if change["online"] == true {
            waiting.retain(|id| change["user"]["id"] != *id);
        }
    }
}

/// A direct message from `from` to `to`, acknowledged.
async fn dm(ws: &mut Ws, to: &Person, body: &str) -> Value {
    ws.send(json!({"type": "send", "ref": body, "client_id": new_client_id(), "body": body, "to": to.id}))
        .await;
    ws.recv_type("ack").await
}

#[actix_web::test]
async fn a_node_decodes_none_of_the_traffic_between_people_it_does_not_serve() {
    let (app, a, b, _) = two_nodes().await;
    let [(_, mut alice_a), (bob, mut bob_a), (carol, mut carol_b)] =
        alice_and_bob_on_a_carol_on_b(&app, &a, &b).await;
    let received_before = b.metric(&app.http, RECEIVED).await;
    let delivered_before = b.metric(&app.http, DELIVERED).await;
    assert!(
        received_before >= 2.0,
        "b decoded alice's and bob's arrivals"
    );

    // Messages, reads, typing and UI state between two people who are both on a.
    let mut conversation = Value::Null;
    for i in 0..20 {
        let ack = dm(&mut alice_a, &bob, &format!("on a only {i}")).await;
        conversation = ack["message"]["conversation_id"].clone();
    }
    for _ in 0..20 {
        bob_a.recv_type("message").await;
    }
    bob_a
        .send(json!({"type": "read", "conversation_id": conversation, "seq": 20}))
        .await;
    bob_a
        .send(json!({"type": "typing", "conversation_id": conversation}))
        .await;
    bob_a
        .send(json!({"type": "ui", "state": {"selected": conversation}}))
        .await;
    alice_a.recv_type("typing").await;

    // Then one for carol, on b: a node's events leave in order, so once it is in, b
    // has been handed everything a published before it.
    let ack = dm(&mut alice_a, &carol, "for b").await;
    assert_eq!(
        carol_b.recv_type("message").await["message"],
        ack["message"]
    );
    assert_eq!(
        b.metric(&app.http, RECEIVED).await - received_before,
        1.0,
        "b decoded only the message for carol"
    );
    assert_eq!(
        b.metric(&app.http, DELIVERED).await - delivered_before,
        1.0,
        "and it concerned someone on b"
    );
}

/// The next payload published on `pubsub`'s channels: (channel, message body).
async fn next_published(pubsub: &mut redis::aio::PubSub) -> (String, String) {
    let (channel, envelope) = next_envelope(pubsub).await;
    let body = envelope["event"]["message"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (channel, body)
}

#[actix_web::test]
async fn while_a_node_that_does_not_route_is_up_every_event_goes_to_every_node_once() {
    let (app, a, b, prefix) = two_nodes().await;
    let [(_, mut alice_a), (bob, mut bob_a), (carol, mut carol_b)] =
        alice_and_bob_on_a_carol_on_b(&app, &a, &b).await;

    // An older node ("old") registers as nodes always did, but keeps no routes.
    let client = redis::Client::open(test_redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(format!("{prefix}node:old"))
        .arg(1)
        .arg("PX")
        .arg(60_000)
        .ignore()
        .sadd(format!("{prefix}nodes"), "old")
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    let shared = format!("{prefix}events");
    let to_b = format!("{prefix}events:b");
    let mut published = watch(&[shared.clone(), to_b.clone()]).await;

    dm(&mut alice_a, &bob, "while old is up").await;
    bob_a.recv_type("message").await;
    assert_eq!(
        next_published(&mut published).await,
        (shared.clone(), "while old is up".to_owned()),
        "the old node hears of it on the shared channel"
    );
    let ack = dm(&mut alice_a, &carol, "to carol while old is up").await;
    assert_eq!(
        next_published(&mut published).await,
        (shared.clone(), "to carol while old is up".to_owned()),
        "b hears of it once, on the shared channel, not also on its own"
    );
    assert_eq!(
        carol_b.recv_type("message").await["message"],
        ack["message"]
    );
    carol_b
        .assert_no("message", Duration::from_millis(300))
        .await;

    // The old node is gone: events go only where they are needed again.
    let _: () = redis::pipe()
        .srem(format!("{prefix}nodes"), "old")
        .ignore()
        .del(format!("{prefix}node:old"))
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    dm(&mut alice_a, &bob, "a to a").await;
    bob_a.recv_type("message").await;
    let ack = dm(&mut alice_a, &carol, "a to b").await;
    assert_eq!(
        next_published(&mut published).await,
        (to_b, "a to b".to_owned()),
        "nothing was published for bob, who is on a; carol's went to b alone"
    );
    assert_eq!(
        carol_b.recv_type("message").await["message"],
        ack["message"]
    );
}

#[actix_web::test]
async fn a_window_opening_while_messages_stream_to_it_misses_none_and_gets_none_twice() {
    const LAST: i64 = 120;
    // Alice sends faster than a person's allowance lets her.
    let (app, a, b, _) = nodes_a_and_b(&test_redis_url(), |s| {
        s.limits.send_rate_per_second = 1000;
        s.limits.send_burst = 1000;
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let conversation = dm(&mut alice_a, &bob, "1").await["message"]["conversation_id"].clone();

    // Alice keeps sending while bob's windows open on b one after another, each at
    // another point of the stream; some with an earlier window of bob's still closing
    // there, some as his first (when b routes him anew).
    let to = bob.clone();
    let sender = tokio::spawn(async move {
        for i in 2..=LAST {
            dm(&mut alice_a, &to, &i.to_string()).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let mut opened = 0;
    loop {
        let (mut ws, ready) = app.window_at(&b, &bob).await;
        opened += 1;
        let mut seq = ready["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == conversation)
            .map(|c| c["last_seq"].as_i64().unwrap())
            .unwrap_or(0);
        // The window's stream goes on from its snapshot with no gap and no repeat; the
        // last window, opened once alice is done, must reach her last message.
        let until = if sender.is_finished() {
            LAST
        } else {
            (seq + 5).min(LAST)
        };
        while seq < until {
            let message = ws.recv_type("message").await;
            assert_eq!(
                message["message"]["seq"],
                seq + 1,
                "window {opened} after seq {seq}"
            );
            seq += 1;
        }
        if seq == LAST {
            break;
        }
        ws.close().await;
    }
    assert!(opened >= 3, "windows opened during the stream: {opened}");
}

/// The members of the Redis set `key`, sorted.
async fn members(key: String) -> Vec<String> {
    let client = redis::Client::open(test_redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap();
    members.sort();
    members
}

/// Polls `key`'s members until they are `want` (bounded by the tests' wait).
async fn members_become(key: String, want: &[&str]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = members(key.clone()).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} is {now:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_person_s_routes_follow_their_windows_and_go_with_the_last() {
    let (app, a, b, prefix) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let (alice_a, _) = app.window_at(&a, &alice).await;
    // The snapshot is read once the route is in: it is there by `ready`.
    let (alice_b, _) = app.window_at(&b, &alice).await;
    let routes = format!("{prefix}routes:{}", alice.id);
    assert_eq!(members(routes.clone()).await, ["a", "b"]);
    assert_eq!(
        members(format!("{prefix}node_routes:b")).await,
        [alice.id.as_str()]
    );
    assert_eq!(members(format!("{prefix}routed_nodes")).await, ["a", "b"]);

    alice_b.close().await;
    members_become(routes.clone(), &["a"]).await;
    members_become(format!("{prefix}node_routes:b"), &[]).await;
    alice_a.close().await;
    members_become(routes, &[]).await;
    members_become(format!("{prefix}node_routes:a"), &[]).await;
}

#[actix_web::test]
async fn a_first_window_s_snapshot_is_read_only_once_its_route_is_in_redis() {
    let port = free_port();
    let _redis = RedisServer::start(port, vec!["--port".into(), port.to_string()]).await;
    let url = format!("redis://127.0.0.1:{port}");
    let (app, _a, b, prefix) = nodes_a_and_b(&url, |_| {}).await;
    let bob = app.sign_in("bob@example.com").await;

    // Redis holds every write for a while: b cannot add its route for bob meanwhile. A
    // snapshot read then could miss a message committed before the route is in, which
    // would then be routed elsewhere.
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1000)
        .arg("WRITE")
        .query_async(&mut conn)
        .await
        .unwrap();
    let (_bob_b, _) = app.window_at(&b, &bob).await;
    let routes: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{prefix}routes:{}", bob.id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(routes, ["b"], "ready came before b's route for bob was in");
}

#[actix_web::test]
async fn a_routing_node_that_an_older_node_reaped_is_reaped_again_with_its_routes() {
    let (app, _a, _b, prefix) = two_nodes().await;
    let carol = app.sign_in("carol@example.com").await;
    // What an older version's reaping leaves of a dead routing node: out of `nodes`, no
    // heartbeat, but still among the routing nodes and in its users' routes.
    let client = redis::Client::open(test_redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::pipe()
        .sadd(format!("{prefix}routed_nodes"), "dead")
        .ignore()
        .sadd(format!("{prefix}routes:{}", carol.id), "dead")
        .ignore()
        .sadd(format!("{prefix}node_routes:dead"), &carol.id)
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    members_become(format!("{prefix}routed_nodes"), &["a", "b"]).await;
    members_become(format!("{prefix}routes:{}", carol.id), &[]).await;
    members_become(format!("{prefix}node_routes:dead"), &[]).await;
}
