//! Nodes of a deployment under test, and the settings that make a node one of a cluster.

use super::{ids, spawn_app_with, test_prefix, TestApp, WAIT};
use banter::configuration::Settings;
use serde_json::Value;
use std::time::Duration;

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

    /// Waits until `/readyz` stops answering 200 (the node noticed an outage).
    pub async fn wait_unready(&self, http: &reqwest::Client) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.ready_status(http).await == 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} never noticed the outage",
                self.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The ids in `GET /api/users/online` on this node, as `token`'s person sees it.
    pub async fn online_ids(&self, http: &reqwest::Client, token: &str) -> Vec<String> {
        ids(&self.online_users(http, token).await)
    }

    /// `GET /api/users/online`'s people, as this node answers it for `token`'s person.
    pub async fn online_users(&self, http: &reqwest::Client, token: &str) -> Value {
        let r = http
            .get(format!("{}/api/users/online", self.address))
            .bearer_auth(token)
            .send()
            .await;
        let mut body: Value = r
            .expect("GET /api/users/online")
            .json()
            .await
            .expect("JSON");
        body["users"].take()
    }

    /// The Prometheus text of this node's `/metrics` (with the tests' token).
    pub async fn metrics(&self, http: &reqwest::Client) -> String {
        http.get(format!("{}/metrics", self.address))
            .bearer_auth(super::TEST_METRICS_TOKEN)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The value of a counter or gauge on this node's `/metrics` (0 if absent).
    pub async fn metric(&self, http: &reqwest::Client, name: &str) -> f64 {
        let text = self.metrics(http).await;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until `done` holds of `name`'s value on this node, read every 50 ms;
    /// panics with `what` once `within` has passed.
    pub async fn wait_for_metric(
        &self,
        http: &reqwest::Client,
        name: &str,
        within: Duration,
        done: impl Fn(f64) -> bool,
        what: &str,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        while !done(self.metric(http, name).await) {
            assert!(tokio::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST {path}` on this node as `token`'s person, with an optional JSON body: the
    /// answer's JSON.
    pub async fn post(
        &self,
        http: &reqwest::Client,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = http
            .post(format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
            .json()
            .await
            .expect("JSON")
    }

    pub async fn ready_status(&self, http: &reqwest::Client) -> u16 {
        http.get(format!("{}/readyz", self.address))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
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

/// Node "a" (the TestApp) and node "b", in this process, on the Redis at `redis` under a
/// key prefix of their own (returned), with `tweak` applied to both nodes' settings.
pub async fn nodes_a_and_b(
    redis: &str,
    tweak: impl FnOnce(&mut Settings),
) -> (TestApp, Node, Node, String) {
    let prefix = test_prefix();
    let app = spawn_app_with(|s| {
        cluster(s, redis, &prefix, "a");
        tweak(s);
    })
    .await;
    let a = app.node();
    a.wait_ready(&app.http).await;
    let b = app.spawn_peer("b").await;
    b.wait_ready(&app.http).await;
    (app, a, b, prefix)
}
