//! Plain SQL migrations from `sql/`, embedded at build time and applied by refinery.

use super::{DbError, Pool};

refinery::embed_migrations!("sql");

/// An arbitrary constant: the advisory lock that keeps two starting nodes from
/// migrating at once.
const MIGRATION_LOCK: i64 = 0x6261_6e74_6572;

/// Applies every pending migration; safe to call from several nodes at once.
pub async fn run(pool: &Pool) -> Result<usize, DbError> {
    let mut conn = pool.get().await?;
    // Waiting for another node's migration, or building an index, may rightly take
    // longer than the pool's statement_timeout.
    conn.batch_execute("SET statement_timeout = 0").await?;
    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = migrations::runner().run_async(&mut *conn).await;
    conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    // Back to the connection's own limit before it returns to the pool.
    conn.batch_execute("RESET statement_timeout").await?;
    Ok(result?.applied_migrations().len())
}
