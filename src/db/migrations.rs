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
    // A database ahead of this build is a rollback (Heroku runs the release phase, and so
    // `migrate`, for the older image too): the newer migrations are left as they are and
    // this build runs on the schema it finds. Migrations only add, so older code keeps
    // working on a newer schema (docs/deploy.md, "Rolling back").
    let runner = migrations::runner().set_abort_missing(false);
    let result = runner.run_async(conn.client_mut()).await;
    let ahead = match &result {
        Ok(_) => newer_than_known(&runner, conn.client_mut()).await,
        Err(_) => None,
    };
    conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    // Back to the connection's own limit before it returns to the pool.
    conn.batch_execute("RESET statement_timeout").await?;
    if let Some(version) = ahead {
        log::warn!(
            "the database has migration V{version}, newer than this build knows (a rollback): \
             running on the schema as it is"
        );
    }
    Ok(result?.applied_migrations().len())
}

/// The newest applied migration's version, when this build does not know it.
async fn newer_than_known(
    runner: &refinery::Runner,
    conn: &mut tokio_postgres::Client,
) -> Option<u32> {
    let newest_known = runner.get_migrations().iter().map(|m| m.version()).max();
    let last = runner.get_last_applied_migration_async(conn).await.ok()??;
    (Some(last.version()) > newest_known).then(|| last.version())
}
