//! Rooms, read side. The same columns serve the writes in `writes/rooms.rs`.

use super::{DbError, Pool};
use crate::domain::{ConversationId, Room, RoomName, User, UserId};
use tokio_postgres::Row;

/// Selects rooms as [`room`] reads them (add `WHERE`/`ORDER BY`).
pub const ROOM_SELECT: &str = "
    SELECT c.id, c.name, c.password_hash IS NOT NULL AS has_password, c.created_by,
           (SELECT count(*) FROM members m WHERE m.conversation_id = c.id) AS members
    FROM conversations c WHERE c.kind = 'room'";

pub fn room(row: &Row) -> Room {
    Room {
        id: ConversationId(row.get("id")),
        name: row.get("name"),
        has_password: row.get("has_password"),
        created_by: row.get::<_, Option<uuid::Uuid>>("created_by").map(UserId),
        members: row.get("members"),
    }
}

/// Every room, by name.
pub async fn list(pool: &Pool) -> Result<Vec<Room>, DbError> {
    list_on(&*pool.get().await?).await
}

/// Every room, by name, read on `client` (a connection, or a transaction's).
pub async fn list_on(client: &impl tokio_postgres::GenericClient) -> Result<Vec<Room>, DbError> {
    let sql = format!("{ROOM_SELECT} ORDER BY lower(c.name)");
    let rows = client.query(sql.as_str(), &[]).await?;
    Ok(rows.iter().map(room).collect())
}

/// Whether a room already has `name` (whatever the case), checked before a password's
/// hash is paid for; the unique index on `lower(name)` still decides races.
pub async fn name_taken(pool: &Pool, name: &RoomName) -> Result<bool, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM conversations
                            WHERE kind = 'room' AND lower(name) = lower($1))",
            &[&name.as_str()],
        )
        .await?;
    Ok(row.get(0))
}

/// A room and its password hash (`None` for an open room), to check a join against.
pub async fn find_with_hash(
    pool: &Pool,
    id: ConversationId,
) -> Result<Option<(Room, Option<String>)>, DbError> {
    let conn = pool.get().await?;
    let sql = format!(
        "SELECT r.*, c.password_hash FROM ({ROOM_SELECT} AND c.id = $1) r
         JOIN conversations c ON c.id = r.id"
    );
    let row = conn.query_opt(sql.as_str(), &[&id.0]).await?;
    Ok(row.map(|r| (room(&r), r.get("password_hash"))))
}

/// The members of a room, by email.
pub async fn members(pool: &Pool, id: ConversationId) -> Result<Vec<User>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT u.id, u.email FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = $1 ORDER BY lower(u.email)",
            &[&id.0],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| User {
            id: UserId(r.get(0)),
            email: r.get(1),
        })
        .collect())
}
