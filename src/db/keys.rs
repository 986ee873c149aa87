//! Secrets shared by all nodes through Postgres.

use super::{DbError, Pool};

const ROOT_KEY_NAME: &str = "biscuit_root_key";

/// Returns the stored session-token root key, storing `candidate` first if none exists.
/// Concurrent first starts agree: the first insert wins and everyone reads it back.
pub async fn root_key_or_store(pool: &Pool, candidate: &[u8]) -> Result<Vec<u8>, DbError> {
    let conn = pool.get().await?;
    conn.execute(
        "INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&ROOT_KEY_NAME, &candidate],
    )
    .await?;
    let row = conn
        .query_one(
            "SELECT secret FROM server_keys WHERE name = $1",
            &[&ROOT_KEY_NAME],
        )
        .await?;
    Ok(row.get(0))
}
