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

/// Sets this node's socket count of each user of `batch` (0 removes it) with the
/// `SET_COUNT` script, which publishes the user's coming online or going offline when
/// their total crosses zero; in pipelines of [`BATCH_MOST`] on one connection: a connect storm's
/// thousands of arrivals cost a few round trips, not a pool checkout each.
pub(super) async fn set_counts(
    pool: &RedisPool,
    keys: &Keys,
    batch: &[(User, usize)],
) -> Result<(), ClusterError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut conn = pool.get().await?;
    // A full pipeline may take longer than redis-rs's default 500 ms to answer on a
    // loaded box; a late answer is not a lost Redis.
    conn.set_response_timeout(BATCH_TIMEOUT);
    let script = redis::Script::new(scripts::SET_COUNT);
    // A restarted Redis has lost its scripts: loading is idempotent and cheap.
    let _: String = script.prepare_invoke().load_async(&mut *conn).await?;
    for chunk in batch.chunks(BATCH_MOST) {
        let mut pipe = redis::pipe();
        for (user, count) in chunk {
            let id = user.id.to_string();
            pipe.cmd("EVALSHA")
                .arg(script.get_hash())
                .arg(3)
                .arg(keys.presence(&id))
                .arg(keys.online())
                .arg(keys.node_users(&keys.node))
                .arg(&keys.node)
                .arg(*count)
                .arg(&id)
                .arg(serde_json::to_string(user).unwrap_or_default())
                .arg(keys.channel())
                .arg(envelope(&keys.node, user, true))
                .arg(envelope(&keys.node, user, false))
                .ignore();
        }
        let sent = pipe.query_async::<()>(&mut *conn).await;
        if sent.is_err() {
            conn.set_response_timeout(POOL_RESPONSE_TIMEOUT);
        }
        sent?;
    }
    conn.set_response_timeout(POOL_RESPONSE_TIMEOUT);
    Ok(())
}

/// How long a batch's pipeline may take to answer (as the publisher's).
const BATCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The pool's connections' usual limit, redis-rs's default, restored after a batch.
const POOL_RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// The most `SET_COUNT`s in one pipeline.
const BATCH_MOST: usize = 512;

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
    let gone_ids: Vec<&String> = stale.iter().filter(|id| !local_ids.contains(*id)).collect();
    // Their stored `User` (for the email the offline event carries), in one command.
    let stored: Vec<Option<String>> = if gone_ids.is_empty() {
        Vec::new()
    } else {
        let mut conn = pool.get().await?;
        redis::cmd("HMGET")
            .arg(keys.online())
            .arg(&gone_ids)
            .query_async(&mut *conn)
            .await?
    };
    let gone: Vec<(User, usize)> = gone_ids
        .iter()
        .zip(stored)
        .filter_map(|(id, json)| {
            let id = UserId::parse(id)?;
            let user = json
                .and_then(|j| serde_json::from_str::<User>(&j).ok())
                .filter(|u| u.id == id)
                .unwrap_or(User {
                    id,
                    email: String::new(),
                    name: None,
                });
            Some((user, 0))
        })
        .collect();
    set_counts(pool, keys, &gone).await?;
    set_counts(pool, keys, local).await
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
