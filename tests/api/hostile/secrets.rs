//! Secrets an operator's copies could leak: the log, and the database (a backup, a dump,
//! a follower) — message bodies, room passwords and their hashes, the session root key.

use crate::helpers::*;
use banter::identity::KeyEncryptionKey;
use serde_json::{json, Value};

/// `method path` on `base` with a Bearer `token` and an optional JSON body.
async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The stored root key, opened with the tests' key-encryption key.
async fn stored_root_key(database_url: &str) -> Vec<u8> {
    let pool = banter::db::connect(database_url, 1).await.unwrap();
    let sealed = banter::db::keys::root_key(&pool)
        .await
        .unwrap()
        .expect("a stored root key");
    KeyEncryptionKey::from_hex(TEST_ROOT_KEY_ENCRYPTION_KEY)
        .unwrap()
        .open(banter::db::keys::ROOT_KEY_NAME, &sealed)
        .expect("sealed with the tests' key")
}

// ---- Item 13 (a): query parameters in the log ----

#[actix_web::test]
async fn secrets_never_reach_the_log_whatever_rust_log_says() {
    let issuer = TestIssuer::start().await;
    let database = TestDatabase::create().await;
    let log = std::env::temp_dir().join(format!("banter-log-{}.txt", uuid::Uuid::new_v4()));
    let env = vec![
        ("OIDC_ISSUER", issuer.issuer.clone()),
        (
            "ROOT_KEY_ENCRYPTION_KEY",
            TEST_ROOT_KEY_ENCRYPTION_KEY.to_owned(),
        ),
        // Everything at debug, and the query module asked for by name at trace.
        ("RUST_LOG", "debug,tokio_postgres::query=trace".to_owned()),
    ];
    // This node is the deployment's first: it also makes and stores the root key.
    let mut server =
        ServerProcess::start_logging_to(&database.url, free_port(), env, Some(&log)).await;
    let base = server.node().address;
    let http = reqwest::Client::new();

    let mut people = Vec::new();
    for name in ["alice", "bob"] {
        let email = format!("{name}@example.com");
        let token = issuer.token(&format!("sub|{name}"), Some(&email));
        let response = http
            .post(format!("{base}/api/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        people.push((
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        ));
    }
    let (alice, bob_id) = (&people[0].0, &people[1].1);
    let post = reqwest::Method::POST;
    let (status, opened) = call(
        &http,
        &base,
        post.clone(),
        &format!("/api/direct/{bob_id}"),
        alice,
        None,
    )
    .await;
    assert!(status == 200 || status == 201, "{opened}");
    let direct = opened["conversation"]["id"]
        .as_str()
        .or_else(|| opened["id"].as_str())
        .expect("a conversation id")
        .to_owned();
    let body = "the-distinctive-body-5d1c9f of a private message";
    let path = format!("/api/conversations/{direct}/messages");
    let message = json!({"body": body, "client_id": new_client_id()});
    let (status, sent) = call(&http, &base, post.clone(), &path, alice, Some(message)).await;
    assert_eq!(status, 201, "{sent}");
    let password = "room-password-7e2a41";
    let room = json!({"name": "secret garden", "password": password});
    let (status, created) = call(&http, &base, post, "/api/rooms", alice, Some(room)).await;
    assert_eq!(status, 201, "{created}");
    let hash: String = {
        let pool = banter::db::connect(&database.url, 1).await.unwrap();
        let conn = pool.get().await.unwrap();
        let row = conn
            .query_one(
                "SELECT password_hash FROM conversations WHERE name = 'secret garden'",
                &[],
            )
            .await
            .unwrap();
        row.get(0)
    };
    let root_key = stored_root_key(&database.url).await;
    server.kill().await;

    let written = std::fs::read_to_string(&log).expect("the server's log");
    let _ = std::fs::remove_file(&log);
    assert!(
        written.contains("level=debug"),
        "the log is at debug:\n{written}"
    );
    for (what, secret) in [
        ("a message body", body.to_owned()),
        ("a room password", password.to_owned()),
        ("a password hash", hash.clone()),
        ("the root key (hex)", hex::encode(&root_key)),
        (
            "the root key (bytes)",
            format!("{root_key:?}").trim_matches(['[', ']']).to_owned(),
        ),
    ] {
        assert!(
            !written.contains(&secret),
            "{what} is in the log:\n{written}"
        );
    }
    assert!(
        !written.contains("$argon2id$"),
        "a password hash is in the log"
    );
}

// ---- Item 13 (b): the session root key at rest ----

/// A database as an earlier release left it: migrated, the root key in plaintext, and
/// a person with a session minted with that key.
async fn database_of_an_earlier_release() -> (TestDatabase, Vec<u8>, String) {
    let database = TestDatabase::create().await;
    let pool = banter::db::connect(&database.url, 1).await.unwrap();
    banter::db::migrations::run(&pool).await.unwrap();
    let plaintext = banter::identity::SessionKeys::generate_private_bytes();
    let conn = pool.get().await.unwrap();
    conn.execute(
        "INSERT INTO server_keys (name, secret) VALUES ('biscuit_root_key', $1)",
        &[&plaintext],
    )
    .await
    .unwrap();
    drop(conn);
    let user = banter::db::users::upsert(&pool, "test", "alice", "alice@example.com", None)
        .await
        .unwrap();
    let keys = banter::identity::SessionKeys::from_private_bytes(&plaintext).unwrap();
    let (token, _) = keys
        .mint(&user, std::time::Duration::from_secs(600))
        .unwrap();
    (database, plaintext, token)
}

/// The root key's row as a raw SQL read sees it.
async fn raw_root_key_row(database_url: &str) -> Option<Vec<u8>> {
    let pool = banter::db::connect(database_url, 1).await.unwrap();
    let conn = pool.get().await.unwrap();
    let row = conn
        .query_opt(
            "SELECT secret FROM server_keys WHERE name = 'biscuit_root_key'",
            &[],
        )
        .await
        .unwrap();
    row.map(|r| r.get(0))
}

/// Starts the app in this process on `database_url` with the tests' settings.
async fn start_app_on(database_url: &str, issuer: &TestIssuer) -> String {
    let settings = test_settings(database_url, &issuer.issuer);
    let app = banter::startup::Application::build(settings)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    address
}

#[actix_web::test]
async fn the_root_key_is_sealed_at_rest_and_a_plaintext_one_is_sealed_in_place() {
    let issuer = TestIssuer::start().await;
    let (database, plaintext, token) = database_of_an_earlier_release().await;

    let address = start_app_on(&database.url, &issuer).await;
    let stored = raw_root_key_row(&database.url)
        .await
        .expect("the row is kept");
    assert!(
        !stored
            .windows(plaintext.len())
            .any(|w| w == plaintext.as_slice()),
        "the stored row still holds the key"
    );
    assert!(stored.starts_with(b"banter-sealed-v1:"));
    // The session minted before is still good: nobody was signed out.
    let http = reqwest::Client::new();
    for node in [address, start_app_on(&database.url, &issuer).await] {
        let (status, me) = call(&http, &node, reqwest::Method::GET, "/api/me", &token, None).await;
        assert_eq!(
            (status, me["email"].as_str()),
            (200, Some("alice@example.com"))
        );
    }
    assert_eq!(
        raw_root_key_row(&database.url).await,
        Some(stored),
        "sealed once"
    );

    // A first start on an empty database stores the new key sealed, too.
    let fresh = TestDatabase::create().await;
    start_app_on(&fresh.url, &issuer).await;
    let stored = raw_root_key_row(&fresh.url).await.expect("a stored key");
    let opened = stored_root_key(&fresh.url).await;
    assert!(!stored.windows(opened.len()).any(|w| w == opened.as_slice()));
}

/// Runs `banter <args>` on `database_url` with `env`, expecting it to exit by itself.
async fn run_to_exit(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_banter"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("OIDC_ISSUER", "http://127.0.0.1:9/")
        .env("OIDC_AUDIENCE", AUDIENCE)
        .env("OIDC_CLIENT_ID", "banter-web")
        .env("HOST", "127.0.0.1")
        .env("PORT", free_port().to_string())
        .env("RUST_LOG", "warn")
        .env_remove("BISCUIT_PRIVATE_KEY")
        .env_remove("ROOT_KEY_ENCRYPTION_KEY")
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(WAIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("banter {args:?} did not exit by itself"))
        .expect("banter runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn a_missing_or_wrong_key_encryption_key_refuses_to_start_and_changes_nothing() {
    let issuer = TestIssuer::start().await;
    let (database, _, _) = database_of_an_earlier_release().await;
    // Without the key, a plaintext root key is neither used nor replaced.
    let before = raw_root_key_row(&database.url).await;
    let (ok, stderr) = run_to_exit(&database.url, &["serve"], &[]).await;
    assert!(
        !ok && stderr.contains("ROOT_KEY_ENCRYPTION_KEY is required"),
        "{stderr}"
    );
    assert!(stderr.contains("sealed at start-up"), "{stderr}");
    assert_eq!(raw_root_key_row(&database.url).await, before);

    start_app_on(&database.url, &issuer).await; // seals it
    let sealed = raw_root_key_row(&database.url).await;
    let wrong = "00".repeat(32);
    for (args, env) in [
        (&["serve"][..], vec![]),
        (
            &["serve"][..],
            vec![("ROOT_KEY_ENCRYPTION_KEY", wrong.as_str())],
        ),
        // Heroku's release phase fails before any dyno of the release starts.
        (
            &["migrate"][..],
            vec![("ROOT_KEY_ENCRYPTION_KEY", wrong.as_str())],
        ),
        (
            &["token", "--email", "alice@example.com"][..],
            vec![("ROOT_KEY_ENCRYPTION_KEY", wrong.as_str())],
        ),
    ] {
        let (ok, stderr) = run_to_exit(&database.url, args, &env).await;
        assert!(!ok, "banter {args:?} went on");
        let expected = if env.is_empty() {
            "is required"
        } else {
            "does not open"
        };
        assert!(
            stderr.contains("ROOT_KEY_ENCRYPTION_KEY") && stderr.contains(expected),
            "banter {args:?}: {stderr}"
        );
        assert_eq!(
            raw_root_key_row(&database.url).await,
            sealed,
            "no new root key"
        );
    }
    let (ok, stderr) = run_to_exit(
        &database.url,
        &["serve"],
        &[("ROOT_KEY_ENCRYPTION_KEY", "not hex")],
    )
    .await;
    assert!(
        !ok && stderr.contains("ROOT_KEY_ENCRYPTION_KEY is malformed"),
        "{stderr}"
    );

    // A first start without the key stores nothing (never a plaintext key).
    let fresh = TestDatabase::create().await;
    let pool = banter::db::connect(&fresh.url, 1).await.unwrap();
    banter::db::migrations::run(&pool).await.unwrap();
    let (ok, stderr) = run_to_exit(&fresh.url, &["serve"], &[]).await;
    assert!(
        !ok && stderr.contains("ROOT_KEY_ENCRYPTION_KEY is required"),
        "{stderr}"
    );
    assert_eq!(raw_root_key_row(&fresh.url).await, None);
}
