use crate::helpers::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

#[actix_web::test]
async fn a_provider_token_is_exchanged_for_a_session_that_the_api_accepts() {
    let app = spawn_app().await;
    let provider = app.issuer.token("auth0|alice", Some("alice@example.com"));
    let response = app.post_session(&provider).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert!(body["expires_at"].as_str().unwrap().contains('T'));

    let (status, me) = app.get("/api/me", body["token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(me, body["user"]);
}

#[actix_web::test]
async fn signing_in_twice_finds_the_same_user() {
    let app = spawn_app().await;
    let first = app.sign_in("alice@example.com").await;
    let second = app.sign_in("alice@example.com").await;
    assert_eq!(first.id, second.id);
}

#[actix_web::test]
async fn an_es256_token_with_a_string_audience_is_accepted() {
    let app = spawn_app().await;
    let mut claims = app.issuer.claims("auth0|ec", Some("ec@example.com"));
    claims["aud"] = json!(AUDIENCE); // a single audience as a plain string
    let token = app.issuer.sign(&claims, Algorithm::ES256, "ec-1");
    assert_eq!(app.post_session(&token).await.status(), 201);
}

#[actix_web::test]
async fn without_an_email_claim_the_email_comes_from_userinfo() {
    let app = spawn_app().await;
    let token = app.issuer.token("auth0|quiet", None);
    let response = app.post_session(&token).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "auth0|quiet@userinfo.test");
}

async fn assert_refused(app: &TestApp, token: &str, why: &str) {
    let response = app.post_session(token).await;
    assert_eq!(response.status(), 401, "{why}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{why}");
}

#[actix_web::test]
async fn every_bad_provider_token_is_refused() {
    let app = spawn_app().await;
    let issuer = &app.issuer;
    let now = chrono::Utc::now().timestamp();

    let mut expired = issuer.claims("auth0|x", Some("x@example.com"));
    expired["exp"] = json!(now - 600);
    assert_refused(
        &app,
        &issuer.sign(&expired, Algorithm::RS256, "rsa-1"),
        "expired",
    )
    .await;

    let mut early = issuer.claims("auth0|x", Some("x@example.com"));
    early["nbf"] = json!(now + 600);
    assert_refused(
        &app,
        &issuer.sign(&early, Algorithm::RS256, "rsa-1"),
        "not yet valid",
    )
    .await;

    let mut wrong_iss = issuer.claims("auth0|x", Some("x@example.com"));
    wrong_iss["iss"] = json!(issuer.issuer.trim_end_matches('/'));
    assert_refused(
        &app,
        &issuer.sign(&wrong_iss, Algorithm::RS256, "rsa-1"),
        "issuer without its slash",
    )
    .await;

    let mut wrong_aud = issuer.claims("auth0|x", Some("x@example.com"));
    wrong_aud["aud"] = json!("https://another.api");
    assert_refused(
        &app,
        &issuer.sign(&wrong_aud, Algorithm::RS256, "rsa-1"),
        "wrong audience",
    )
    .await;

    let claims = issuer.claims("auth0|x", Some("x@example.com"));
    assert_refused(
        &app,
        &issuer.sign(&claims, Algorithm::RS256, "stranger"),
        "unknown kid",
    )
    .await;

    // alg none: a header and payload with an empty signature.
    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"})),
        b64(&claims)
    );
    assert_refused(&app, &none, "alg none").await;

    // HS256 keyed with the issuer's public key: the classic algorithm confusion.
    let public = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/issuer_rsa_public.pem"
    ))
    .unwrap();
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_refused(&app, &confused, "HS256 with the public key").await;

    assert_refused(&app, "not-a-jwt", "garbage").await;
}

#[actix_web::test]
async fn an_unknown_kid_refetches_the_keys_at_most_once_a_minute() {
    let app = spawn_app().await;
    app.sign_in("alice@example.com").await;
    let before = app
        .issuer
        .jwks_fetches
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        before, 1,
        "the keys were fetched once, at start-up, and not again by the first sign-in"
    );
    let claims = app.issuer.claims("auth0|x", Some("x@example.com"));
    for _ in 0..3 {
        let token = app.issuer.sign(&claims, Algorithm::RS256, "stranger");
        assert_eq!(app.post_session(&token).await.status(), 401);
    }
    let after = app
        .issuer
        .jwks_fetches
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        after, before,
        "unknown kids within a minute of the last fetch do not refetch"
    );
}

#[actix_web::test]
async fn a_tampered_or_expired_session_token_is_refused() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;

    let mut tampered = alice.token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, body) = app.get("/api/me", &tampered).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");

    // A token minted by the same root key but already expired (expiry rounds up to a second).
    let keys = banter::startup::session_keys(
        &pool(&app).await,
        None,
        app.settings.root_key_encryption.as_ref(),
    )
    .await
    .unwrap();
    let user = banter::domain::User {
        id: banter::domain::UserId::parse(&alice.id).unwrap(),
        email: alice.email.clone(),
        name: None,
    };
    let (expired, _) = keys.mint(&user, std::time::Duration::ZERO).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/me", &expired).await.0, 401);

    let mut ws = Ws::connect(&app.ws_url).await;
    ws.send(json!({"type": "auth", "token": expired})).await;
    assert_eq!(ws.closed().await, Closed::Code(4401));
}

async fn pool(app: &TestApp) -> banter::db::Pool {
    banter::db::connect(&app.database_url, 1).await.unwrap()
}

#[actix_web::test]
async fn config_tells_the_web_client_where_to_sign_in() {
    let app = spawn_app().await;
    let body: Value = app
        .http
        .get(format!("{}/api/config", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["issuer"], app.issuer.issuer);
    assert_eq!(body["audience"], AUDIENCE);
    assert_eq!(body["client_id"], "banter-web");
}

#[actix_web::test]
async fn banter_token_mints_a_session_for_an_existing_or_new_user() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let output = app
        .banter_token(
            &["--email", "alice@example.com", "--ttl", "1h"],
            &app.operator_env(),
        )
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let (status, me) = app.get("/api/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        me["id"], alice.id,
        "the operator's token is for the same person"
    );

    // A new person needs no issuer: only the database (and the key).
    let env: Vec<_> = app
        .operator_env()
        .into_iter()
        .filter(|(k, _)| *k != "OIDC_ISSUER")
        .collect();
    let output = app
        .banter_token(&["--email", "loadtest-1@example.com"], &env)
        .await;
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let (status, me) = app.get("/api/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "loadtest-1@example.com");
}

#[actix_web::test]
async fn banter_token_mints_many_at_once_as_json_lines_a_script_can_use() {
    let app = spawn_app().await;
    let env = app.operator_env();
    let lines = |output: std::process::Output| -> Vec<serde_json::Value> {
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    let minted = lines(
        app.banter_token(&["--count", "3", "--prefix", "load", "--ttl", "1h"], &env)
            .await,
    );
    let emails: Vec<&str> = minted
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        vec![
            "load-1@example.com",
            "load-2@example.com",
            "load-3@example.com"
        ]
    );
    for m in &minted {
        let (status, me) = app.get("/api/me", m["token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!((&me["id"], &me["email"]), (&m["user_id"], &m["email"]));
        let expires: chrono::DateTime<chrono::Utc> =
            m["expires_at"].as_str().unwrap().parse().unwrap();
        let left = expires - chrono::Utc::now();
        // Biscuit expiries have whole seconds, rounded up.
        let most = chrono::Duration::hours(1) + chrono::Duration::seconds(1);
        assert!(
            left > chrono::Duration::minutes(55) && left <= most,
            "{left}"
        );
    }

    // From a file of emails; the same person again gets the same id.
    let file = std::env::temp_dir().join(format!("banter-emails-{}", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        "# staging testers\nload-2@example.com\n\nqa@example.com\n",
    )
    .unwrap();
    let from_file = lines(
        app.banter_token(&["--emails-from", file.to_str().unwrap()], &env)
            .await,
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(from_file.len(), 2);
    assert_eq!(from_file[0]["user_id"], minted[1]["user_id"]);
    assert_eq!(from_file[1]["email"], "qa@example.com");

    // One token as a JSON line on request, as the bare token otherwise.
    let one = lines(
        app.banter_token(&["--email", "qa@example.com", "--json"], &env)
            .await,
    );
    assert_eq!(one[0]["user_id"], from_file[1]["user_id"]);
    // Asking for nobody is a usage error, not an empty success.
    assert!(!app.banter_token(&[], &env).await.status.success());
}
