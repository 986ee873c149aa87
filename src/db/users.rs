//! The `users` table.

use super::{DbError, Pool};
use crate::domain::{UiState, User, UserId};
use tokio_postgres::Row;

/// Issuer recorded for people created by `banter token` without a provider login.
pub const CLI_ISSUER: &str = "banter:cli";

fn user(row: &Row) -> User {
    User {
        id: UserId(row.get("id")),
        email: row.get("email"),
    }
}

/// Creates the person on first sight (issuer + subject) and keeps the email current.
pub async fn upsert(
    pool: &Pool,
    issuer: &str,
    subject: &str,
    email: &str,
) -> Result<User, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_one(
            "INSERT INTO users (id, issuer, subject, email) VALUES ($1, $2, $3, $4)
             ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email
             RETURNING id, email",
            &[&UserId::new().0, &issuer, &subject, &email],
        )
        .await?;
    Ok(user(&row))
}

/// The person with this email (the oldest, should a provider reuse one), or a new one
/// recorded under [`CLI_ISSUER`]. Used by `banter token`.
pub async fn find_or_create_by_email(pool: &Pool, email: &str) -> Result<User, DbError> {
    let conn = pool.get().await?;
    if let Some(row) = conn
        .query_opt(
            "SELECT id, email FROM users WHERE lower(email) = lower($1)
             ORDER BY created_at LIMIT 1",
            &[&email],
        )
        .await?
    {
        return Ok(user(&row));
    }
    drop(conn);
    upsert(pool, CLI_ISSUER, &email.to_lowercase(), email).await
}

pub async fn get(pool: &Pool, id: UserId) -> Result<Option<User>, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_opt("SELECT id, email FROM users WHERE id = $1", &[&id.0])
        .await?;
    Ok(row.as_ref().map(user))
}

pub async fn ui_state(pool: &Pool, id: UserId) -> Result<UiState, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_opt("SELECT ui_state FROM users WHERE id = $1", &[&id.0])
        .await?;
    Ok(row
        .and_then(|r| serde_json::from_value(r.get::<_, serde_json::Value>(0)).ok())
        .unwrap_or_default())
}
