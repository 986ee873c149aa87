//! Postgres access: the pool, migrations and the queries of each table group.
//!
//! Reads are plain async functions over a pooled connection, used by routes and the
//! UserActor. Writes run inside the PersistActor's group-commit transactions
//! (see [`writes`]), so nothing is acknowledged before it is committed.

pub mod blocks;
pub mod conversations;
pub mod keys;
pub mod messages;
pub mod migrations;
pub mod rooms;
pub mod search;
pub mod tls;
pub mod users;
pub mod writes;

use bb8_postgres::PostgresConnectionManager;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The shared connection pool (TLS as the URL's `sslmode` asks).
pub type Pool = bb8::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

/// A database failure: the pool could not hand out a connection, or a query failed.
/// Callers map it to an opaque `unavailable`/500 and log the cause chain.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available")]
    Pool(#[from] bb8::RunError<tokio_postgres::Error>),
    #[error("database query failed")]
    Query(#[from] tokio_postgres::Error),
    #[error("database migration failed")]
    Migration(#[from] refinery::Error),
    #[error("database TLS settings are unusable")]
    Tls(#[from] tls::TlsError),
}

/// Builds the pool. Connections are opened lazily, so start-up does not fail on a
/// briefly unreachable database; `/readyz` reports it instead.
pub async fn connect(database_url: &str, max_size: u32) -> Result<Pool, DbError> {
    let (config, tls) = tls::connect_config(database_url)?;
    let manager = PostgresConnectionManager::new(config, tls);
    let pool = bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(5))
        .build(manager)
        .await?;
    Ok(pool)
}

/// Is Postgres reachable right now? Used by `/readyz`.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    let conn = pool.get().await?;
    conn.simple_query("SELECT 1").await?;
    Ok(())
}
