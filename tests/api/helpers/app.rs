//! The app under test: spawned on port 0 with a fresh database and its own issuer, the
//! people signed in to it, and the requests and windows tests make against it.

use super::{Node, RedisKeys, TestDatabase, TestIssuer, Ws, AUDIENCE, FIXTURES, WAIT};
use banter::configuration::{Limits, OidcSettings, Settings};
use banter::identity::KeyEncryptionKey;
use banter::startup::Application;
use serde_json::{json, Value};
use std::time::Duration;

pub struct TestApp {
    pub address: String,
    pub ws_url: String,
    pub port: u16,
    pub database_url: String,
    /// What the app was built with; peers (other nodes) start from it.
    pub settings: Settings,
    /// Removes the test's Redis keys at the end.
    _redis_keys: Option<RedisKeys>,
    /// Dropped last: the database outlives the test's use of it.
    _database: TestDatabase,
    pub issuer: TestIssuer,
    pub http: reqwest::Client,
}

/// A signed-in person: their session token and id.
#[derive(Debug, Clone)]
pub struct Person {
    pub token: String,
    pub id: String,
    pub email: String,
}

/// The key that seals the root key in every test's database (`ROOT_KEY_ENCRYPTION_KEY`).
pub const TEST_ROOT_KEY_ENCRYPTION_KEY: &str =
    "6b65792d656e6372797074696f6e2d6b65792d666f722d7465737473210a0a0a";
/// `METRICS_TOKEN` of every test node: `/metrics` answers requests bearing it.
pub const TEST_METRICS_TOKEN: &str = "metrics-token-of-the-tests";

pub fn test_settings(database_url: &str, issuer: &str) -> Settings {
    Settings {
        host: "127.0.0.1".into(),
        port: 0,
        database_url: database_url.to_owned(),
        database_pool_size: 10,
        statement_timeout: Duration::from_secs(5),
        write_statement_timeout: Duration::from_secs(10),
        shutdown_timeout: Duration::from_secs(25),
        redis_url: None,
        redis_tls: Default::default(),
        redis_key_prefix: "banter:".into(),
        heartbeat_interval: Duration::from_secs(3),
        node_ttl: Duration::from_secs(10),
        oidc: OidcSettings {
            issuer: issuer.to_owned(),
            audience: AUDIENCE.into(),
            client_id: Some("banter-web".into()),
            email_verified: Default::default(),
        },
        biscuit_private_key: None,
        root_key_encryption: KeyEncryptionKey::from_hex(TEST_ROOT_KEY_ENCRYPTION_KEY),
        allowed_origins: None,
        static_dir: format!("{FIXTURES}/static").into(),
        node_id: "test".into(),
        trusted_proxies: 0,
        metrics_token: Some(TEST_METRICS_TOKEN.into()),
        limits: Limits::default(),
        retention: None,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app on port 0 with a fresh database; `tweak` adjusts settings first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .is_test(true)
        .try_init();
    let issuer = TestIssuer::start().await;
    let database = TestDatabase::create().await;
    let database_url = database.url.clone();
    let mut settings = test_settings(&database_url, &issuer.issuer);
    tweak(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("the app builds");
    let port = app.port();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        ws_url: format!("ws://127.0.0.1:{port}/ws"),
        port,
        database_url,
        _redis_keys: settings.redis_url.clone().map(|url| RedisKeys {
            url,
            tls: settings.redis_tls.clone(),
            prefix: settings.redis_key_prefix.clone(),
        }),
        settings,
        _database: database,
        issuer,
        http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
    }
}

impl TestApp {
    /// Exchanges a provider token for a session (signing the person up on first sight).
    pub async fn sign_in(&self, email: &str) -> Person {
        self.sign_in_at(&self.address, email).await
    }

    /// [`TestApp::sign_in`] through the HTTP API at `address` (another node, a balancer).
    pub async fn sign_in_at(&self, address: &str, email: &str) -> Person {
        let provider = self.issuer.token(&format!("sub|{email}"), Some(email));
        let response = self
            .http
            .post(format!("{address}/api/session"))
            .bearer_auth(&provider)
            .send()
            .await
            .expect("POST /api/session");
        assert_eq!(response.status(), 201, "sign-in of {email}");
        let body: Value = response.json().await.unwrap();
        Person {
            token: body["token"].as_str().unwrap().to_owned(),
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
        }
    }

    pub async fn post_session(&self, provider_token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/session", self.address))
            .bearer_auth(provider_token)
            .send()
            .await
            .expect("POST /api/session")
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Opens a window for `person`: connects, authenticates, and reads `ready`.
    pub async fn window(&self, person: &Person) -> (Ws, Value) {
        let mut ws = Ws::connect(&self.ws_url).await;
        ws.send(json!({"type": "auth", "token": person.token}))
            .await;
        let ready = ws.recv_type("ready").await;
        (ws, ready)
    }

    /// `POST /api/conversations/{conversation}/messages`.
    pub async fn post_message(
        &self,
        token: &str,
        conversation: &str,
        body: &str,
        client_id: &str,
    ) -> (u16, Value) {
        let path = format!("/api/conversations/{conversation}/messages");
        let payload = json!({"body": body, "client_id": client_id});
        self.send_json(reqwest::Method::POST, &path, token, Some(payload))
            .await
    }

    /// `PUT /api/blocks/{blocked}` as `blocker`, which must succeed.
    pub async fn block(&self, blocker: &Person, blocked: &Person) {
        let path = format!("/api/blocks/{}", blocked.id);
        let (status, body) = self
            .send_json(reqwest::Method::PUT, &path, &blocker.token, None)
            .await;
        assert_eq!(
            status, 200,
            "{} blocks {}: {body}",
            blocker.email, blocked.email
        );
    }

    /// `POST /api/direct/{peer}` (get or create), as `token`'s person.
    pub async fn open_direct(&self, token: &str, peer: &str) -> (u16, Value) {
        self.send_json(
            reqwest::Method::POST,
            &format!("/api/direct/{peer}"),
            token,
            None,
        )
        .await
    }

    /// `POST /api/rooms` as `token`'s person, who becomes its first member; the room's id.
    pub async fn post_room(&self, token: &str, name: &str) -> String {
        let body = json!({"name": name});
        let (status, created) = self
            .send_json(reqwest::Method::POST, "/api/rooms", token, Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created["room"]["id"]
            .as_str()
            .expect("a room id")
            .to_owned()
    }

    /// `POST /api/rooms/{room}/join` (a room without a password) as `token`'s person.
    pub async fn join_room(&self, token: &str, room: &str) {
        let path = format!("/api/rooms/{room}/join");
        let (status, joined) = self
            .send_json(reqwest::Method::POST, &path, token, None)
            .await;
        assert_eq!(status, 200, "{joined}");
    }

    /// How many messages are stored.
    pub async fn count_messages(&self) -> i64 {
        let row = self
            .db()
            .await
            .query_one("SELECT count(*) FROM messages", &[])
            .await;
        row.expect("count messages").get(0)
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.node().metrics(&self.http).await
    }

    /// Another node of the same deployment (same database, issuer and Redis) in this
    /// process, named `node`.
    pub async fn spawn_peer(&self, node: &str) -> Node {
        let mut settings = self.settings.clone();
        settings.node_id = node.to_owned();
        let app = Application::build(settings).await.expect("the peer builds");
        let port = app.port();
        actix_web::rt::spawn(app.run_until_stopped());
        let node = Node {
            address: format!("http://127.0.0.1:{port}"),
            ws_url: format!("ws://127.0.0.1:{port}/ws"),
        };
        node.wait_ready(&self.http).await;
        node
    }

    /// The environment for a peer node in its own process named `node`: this app's
    /// issuer, and its Redis and key prefix when it is clustered.
    pub fn peer_env(&self, node: &str) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("OIDC_ISSUER", self.issuer.issuer.clone()),
            ("NODE_ID", node.to_owned()),
            (
                "ROOT_KEY_ENCRYPTION_KEY",
                TEST_ROOT_KEY_ENCRYPTION_KEY.to_owned(),
            ),
            ("METRICS_TOKEN", TEST_METRICS_TOKEN.to_owned()),
        ];
        if let Some(url) = &self.settings.redis_url {
            env.push(("REDIS_URL", url.clone()));
            env.push(("REDIS_KEY_PREFIX", self.settings.redis_key_prefix.clone()));
        }
        env
    }

    /// What an operator's `banter token` (or `chat --email`, `bench`) needs to mint for
    /// this deployment: its database, its issuer and the key that seals its root key.
    pub fn operator_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", self.database_url.clone()),
            ("OIDC_ISSUER", self.issuer.issuer.clone()),
            (
                "ROOT_KEY_ENCRYPTION_KEY",
                TEST_ROOT_KEY_ENCRYPTION_KEY.to_owned(),
            ),
        ]
    }

    /// Runs `banter token <args>` with `env` (and nothing else of ours) to completion.
    pub async fn banter_token(
        &self,
        args: &[&str],
        env: &[(&str, String)],
    ) -> std::process::Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_banter"));
        command.arg("token").args(args).env("RUST_LOG", "warn");
        for name in [
            "DATABASE_URL",
            "OIDC_ISSUER",
            "BISCUIT_PRIVATE_KEY",
            "ROOT_KEY_ENCRYPTION_KEY",
        ] {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        tokio::time::timeout(WAIT, command.output())
            .await
            .expect("banter token finishes")
            .expect("banter token runs")
    }

    /// This app as a [`Node`].
    pub fn node(&self) -> Node {
        Node {
            address: self.address.clone(),
            ws_url: self.ws_url.clone(),
        }
    }

    /// Opens a window for `person` on `node`.
    pub async fn window_at(&self, node: &Node, person: &Person) -> (Ws, Value) {
        let mut ws = Ws::connect(&node.ws_url).await;
        ws.send(json!({"type": "auth", "token": person.token}))
            .await;
        let ready = ws.recv_type("ready").await;
        (ws, ready)
    }

    /// A direct database connection for assertions.
    pub async fn db(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
        actix_web::rt::spawn(connection);
        client
    }
}
