//! The people directory (`GET /api/people`) finds anyone, online or not, by the start of
//! their email, hides blocks both ways, takes any text as text, and refuses bad input.

use crate::helpers::*;
use serde_json::Value;

fn emails(body: &Value) -> Vec<String> {
    body["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_directory_finds_people_who_are_offline_by_the_start_of_their_email() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    // Nobody of these has a window open: they signed in once and left.
    for email in ["Bob@Example.com", "bobby@example.com", "carol@example.com"] {
        app.sign_in(email).await;
    }

    let (status, found) = app.get("/api/people?q=BOB", &alice.token).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(emails(&found), vec!["Bob@Example.com", "bobby@example.com"]);
    // Everyone but me, by email, with the limit.
    let (_, all) = app.get("/api/people", &alice.token).await;
    assert_eq!(
        emails(&all),
        vec!["Bob@Example.com", "bobby@example.com", "carol@example.com"]
    );
    let (_, two) = app.get("/api/people?limit=2", &alice.token).await;
    assert_eq!(emails(&two).len(), 2);
    let (_, none) = app.get("/api/people?q=zed", &alice.token).await;
    assert!(emails(&none).is_empty());
    // A person found can be written to at once.
    let bob = &found["people"][0]["id"];
    let (status, _) = app.open_direct(&alice.token, bob.as_str().unwrap()).await;
    assert!(status == 200 || status == 201, "{status}");
}

#[actix_web::test]
async fn the_directory_hides_a_block_both_ways() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    app.block(&alice, &bob).await;

    let (_, seen_by_alice) = app.get("/api/people", &alice.token).await;
    assert_eq!(emails(&seen_by_alice), vec!["carol@example.com"]);
    let (_, seen_by_bob) = app.get("/api/people", &bob.token).await;
    assert_eq!(emails(&seen_by_bob), vec!["carol@example.com"]);
    let (_, seen_by_carol) = app.get("/api/people", &carol.token).await;
    assert_eq!(
        emails(&seen_by_carol),
        vec!["alice@example.com", "bob@example.com"]
    );
}

#[actix_web::test]
async fn like_wildcards_are_plain_characters_and_bad_input_is_a_clear_error() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    app.sign_in("b_b@example.com").await;
    app.sign_in("bxb@example.com").await;

    // `_` and `%` match themselves, not any character.
    let (_, found) = app.get("/api/people?q=b_", &alice.token).await;
    assert_eq!(emails(&found), vec!["b_b@example.com"]);
    let (_, found) = app.get("/api/people?q=%25", &alice.token).await;
    assert!(emails(&found).is_empty());
    let (_, found) = app
        .get("/api/people?q=%27%20OR%201%3D1--", &alice.token)
        .await;
    assert!(emails(&found).is_empty());

    let long = "a".repeat(255);
    for path in [
        format!("/api/people?q={long}"),
        "/api/people?q=a%00".to_owned(),
        "/api/people?limit=0".to_owned(),
        "/api/people?limit=51".to_owned(),
        "/api/people?limit=x".to_owned(),
    ] {
        let (status, body) = app.get(&path, &alice.token).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}: {body}");
    }
    let (status, _) = app.get("/api/people?q=a", "not-a-token").await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn the_directory_finds_names_and_emails_and_its_limit_keeps_the_first_in_order() {
    let app = spawn_app().await;
    let viewer = app.sign_in("viewer@example.com").await;
    let db = app.db().await;
    for (email, name) in [
        ("a1@example.com", Some("Zoe")),
        ("a2@example.com", Some("Zack")),
        ("a3@example.com", None),
        ("zed@example.com", Some("Ada")),
    ] {
        app.sign_in(email).await;
        db.execute(
            "UPDATE users SET display_name = $2 WHERE email = $1",
            &[&email, &name],
        )
        .await
        .unwrap();
    }
    // Matched by email (a1, a2, a3) or by name (zed, "Ada"), in the order of what matched.
    let (_, all) = app.get("/api/people?q=a", &viewer.token).await;
    assert_eq!(
        emails(&all),
        vec![
            "a1@example.com",
            "a2@example.com",
            "a3@example.com",
            "zed@example.com"
        ]
    );
    let (_, two) = app.get("/api/people?q=a&limit=2", &viewer.token).await;
    assert_eq!(emails(&two), vec!["a1@example.com", "a2@example.com"]);
    let (_, by_name) = app.get("/api/people?q=za", &viewer.token).await;
    assert_eq!(emails(&by_name), vec!["a2@example.com"]);
    assert_eq!(by_name["people"][0]["name"], "Zack");
}
