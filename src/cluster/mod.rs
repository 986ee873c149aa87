//! Several nodes acting as one, through Redis (SPEC §1, §4).
//!
//! [`mirror::ClusterMirror`] mirrors the PresenceRegistry into Redis (decided atomically
//! by the Lua [`scripts`]) and carries [`event::ClusterEvent`]s between nodes over one
//! pub/sub channel. Without `REDIS_URL` none of this runs and the node is alone.

pub mod event;
pub mod mirror;
pub mod scripts;

pub use event::{ClusterEvent, Envelope};
pub use mirror::{ClusterMirror, Keys, LocalCountChanged, PublishEvent};
