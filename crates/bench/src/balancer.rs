//! HAProxy in front of two nodes, with the configuration `NODES=2 bash scripts/run.sh`
//! and the tests use (dev/haproxy/haproxy.cfg), as Heroku's router is in production.
//!
//! A balancer holds two sockets per WebSocket (the client's and the node's), and a
//! process here may hold 20,000 open files, so `rolling` runs one balancer per 5,000
//! windows, each in front of both nodes: as Heroku's router, many processes that all
//! reach every dyno.

use anyhow::Context as _;
use std::time::{Duration, Instant};

/// The configuration, built into the binary so that `banter bench` runs from anywhere.
const CONFIG: &str = include_str!("../../../dev/haproxy/haproxy.cfg");

/// How long a balancer may take to answer, or to route to a node that came back.
const WAIT: Duration = Duration::from_secs(30);

/// The WebSockets one balancer carries at most.
pub const WINDOWS_PER_BALANCER: usize = 5_000;

/// A running HAProxy; stopped when dropped.
pub struct Balancer {
    child: tokio::process::Child,
    pub url: String,
    /// Its configuration and its complaints, removed with it.
    config: std::path::PathBuf,
    log: std::path::PathBuf,
}

/// The HAProxy binary: `$HAPROXY`, or where Debian's package puts it, or on PATH.
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
    pub async fn start(a: u16, b: u16) -> anyhow::Result<Balancer> {
        let port = super::nodes::free_port()?;
        let dir = std::env::temp_dir();
        let config = dir.join(format!("banter-bench-haproxy-{port}.cfg"));
        let log = dir.join(format!("banter-bench-haproxy-{port}.log"));
        std::fs::write(&config, CONFIG).context("writing haproxy's configuration")?;
        let child = tokio::process::Command::new(haproxy())
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("BALANCER", format!("127.0.0.1:{port}"))
            .env("NODE_A", format!("127.0.0.1:{a}"))
            .env("NODE_B", format!("127.0.0.1:{b}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).context("creating haproxy's log")?)
            .kill_on_drop(true)
            .spawn()
            .context("starting haproxy (Debian's package: apt-get install haproxy)")?;
        let mut balancer = Balancer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            config,
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = balancer.child.try_wait() {
                anyhow::bail!("haproxy exited ({status}): {}", balancer.complaints());
            }
            if balancer.node_answering(&http).await.is_some() {
                return Ok(balancer);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "haproxy did not come up on port {port}: {}",
                balancer.complaints()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn complaints(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Which node answered a `GET /healthz` through the balancer, if one did.
    pub async fn node_answering(&self, http: &reqwest::Client) -> Option<String> {
        let response = http
            .get(format!("{}/healthz", self.url))
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
    pub async fn wait_until_it_routes_to(
        &self,
        http: &reqwest::Client,
        name: &str,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT;
        while self.node_answering(http).await.as_deref() != Some(name) {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} never sent a request to node {name} within {WAIT:?}",
                self.url
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.config);
    }
}
