//! HAProxy in front of two nodes on one URL, with the configuration `NODES=2 bash
//! scripts/run.sh` uses (dev/haproxy/haproxy.cfg), as Heroku's router is in production.

use super::{free_port, Node, WAIT};
use std::time::Duration;

/// A running HAProxy; stopped when dropped.
pub struct Balancer {
    child: tokio::process::Child,
    pub port: u16,
    /// Where its own complaints go, for the message of a test that fails on it.
    log: std::path::PathBuf,
}

/// The HAProxy binary: on PATH, or where Debian's package puts it.
fn haproxy() -> String {
    std::env::var("HAPROXY").unwrap_or_else(|_| {
        if std::path::Path::new("/usr/sbin/haproxy").exists() {
            "/usr/sbin/haproxy".to_owned()
        } else {
            "haproxy".to_owned()
        }
    })
}

impl Balancer {
    /// Starts HAProxy on a free port in front of the nodes on ports `a` and `b` (named
    /// `a` and `b` in its `X-Banter-Node` header), and waits until it answers.
    pub async fn start(a: u16, b: u16) -> Balancer {
        let port = free_port();
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/dev/haproxy/haproxy.cfg");
        let log = std::env::temp_dir().join(format!("banter-haproxy-{port}.log"));
        let child = tokio::process::Command::new(haproxy())
            .args(["-db", "-f", config])
            .env("BALANCER", format!("127.0.0.1:{port}"))
            .env("NODE_A", format!("127.0.0.1:{a}"))
            .env("NODE_B", format!("127.0.0.1:{b}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create haproxy's log"))
            .kill_on_drop(true)
            .spawn()
            .expect("start haproxy (scripts/test.sh installs it)");
        let mut balancer = Balancer { child, port, log };
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = balancer.child.try_wait() {
                panic!("haproxy exited ({status}): {}", balancer.complaints());
            }
            if balancer.node_answering(&http).await.is_some() {
                return balancer;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "haproxy did not come up on port {port}: {}",
                balancer.complaints()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn complaints(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The one URL clients use.
    pub fn node(&self) -> Node {
        Node {
            address: format!("http://127.0.0.1:{}", self.port),
            ws_url: format!("ws://127.0.0.1:{}/ws", self.port),
        }
    }

    /// Which node answered a `GET /healthz` through the balancer, if one did.
    pub async fn node_answering(&self, http: &reqwest::Client) -> Option<String> {
        let response = http
            .get(format!("{}/healthz", self.node().address))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let node = response.headers().get("x-banter-node")?.to_str().ok()?;
        Some(node.to_owned())
    }

    /// Waits (bounded) until the balancer sends requests to `name` again, after it
    /// restarted: HAProxy's health check has seen it up.
    pub async fn wait_until_it_routes_to(&self, http: &reqwest::Client, name: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.node_answering(http).await.as_deref() != Some(name) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the balancer never sent a request to node {name}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.log);
    }
}
