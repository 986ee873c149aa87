//! Retention (optional per deployment): with `RETENTION_DAYS` set, a periodic sweep
//! deletes messages older than that. Unset keeps everything.
//!
//! Every node sweeps, but a session advisory lock lets one at a time do the work, and
//! deletion goes in bounded batches so no statement holds locks for long. Deleting old
//! messages changes nothing else: `seq` numbers, `last_seq` and read positions stay, and
//! history simply starts later.

use crate::db::{DbError, Pool};
use std::time::Duration;

/// An arbitrary constant naming the sweep's advisory lock.
const SWEEP_LOCK: i64 = 0x7265_7465_6e74;
/// Messages deleted per statement.
const BATCH: i64 = 5_000;

/// How long messages are kept, and how often to look for older ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub keep: Duration,
    pub sweep_every: Duration,
}

/// Deletes messages older than `keep`; returns how many (0 when another node holds the
/// sweep).
pub async fn sweep(pool: &Pool, keep: Duration) -> Result<u64, DbError> {
    let conn = pool.get().await?;
    let locked: bool = conn
        .query_one("SELECT pg_try_advisory_lock($1)", &[&SWEEP_LOCK])
        .await?
        .get(0);
    if !locked {
        return Ok(0);
    }
    let seconds = keep.as_secs_f64();
    let mut deleted = 0;
    let result = async {
        loop {
            let n = conn
                .execute(
                    "DELETE FROM messages WHERE id IN (
                         SELECT id FROM messages
                         WHERE created_at < now() - make_interval(secs => $1)
                         LIMIT $2)",
                    &[&seconds, &BATCH],
                )
                .await?;
            deleted += n;
            if n < BATCH as u64 {
                return Ok::<_, DbError>(deleted);
            }
        }
    }
    .await;
    conn.execute("SELECT pg_advisory_unlock($1)", &[&SWEEP_LOCK])
        .await?;
    result
}

/// Sweeps now and then every `sweep_every`, for as long as the actix system runs.
pub fn start(pool: Pool, retention: Retention) {
    actix::spawn(async move {
        let mut tick = tokio::time::interval(retention.sweep_every);
        loop {
            tick.tick().await;
            match sweep(&pool, retention.keep).await {
                Ok(0) => {}
                Ok(n) => log::info!(
                    "retention: deleted {n} messages older than {:?}",
                    retention.keep
                ),
                Err(e) => log::error!("retention sweep failed: {}", crate::error_chain(&e)),
            }
        }
    });
}
