//! The Redis key and channel names of one deployment, all under its prefix (so several
//! deployments, or test runs, can share one Redis). Spelt in one place so that presence,
//! the heartbeat and the event channel agree; what each key holds is listed in
//! [`super::scripts`].

/// Key and channel names under this deployment's prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Prepended to every key and channel name; the `REAP` script also builds presence
    /// keys with it.
    prefix: String,
    /// This node's id: it names the node's heartbeat and user set, and marks what the
    /// node publishes (so it can skip its own events).
    pub node: String,
}

impl Keys {
    pub fn new(prefix: &str, node: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
            node: node.to_owned(),
        }
    }
    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }
    pub(super) fn presence(&self, user: &str) -> String {
        format!("{}presence:{user}", self.prefix)
    }
    pub(super) fn online(&self) -> String {
        format!("{}online", self.prefix)
    }
    pub(super) fn node_users(&self, node: &str) -> String {
        format!("{}node_users:{node}", self.prefix)
    }
    pub(super) fn heartbeat(&self, node: &str) -> String {
        format!("{}node:{node}", self.prefix)
    }
    pub(super) fn nodes(&self) -> String {
        format!("{}nodes", self.prefix)
    }
    pub(super) fn allowance(&self, action: &str, user: &str) -> String {
        format!("{}allowance:{action}:{user}", self.prefix)
    }
    /// The channel every node subscribes to: presence, and events for many people or
    /// for a node that takes no routed events (see [`super::scripts::DELIVER`]).
    pub fn channel(&self) -> String {
        format!("{}events", self.prefix)
    }
    /// The channel of `node`'s routed events: those for people with a window there.
    /// `DELIVER` spells it the same way, from the shared channel's name.
    pub fn node_channel(&self, node: &str) -> String {
        format!("{}events:{node}", self.prefix)
    }
    pub(super) fn routes(&self, user: &str) -> String {
        format!("{}routes:{user}", self.prefix)
    }
    pub(super) fn node_routes(&self, node: &str) -> String {
        format!("{}node_routes:{node}", self.prefix)
    }
    pub(super) fn routed_nodes(&self) -> String {
        format!("{}routed_nodes", self.prefix)
    }
}
