//! The `banter` server in a process of its own (so it can be killed), commands run to
//! completion, and free ports for servers to listen on.

use super::{Node, AUDIENCE, WAIT};
use std::time::Duration;

/// A server in its own process, so it can be killed without ceremony.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub port: u16,
}

impl ServerProcess {
    /// Starts the `banter` binary on `port` with `env` over the basics, retrying while a
    /// just-killed predecessor still holds the port, and waits for `/healthz`.
    pub async fn start(database_url: &str, port: u16, env: Vec<(&str, String)>) -> ServerProcess {
        Self::start_logging_to(database_url, port, env, None).await
    }

    /// Like [`ServerProcess::start`], with its log (stderr) written to `log`.
    pub async fn start_logging_to(
        database_url: &str,
        port: u16,
        env: Vec<(&str, String)>,
        log: Option<&std::path::Path>,
    ) -> ServerProcess {
        let deadline = tokio::time::Instant::now() + WAIT;
        let http = reqwest::Client::new();
        loop {
            let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_banter"));
            command
                .arg("serve")
                .env("DATABASE_URL", database_url)
                .env("OIDC_AUDIENCE", AUDIENCE)
                .env("OIDC_CLIENT_ID", "banter-web")
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true);
            for (name, value) in &env {
                command.env(name, value);
            }
            if let Some(path) = log {
                let file = std::fs::File::create(path).expect("create the server's log file");
                command.stderr(file);
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

/// The peak resident memory of process `pid` so far (`VmHWM`), in KiB.
pub fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

pub fn run(command: &mut std::process::Command) {
    let out = command.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port free on 127.0.0.1 just now (the system picked it), for a server to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
