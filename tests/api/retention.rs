//! With a retention period, messages older than it are deleted; newer ones stay.

use crate::helpers::*;
use banter::retention::Retention;
use std::time::Duration;

#[actix_web::test]
async fn messages_older_than_the_retention_period_are_deleted_and_newer_ones_stay() {
    let app = spawn_app_with(|s| {
        s.retention = Some(Retention {
            keep: Duration::from_secs(24 * 60 * 60),
            sweep_every: Duration::from_millis(100),
        })
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (_, conversation) = app.open_direct(&alice.token, &bob.id).await;
    let conversation = conversation["id"].as_str().unwrap();
    for body in ["from last week", "from today"] {
        let (status, _) = app
            .post_message(&alice.token, conversation, body, &new_client_id())
            .await;
        assert_eq!(status, 201);
    }
    let db = app.db().await;
    db.execute(
        "UPDATE messages SET created_at = now() - interval '7 days' WHERE body = 'from last week'",
        &[],
    )
    .await
    .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.count_messages().await != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old message was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, history) = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &bob.token,
        )
        .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["from today"]);
    // The conversation keeps its numbering: the next message is seq 3.
    let (_, sent) = app
        .post_message(&bob.token, conversation, "still counting", &new_client_id())
        .await;
    assert_eq!(sent["seq"], 3);
}
