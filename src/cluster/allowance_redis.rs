//! Allowances kept across the deployment (`chat::allowance`), in Redis: one GCRA per
//! person and action, decided atomically by the [`scripts::TAKE_ALLOWANCE`] script
//! against Redis's clock, so every node takes from the same allowance.
//!
//! It has a small pool of its own, and gives up after [`ANSWER_WITHIN`]: a slow or
//! absent Redis must not hold a person's sends (the node's own allowance then stands).

use super::error::ClusterError;
use super::keys::Keys;
use super::mirror::redis_client;
use super::presence_redis::RedisPool;
use super::scripts;
use crate::chat::allowance::{Action, Rate, SharedAllowances, SharedError};
use crate::configuration::RedisTls;
use crate::domain::UserId;
use bb8_redis::RedisConnectionManager;
use futures_util::future::BoxFuture;
use std::time::Duration;

/// How long a take may wait for Redis before the node's own allowance decides alone.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(250);

pub struct RedisAllowances {
    pool: RedisPool,
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
            .build_unchecked(manager);
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
                let mut conn = pool.get().await.map_err(ClusterError::from)?;
                let taken: i64 = script
                    .key(key)
                    .arg(every_ms)
                    .arg(rate.burst)
                    .invoke_async(&mut *conn)
                    .await
                    .map_err(ClusterError::from)?;
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
