//! Attacks on what a person may see or do: tokens, room membership, blocks.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Asserts `ws` gets no `member` frame about `user` before the one about `marker`
/// arrives (the marker proves the frames that came before it were all there was).
async fn member_frames_until(ws: &mut Ws, marker: &str, hidden: &str) -> Value {
    loop {
        let frame = ws.recv_type("member").await;
        let who = frame["user"]["id"].as_str().unwrap_or_default().to_owned();
        assert_ne!(
            who, hidden,
            "a member frame about a blocked person: {frame}"
        );
        if who == marker {
            return frame;
        }
    }
}

// ---- Item 8: leave_room with a direct conversation's id ----

#[actix_web::test]
async fn leaving_a_direct_conversation_as_a_room_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (status, opened) = app.open_direct(&alice.token, &bob.id).await;
    assert!(status == 200 || status == 201, "{status} {opened}");
    let direct = opened["conversation"]["id"]
        .as_str()
        .or_else(|| opened["id"].as_str())
        .expect("a conversation id")
        .to_owned();

    let (mut b1, _) = app.window(&bob).await;
    b1.send(json!({"type": "leave_room", "ref": "l1", "room_id": direct}))
        .await;
    let refused = b1.recv_type("error").await;
    assert_eq!(
        (refused["ref"].clone(), refused["code"].clone()),
        (json!("l1"), json!("not_found"))
    );
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{direct}/leave"),
            &bob.token,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Bob is still a member: what alice sends reaches him.
    let (status, sent) = app
        .post_message(&alice.token, &direct, "still there?", &new_client_id())
        .await;
    assert_eq!(status, 201, "{sent}");
    let delivered = b1.recv_type("message").await;
    assert_eq!(delivered["message"]["body"], "still there?");
    let (_, list) = app.get("/api/conversations", &bob.token).await;
    assert_eq!(list["conversations"][0]["id"], direct.as_str());
}

// ---- Item 9: listing the members of a password-protected room ----

#[actix_web::test]
async fn only_members_list_the_members_of_a_password_protected_room() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (secret, _) = create_room(&mut a1, "Secret", Some("open sesame")).await;
    let open = app.post_room(&alice.token, "Open").await;

    // A non-member of the protected room: forbidden, over HTTP and the socket, no emails.
    let (status, body) = app
        .get(&format!("/api/rooms/{secret}/members"), &bob.token)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(!body.to_string().contains("alice@example.com"), "{body}");
    let (mut b1, _) = app.window(&bob).await;
    b1.send(json!({"type": "members", "ref": "m1", "room_id": secret}))
        .await;
    let refused = b1.recv().await;
    assert_eq!(
        (
            refused["type"].clone(),
            refused["ref"].clone(),
            refused["code"].clone()
        ),
        (json!("error"), json!("m1"), json!("forbidden")),
        "{refused}"
    );

    // An open room anyone could join: listing stays allowed.
    let (status, body) = app
        .get(&format!("/api/rooms/{open}/members"), &bob.token)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"][0]["email"], "alice@example.com");

    // Once a member (with the password), bob may list.
    b1.send(
        json!({"type": "join_room", "ref": "j1", "room_id": secret, "password": "open sesame"}),
    )
    .await;
    b1.recv_type("joined").await;
    b1.send(json!({"type": "members", "ref": "m2", "room_id": secret}))
        .await;
    let members = b1.recv_type("members").await;
    assert_eq!(members["members"].as_array().map(Vec::len), Some(2));
    let (status, _) = app
        .get(&format!("/api/rooms/{secret}/members"), &bob.token)
        .await;
    assert_eq!(status, 200);
}

// ---- Item 10: blocks leaking through quotes, member frames, direct conversations ----

#[actix_web::test]
async fn quotes_of_a_blocked_person_show_nothing_of_them() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let room = app.post_room(&alice.token, "Lobby").await;
    app.join_room(&bob.token, &room).await;
    app.join_room(&carol.token, &room).await;
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/blocks/{}", bob.id),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (mut a1, _) = app.window(&alice).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut c1, _) = app.window(&carol).await;
    let send = |body: &str, reply_to: Option<i64>| {
        json!({"type": "send", "ref": "s", "client_id": new_client_id(), "body": body,
               "conversation_id": room, "reply_to": reply_to})
    };
    // seq 1: bob's words, which alice never receives; seq 2: carol quotes them.
    b1.send(send("zanzibar plans from bob", None)).await;
    b1.recv_type("ack").await;
    c1.send(send("quoting bob about zanzibar", Some(1))).await;
    let ack = c1.recv_type("ack").await;
    assert_eq!(
        ack["message"]["reply_to"]["body"],
        "zanzibar plans from bob"
    );
    let gone = json!({"seq": 1, "sender_id": null, "body": null});
    let live = a1.recv_type("message").await;
    assert_eq!(live["message"]["seq"], 2, "{live}");
    assert_eq!(
        live["message"]["reply_to"], gone,
        "live quote leaks: {live}"
    );
    // seq 3: alice's words; seq 4: carol quotes them, and bob is blocked by alice.
    a1.send(send("alice speaking", None)).await;
    a1.recv_type("ack").await;
    c1.send(send("quoting alice", Some(3))).await;
    c1.recv_type("ack").await;

    // The blocked person does not read the blocker's words through a quote either.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let m = b1.recv_type("message").await;
        seen.push(m["message"].clone());
    }
    let quoting_alice = seen
        .iter()
        .find(|m| m["seq"] == 4)
        .expect("seq 4 reaches bob");
    assert_eq!(
        quoting_alice["reply_to"],
        json!({"seq": 3, "sender_id": null, "body": null}),
        "live quote leaks to the blocked person"
    );

    // History (socket and HTTP) and search show the same.
    a1.send(json!({"type": "history", "ref": "h", "conversation_id": room, "after_seq": 0}))
        .await;
    let history = a1.recv_type("history").await;
    let quote = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["seq"] == 2)
        .expect("carol's reply in history")["reply_to"]
        .clone();
    assert_eq!(quote, gone, "history quote leaks");
    let (_, page) = app
        .get(&format!("/api/conversations/{room}/messages"), &alice.token)
        .await;
    let quote = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["seq"] == 2)
        .expect("carol's reply over HTTP")["reply_to"]
        .clone();
    assert_eq!(quote, gone, "HTTP history quote leaks");
    let (_, found) = app.get("/api/search?q=zanzibar", &alice.token).await;
    let results = found["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{found}");
    assert_eq!(
        results[0]["message"]["reply_to"], gone,
        "search quote leaks"
    );
    // Carol, who blocked no one, still sees the quote.
    let (_, found) = app.get("/api/search?q=zanzibar", &carol.token).await;
    let quoted: Vec<&Value> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["message"]["seq"] == 2)
        .collect();
    assert_eq!(
        quoted[0]["message"]["reply_to"]["body"],
        "zanzibar plans from bob"
    );
}

#[actix_web::test]
async fn member_frames_about_a_blocked_person_do_not_reach_either_of_them() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let room = app.post_room(&alice.token, "Lobby").await;
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/blocks/{}", bob.id),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (mut a1, _) = app.window(&alice).await;

    // Bob joins and leaves and joins: alice hears nothing of it; carol's join she hears.
    app.join_room(&bob.token, &room).await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{room}/leave"),
            &bob.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    app.join_room(&bob.token, &room).await;
    app.join_room(&carol.token, &room).await;
    member_frames_until(&mut a1, &carol.id, &bob.id).await;

    // And bob hears nothing of alice leaving, while he hears carol leave.
    let (mut b1, _) = app.window(&bob).await;
    for who in [&alice, &carol] {
        let (status, _) = app
            .send_json(
                Method::POST,
                &format!("/api/rooms/{room}/leave"),
                &who.token,
                None,
            )
            .await;
        assert_eq!(status, 200);
    }
    let left = member_frames_until(&mut b1, &carol.id, &alice.id).await;
    assert_eq!(left["joined"], false);
}

#[actix_web::test]
async fn a_blocked_person_cannot_open_a_direct_conversation_with_the_blocker() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/blocks/{}", bob.id),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app.open_direct(&bob.token, &alice.id).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("blocked")),
        "{body}"
    );
    let (mut b1, _) = app.window(&bob).await;
    b1.send(
        json!({"type": "send", "ref": "s1", "client_id": new_client_id(),
                   "body": "let me in", "to": alice.id}),
    )
    .await;
    assert_eq!(b1.recv_type("error").await["code"], "blocked");
    // Nor the blocker with the blocked.
    let (status, _) = app.open_direct(&alice.token, &bob.id).await;
    assert_eq!(status, 403);

    // Nothing appeared in either list (the room everyone shares is all they have).
    let direct = |list: &Value| -> Vec<Value> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "direct")
            .cloned()
            .collect()
    };
    let (_, list) = app.get("/api/conversations", &alice.token).await;
    assert_eq!(
        direct(&list["conversations"]),
        Vec::<Value>::new(),
        "{list}"
    );
    assert_eq!(
        list["conversations"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    let (_, ready) = app.window(&alice).await;
    assert_eq!(
        direct(&ready["conversations"]),
        Vec::<Value>::new(),
        "{ready}"
    );
    let (_, list) = app.get("/api/conversations", &bob.token).await;
    assert_eq!(
        direct(&list["conversations"]),
        Vec::<Value>::new(),
        "{list}"
    );
}

// ---- Item 1: session tokens with appended blocks ----

/// `token` with a block appended whose rule costs the fourth power of `facts` to
/// evaluate (and derives nothing): anyone holding a token can build this, no key needed.
fn with_expensive_block(token: &str, facts: usize) -> String {
    let mut code: String = (0..facts).map(|i| format!("n({i});\n")).collect();
    code.push_str("big($a) <- n($a), n($b), n($c), n($d), $a + $b + $c + $d < 0;\n");
    let block = biscuit_auth::builder::BlockBuilder::new()
        .code(code)
        .expect("the block parses");
    biscuit_auth::UnverifiedBiscuit::from_base64(token)
        .expect("a biscuit")
        .append(block)
        .expect("appended")
        .to_base64()
        .expect("encoded")
}

/// `/healthz`'s answer time.
async fn healthz_latency(app: &TestApp) -> Duration {
    let started = Instant::now();
    let response = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(response.status(), 200);
    started.elapsed()
}

#[actix_web::test]
async fn tokens_with_appended_blocks_are_refused_at_once_and_the_node_stays_healthy() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let hostile = with_expensive_block(&alice.token, 40);
    // Quick enough to refuse on the spot: an honest token's check is as fast.
    let quick = Duration::from_millis(500);

    // Over HTTP.
    let started = Instant::now();
    let (status, body) = app.get("/api/conversations", &hostile).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    assert!(
        started.elapsed() < quick,
        "HTTP refusal took {:?}",
        started.elapsed()
    );

    // As the socket's first frame.
    let mut ws = Ws::connect(&app.ws_url).await;
    let started = Instant::now();
    ws.send(json!({"type": "auth", "token": hostile})).await;
    assert_eq!(ws.closed().await, Closed::Code(4401));
    assert!(
        started.elapsed() < quick,
        "socket refusal took {:?}",
        started.elapsed()
    );

    // As a renewal on a live socket, which stays usable.
    let (mut a1, _) = app.window(&alice).await;
    let started = Instant::now();
    a1.send(json!({"type": "auth", "ref": "renew", "token": hostile}))
        .await;
    let refused = a1.recv_type("error").await;
    assert_eq!(
        (refused["ref"].clone(), refused["code"].clone()),
        (json!("renew"), json!("unauthorized"))
    );
    assert!(
        started.elapsed() < quick,
        "renewal refusal took {:?}",
        started.elapsed()
    );

    // A stream of them, over HTTP and sockets at once: /healthz keeps answering at once.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers = Vec::new();
    for n in 0..4 {
        let (http, address, ws_url) = (app.http.clone(), app.address.clone(), app.ws_url.clone());
        let (token, stop) = (hostile.clone(), stop.clone());
        attackers.push(actix_web::rt::spawn(async move {
            let mut sent = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if n % 2 == 0 {
                    let _ = http
                        .get(format!("{address}/api/conversations"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                } else {
                    let mut ws = Ws::connect(&ws_url).await;
                    ws.send(json!({"type": "auth", "token": token})).await;
                    let _ = ws.closed().await;
                }
                sent += 1;
            }
            sent
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        worst = worst.max(healthz_latency(&app).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = 0;
    for attacker in attackers {
        sent += attacker.await.expect("attacker ran");
    }
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?} under attack"
    );
    assert!(sent >= 8, "only {sent} hostile tokens were sent");
    // Alice's own token still works.
    let (status, _) = app.get("/api/conversations", &alice.token).await;
    assert_eq!(status, 200);
}

// ---- Item 11: the per-address password limit and a forged X-Forwarded-For ----

#[actix_web::test]
async fn a_forged_forwarded_for_entry_does_not_lift_the_per_address_password_limit() {
    // Behind one proxy (Heroku's router), which appends the address it saw.
    let app = spawn_app_with(|s| s.trusted_proxies = 1).await;
    let owner = app.sign_in("owner@example.com").await;
    let (mut ws, _) = app.window(&owner).await;
    let (room_id, _) = create_room(&mut ws, "vault", Some("right")).await;
    let path = format!("{}/api/rooms/{room_id}/join", app.address);
    let attempt = |token: String, claimed: usize| {
        let request = app
            .http
            .post(&path)
            .bearer_auth(token)
            // What the client claims, then what the proxy saw: the same address each time.
            .header(
                "x-forwarded-for",
                format!("198.51.100.{claimed}, 203.0.113.7"),
            )
            .json(&json!({"password": "wrong"}));
        async move {
            request
                .send()
                .await
                .expect("join answered")
                .status()
                .as_u16()
        }
    };
    // Five people (each under their own limit of 5) guess 4 times each from one address,
    // each guess claiming another origin: 20 a minute is that address's limit.
    let mut claimed = 0;
    for i in 0..5 {
        let guesser = app.sign_in(&format!("guesser{i}@example.com")).await;
        for _ in 0..4 {
            claimed += 1;
            assert_eq!(attempt(guesser.token.clone(), claimed).await, 403);
        }
    }
    let another = app.sign_in("guesser5@example.com").await;
    assert_eq!(
        attempt(another.token.clone(), claimed + 1).await,
        429,
        "the 21st guess from one address within a minute is refused whatever it claims"
    );
}

// ---- Item 12: emails the provider has not verified ----

/// `POST /api/session` with `token`: the status and the error code, if any.
async fn session_answer(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app.post_session(token).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[actix_web::test]
async fn an_unverified_email_does_not_sign_in_as_someone_elses_address() {
    let app = spawn_app().await;
    let bob = app.sign_in("bob@example.com").await;
    let issuer = &app.issuer;

    // An account at the provider that typed bob's address but never proved it owns it.
    let mut claims = issuer.claims("auth0|impostor", Some("bob@example.com"));
    claims["email_verified"] = json!(false);
    let (status, body) = session_answer(
        &app,
        &issuer.sign(&claims, jsonwebtoken::Algorithm::RS256, "rsa-1"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("email_unverified")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not verified"),
        "{body}"
    );

    // The same when the token says nothing and userinfo says it is not verified, or says
    // nothing either.
    for subject in ["unverified|impostor", "unsaid|impostor"] {
        let (status, body) = session_answer(&app, &issuer.token(subject, None)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("email_unverified")),
            "{subject}: {body}"
        );
    }
    // A token with an email but no claim: userinfo decides (here: not verified).
    let mut claims = issuer.claims("unverified|quiet", Some("bob@example.com"));
    claims.as_object_mut().unwrap().remove("email_verified");
    let (status, _) = session_answer(
        &app,
        &issuer.sign(&claims, jsonwebtoken::Algorithm::RS256, "rsa-1"),
    )
    .await;
    assert_eq!(status, 403, "userinfo said not verified");

    // None of them became a person: only bob has bob's address.
    let rows = app
        .db()
        .await
        .query("SELECT id::text FROM users", &[])
        .await
        .unwrap();
    let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, vec![bob.id.clone()]);

    // A verified email signs in, from the token or (the claim missing there) from userinfo.
    let (status, _) = session_answer(
        &app,
        &issuer.token("auth0|carol", Some("carol@example.com")),
    )
    .await;
    assert_eq!(status, 201);
    let mut claims = issuer.claims("auth0|dave", Some("dave@example.com"));
    claims.as_object_mut().unwrap().remove("email_verified");
    let (status, body) = session_answer(
        &app,
        &issuer.sign(&claims, jsonwebtoken::Algorithm::RS256, "rsa-1"),
    )
    .await;
    assert_eq!(
        (status, body["user"]["email"].as_str()),
        (201, Some("auth0|dave@userinfo.test"))
    );
}

#[actix_web::test]
async fn a_provider_that_never_sends_email_verified_can_be_trusted_explicitly() {
    let app = spawn_app_with(|s| {
        s.oidc.email_verified = banter::identity::EmailVerifiedPolicy::IfPresent;
    })
    .await;
    let issuer = &app.issuer;
    let mut unsaid = issuer.claims("corp|erin", Some("erin@example.com"));
    unsaid.as_object_mut().unwrap().remove("email_verified");
    let (status, body) = session_answer(
        &app,
        &issuer.sign(&unsaid, jsonwebtoken::Algorithm::RS256, "rsa-1"),
    )
    .await;
    assert_eq!(
        (status, body["user"]["email"].as_str()),
        (201, Some("erin@example.com")),
        "{body}"
    );
    // Said to be unverified is refused all the same.
    let mut unverified = issuer.claims("corp|mallory", Some("erin@example.com"));
    unverified["email_verified"] = json!(false);
    let (status, _) = session_answer(
        &app,
        &issuer.sign(&unverified, jsonwebtoken::Algorithm::RS256, "rsa-1"),
    )
    .await;
    assert_eq!(status, 403);
}

/// The id `banter token`'s output is for, or its error.
async fn minted_for(app: &TestApp, output: std::process::Output) -> Result<String, String> {
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let (status, me) = app.get("/api/me", &token).await;
    assert_eq!(status, 200, "{me}");
    Ok(me["id"].as_str().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn banter_token_mints_for_the_configured_issuers_person_only() {
    let app = spawn_app().await;
    // Someone of another provider (an old tenant) had alice's address first.
    let pool = banter::db::connect(&app.database_url, 1).await.unwrap();
    let other = banter::db::users::upsert(
        &pool,
        "https://old-tenant.example/",
        "x|1",
        "alice@example.com",
        None,
    )
    .await
    .unwrap();
    let alice = app.sign_in("alice@example.com").await;
    assert_ne!(other.id.to_string(), alice.id);

    let env = app.operator_env();
    let minted = minted_for(
        &app,
        app.banter_token(&["--email", "Alice@Example.com"], &env)
            .await,
    )
    .await;
    assert_eq!(
        minted,
        Ok(alice.id.clone()),
        "the configured issuer's alice, not the oldest"
    );

    // Two logins of the same provider with one address: no guessing.
    let bob1 = app.sign_in("bob@example.com").await;
    let token = app
        .issuer
        .token("google-oauth2|bob", Some("bob@example.com"));
    assert_eq!(app.post_session(&token).await.status(), 201);
    let refused = minted_for(
        &app,
        app.banter_token(&["--email", "bob@example.com"], &env)
            .await,
    )
    .await;
    let message = refused.expect_err("two people have bob's address");
    assert!(
        message.contains("2 people") && message.contains("--user-id") && message.contains(&bob1.id),
        "{message}"
    );
    let minted = minted_for(&app, app.banter_token(&["--user-id", &bob1.id], &env).await).await;
    assert_eq!(minted, Ok(bob1.id.clone()));

    // Without the issuer, an address people sign in with through a provider is refused
    // rather than given to a new double.
    let no_issuer: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != "OIDC_ISSUER")
        .cloned()
        .collect();
    let refused = minted_for(
        &app,
        app.banter_token(&["--email", "alice@example.com"], &no_issuer)
            .await,
    )
    .await;
    assert!(refused.expect_err("no issuer").contains("OIDC_ISSUER"));
    let (count,): (i64,) = {
        let row = app
            .db()
            .await
            .query_one(
                "SELECT count(*) FROM users WHERE lower(email) = 'alice@example.com'",
                &[],
            )
            .await
            .unwrap();
        (row.get(0),)
    };
    assert_eq!(count, 2, "no third alice");
}
