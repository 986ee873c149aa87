//! Several nodes acting as one, through Redis (SPEC §1, §4).
//!
//! [`mirror::ClusterMirror`] mirrors the PresenceRegistry into Redis and carries
//! [`event::ClusterEvent`]s between nodes over pub/sub: routed to the nodes that hold a
//! window of someone they concern, or shared by all. Without `REDIS_URL`
//! none of this runs and the node is alone. Files by concept (and backend):
//!
//! - `mirror.rs`: the actor that wires the parts below together, and outage handling
//!   (the rebuild);
//! - `presence_redis.rs`: socket counts and reaping, decided by the Lua [`scripts`];
//! - `broker_redis.rs`: the event channels, publishing (and routes) and subscribing;
//! - `heartbeat.rs`: liveness, each node's expiring key;
//! - `allowance_redis.rs`: per-person allowances kept across the deployment;
//! - `registry_link.rs`: the messages the mirror exchanges with the registry;
//! - `event.rs`: what travels on the channel; `keys.rs`: the names in Redis;
//!   `error.rs`: why a Redis step failed.

mod allowance_redis;
mod broker_redis;
mod error;
pub mod event;
mod heartbeat;
mod keys;
pub mod mirror;
mod presence_redis;
mod registry_link;
pub mod scripts;

pub use allowance_redis::RedisAllowances;
pub use broker_redis::RouteChange;
pub use error::ClusterError;
pub use event::{ClusterEvent, Envelope};
pub use keys::Keys;
pub use mirror::{
    ChangeRoutes, ClusterCounters, ClusterMirror, Depart, LocalCountChanged, PublishEvent,
};
pub use registry_link::{
    ClusterEventReceived, GetLocalCounts, OnlineSetReplaced, RegistryLink, ResyncUsers, SendRoutes,
};
