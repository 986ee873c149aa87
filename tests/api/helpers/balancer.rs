//! HAProxy in front of two nodes on one URL, with the configuration `NODES=2 bash
//! scripts/run.sh` uses (dev/haproxy/haproxy.cfg), as Heroku's router is in production:
//! the load generator's balancer, whose failures end the test.

use super::Node;

/// A running HAProxy; stopped when dropped.
pub struct Balancer(banter_bench::balancer::Balancer);

impl Balancer {
    /// Starts HAProxy on a free port in front of the nodes on ports `a` and `b` (named
    /// `a` and `b` in its `X-Banter-Node` header), and waits until it answers.
    pub async fn start(a: u16, b: u16) -> Balancer {
        Balancer(
            banter_bench::balancer::Balancer::start(a, b)
                .await
                .expect("haproxy starts (scripts/test.sh installs it)"),
        )
    }

    /// The one URL clients use.
    pub fn node(&self) -> Node {
        Node {
            address: self.0.url.clone(),
            ws_url: format!("{}/ws", self.0.url.replacen("http", "ws", 1)),
        }
    }

    /// Which node answered a `GET /healthz` through the balancer, if one did.
    pub async fn node_answering(&self, http: &reqwest::Client) -> Option<String> {
        self.0.node_answering(http).await
    }

    /// Waits (bounded) until the balancer sends requests to `name` again, after it
    /// restarted: HAProxy's health check has seen it up.
    pub async fn wait_until_it_routes_to(&self, http: &reqwest::Client, name: &str) {
        self.0
            .wait_until_it_routes_to(http, name)
            .await
            .expect("the balancer routes to the restarted node");
    }
}
