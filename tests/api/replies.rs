//! A message may answer an earlier one of its conversation; everyone sees the quote.

use crate::helpers::*;
use serde_json::json;

#[actix_web::test]
async fn a_reply_carries_a_quote_of_the_message_it_answers_live_and_in_history() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut b1, _) = app.window(&bob).await;
    a1.send(
        json!({"type": "send", "ref": "q", "client_id": new_client_id(),
                   "body": "Dinner at eight?", "to": bob.id}),
    )
    .await;
    let question = a1.recv_type("ack").await["message"].clone();
    let conversation = question["conversation_id"].as_str().unwrap().to_owned();
    b1.recv_type("message").await;

    b1.send(
        json!({"type": "send", "ref": "r", "client_id": new_client_id(),
                   "body": "Yes!", "conversation_id": conversation, "reply_to": 1}),
    )
    .await;
    let answer = b1.recv_type("ack").await["message"].clone();
    let quote = json!({"seq": 1, "sender_id": alice.id, "body": "Dinner at eight?"});
    assert_eq!(answer["reply_to"], quote);
    assert_eq!(a1.recv_type("message").await["message"]["reply_to"], quote);
    // Plain messages carry no reply_to at all.
    assert!(question.get("reply_to").is_none());

    let (_, history) = app
        .get(
            &format!("/api/conversations/{conversation}/messages"),
            &alice.token,
        )
        .await;
    assert_eq!(history["messages"][1]["reply_to"], quote);
    let (status, over_http) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/conversations/{conversation}/messages"),
            &alice.token,
            Some(json!({"body": "See you", "client_id": new_client_id(), "reply_to": 2})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(over_http["reply_to"]["body"], "Yes!");
}

#[actix_web::test]
async fn a_reply_to_a_message_that_is_not_in_the_conversation_is_refused_without_a_gap() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (_, ab) = app.open_direct(&alice.token, &bob.id).await;
    let (_, ac) = app.open_direct(&alice.token, &carol.id).await;
    let (ab, ac) = (ab["id"].as_str().unwrap(), ac["id"].as_str().unwrap());
    app.post_message(&alice.token, ab, "first", &new_client_id())
        .await;
    app.post_message(&alice.token, ac, "to carol", &new_client_id())
        .await;

    let (mut a1, _) = app.window(&alice).await;
    for (reply_to, code) in [
        (json!(7), "not_found"),
        (json!(0), "bad_request"),
        (json!("one"), "bad_request"),
    ] {
        a1.send(
            json!({"type": "send", "ref": "x", "client_id": new_client_id(),
                       "body": "hm", "conversation_id": ab, "reply_to": reply_to}),
        )
        .await;
        let error = a1.recv_type("error").await;
        assert_eq!(
            (error["ref"].clone(), error["code"].clone()),
            (json!("x"), json!(code))
        );
    }
    // seq 1 of another conversation is not a message of this one... but seq 1 here is.
    a1.send(
        json!({"type": "send", "ref": "y", "client_id": new_client_id(),
                   "body": "fine", "conversation_id": ab, "reply_to": 1}),
    )
    .await;
    let ack = a1.recv_type("ack").await;
    assert_eq!(ack["message"]["seq"], 2, "the refusals took no seq");
    assert_eq!(ack["message"]["reply_to"]["body"], "first");
}
