//! Secrets shared by all nodes through Postgres. What is stored here is already sealed
//! (identity/root_key.rs); this module only reads and writes the bytes.

use super::{DbError, Pool};

/// The row of the session-token root key. Sealing it kept this name, so a node of an
/// older release finds the row (and refuses its bytes) rather than making a new key.
pub const ROOT_KEY_NAME: &str = "biscuit_root_key";

/// The stored bytes of the root key, if any.
pub async fn root_key(pool: &Pool) -> Result<Option<Vec<u8>>, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_opt(
            "SELECT secret FROM server_keys WHERE name = $1",
            &[&ROOT_KEY_NAME],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Stores `candidate` unless a root key is stored already, and returns what is stored.
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

/// Replaces the stored root key `old` with `new` (its sealed form), unless another node
/// replaced it first. Returns whether this call did.
pub async fn replace_root_key(pool: &Pool, old: &[u8], new: &[u8]) -> Result<bool, DbError> {
    let conn = pool.get().await?;
    let changed = conn
        .execute(
            "UPDATE server_keys SET secret = $3 WHERE name = $1 AND secret = $2",
            &[&ROOT_KEY_NAME, &old, &new],
        )
        .await?;
    Ok(changed == 1)
}
