//! Several nodes sharing Postgres and Redis act as one.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Node "a" (the TestApp) and node "b", in this process, on the shared test Redis.
async fn two_nodes() -> (TestApp, Node, Node) {
    two_nodes_on(&test_redis_url()).await
}

/// Node "a" (the TestApp) and node "b", in this process, on the Redis at `redis`, with a
/// key prefix of their own.
async fn two_nodes_on(redis: &str) -> (TestApp, Node, Node) {
    two_nodes_with(redis, |_| {}).await
}

/// [`two_nodes_on`], with `tweak` applied to both nodes' settings.
async fn two_nodes_with(
    redis: &str,
    tweak: impl FnOnce(&mut banter::configuration::Settings),
) -> (TestApp, Node, Node) {
    let (app, a, b, _) = nodes_a_and_b(redis, tweak).await;
    (app, a, b)
}

fn presence(frame: &Value) -> (String, bool) {
    (
        frame["user"]["id"].as_str().unwrap().to_owned(),
        frame["online"].as_bool().unwrap(),
    )
}

#[actix_web::test]
async fn a_direct_message_crosses_nodes() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (mut alice_a, ready) = app.window_at(&a, &alice).await;
    assert_eq!(
        ids(&ready["online"]),
        vec![bob.id.clone()],
        "alice on a sees bob on b"
    );
    assert_eq!(
        presence(&bob_b.recv_presence().await),
        (alice.id.clone(), true)
    );

    alice_a.send(json!({"type": "send", "ref": "x", "client_id": new_client_id(), "body": "across", "to": bob.id})).await;
    let ack = alice_a.recv_type("ack").await;
    let delivered = bob_b.recv_type("message").await;
    assert_eq!(delivered["message"], ack["message"]);

    // Online lists are the same whichever node answers.
    for node in [&a, &b] {
        let online = node.online_ids(&app.http, &bob.token).await;
        assert_eq!(online, vec![alice.id.clone()], "{}", node.address);
    }
}

#[actix_web::test]
async fn windows_of_one_person_on_two_nodes_mirror_each_other() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut alice_b, _) = app.window_at(&b, &alice).await;
    let (mut bob_a, _) = app.window_at(&a, &bob).await;

    bob_a.send(json!({"type": "send", "client_id": new_client_id(), "body": "to both windows", "to": alice.id})).await;
    let on_a = alice_a.recv_type("message").await;
    let on_b = alice_b.recv_type("message").await;
    assert_eq!(on_a, on_b);
    let conversation = on_a["message"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let state = json!({"selected": conversation, "draft": "typed on a"});
    alice_a.send(json!({"type": "ui", "state": state})).await;
    assert_eq!(alice_b.recv_type("ui").await["state"], state);
    alice_b
        .send(json!({"type": "read", "conversation_id": conversation, "seq": 1}))
        .await;
    assert_eq!(alice_a.recv_type("read").await["seq"], 1);

    alice_b.send(json!({"type": "send", "ref": "r", "client_id": new_client_id(), "body": "from b", "to": bob.id})).await;
    let ack = alice_b.recv_type("ack").await;
    assert_eq!(
        alice_a.recv_type("message").await["message"],
        ack["message"]
    );
    assert_eq!(bob_a.recv_type("message").await["message"], ack["message"]);

    // A third window, on b, opens with the mirrored state.
    let (_, ready) = app.window_at(&b, &alice).await;
    assert_eq!(ready["ui"], state);
}

#[actix_web::test]
async fn a_block_applies_on_every_node_at_once() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut alice_b, _) = app.window_at(&b, &alice).await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    for w in [&mut alice_a, &mut alice_b] {
        assert_eq!(presence(&w.recv_presence().await), (bob.id.clone(), true));
    }

    alice_a
        .send(json!({"type": "block", "user_id": bob.id}))
        .await;
    assert_eq!(alice_b.recv_type("blocked").await["user"]["id"], bob.id);
    assert_eq!(
        presence(&alice_b.recv_presence().await),
        (bob.id.clone(), false)
    );
    assert_eq!(
        presence(&alice_a.recv_presence().await),
        (bob.id.clone(), false)
    );
    assert_eq!(
        presence(&bob_b.recv_presence().await),
        (alice.id.clone(), false)
    );
    bob_b
        .send(json!({"type": "send", "client_id": new_client_id(), "body": "hey", "to": alice.id}))
        .await;
    assert_eq!(bob_b.recv_type("error").await["code"], "blocked");

    // A new window of bob's on either node does not see alice.
    for node in [&a, &b] {
        let (_, ready) = app.window_at(node, &bob).await;
        assert_eq!(ids(&ready["online"]), Vec::<String>::new());
    }
}

#[actix_web::test]
async fn a_person_stays_online_until_their_last_window_on_any_node_closes() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_a, _) = app.window_at(&a, &bob).await;
    let (alice_a, _) = app.window_at(&a, &alice).await;
    let (alice_b, _) = app.window_at(&b, &alice).await;
    assert_eq!(
        presence(&bob_a.recv_presence().await),
        (alice.id.clone(), true)
    );
    alice_a.close().await;
    bob_a.assert_no_presence(Duration::from_millis(500)).await;
    alice_b.close().await;
    assert_eq!(
        presence(&bob_a.recv_presence().await),
        (alice.id.clone(), false)
    );
}

#[actix_web::test]
async fn a_killed_node_s_users_go_offline_and_those_with_another_window_stay() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "survivor")).await;
    let survivor = app.node();
    survivor.wait_ready(&app.http).await;
    let mut env = app.peer_env("doomed");
    env.push(("CLUSTER_HEARTBEAT_MS", "200".to_owned()));
    env.push(("CLUSTER_NODE_TTL_MS", "1000".to_owned()));
    let mut doomed = ServerProcess::start(&app.database_url, free_port(), env).await;
    doomed.node().wait_ready(&app.http).await;

    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut bob_s, _) = app.window_at(&survivor, &bob).await;
    let (_alice_d, _) = app.window_at(&doomed.node(), &alice).await;
    let (_alice_s, _) = app.window_at(&survivor, &alice).await;
    let (_carol_d, _) = app.window_at(&doomed.node(), &carol).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(presence(&bob_s.recv_presence().await));
    }
    seen.sort();
    let mut expected = vec![(alice.id.clone(), true), (carol.id.clone(), true)];
    expected.sort();
    assert_eq!(seen, expected);

    doomed.kill().await;
    let started = std::time::Instant::now();
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (carol.id.clone(), false)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "noticed within the TTL: {:?}",
        started.elapsed()
    );
    bob_s.assert_no_presence(Duration::from_millis(800)).await;
    let (_, online) = app.get("/api/users/online", &bob.token).await;
    assert_eq!(
        ids(&online["users"]),
        vec![alice.id.clone()],
        "alice keeps her window on the survivor"
    );
}

#[actix_web::test]
async fn after_a_redis_restart_delivery_resumes_and_presence_converges_with_nothing_lost() {
    let port = free_port();
    let mut redis = RedisServer::start(port, vec!["--port".into(), port.to_string()]).await;
    let (app, a, b) = two_nodes_on(&format!("redis://127.0.0.1:{port}")).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let dave = app.sign_in("dave@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut dave_a, _) = app.window_at(&a, &dave).await;
    let (mut bob_b, ready) = app.window_at(&b, &bob).await;
    assert!(ids(&ready["online"]).contains(&dave.id));
    alice_a
        .send(json!({"type": "send", "client_id": "before", "body": "before", "to": bob.id}))
        .await;
    assert_eq!(
        bob_b.recv_type("message").await["message"]["body"],
        "before"
    );

    redis.kill();
    a.wait_unready(&app.http).await;
    // Both nodes keep serving their own sockets; Postgres still takes every message.
    for i in 0..3 {
        alice_a.send(json!({"type": "send", "client_id": format!("during-{i}"), "body": format!("during {i}"), "to": bob.id})).await;
        alice_a.recv_type("ack").await;
    }
    let (_carol_b, _) = app.window_at(&b, &carol).await;
    // A block made on a while b cannot hear of it.
    dave_a
        .send(json!({"type": "block", "user_id": bob.id}))
        .await;
    dave_a.recv_presence().await;

    redis.restart().await;
    a.wait_ready(&app.http).await;
    b.wait_ready(&app.http).await;
    // What bob missed arrives, in order, once each, and the block made during the
    // outage reaches b after all (dave vanishes), in whichever order they come.
    let mut bodies = Vec::new();
    let mut dave_gone = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while bodies.len() < 3 || !dave_gone {
        assert!(
            tokio::time::Instant::now() < deadline,
            "got {bodies:?}, dave gone: {dave_gone}"
        );
        let frame = bob_b.recv().await;
        match frame["type"].as_str() {
            Some("message") => bodies.push(frame["message"]["body"].as_str().unwrap().to_owned()),
            Some("online_changes")
                if presence_changes(&frame)
                    .iter()
                    .any(|p| presence(p) == (dave.id.clone(), false)) =>
            {
                dave_gone = true
            }
            _ => {}
        }
    }
    assert_eq!(bodies, vec!["during 0", "during 1", "during 2"]);
    alice_a
        .send(json!({"type": "send", "client_id": "after", "body": "after", "to": bob.id}))
        .await;
    assert_eq!(bob_b.recv_type("message").await["message"]["body"], "after");
    bob_b.assert_no("message", Duration::from_millis(300)).await;
    // Carol, who arrived during the outage, is online on both nodes' lists.
    for node in [&a, &b] {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let online = node.online_ids(&app.http, &alice.token).await;
            if online.contains(&carol.id) && online.contains(&bob.id) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not converge: {online:?}",
                node.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[actix_web::test]
async fn a_node_is_not_ready_while_it_cannot_hear_its_channels_though_the_rest_of_redis_answers() {
    let port = free_port();
    let _redis = RedisServer::start(port, vec!["--port".into(), port.to_string()]).await;
    let url = format!("redis://127.0.0.1:{port}");
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // Every command works but SUBSCRIBE: the node's writes and reads succeed, while
    // events published for it would not reach it.
    let default_user = |rule: &'static str| {
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg("default")
            .arg(rule)
            .to_owned()
    };
    let _: () = default_user("-subscribe")
        .query_async(&mut conn)
        .await
        .unwrap();
    let prefix = test_prefix();
    let app = spawn_app_with(|s| cluster(s, &url, &prefix, "a")).await;
    let a = app.node();

    // It registers itself (its heartbeat and rebuild run)...
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(format!("{prefix}nodes"))
            .query_async(&mut conn)
            .await
            .unwrap();
        if nodes == ["a"] {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a never registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...but is not in sync, beat after beat (200 ms apart).
    for _ in 0..10 {
        assert_eq!(
            a.ready_status(&app.http).await,
            503,
            "ready without its channels"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _: () = default_user("+subscribe")
        .query_async(&mut conn)
        .await
        .unwrap();
    a.wait_ready(&app.http).await;
}

#[actix_web::test]
async fn the_shared_allowance_answers_again_after_a_redis_restart() {
    use banter::chat::allowance::{Action, Rate, SharedAllowances};
    use banter::cluster::{Keys, RedisAllowances};
    use banter::configuration::RedisTls;
    use banter::domain::UserId;
    // Its connections are not pinged before each take: one that Redis dropped must be
    // let go after its failed take, not handed out again for ever.
    let port = free_port();
    let mut redis = RedisServer::start(port, vec!["--port".into(), port.to_string()]).await;
    let tls = RedisTls {
        verify: true,
        ca_file: None,
    };
    let keys = Keys::new(&format!("allowance-{port}:"), "a");
    let allowances = RedisAllowances::new(&format!("redis://127.0.0.1:{port}"), &tls, keys)
        .expect("a redis url");
    let (alice, bob) = (UserId::new(), UserId::new());
    let rate = Rate {
        every: Duration::from_secs(60),
        burst: 1,
    };
    assert_eq!(
        allowances.take(Action::Send, alice, rate).await.unwrap(),
        None
    );
    assert!(
        allowances
            .take(Action::Send, alice, rate)
            .await
            .unwrap()
            .is_some(),
        "the store refuses past the burst"
    );

    redis.restart().await;
    // The pool's connection died with the old Redis: at most its one take fails, then
    // a new connection takes from the new Redis, where bob's allowance starts full.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut failed = 0;
    loop {
        match allowances.take(Action::Send, bob, rate).await {
            Ok(answer) => {
                assert_eq!(answer, None, "bob's first take");
                break;
            }
            Err(_) => failed += 1,
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store never answered again ({failed} takes failed)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed <= 3, "{failed} takes failed after the restart");
    assert!(
        allowances
            .take(Action::Send, bob, rate)
            .await
            .unwrap()
            .is_some(),
        "the new Redis keeps bob's allowance"
    );
}

#[actix_web::test]
async fn rediss_with_a_self_signed_certificate_works_with_the_explicit_opt_out() {
    let certs = Certificates::make("tls");
    // The authority's own certificate is self-signed: Redis presents exactly that.
    let (cert, key) = (certs.dir.join("ca.crt"), certs.dir.join("ca.key"));
    let port = free_port();
    let args = vec![
        "--port".into(),
        "0".into(),
        "--tls-port".into(),
        port.to_string(),
        "--tls-cert-file".into(),
        cert.display().to_string(),
        "--tls-key-file".into(),
        key.display().to_string(),
        "--tls-auth-clients".into(),
        "no".into(),
    ];
    let _redis = RedisServer::start(port, args).await;
    // Heroku Redis's way (app.json sets REDIS_TLS_VERIFY=false); tls.rs tests the default.
    let (app, a, b) = two_nodes_with(&format!("rediss://127.0.0.1:{port}"), |s| {
        s.redis_tls.verify = false;
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    alice_a
        .send(
            json!({"type": "send", "client_id": new_client_id(), "body": "over tls", "to": bob.id}),
        )
        .await;
    assert_eq!(
        bob_b.recv_type("message").await["message"]["body"],
        "over tls"
    );
}

#[actix_web::test]
async fn a_redis_at_its_memory_limit_loses_no_acknowledged_message_and_delivery_catches_up() {
    let port = free_port();
    let args = [
        "--port",
        &port.to_string(),
        "--maxmemory",
        "4mb",
        "--maxmemory-policy",
        "noeviction",
    ];
    let _redis = RedisServer::start(port, args.iter().map(|a| a.to_string()).collect()).await;
    let url = format!("redis://127.0.0.1:{port}");
    let (app, a, b) = two_nodes_on(&url).await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;

    // Something else fills the Redis until it refuses writes (noeviction: it drops none).
    let mut filler = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let block = "x".repeat(64 * 1024);
    let mut junk = 0;
    loop {
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("junk:{junk}"))
            .arg(&block)
            .query_async(&mut filler)
            .await;
        match set {
            Ok(()) => junk += 1,
            Err(e) => {
                assert!(e.to_string().contains("OOM"), "{e}");
                break;
            }
        }
        assert!(junk < 1000, "the Redis never filled");
    }

    // Carol arrives on b while Redis refuses writes (her presence cannot be stored yet).
    let carol = app.sign_in("carol@example.com").await;
    let (_carol_b, _) = app.window_at(&b, &carol).await;
    // Every send is still committed and acknowledged: Postgres is the truth.
    for i in 0..3 {
        alice_a.send(json!({"type": "send", "client_id": format!("full-{i}"), "body": format!("while full {i}"), "to": bob.id})).await;
        assert_eq!(
            alice_a.recv_type("ack").await["message"]["body"],
            format!("while full {i}")
        );
    }
    // Room again: what bob did not get yet arrives, in order, once each.
    for key in 0..junk {
        let _: () = redis::cmd("DEL")
            .arg(format!("junk:{key}"))
            .query_async(&mut filler)
            .await
            .unwrap();
    }
    a.wait_ready(&app.http).await;
    b.wait_ready(&app.http).await;
    let mut bodies = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while bodies.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "got {bodies:?}");
        let frame = bob_b.recv().await;
        if frame["type"] == "message" {
            bodies.push(frame["message"]["body"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(bodies, vec!["while full 0", "while full 1", "while full 2"]);
    alice_a
        .send(json!({"type": "send", "client_id": "after", "body": "after", "to": bob.id}))
        .await;
    assert_eq!(bob_b.recv_type("message").await["message"]["body"], "after");
    bob_b.assert_no("message", Duration::from_millis(300)).await;
    assert_eq!(app.count_messages().await, 4);
    // And the presence it could not store then is in both nodes' lists now.
    for node in [&a, &b] {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !node
            .online_ids(&app.http, &alice.token)
            .await
            .contains(&carol.id)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} never listed carol",
                node.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[actix_web::test]
async fn a_node_restarted_under_the_same_name_clears_its_previous_life() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "steady")).await;
    let steady = app.node();
    steady.wait_ready(&app.http).await;
    // A long TTL: only the restart itself can clear the old sockets quickly.
    let env = || {
        let mut env = app.peer_env("phoenix");
        env.push(("CLUSTER_NODE_TTL_MS", "60000".to_owned()));
        env
    };
    let port = free_port();
    let mut phoenix = ServerProcess::start(&app.database_url, port, env()).await;
    phoenix.node().wait_ready(&app.http).await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut bob_s, _) = app.window_at(&steady, &bob).await;
    let (_carol_p, _) = app.window_at(&phoenix.node(), &carol).await;
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (carol.id.clone(), true)
    );

    phoenix.kill().await;
    let phoenix = ServerProcess::start(&app.database_url, port, env()).await;
    phoenix.node().wait_ready(&app.http).await;
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (carol.id.clone(), false)
    );
}

#[actix_web::test]
async fn two_processes_of_one_dyno_overlap_without_clearing_each_other_s_presence() {
    // Heroku's Preboot: a new web.1 starts while the old web.1 still serves; then the old
    // one is stopped. Both have DYNO=web.1 and no NODE_ID.
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| cluster(s, &redis, &prefix, "steady")).await;
    let steady = app.node();
    steady.wait_ready(&app.http).await;
    let env = || {
        let mut env = app.peer_env("unused");
        env.retain(|(name, _)| *name != "NODE_ID");
        env.push(("DYNO", "web.1".to_owned()));
        env
    };
    let old = ServerProcess::start(&app.database_url, free_port(), env()).await;
    old.node().wait_ready(&app.http).await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let dave = app.sign_in("dave@example.com").await;
    let (mut bob_s, _) = app.window_at(&steady, &bob).await;
    let (_carol_old, _) = app.window_at(&old.node(), &carol).await;
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (carol.id.clone(), true)
    );

    // The new web.1 comes up beside the old one: Carol, on the old one, stays online.
    let new = ServerProcess::start(&app.database_url, free_port(), env()).await;
    new.node().wait_ready(&app.http).await;
    let (_dave_new, _) = app.window_at(&new.node(), &dave).await;
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (dave.id.clone(), true)
    );
    bob_s.assert_no_presence(Duration::from_millis(1500)).await;

    // The old one leaves: Carol goes with it, Dave (on the new one) stays, and the new
    // node stays ready.
    old.terminate();
    assert_eq!(
        presence(&bob_s.recv_presence().await),
        (carol.id.clone(), false)
    );
    bob_s.assert_no_presence(Duration::from_millis(1500)).await;
    assert_eq!(new.node().ready_status(&app.http).await, 200);
    let online = steady.online_ids(&app.http, &bob.token).await;
    assert!(online.contains(&dave.id), "{online:?}");
    assert!(!online.contains(&carol.id), "{online:?}");
}

#[actix_web::test]
async fn rooms_fan_out_across_nodes_and_their_members_hear_of_changes_everywhere() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (mut bob_b, _) = app.window_at(&b, &bob).await;
    let (mut carol_b, _) = app.window_at(&b, &carol).await;

    let (room, _) = create_room(&mut alice_a, "across", None).await;
    // Not a member, the other node's people are not told; the directory has it at once.
    bob_b.assert_no("room", Duration::from_millis(300)).await;
    bob_b
        .send(json!({"type": "rooms", "ref": "dir", "query": "ACROSS"}))
        .await;
    let page = bob_b.recv_type("rooms").await;
    assert_eq!(page["rooms"][0]["id"], room.as_str());
    for w in [&mut bob_b, &mut carol_b] {
        w.send(json!({"type": "join_room", "ref": "j", "room_id": room}))
            .await;
        assert_eq!(w.recv_type("joined").await["ref"], "j");
    }
    assert_eq!(
        alice_a.recv_type("member").await["user"]["id"],
        bob.id.as_str()
    );
    // Members on both nodes follow its member count.
    let counted = alice_a.recv_type("room").await;
    assert_eq!(counted["room"]["members"], 2);
    assert_eq!(alice_a.recv_type("room").await["room"]["members"], 3);
    assert_eq!(bob_b.recv_type("room").await["room"]["members"], 3);

    alice_a
        .send(
            json!({"type": "send", "ref": "m", "client_id": new_client_id(),
                        "body": "hello room", "conversation_id": room}),
        )
        .await;
    let ack = alice_a.recv_type("ack").await;
    for w in [&mut bob_b, &mut carol_b] {
        assert_eq!(w.recv_type("message").await["message"], ack["message"]);
    }
    bob_b
        .send(
            json!({"type": "send", "ref": "n", "client_id": new_client_id(),
                      "body": "hello back", "conversation_id": room}),
        )
        .await;
    bob_b.recv_type("ack").await;
    assert_eq!(
        alice_a.recv_type("message").await["message"]["body"],
        "hello back"
    );

    // Deleting it on node a clears it on node b.
    alice_a
        .send(json!({"type": "delete_room", "ref": "d", "room_id": room}))
        .await;
    for w in [&mut bob_b, &mut carol_b] {
        assert_eq!(w.recv_type("room_deleted").await["room_id"], room.as_str());
    }
}

/// Asks `ws` for a page of its online list (`ask` adds to the frame) and returns the
/// `online_page` (or the `error`) that answers it.
async fn online_page(ws: &mut Ws, ask: Value) -> Value {
    let mut frame = json!({"type": "online", "ref": "page"});
    frame
        .as_object_mut()
        .unwrap()
        .extend(ask.as_object().unwrap().clone());
    ws.send(frame).await;
    loop {
        let reply = ws.recv().await;
        if reply["ref"] == "page" {
            return reply;
        }
    }
}

/// Asks until the whole list counts `n` (presence crosses nodes through Redis).
async fn online_when_counting(ws: &mut Ws, n: u64) -> Value {
    for _ in 0..100 {
        let page = online_page(ws, json!({})).await;
        if page["count"] == n {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the online list never counted {n}");
}

fn emails(page: &Value) -> Vec<String> {
    page["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn online_pages_and_prefix_searches_list_everyone_on_every_node_but_the_blocked() {
    let (app, a, b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let bobby = app.sign_in("Bobby@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    app.block(&carol, &bobby).await;
    let (mut alice_a, _) = app.window_at(&a, &alice).await;
    let (_bob_b, _) = app.window_at(&b, &bob).await;
    let (mut bobby_a, _) = app.window_at(&a, &bobby).await;
    let (mut carol_b, _) = app.window_at(&b, &carol).await;

    // Everyone but yourself, in email order whatever the case, across both nodes.
    let all = online_when_counting(&mut alice_a, 3).await;
    assert_eq!(
        emails(&all),
        ["bob@example.com", "Bobby@example.com", "carol@example.com"]
    );
    let found = online_page(&mut alice_a, json!({"prefix": "BO"})).await;
    assert_eq!(
        (found["count"].as_u64(), found["prefix"].as_str()),
        (Some(2), Some("bo"))
    );
    assert_eq!(emails(&found), ["bob@example.com", "Bobby@example.com"]);
    let second = online_page(&mut alice_a, json!({"offset": 1, "limit": 1})).await;
    assert_eq!(
        (second["offset"].as_u64(), second["count"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(emails(&second), ["Bobby@example.com"]);

    // Carol (node b) blocked Bobby (node a): neither is in the other's pages, counts or
    // searches, whichever node each is on.
    let carols = online_when_counting(&mut carol_b, 2).await;
    assert_eq!(emails(&carols), ["alice@example.com", "bob@example.com"]);
    let searched = online_page(&mut carol_b, json!({"prefix": "bobby"})).await;
    assert_eq!(
        (searched["count"].as_u64(), emails(&searched).len()),
        (Some(0), 0)
    );
    let bobbys = online_when_counting(&mut bobby_a, 2).await;
    assert_eq!(emails(&bobbys), ["alice@example.com", "bob@example.com"]);
    let searched = online_page(&mut bobby_a, json!({"prefix": "c"})).await;
    assert_eq!(
        (searched["count"].as_u64(), emails(&searched).len()),
        (Some(0), 0)
    );

    // A bad page is a bad_request that keeps its ref; the socket stays.
    let refused = online_page(&mut alice_a, json!({"limit": 201})).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("bad_request"))
    );
    let again = online_page(&mut alice_a, json!({"prefix": "carol"})).await;
    assert_eq!(emails(&again), ["carol@example.com"]);
}

#[actix_web::test]
async fn sends_queued_behind_a_query_are_committed_in_the_order_sent_with_shared_allowances() {
    // With Redis, a send waits for the deployment's allowance store before its commit is
    // queued; sends that start together (released at once when the query before them is
    // answered) must still reach the writer in the order sent.
    let (app, a, _b) = two_nodes().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (_, direct) = app.open_direct(&alice.token, &bob.id).await;
    let conversation = direct["id"].as_str().unwrap().to_owned();
    let (mut ws, _) = app.window_at(&a, &alice).await;
    // The history is held up in Postgres until every send has reached the window's line.
    let held = holding_lock(
        &app,
        "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE".into(),
        Duration::from_millis(400),
    )
    .await;
    ws.send(json!({"type": "history", "ref": "h", "conversation_id": conversation}))
        .await;
    for i in 0..10 {
        ws.send(
            json!({"type": "send", "ref": format!("s{i}"), "client_id": new_client_id(),
                       "body": format!("m{i}"), "conversation_id": conversation}),
        )
        .await;
    }
    held.await.unwrap();
    let mut seqs = Vec::new();
    while seqs.len() < 10 {
        let frame = ws.recv().await;
        if frame["type"] == "ack" {
            let sent: usize = frame["ref"].as_str().unwrap()[1..].parse().unwrap();
            seqs.push((sent, frame["message"]["seq"].as_i64().unwrap()));
        }
    }
    seqs.sort();
    let in_seq_order: Vec<i64> = seqs.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(in_seq_order, (1..=10).collect::<Vec<i64>>(), "{seqs:?}");
}
