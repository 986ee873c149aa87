use crate::helpers::*;
use serde_json::json;
use std::time::Duration;

#[actix_web::test]
async fn ui_state_is_mirrored_to_other_windows_and_opens_new_ones() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, ready) = app.window(&alice).await;
    assert_eq!(ready["ui"], json!({"draft": ""}));
    let (mut a2, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;

    let state = json!({"selected": bob.id, "draft": "half a thought", "scroll": {"x": 1}});
    a1.send(json!({"type": "ui", "state": state})).await;
    assert_eq!(a2.recv_type("ui").await["state"], state);
    a1.assert_no("ui", Duration::from_millis(200)).await;
    b.assert_no("ui", Duration::from_millis(100)).await;

    let (_, ready) = app.window(&alice).await;
    assert_eq!(
        ready["ui"], state,
        "a new window opens where the others are"
    );
    assert_eq!(ready["me"]["id"], alice.id);
}

#[actix_web::test]
async fn every_window_of_a_person_sees_the_same_events() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    let (c, _) = app.window(&carol).await;
    b.send(
        json!({"type": "send", "client_id": new_client_id(), "body": "to alice", "to": alice.id}),
    )
    .await;
    b.send(json!({"type": "block", "user_id": carol.id})).await;
    c.close().await;
    let mut seen = [Vec::new(), Vec::new()];
    for (i, w) in [&mut a1, &mut a2].into_iter().enumerate() {
        // Bob and carol coming online, the message from bob, carol leaving: everything
        // until the stream goes quiet.
        while let Some(frame) = w.try_recv(Duration::from_millis(800)).await {
            seen[i].push(frame);
        }
    }
    assert!(
        seen[0].iter().any(|f| f["type"] == "message"),
        "{:?}",
        seen[0]
    );
    assert_eq!(
        seen[0], seen[1],
        "both windows got the same frames in the same order"
    );
}
