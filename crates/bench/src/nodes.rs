//! `--nodes N`: the generator starts the servers itself (this same binary, `serve`) on
//! free ports, sharing DATABASE_URL and, for more than one node, Redis, so a two-node run
//! is one command. They are stopped with SIGTERM (a graceful drain) afterwards.

use anyhow::Context as _;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub struct Nodes {
    children: Vec<Child>,
    pub urls: Vec<String>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Nodes {
    /// Starts `n` nodes and waits until each answers `/readyz`.
    pub async fn start(n: usize) -> anyhow::Result<Nodes> {
        let exe = std::env::current_exe().context("finding this binary")?;
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.into());
        let mut nodes = Nodes {
            children: Vec::new(),
            urls: Vec::new(),
        };
        for i in 0..n {
            let port = free_port()?;
            let mut command = Command::new(&exe);
            command
                .arg("serve")
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("NODE_ID", format!("bench-{run}-{i}"))
                .env("RUST_LOG", var("RUST_LOG", "warn"))
                .env("OIDC_ISSUER", var("OIDC_ISSUER", "http://127.0.0.1:9"))
                .env("OIDC_AUDIENCE", var("OIDC_AUDIENCE", "banter-bench"))
                .stdout(Stdio::null())
                .kill_on_drop(true);
            if n > 1 {
                command
                    .env("REDIS_URL", var("REDIS_URL", "redis://127.0.0.1:6379"))
                    .env("REDIS_KEY_PREFIX", format!("bench-{run}:"));
            }
            nodes
                .children
                .push(command.spawn().context("starting a node")?);
            nodes.urls.push(format!("http://127.0.0.1:{port}"));
        }
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for url in &nodes.urls {
            loop {
                let ready = http.get(format!("{url}/readyz")).send().await;
                if ready.is_ok_and(|r| r.status().is_success()) {
                    break;
                }
                anyhow::ensure!(Instant::now() < deadline, "{url} did not become ready");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        eprintln!("started {n} node(s): {}", nodes.urls.join(", "));
        Ok(nodes)
    }

    /// The first node's process id (for `idle`'s memory reading).
    pub fn first_pid(&self) -> Option<u32> {
        self.children.first().and_then(|c| c.id())
    }

    /// Stops every node gracefully (SIGTERM), waiting up to 30 s each.
    pub async fn stop(mut self) {
        for child in &mut self.children {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(30), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}
