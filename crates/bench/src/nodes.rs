//! `--nodes N`: the generator starts the servers itself (this same binary, `serve`) on
//! free ports, sharing DATABASE_URL and, for more than one node, Redis, so a two-node run
//! is one command. They are stopped with SIGTERM (a graceful drain) afterwards; `rolling`
//! also restarts them one at a time, as a deploy does.

use anyhow::Context as _;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long a node may take to answer `/readyz` after it was started.
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long a node may take to exit after SIGTERM before it is killed (the server's own
/// shutdown deadline is well within this).
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// One node: its process, and what starting it again needs.
struct Node {
    child: Child,
    port: u16,
    /// Kept across restarts, as a dyno keeps its name.
    id: String,
}

pub struct Nodes {
    nodes: Vec<Node>,
    /// Whether the nodes share Redis (more than one).
    clustered: bool,
    /// The Redis key prefix of this run, so runs beside each other do not meet.
    prefix: String,
    pub urls: Vec<String>,
    /// Their ports, in order (for a balancer in front).
    pub ports: Vec<u16>,
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The bearer token of the nodes' `/metrics`: `METRICS_TOKEN` (a target started
/// elsewhere must have been given it), else the one the nodes started here get.
pub(crate) fn metrics_token() -> String {
    var("METRICS_TOKEN", "banter-bench-metrics-token")
}

/// `GET {base}/metrics` with the token: the Prometheus text, or `None`.
pub(crate) async fn metrics_text(http: &reqwest::Client, base: &str) -> Option<String> {
    let response = http
        .get(format!("{base}/metrics"))
        .bearer_auth(metrics_token())
        .send()
        .await
        .ok()?;
    response.error_for_status().ok()?.text().await.ok()
}

fn var(k: &str, default: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| default.into())
}

impl Nodes {
    /// Starts `n` nodes and waits until each answers `/readyz`.
    pub async fn start(n: usize) -> anyhow::Result<Nodes> {
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let mut nodes = Nodes {
            nodes: Vec::new(),
            clustered: n > 1,
            prefix: format!("bench-{run}:"),
            urls: Vec::new(),
            ports: Vec::new(),
        };
        for i in 0..n {
            let port = free_port()?;
            let id = format!("bench-{run}-{i}");
            let child = nodes.spawn(port, &id)?;
            nodes.nodes.push(Node { child, port, id });
            nodes.urls.push(format!("http://127.0.0.1:{port}"));
            nodes.ports.push(port);
        }
        for url in &nodes.urls {
            wait_ready(url).await?;
        }
        eprintln!("started {n} node(s): {}", nodes.urls.join(", "));
        Ok(nodes)
    }

    fn spawn(&self, port: u16, id: &str) -> anyhow::Result<Child> {
        let exe = std::env::current_exe().context("finding this binary")?;
        let mut command = Command::new(&exe);
        command
            .arg("serve")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("NODE_ID", id)
            .env("RUST_LOG", var("RUST_LOG", "warn"))
            .env("OIDC_ISSUER", var("OIDC_ISSUER", "http://127.0.0.1:9"))
            .env("OIDC_AUDIENCE", var("OIDC_AUDIENCE", "banter-bench"))
            .env("OIDC_CLIENT_ID", var("OIDC_CLIENT_ID", "banter-bench"))
            .env("METRICS_TOKEN", metrics_token())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if self.clustered {
            command
                .env("REDIS_URL", var("REDIS_URL", "redis://127.0.0.1:6379"))
                .env("REDIS_KEY_PREFIX", &self.prefix);
        }
        command.spawn().context("starting a node")
    }

    /// The first node's process id (for `idle`'s memory reading).
    pub fn first_pid(&self) -> Option<u32> {
        self.nodes.first().and_then(|n| n.child.id())
    }

    /// Restarts node `i` as a deploy does: SIGTERM, wait for it to exit, start it again on
    /// its port under its id, wait until it answers `/readyz`. Answers how long it took
    /// to exit and how long until it was ready again.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<(Duration, Duration)> {
        let started = Instant::now();
        let node = &mut self.nodes[i];
        terminate(&mut node.child).await?;
        let exited = started.elapsed();
        let (port, id) = (node.port, node.id.clone());
        let child = self.spawn(port, &id)?;
        self.nodes[i].child = child;
        wait_ready(&self.urls[i]).await?;
        Ok((exited, started.elapsed()))
    }

    /// Stops every node gracefully (SIGTERM), waiting up to [`STOP_LIMIT`] each.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            let _ = terminate(&mut node.child).await;
        }
    }
}

/// SIGTERM, then waits for the exit; kills it if it outlives [`STOP_LIMIT`] (an error).
async fn terminate(child: &mut Child) -> anyhow::Result<()> {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    match tokio::time::timeout(STOP_LIMIT, child.wait()).await {
        Ok(status) => {
            let status = status.context("waiting for a node to exit")?;
            anyhow::ensure!(status.success(), "a node exited with {status}");
            Ok(())
        }
        Err(_) => {
            let _ = child.kill().await;
            anyhow::bail!("a node did not exit within {STOP_LIMIT:?} of SIGTERM")
        }
    }
}

async fn wait_ready(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + START_LIMIT;
    loop {
        let ready = http.get(format!("{url}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{url} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
