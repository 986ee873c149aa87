//! The `users` table.

use super::{like_pattern, DbError, Pool};
use crate::domain::{DisplayName, UiState, User, UserId};
use tokio_postgres::Row;

/// Issuer recorded for people created by `banter token` without a provider login.
pub const CLI_ISSUER: &str = "banter:cli";

/// A person from a row with `id`, `email` and `display_name`.
pub fn user(row: &Row) -> User {
    User {
        id: UserId(row.get("id")),
        email: row.get("email"),
        name: row.get("display_name"),
    }
}

/// Creates the person on first sight (issuer + subject) and keeps the email current.
/// `name` (the provider's, if it gave one) becomes their display name only while they
/// have none: once set, the name is theirs to change.
pub async fn upsert(
    pool: &Pool,
    issuer: &str,
    subject: &str,
    email: &str,
    name: Option<&DisplayName>,
) -> Result<User, DbError> {
    let conn = pool.get().await?;
    // A new account joins the room everyone shares in the same statement (`xmax = 0`:
    // the row was inserted, not updated).
    let row = conn
        .query_one(
            "WITH person AS (
                 INSERT INTO users (id, issuer, subject, email, display_name)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email,
                     display_name = COALESCE(users.display_name, EXCLUDED.display_name)
                 RETURNING id, email, display_name, xmax = 0 AS created
             ), joined AS (
                 INSERT INTO members (conversation_id, user_id, read_seq)
                 SELECT c.id, person.id, c.last_seq FROM conversations c, person
                 WHERE c.everyone AND person.created
                 ON CONFLICT DO NOTHING
             )
             SELECT id, email, display_name FROM person",
            &[
                &UserId::new().0,
                &issuer,
                &subject,
                &email,
                &name.map(DisplayName::as_str),
            ],
        )
        .await?;
    Ok(user(&row))
}

/// The people directory: up to `limit` people whose email or display name starts with
/// `prefix` (without case), leaving out the viewer and anyone a block stands between
/// (either way), as the online list does; in the order of what matched (their name or
/// email, lower case, byte order). Two index ranges (`users_email_prefix_idx`, `users_name_prefix_idx`), each read
/// in order up to the limit, then merged: the cost follows the limit, not the population.
pub async fn directory(
    pool: &Pool,
    viewer: UserId,
    prefix: &str,
    limit: i64,
) -> Result<Vec<User>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT id, email, display_name FROM (
               (SELECT id, email, display_name FROM users u
                WHERE lower(u.email) COLLATE \"C\" LIKE $2 AND u.id <> $1
                  AND NOT EXISTS (SELECT 1 FROM blocks b
                                  WHERE (b.blocker_id = $1 AND b.blocked_id = u.id)
                                     OR (b.blocker_id = u.id AND b.blocked_id = $1))
                ORDER BY lower(u.email) COLLATE \"C\", u.id LIMIT $3)
               UNION
               (SELECT id, email, display_name FROM users u
                WHERE lower(u.display_name) COLLATE \"C\" LIKE $2 AND u.id <> $1
                  AND NOT EXISTS (SELECT 1 FROM blocks b
                                  WHERE (b.blocker_id = $1 AND b.blocked_id = u.id)
                                     OR (b.blocker_id = u.id AND b.blocked_id = $1))
                ORDER BY lower(u.display_name) COLLATE \"C\", u.id LIMIT $3)
             ) found
             -- By whichever matched first in its index's order: each branch is the
             -- first `limit` of its own order, so their merge's first `limit` is exact.
             ORDER BY least(
                 CASE WHEN lower(email) COLLATE \"C\" LIKE $2 THEN lower(email) COLLATE \"C\" END,
                 CASE WHEN lower(display_name) COLLATE \"C\" LIKE $2
                      THEN lower(display_name) COLLATE \"C\" END), id
             LIMIT $3",
            &[
                &viewer.0,
                &format!("{}%", like_pattern(&prefix.to_lowercase())),
                &limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(user).collect())
}

/// Whom an operator's `banter token --email` mints for.
#[derive(Debug)]
pub enum MintTarget {
    /// The one person: of the configured issuer, else the one `banter token` recorded
    /// under [`CLI_ISSUER`] (created now if new).
    Found(User),
    /// Several people of the configured issuer have this email (a provider with two
    /// logins for one address): the operator has to say which.
    Several(Vec<User>),
    /// No issuer is configured, and people who sign in through a provider have this
    /// email: which of them is meant cannot be told, and a new account would be a double.
    NeedsIssuer,
}

/// Finds whom `banter token --email` is for. Only people of `issuer` (the deployment's
/// `OIDC_ISSUER`) count: an account another provider (an old tenant, say) made with the
/// same email is somebody else.
pub async fn mint_target(
    pool: &Pool,
    issuer: Option<&str>,
    email: &str,
) -> Result<MintTarget, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT id, email, display_name, issuer FROM users
             WHERE lower(email) = lower($1) AND issuer <> $2
             ORDER BY created_at",
            &[&email, &CLI_ISSUER],
        )
        .await?;
    drop(conn);
    let mut ours: Vec<User> = match issuer {
        Some(issuer) => rows
            .iter()
            .filter(|r| r.get::<_, &str>("issuer") == issuer)
            .map(user)
            .collect(),
        None if rows.is_empty() => Vec::new(),
        None => return Ok(MintTarget::NeedsIssuer),
    };
    match ours.len() {
        0 => Ok(MintTarget::Found(
            upsert(pool, CLI_ISSUER, &email.to_lowercase(), email, None).await?,
        )),
        1 => Ok(MintTarget::Found(ours.remove(0))),
        _ => Ok(MintTarget::Several(ours)),
    }
}

pub async fn get(pool: &Pool, id: UserId) -> Result<Option<User>, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_opt(
            "SELECT id, email, display_name FROM users WHERE id = $1",
            &[&id.0],
        )
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
