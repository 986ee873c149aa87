//! Attacks on the write path: races, malformed input reaching Postgres, slow queries.

use crate::helpers::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;

/// `POST /api/conversations/{room}/messages` at `node`: status and body.
async fn post_at(
    http: &reqwest::Client,
    node: &Node,
    token: &str,
    room: &str,
    body: &str,
) -> (u16, Value) {
    let r = http
        .post(format!(
            "{}/api/conversations/{room}/messages",
            node.address
        ))
        .bearer_auth(token)
        .json(&json!({"body": body, "client_id": new_client_id()}))
        .send()
        .await
        .expect("POST a message");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Item 4 of issue 13: a room deleted on node "a" while its member sends into it on node
/// "b" panicked b's PersistActor (`locked above`); every later write on b answered
/// `unavailable` while `/readyz` said 200. The sends racing the deletion must be stored
/// or refused `not_found`, and b must keep writing.
#[actix_web::test]
async fn a_room_deleted_on_one_node_while_another_sends_into_it_refuses_the_sends() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| {
        cluster(s, &redis, &prefix, "a");
        (s.limits.send_rate_per_second, s.limits.send_burst) = (1000, 1000);
    })
    .await;
    let a = app.node();
    a.wait_ready(&app.http).await;
    let b = app.spawn_peer("b").await;
    let owner = app.sign_in("owner@example.com").await;
    let sender = app.sign_in("sender@example.com").await;
    let http = &app.http;

    for round in 0..25 {
        let room = app.post_room(&owner.token, &format!("race {round}")).await;
        app.join_room(&sender.token, &room).await;
        let sends = join_all((0..6).map(|i| {
            let (token, room) = (sender.token.clone(), room.clone());
            let b = b.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(i * 2)).await;
                post_at(http, &b, &token, &room, "into a room being deleted").await
            }
        }));
        let delete = async {
            let r = http
                .delete(format!("{}/api/rooms/{room}", a.address))
                .bearer_auth(&owner.token)
                .send()
                .await
                .expect("DELETE the room");
            r.status().as_u16()
        };
        let (answers, deleted) = tokio::join!(sends, delete);
        assert_eq!(deleted, 204, "round {round}: the room is deleted");
        for (status, body) in answers {
            assert!(
                status == 201 || (status == 404 && body["error"]["code"] == "not_found"),
                "round {round}: a send racing the deletion answered {status} {body}"
            );
        }
    }

    // b still writes, and says it is ready.
    let room = app.post_room(&owner.token, "after the race").await;
    app.join_room(&sender.token, &room).await;
    let (status, body) = post_at(http, &b, &sender.token, &room, "still here").await;
    assert_eq!(status, 201, "a send on b after the race: {body}");
    assert_eq!(b.ready_status(http).await, 200);
}
