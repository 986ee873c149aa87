//! Rooms, read side. The same columns serve the writes in `writes/rooms.rs`.

use super::{like_pattern, DbError, Pool};
use crate::domain::{ConversationId, DirectoryPage, Room, RoomName, User, UserId};
use tokio_postgres::Row;

/// Selects rooms as [`room`] reads them (add `WHERE`/`ORDER BY`).
pub const ROOM_SELECT: &str = "
    SELECT c.id, c.name, c.password_hash IS NOT NULL AS has_password, c.created_by,
           c.member_count AS members, c.everyone
    FROM conversations c WHERE c.kind = 'room'";

pub fn room(row: &Row) -> Room {
    Room {
        id: ConversationId(row.get("id")),
        name: row.get("name"),
        has_password: row.get("has_password"),
        created_by: row.get::<_, Option<uuid::Uuid>>("created_by").map(UserId),
        members: row.get("members"),
        everyone: row.get("everyone"),
    }
}

/// The directory's order: name without case, byte by byte (the index of V6 holds it).
const DIRECTORY_ORDER: &str = r#"lower(c.name) COLLATE "C""#;

/// A page of the room directory, by name without case, and whether more rooms follow.
/// One query: a page without `query` is a range scan of the name index; with one,
/// Postgres uses the trigram index when it pays (at 20,000 rooms it scans the names
/// instead, ~5 ms; a query under three characters always scans them).
pub async fn directory(pool: &Pool, page: &DirectoryPage) -> Result<(Vec<Room>, bool), DbError> {
    let conn = pool.get().await?;
    let mut sql = ROOM_SELECT.to_owned();
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
    let pattern = page.query.as_deref().map(like_pattern);
    if let Some(pattern) = &pattern {
        params.push(pattern);
        sql += &format!(
            " AND lower(c.name) LIKE '%' || lower(${}) || '%'",
            params.len()
        );
    }
    if let Some(after) = &page.after {
        params.push(after);
        sql += &format!(
            " AND {DIRECTORY_ORDER} > (lower(${}) COLLATE \"C\")",
            params.len()
        );
    }
    // One more than asked tells whether more follow.
    let fetch = (page.limit + 1) as i64;
    params.push(&fetch);
    sql += &format!(" ORDER BY {DIRECTORY_ORDER} LIMIT ${}", params.len());
    let rows = conn.query(sql.as_str(), &params).await?;
    let mut rooms: Vec<Room> = rows.iter().map(room).collect();
    let more = rooms.len() > page.limit;
    rooms.truncate(page.limit);
    Ok((rooms, more))
}

/// The rooms each of `users` is a member of, by name (the directory's order), read on
/// `client` (a transaction's, for a batch of snapshots). Member counts are kept on the
/// room's row: the room everyone is in costs what any room does.
///
/// The memberships are looked up by person first (`members_user_idx`), as a
/// materialized step the planner cannot reorder: joined the other way, from the few
/// rooms to their members, a batch of 64 people read every member of the room everyone
/// is in (17,000 index entries, 14–24 ms a batch at 17,000 people, where this takes
/// under 1 ms).
pub async fn of_members(
    client: &super::statements::Tx<'_>,
    users: &[uuid::Uuid],
) -> Result<Vec<(UserId, Room)>, DbError> {
    let sql = format!(
        "WITH theirs AS MATERIALIZED (
             SELECT conversation_id, user_id FROM members WHERE user_id = ANY($1)
         )
         SELECT c.id, c.name, c.password_hash IS NOT NULL AS has_password, c.created_by,
                c.member_count AS members, c.everyone, m.user_id AS member
         FROM theirs m
         JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'room'
         ORDER BY {DIRECTORY_ORDER}"
    );
    let rows = client.query(sql.as_str(), &[&users]).await?;
    Ok(rows
        .iter()
        .map(|r| (UserId(r.get("member")), room(r)))
        .collect())
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

/// The members of a room, by email, as `viewer` may see them: without the display name
/// of anyone a block stands between (either way), whose changes they are not told of.
pub async fn members(
    pool: &Pool,
    id: ConversationId,
    viewer: UserId,
) -> Result<Vec<User>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT u.id, u.email,
                    CASE WHEN EXISTS (SELECT 1 FROM blocks bn
                                      WHERE (bn.blocker_id = $2 AND bn.blocked_id = u.id)
                                         OR (bn.blocker_id = u.id AND bn.blocked_id = $2))
                         THEN NULL ELSE u.display_name END AS display_name
             FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = $1 ORDER BY lower(u.email)",
            &[&id.0, &viewer.0],
        )
        .await?;
    Ok(rows.iter().map(super::users::user).collect())
}
