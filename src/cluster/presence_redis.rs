//! Presence in Redis: this node's socket count of each user, stored by the `SET_COUNT`
//! script, which also decides (atomically, so two nodes never both hold the first or the
//! last window) when a user's total crosses zero and publishes that transition; and the
//! `REAP` script, which removes a dead or departing node's sockets.
//!
//! Nothing here tells the registry: every node, this one included, applies presence only
//! from the event channel, where the scripts publish, so all nodes see the same
//! transitions in the same order.

use super::error::ClusterError;
use super::event::{ClusterEvent, Envelope};
use super::keys::Keys;
use super::scripts;
use crate::domain::{User, UserId};
use bb8_redis::RedisConnectionManager;
use std::collections::HashSet;

/// The connections presence, the heartbeat and the rebuild run their commands on (the
/// event channel has connections of its own).
pub(super) type RedisPool = bb8::Pool<RedisConnectionManager>;

/// The envelope `SET_COUNT` publishes when `user` comes online or goes offline.
fn envelope(node: &str, user: &User, online: bool) -> String {
    serde_json::to_string(&Envelope {
        node: node.to_owned(),
        event: ClusterEvent::Presence {
            user: user.clone(),
            online,
        },
    })
    .unwrap_or_default()
}

/// Sets this node's socket count of `user` (0 removes it). Returns 1 when the user came
/// online, -1 when they went offline, 0 otherwise.
pub(super) async fn set_count(
    pool: &RedisPool,
    keys: &Keys,
    user: &User,
    count: usize,
) -> Result<i64, ClusterError> {
    let mut conn = pool.get().await?;
    let id = user.id.to_string();
    let json = serde_json::to_string(user).unwrap_or_default();
    let changed = redis::Script::new(scripts::SET_COUNT)
        .key(keys.presence(&id))
        .key(keys.online())
        .key(keys.node_users(&keys.node))
        .arg(&keys.node)
        .arg(count)
        .arg(&id)
        .arg(json)
        .arg(keys.channel())
        .arg(envelope(&keys.node, user, true))
        .arg(envelope(&keys.node, user, false))
        .invoke_async(&mut *conn)
        .await?;
    Ok(changed)
}

/// Removes every socket of node `dead` and publishes `offline` for its users with no
/// socket left anywhere. Returns how many went offline.
pub(super) async fn reap(pool: &RedisPool, keys: &Keys, dead: &str) -> Result<i64, ClusterError> {
    let mut conn = pool.get().await?;
    let gone = redis::Script::new(scripts::REAP)
        .key(keys.node_users(dead))
        .key(keys.online())
        .key(keys.nodes())
        .key(keys.node_routes(dead))
        .key(keys.routed_nodes())
        .arg(dead)
        .arg(keys.prefix())
        .arg(keys.channel())
        .arg(&keys.node)
        .invoke_async(&mut *conn)
        .await?;
    Ok(gone)
}

/// Makes Redis hold exactly `local` for this node: users it still lists for the node but
/// who have no socket here any more go to zero (a restart, or changes lost in an outage),
/// then every local user gets their count.
pub(super) async fn rewrite_counts(
    pool: &RedisPool,
    keys: &Keys,
    local: &[(User, usize)],
) -> Result<(), ClusterError> {
    let local_ids: HashSet<String> = local.iter().map(|(u, _)| u.id.to_string()).collect();
    let stale: Vec<String> = {
        let mut conn = pool.get().await?;
        redis::cmd("SMEMBERS")
            .arg(keys.node_users(&keys.node))
            .query_async(&mut *conn)
            .await?
    };
    for id in stale.iter().filter(|id| !local_ids.contains(*id)) {
        let Some(user_id) = UserId::parse(id) else {
            continue;
        };
        let json: Option<String> = {
            let mut conn = pool.get().await?;
            redis::cmd("HGET")
                .arg(keys.online())
                .arg(id)
                .query_async(&mut *conn)
                .await?
        };
        let email = json
            .and_then(|j| serde_json::from_str::<User>(&j).ok())
            .map(|u| u.email)
            .unwrap_or_default();
        set_count(pool, keys, &User { id: user_id, email }, 0).await?;
    }
    for (user, count) in local {
        set_count(pool, keys, user, *count).await?;
    }
    Ok(())
}

/// Everyone with a socket on any node, as the scripts recorded them.
pub(super) async fn online_users(pool: &RedisPool, keys: &Keys) -> Result<Vec<User>, ClusterError> {
    let online: Vec<(String, String)> = {
        let mut conn = pool.get().await?;
        redis::cmd("HGETALL")
            .arg(keys.online())
            .query_async(&mut *conn)
            .await?
    };
    Ok(online
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str::<User>(&json).ok())
        .collect())
}
