//! Liveness: each node keeps a key with a TTL (`<prefix>node:<id>`) alive by renewing it
//! every beat, and lists itself in `<prefix>nodes`. Whichever node next beats after a
//! node's key expired reaps that node (its sockets removed, its users announced offline
//! where they have no socket left), so a killed node's users go offline within one TTL
//! and one interval. A node leaving on purpose reaps itself at once.

use super::error::ClusterError;
use super::keys::Keys;
use super::presence_redis::{reap, RedisPool};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Registers this node (heartbeat key, membership of the node set, and of the routing
/// nodes: it takes events on its own channel), so it is reapable from its first socket
/// on. The first step of every rebuild.
pub(super) async fn register(
    pool: &RedisPool,
    keys: &Keys,
    ttl: Duration,
) -> Result<(), ClusterError> {
    let mut conn = pool.get().await?;
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(keys.heartbeat(&keys.node))
        .arg("1")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .ignore()
        .sadd(keys.nodes(), &keys.node)
        .ignore()
        .sadd(keys.routed_nodes(), &keys.node)
        .ignore()
        .query_async(&mut *conn)
        .await?;
    Ok(())
}

/// Renews this node's heartbeat and reaps nodes whose heartbeat expired. Returns false
/// when our own key had expired (we may have been reaped).
pub(super) async fn beat(
    pool: RedisPool,
    keys: Keys,
    ttl: Duration,
    departed: Arc<AtomicBool>,
) -> Result<bool, ClusterError> {
    let mut conn = pool.get().await?;
    if departed.load(Ordering::SeqCst) {
        return Ok(true);
    }
    let (previous, _, nodes): (Option<String>, i64, Vec<String>) = redis::pipe()
        .cmd("SET")
        .arg(keys.heartbeat(&keys.node))
        .arg("1")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .arg("GET")
        .sadd(keys.nodes(), &keys.node)
        .sadd(keys.routed_nodes(), &keys.node)
        .ignore()
        // Routing nodes too: one that an older version reaped is still among them, with
        // its routes, until a node of this version reaps it again.
        .sunion(&[keys.nodes(), keys.routed_nodes()])
        .query_async(&mut *conn)
        .await?;
    for node in nodes.iter().filter(|n| **n != keys.node) {
        let alive: bool = redis::cmd("EXISTS")
            .arg(keys.heartbeat(node))
            .query_async(&mut *conn)
            .await?;
        if !alive {
            let gone = reap(&pool, &keys, node).await?;
            log::warn!("node {node} stopped heart-beating; {gone} of its users went offline");
        }
    }
    Ok(previous.is_some())
}

/// Takes this node out now rather than when its heartbeat expires: reaps its own
/// sockets, then drops its heartbeat key. Returns how many users went offline.
pub(super) async fn leave(pool: &RedisPool, keys: &Keys) -> Result<i64, ClusterError> {
    let gone = reap(pool, keys, &keys.node).await?;
    let mut conn = pool.get().await?;
    let _: () = redis::cmd("DEL")
        .arg(keys.heartbeat(&keys.node))
        .query_async(&mut *conn)
        .await?;
    Ok(gone)
}
