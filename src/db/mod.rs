//! Postgres access: the pool, migrations and the queries of each table group.
//!
//! Reads are plain async functions over a pooled connection, used by routes and the
//! UserActor. Writes run inside the PersistActor's group-commit transactions
//! (see [`writes`]), so nothing is acknowledged before it is committed.

pub mod batch;
pub mod blocks;
pub mod conversations;
pub mod keys;
pub mod messages;
pub mod migrations;
pub mod receipts;
pub mod rooms;
pub mod search;
pub mod snapshot;
pub mod statements;
pub mod tls;
pub mod users;
pub mod writes;

use statements::CachingManager;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The shared connection pool (TLS as the URL's `sslmode` asks); each connection keeps
/// its prepared statements ([`statements`]).
pub type Pool = bb8::Pool<CachingManager<MakeRustlsConnect>>;

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

impl DbError {
    /// Did the server end the connection (it was terminated, or shut down), rather than
    /// refuse a statement? The error can arrive before the client sees the connection
    /// close, so the SQLSTATE says it first: 57P01 `admin_shutdown` (also what
    /// `pg_terminate_backend` sends), 57P02 `crash_shutdown`, 57P03 `cannot_connect_now`.
    pub fn connection_lost(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            DbError::Query(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        *c == SqlState::ADMIN_SHUTDOWN
                            || *c == SqlState::CRASH_SHUTDOWN
                            || *c == SqlState::CANNOT_CONNECT_NOW
                    })
            }
            _ => false,
        }
    }

    /// Did the transaction lose a race to another one that committed first? A row it
    /// inserts was inserted meanwhile (23505 `unique_violation`: another node stored the
    /// same resend first, say), or Postgres rolled it back to break a deadlock (40P01) or
    /// to keep transactions serializable (40001). It rolled back whole; run again, it
    /// sees what the other committed.
    pub fn lost_a_race(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            DbError::Query(e) => e.code().is_some_and(|c| {
                *c == SqlState::UNIQUE_VIOLATION
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::T_R_SERIALIZATION_FAILURE
            }),
            _ => false,
        }
    }
}

/// The `statement_timeout` of pools built by [`connect`] (the server's comes from its
/// settings: DATABASE_STATEMENT_TIMEOUT_MS).
pub const DEFAULT_STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Builds the pool, with [`DEFAULT_STATEMENT_TIMEOUT`] on every connection.
pub async fn connect(database_url: &str, max_size: u32) -> Result<Pool, DbError> {
    connect_with(database_url, max_size, DEFAULT_STATEMENT_TIMEOUT).await
}

/// Builds the pool. Connections are opened lazily, so start-up does not fail on a
/// briefly unreachable database; `/readyz` reports it instead. Every connection starts
/// with `statement_timeout` set (a statement running longer fails with SQLSTATE 57014,
/// `query_canceled`), so no query holds a connection of the pool for long.
pub async fn connect_with(
    database_url: &str,
    max_size: u32,
    statement_timeout: std::time::Duration,
) -> Result<Pool, DbError> {
    let (config, tls) = config_with(database_url, statement_timeout)?;
    build(CachingManager::new(config, tls), max_size).await
}

/// A pool of plain connections that keep no statements, as `bench pg-floor` measures
/// Postgres with ([`DEFAULT_STATEMENT_TIMEOUT`], TLS as the URL asks).
pub async fn connect_plain(
    database_url: &str,
    max_size: u32,
) -> Result<bb8::Pool<bb8_postgres::PostgresConnectionManager<MakeRustlsConnect>>, DbError> {
    let (config, tls) = config_with(database_url, DEFAULT_STATEMENT_TIMEOUT)?;
    build(
        bb8_postgres::PostgresConnectionManager::new(config, tls),
        max_size,
    )
    .await
}

/// The connection settings of `database_url`, with `statement_timeout` set at connect.
fn config_with(
    database_url: &str,
    statement_timeout: std::time::Duration,
) -> Result<(tokio_postgres::Config, MakeRustlsConnect), DbError> {
    let (mut config, tls) = tls::connect_config(database_url)?;
    let timeout = format!(
        "-c statement_timeout={}",
        statement_timeout.as_millis().max(1)
    );
    let options = match config.get_options() {
        Some(given) if !given.trim().is_empty() => format!("{given} {timeout}"),
        _ => timeout,
    };
    config.options(&options);
    Ok((config, tls))
}

async fn build<M>(manager: M, max_size: u32) -> Result<bb8::Pool<M>, DbError>
where
    M: bb8::ManageConnection<Error = tokio_postgres::Error>,
{
    Ok(bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(5))
        .build(manager)
        .await?)
}

/// Sets `statement_timeout` for the rest of `client`'s session (the PersistActor's own
/// connection gets its own limit this way).
pub async fn set_statement_timeout(
    client: &tokio_postgres::Client,
    timeout: std::time::Duration,
) -> Result<(), DbError> {
    client
        .simple_query(&format!(
            "SET statement_timeout = {}",
            timeout.as_millis().max(1)
        ))
        .await?;
    Ok(())
}

/// Is Postgres reachable right now? Used by `/readyz`.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    let conn = pool.get().await?;
    conn.simple_query("SELECT 1").await?;
    Ok(())
}

/// `text` as a literal inside a LIKE pattern (its `%`, `_` and `\` escaped).
pub(crate) fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn a_query_is_searched_for_literally() {
        assert_eq!(like_pattern("book"), "book");
        assert_eq!(like_pattern("100%_off\\"), "100\\%\\_off\\\\");
    }
}
