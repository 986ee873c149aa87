//! Redis for the tests: the shared server (its URL, a key prefix per test, and the clean-up
//! of a test's keys) and private redis-servers that a test may kill and restart.

use super::WAIT;
use std::time::Duration;

/// The Redis the cluster tests share (each with its own key prefix).
pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A Redis key prefix of the test's own.
pub fn test_prefix() -> String {
    format!("banter-test-{}:", uuid::Uuid::new_v4().simple())
}

/// Redis pub/sub on `channels` of the shared test Redis, for watching what nodes publish.
pub async fn watch(channels: &[String]) -> redis::aio::PubSub {
    let client = redis::Client::open(test_redis_url()).expect("redis URL");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe(channels).await.expect("subscribe");
    pubsub
}

/// The next envelope published on `pubsub`'s channels, within the wait: (channel,
/// envelope as JSON).
pub async fn next_envelope(pubsub: &mut redis::aio::PubSub) -> (String, serde_json::Value) {
    use futures_util::StreamExt;
    let message = tokio::time::timeout(WAIT, pubsub.on_message().next())
        .await
        .expect("a publish within the wait")
        .expect("pubsub open");
    let envelope = serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
    (message.get_channel_name().to_owned(), envelope)
}

/// A test's keys in a shared Redis, deleted when the test ends.
pub struct RedisKeys {
    pub(super) url: String,
    pub(super) tls: banter::configuration::RedisTls,
    pub(super) prefix: String,
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let (url, tls) = (self.url.clone(), self.tls.clone());
        let pattern = format!("{}*", self.prefix);
        // A private server may already be gone; then there is nothing to clean.
        let _ = std::thread::spawn(move || -> Option<()> {
            let client = banter::cluster::mirror::redis_client(&url, &tls).ok()?;
            let mut conn = client
                .get_connection_with_timeout(Duration::from_secs(2))
                .ok()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn).ok()?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).exec(&mut conn).ok()?;
            }
            Some(())
        })
        .join();
    }
}

/// A private redis-server on a port of its own, for outage and TLS tests.
pub struct RedisServer {
    child: std::process::Child,
    pub port: u16,
    args: Vec<String>,
}

impl RedisServer {
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
