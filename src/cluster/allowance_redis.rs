//! Allowances kept across the deployment (`chat::allowance`), in Redis: one GCRA per
//! person and action, decided atomically by the [`scripts::TAKE_ALLOWANCE`] script
//! against Redis's clock, so every node takes from the same allowance.
//!
//! It has a small pool of its own, and gives up after [`ANSWER_WITHIN`]: a slow or
//! absent Redis must not hold a person's sends (the node's own allowance then stands).
//! A take is one round trip: the pool does not ping a connection before each use (a
//! second round trip for every message sent); a connection whose take failed or was
//! given up is dropped instead, and the next take opens a new one ([`TakingManager`]).

use super::error::ClusterError;
use super::keys::Keys;
use super::mirror::redis_client;
use super::scripts;
use crate::chat::allowance::{Action, Rate, SharedAllowances, SharedError};
use crate::configuration::RedisTls;
use crate::domain::UserId;
use bb8_redis::RedisConnectionManager;
use futures_util::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

/// How long a take may wait for Redis before the node's own allowance decides alone.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(250);

/// A connection of the allowance pool, and whether its last take came back.
pub struct TakingConnection {
    conn: MultiplexedConnection,
    /// Set before each take and cleared once it answered: a take that failed, or was
    /// dropped at [`ANSWER_WITHIN`], leaves it set, and the pool drops the connection.
    unsure: bool,
}

/// bb8-redis's manager, with the health check moved from before each use (a `PING`
/// round trip) to after it: a connection is kept only while its takes come back.
pub struct TakingManager(RedisConnectionManager);

impl bb8::ManageConnection for TakingManager {
    type Connection = TakingConnection;
    type Error = redis::RedisError;

    async fn connect(&self) -> Result<TakingConnection, redis::RedisError> {
        Ok(TakingConnection {
            conn: self.0.connect().await?,
            unsure: false,
        })
    }

    async fn is_valid(&self, conn: &mut TakingConnection) -> Result<(), redis::RedisError> {
        // Only when the pool is told to test on check-out, which this one is not.
        self.0.is_valid(&mut conn.conn).await
    }

    fn has_broken(&self, conn: &mut TakingConnection) -> bool {
        conn.unsure
    }
}

pub struct RedisAllowances {
    pool: bb8::Pool<TakingManager>,
    keys: Keys,
    script: redis::Script,
}

impl RedisAllowances {
    /// Connects lazily (a Redis that is down at start-up is an outage like any other).
    /// TLS is verified as `tls` says (`redis_client`).
    pub fn new(url: &str, tls: &RedisTls, keys: Keys) -> Result<Self, ClusterError> {
        let client = redis_client(url, tls)?;
        let manager = RedisConnectionManager::new(client.get_connection_info().clone())?;
        let pool = bb8::Pool::builder()
            .max_size(3)
            .connection_timeout(ANSWER_WITHIN)
            .test_on_check_out(false)
            .build_unchecked(TakingManager(manager));
        Ok(RedisAllowances {
            pool,
            keys,
            script: redis::Script::new(scripts::TAKE_ALLOWANCE),
        })
    }
}

impl SharedAllowances for RedisAllowances {
    fn take(
        &self,
        action: Action,
        user: UserId,
        rate: Rate,
    ) -> BoxFuture<'static, Result<Option<Duration>, SharedError>> {
        let pool = self.pool.clone();
        let script = self.script.clone();
        let key = self.keys.allowance(action.name(), &user.to_string());
        let every_ms = u64::try_from(rate.every.as_millis().max(1)).unwrap_or(u64::MAX);
        Box::pin(async move {
            let taking = async {
                let mut pooled = pool.get().await.map_err(ClusterError::from)?;
                pooled.unsure = true;
                let taken: i64 = script
                    .key(key)
                    .arg(every_ms)
                    .arg(rate.burst)
                    .invoke_async(&mut pooled.conn)
                    .await
                    .map_err(ClusterError::from)?;
                pooled.unsure = false;
                // 1: taken; -n: refused, n ms until one is free.
                Ok::<Option<Duration>, ClusterError>(
                    (taken < 1).then(|| Duration::from_millis(taken.unsigned_abs().max(1))),
                )
            };
            match tokio::time::timeout(ANSWER_WITHIN, taking).await {
                Ok(result) => result.map_err(|e| Box::new(e) as SharedError),
                Err(elapsed) => Err(Box::new(elapsed) as SharedError),
            }
        })
    }
}
