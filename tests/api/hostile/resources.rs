//! Attacks on a node's memory and CPU through expensive actions: room passwords (argon2)
//! and room creation.

use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[actix_web::test]
async fn a_burst_of_password_rooms_is_hashed_on_a_bounded_pool_and_memory_stays_bounded() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app.database_url, free_port(), app.peer_env("argon")).await;
    let pid = server.child.id().expect("server pid");
    let base = format!("http://127.0.0.1:{}", server.port);
    let mut people = Vec::new();
    for i in 0..40 {
        people.push(app.sign_in(&format!("hasher{i}@example.com")).await);
    }
    // Warm the paths a creation takes (code pages, pools), then measure from there.
    let warm = app
        .http
        .post(format!("{base}/api/rooms"))
        .bearer_auth(&app.sign_in("warm@example.com").await.token)
        .json(&json!({"name": "warm", "password": "s3cret"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(warm.status().as_u16(), 201);
    let before = peak_memory_kib(pid);

    // Forty people each create a password room at the same moment.
    let creations = people.iter().enumerate().map(|(i, person)| {
        let request = app
            .http
            .post(format!("{base}/api/rooms"))
            .bearer_auth(&person.token)
            .json(&json!({"name": format!("vault {i}"), "password": "s3cret"}));
        async move { request.send().await.expect("answered").status().as_u16() }
    });
    let burst = futures_util::future::join_all(creations);
    let health = async {
        // The node keeps answering while the burst is hashed.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        let status = app
            .http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz")
            .status();
        (status.as_u16(), started.elapsed())
    };
    let (statuses, (health_status, health_took)) = tokio::join!(burst, health);

    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        created + refused,
        statuses.len(),
        "every creation is made or refused as rate_limited: {statuses:?}"
    );
    assert!(
        created >= 10,
        "the running and waiting slots are used: {statuses:?}"
    );
    assert!(
        refused > 0,
        "a burst beyond the queue is refused: {statuses:?}"
    );
    assert_eq!(health_status, 200);
    assert!(
        health_took < Duration::from_millis(100),
        "/healthz took {health_took:?} during the burst"
    );
    let grew_mib = peak_memory_kib(pid).saturating_sub(before) / 1024;
    // 2 hashes at 19 MiB each at once; unbounded, 25 of them took ~475 MiB.
    assert!(grew_mib < 120, "peak memory grew by {grew_mib} MiB");

    // What was refused can be retried once the burst is done.
    let (status, _) = app
        .send_json(
            reqwest::Method::POST,
            "/api/rooms",
            &people[39].token,
            Some(json!({"name": "vault again", "password": "s3cret"})),
        )
        .await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn one_person_creates_at_most_ten_rooms_a_minute() {
    let app = spawn_app().await;
    let mallory = app.sign_in("mallory@example.com").await;
    let (mut ws, _) = app.window(&mallory).await;
    for i in 0..10 {
        create_room(&mut ws, &format!("spam {i}"), None).await;
    }
    ws.send(json!({"type": "create_room", "ref": "c11", "name": "spam 10"}))
        .await;
    let refused = ws.recv_type("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["ref"].as_str()),
        (Some("rate_limited"), Some("c11"))
    );
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/api/rooms",
            &mallory.token,
            Some(json!({"name": "spam 11"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    // Someone else is not held back, and the socket still works.
    let carol = app.sign_in("carol@example.com").await;
    let (status, _) = app
        .send_json(
            reqwest::Method::POST,
            "/api/rooms",
            &carol.token,
            Some(json!({"name": "spam 11"})),
        )
        .await;
    assert_eq!(status, 201);
    ws.send(json!({"type": "typing", "conversation_id": "not-an-id"}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "bad_request");
}
