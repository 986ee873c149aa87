//! HAProxy in front of two nodes on one URL, with the configuration `NODES=2 bash
//! scripts/run.sh` uses (dev/haproxy/haproxy.cfg), as Heroku's router is in production.

use super::{free_port, Node, WAIT};
use std::time::Duration;

/// A running HAProxy; stopped when dropped.
pub struct Balancer {
    child: tokio::process::Child,
    pub port: u16,
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
    /// Starts HAProxy on a free port in front of the nodes on ports `a` and `b`, and
    /// waits until it answers `/healthz` through one of them.
    pub async fn start(a: u16, b: u16) -> Balancer {
        let port = free_port();
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/dev/haproxy/haproxy.cfg");
        let child = tokio::process::Command::new(haproxy())
            .args(["-db", "-f", config])
            .env("BALANCER", format!("127.0.0.1:{port}"))
            .env("NODE_A", format!("127.0.0.1:{a}"))
            .env("NODE_B", format!("127.0.0.1:{b}"))
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start haproxy (scripts/test.sh installs it)");
        let balancer = Balancer { child, port };
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let answered = http
                .get(format!("{}/healthz", balancer.node().address))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return balancer;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "haproxy did not come up on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The one URL clients use.
    pub fn node(&self) -> Node {
        Node {
            address: format!("http://127.0.0.1:{}", self.port),
            ws_url: format!("ws://127.0.0.1:{}/ws", self.port),
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
