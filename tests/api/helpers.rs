//! Test harness: a throwaway database per test, an in-test OpenID Connect issuer (the one
//! outside party we stand in for), the app on port 0, and WebSocket clients whose every
//! wait has a timeout.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use banter::configuration::{Limits, OidcSettings, Settings};
use banter::startup::Application;
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);
pub const AUDIENCE: &str = "https://api.banter.test";

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The maintenance database URL throwaway databases are created from.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A throwaway database, dropped when the test ends well (kept for a post-mortem when it
/// fails; `scripts/test.sh` clears leftovers before each run).
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin = admin_database_url();
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .expect("connect to the maintenance database");
        actix_web::rt::spawn(connection);
        let name = format!("banter_test_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let mut url = url::Url::parse(&admin).expect("admin url");
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept database {} of the failed test", self.name);
            return;
        }
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&admin_database_url(), tokio_postgres::NoTls)
                        .await
                        .ok()?;
                tokio::spawn(connection);
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                tokio::time::timeout(WAIT, client.batch_execute(&sql))
                    .await
                    .ok()?
                    .ok()
            })
        })
        .join();
    }
}

/// An OpenID Connect issuer on a random port with its own RSA and EC keys.
pub struct TestIssuer {
    /// The issuer exactly as tokens carry it (with a trailing slash, like Auth0's).
    pub issuer: String,
    pub jwks_fetches: Arc<AtomicUsize>,
    rsa: EncodingKey,
    ec: EncodingKey,
    stranger: EncodingKey,
}

impl TestIssuer {
    pub async fn start() -> TestIssuer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}/");
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let jwks: Value = serde_json::from_slice(&fixture("issuer_jwks.json")).unwrap();
        let (iss, fetches) = (issuer.clone(), jwks_fetches.clone());
        let server = HttpServer::new(move || {
            let (iss, fetches, jwks) = (iss.clone(), fetches.clone(), jwks.clone());
            App::new()
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let iss = iss.clone();
                        async move {
                            HttpResponse::Ok().json(json!({
                                "issuer": iss,
                                "jwks_uri": format!("{iss}jwks"),
                                "userinfo_endpoint": format!("{iss}userinfo"),
                                "authorization_endpoint": format!("{iss}authorize"),
                                "token_endpoint": format!("{iss}token"),
                            }))
                        }
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(move || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
                .route("/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        TestIssuer {
            issuer,
            jwks_fetches,
            rsa: EncodingKey::from_rsa_pem(&fixture("issuer_rsa.pem")).unwrap(),
            ec: EncodingKey::from_ec_pem(&fixture("issuer_ec.pem")).unwrap(),
            stranger: EncodingKey::from_rsa_pem(&fixture("stranger_rsa.pem")).unwrap(),
        }
    }

    /// Standard claims for `subject`, valid for five minutes.
    pub fn claims(&self, subject: &str, email: Option<&str>) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.issuer, "sub": subject, "aud": [AUDIENCE, format!("{}userinfo", self.issuer)],
            "iat": now, "nbf": now, "exp": now + 300,
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
        }
        claims
    }

    /// An RS256 access token signed by the issuer's published key.
    pub fn token(&self, subject: &str, email: Option<&str>) -> String {
        self.sign(&self.claims(subject, email), Algorithm::RS256, "rsa-1")
    }

    /// Signs `claims` with the issuer's key for `alg` (or a stranger's for kid "stranger").
    pub fn sign(&self, claims: &Value, alg: Algorithm, kid: &str) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        let key = match (kid, alg) {
            ("stranger", _) => &self.stranger,
            (_, Algorithm::ES256) => &self.ec,
            _ => &self.rsa,
        };
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }
}

/// Userinfo answers for any bearer with an email derived from the token's subject.
async fn userinfo(req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    let payload = token.split('.').nth(1).unwrap_or_default();
    use base64::Engine as _;
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    match claims["sub"].as_str() {
        Some(sub) => {
            HttpResponse::Ok().json(json!({ "sub": sub, "email": format!("{sub}@userinfo.test") }))
        }
        None => HttpResponse::Unauthorized().finish(),
    }
}

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

pub fn test_settings(database_url: &str, issuer: &str) -> Settings {
    Settings {
        host: "127.0.0.1".into(),
        port: 0,
        database_url: database_url.to_owned(),
        database_pool_size: 10,
        redis_url: None,
        redis_key_prefix: "banter:".into(),
        heartbeat_interval: Duration::from_secs(3),
        node_ttl: Duration::from_secs(10),
        oidc: OidcSettings {
            issuer: issuer.to_owned(),
            audience: AUDIENCE.into(),
            client_id: Some("banter-web".into()),
        },
        biscuit_private_key: None,
        allowed_origins: None,
        static_dir: format!("{FIXTURES}/static").into(),
        node_id: "test".into(),
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
        let provider = self.issuer.token(&format!("sub|{email}"), Some(email));
        let response = self.post_session(&provider).await;
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
        let response = self
            .http
            .get(format!("{}/metrics", self.address))
            .send()
            .await;
        response
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
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
        ];
        if let Some(url) = &self.settings.redis_url {
            env.push(("REDIS_URL", url.clone()));
            env.push(("REDIS_KEY_PREFIX", self.settings.redis_key_prefix.clone()));
        }
        env
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

/// A WebSocket client for tests.
pub struct Ws {
    inner: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    Code(u16),
    WithoutCode,
}

impl Ws {
    pub async fn connect(url: &str) -> Ws {
        Self::connect_request(url.into_client_request().unwrap()).await
    }

    pub async fn connect_request(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Ws {
        let (inner, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("connect");
        Ws { inner }
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        tokio::time::timeout(WAIT, self.inner.send(WsMessage::Text(text)))
            .await
            .expect("send in time")
            .expect("send");
    }

    pub async fn send_raw(&mut self, message: WsMessage) {
        let _ = tokio::time::timeout(WAIT, self.inner.send(message)).await;
    }

    /// The next JSON text frame; pings and pongs are skipped.
    pub async fn recv(&mut self) -> Value {
        self.try_recv(WAIT).await.expect("a frame in time")
    }

    /// The next JSON frame within `within`, or `None`.
    pub async fn try_recv(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .ok()??;
            match next {
                Ok(WsMessage::Text(text)) => {
                    return Some(serde_json::from_str(&text).expect("JSON frame"))
                }
                Ok(WsMessage::Close(frame)) => panic!("socket closed unexpectedly: {frame:?}"),
                Ok(_) => continue,
                Err(e) => panic!("socket error: {e}"),
            }
        }
    }

    /// The next JSON frame, or `None` once the socket is closed or broken; panics if
    /// neither happens within `within`.
    pub async fn try_recv_until_closed(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("socket neither spoke nor closed in time"),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Some(serde_json::from_str(&text).expect("JSON frame"))
                }
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next JSON frame, or the close code if the server closes the socket first.
    pub async fn next_or_close(&mut self, within: Duration) -> Result<Value, Closed> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("socket neither spoke nor closed in time"),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Ok(serde_json::from_str(&text).expect("JSON frame"))
                }
                Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
                    return Err(Closed::Code(u16::from(frame.code)))
                }
                Ok(Some(Ok(WsMessage::Close(None)))) | Ok(Some(Err(_))) | Ok(None) => {
                    return Err(Closed::WithoutCode)
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next frame of `kind`, skipping others (presence noise, typing...).
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .try_recv(left)
                .await
                .unwrap_or_else(|| panic!("no {kind} frame in time"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts no frame of `kind` arrives within `within`.
    pub async fn assert_no(&mut self, kind: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv(left).await {
                None => return,
                Some(frame) if frame["type"] == kind => panic!("unexpected {kind}: {frame}"),
                Some(_) => continue,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Closed {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("socket not closed in time"),
                Ok(None) | Ok(Some(Err(_))) => return Closed::WithoutCode,
                Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
                    return Closed::Code(u16::from(frame.code))
                }
                Ok(Some(Ok(WsMessage::Close(None)))) => return Closed::WithoutCode,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(WAIT, self.inner.close(None)).await;
        // Read until the server answers the close, so the server has seen it.
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(m)) = self.inner.next().await {
                if m.is_close() {
                    break;
                }
            }
        })
        .await;
    }
}

/// The ids of the users in a JSON list of users.
pub fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

pub fn new_client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// One node of a deployment under test.
#[derive(Debug, Clone)]
pub struct Node {
    pub address: String,
    pub ws_url: String,
}

impl Node {
    /// Waits (bounded) until `/readyz` says the node is ready (Postgres, and the Redis
    /// mirror in sync).
    pub async fn wait_ready(&self, http: &reqwest::Client) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(r) = http.get(format!("{}/readyz", self.address)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not become ready",
                self.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The ids in `GET /api/users/online` on this node, as `token`'s person sees it.
    pub async fn online_ids(&self, http: &reqwest::Client, token: &str) -> Vec<String> {
        let r = http
            .get(format!("{}/api/users/online", self.address))
            .bearer_auth(token)
            .send()
            .await;
        let body: Value = r
            .expect("GET /api/users/online")
            .json()
            .await
            .expect("JSON");
        ids(&body["users"])
    }

    pub async fn ready_status(&self, http: &reqwest::Client) -> u16 {
        http.get(format!("{}/readyz", self.address))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

/// The Redis the cluster tests share (each with its own key prefix).
pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Settings for a node of a test cluster: Redis, a prefix of the test's own, and short
/// heartbeats so dead nodes are noticed quickly.
pub fn cluster(settings: &mut Settings, redis_url: &str, prefix: &str, node: &str) {
    settings.redis_url = Some(redis_url.to_owned());
    settings.redis_key_prefix = prefix.to_owned();
    settings.node_id = node.to_owned();
    settings.heartbeat_interval = Duration::from_millis(200);
    settings.node_ttl = Duration::from_millis(1000);
    settings.limits.gap_timeout = Duration::from_millis(300);
}

pub fn test_prefix() -> String {
    format!("banter-test-{}:", uuid::Uuid::new_v4().simple())
}

/// A private redis-server on a port of its own, for outage and TLS tests.
pub struct RedisServer {
    child: std::process::Child,
    pub port: u16,
    args: Vec<String>,
}

impl RedisServer {
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Starts `redis-server` with `args` (a port option among them) and waits until it
    /// accepts connections on `port`.
    pub async fn start(port: u16, args: Vec<String>) -> RedisServer {
        let child = Self::spawn(&args);
        let server = RedisServer { child, port, args };
        server.wait_listening().await;
        server
    }

    fn spawn(args: &[String]) -> std::process::Child {
        std::process::Command::new("redis-server")
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs")
    }

    async fn wait_listening(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port, empty (it keeps nothing on disk).
    pub async fn restart(&mut self) {
        self.kill();
        self.child = Self::spawn(&self.args);
        self.wait_listening().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server in its own process, so it can be killed without ceremony.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub port: u16,
}

impl ServerProcess {
    /// Starts the `banter` binary on `port` with `env` over the basics, retrying while a
    /// just-killed predecessor still holds the port, and waits for `/healthz`.
    pub async fn start(database_url: &str, port: u16, env: Vec<(&str, String)>) -> ServerProcess {
        let deadline = tokio::time::Instant::now() + WAIT;
        let http = reqwest::Client::new();
        loop {
            let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_banter"));
            command
                .arg("serve")
                .env("DATABASE_URL", database_url)
                .env("OIDC_AUDIENCE", AUDIENCE)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true);
            for (name, value) in &env {
                command.env(name, value);
            }
            let mut server = ServerProcess {
                child: command.spawn().expect("start the server binary"),
                port,
            };
            while tokio::time::Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // exited (port still taken): start another
                }
                if let Ok(r) = http
                    .get(format!("http://127.0.0.1:{port}/healthz"))
                    .send()
                    .await
                {
                    if r.status().is_success() {
                        return server;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = server.child.start_kill();
            assert!(
                tokio::time::Instant::now() < deadline,
                "server did not come up on port {port}"
            );
        }
    }

    pub fn node(&self) -> Node {
        Node {
            address: format!("http://127.0.0.1:{}", self.port),
            ws_url: format!("ws://127.0.0.1:{}/ws", self.port),
        }
    }

    /// SIGTERM: the polite stop every deploy sends.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    }

    /// SIGKILL, and wait until it is gone.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("kill the server");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the server died in time")
            .expect("wait for the server");
    }
}

/// A test's keys in a shared Redis, deleted when the test ends.
pub struct RedisKeys {
    url: String,
    prefix: String,
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        // A private server may already be gone; then there is nothing to clean.
        let _ = std::thread::spawn(move || -> redis::RedisResult<()> {
            let client = redis::Client::open(banter::cluster::mirror::client_url(&url))?;
            let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).exec(&mut conn)?;
            }
            Ok(())
        })
        .join();
    }
}

pub fn run(command: &mut std::process::Command) {
    let out = command.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes, in `dir`, a certificate authority (ca.crt, ca.key) and a server certificate
/// (server.crt, server.key) for localhost and 127.0.0.1 that it signed.
pub fn make_certificates(dir: &std::path::Path) {
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.crt");
    run(std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Banter test CA",
        ])
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    let ext = dir.join("ext.cnf");
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(std::process::Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.csr")));
    run(std::process::Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-CAcreateserial"])
        .arg("-in")
        .arg(dir.join("server.csr"))
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(dir.join("server.crt")));
}
