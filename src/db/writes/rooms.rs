//! Creating, joining, leaving and deleting rooms, inside a PersistActor transaction.

use super::Tx;
use super::{find_user, Applied, WriteOutcome, WriteRejection};
use crate::db::conversations::{summary, SUMMARY_SELECT};
use crate::db::rooms::{room, ROOM_SELECT};
use crate::domain::{ConversationId, ConversationSummary, Room, RoomName, UserId};
use tokio_postgres::Error;

async fn find_room(tx: &Tx<'_>, id: ConversationId) -> Result<Option<Room>, Error> {
    let sql = format!("{ROOM_SELECT} AND c.id = $1");
    Ok(tx
        .query_opt(sql.as_str(), &[&id.0])
        .await?
        .as_ref()
        .map(room))
}

async fn summary_of(
    tx: &Tx<'_>,
    user: UserId,
    id: ConversationId,
) -> Result<ConversationSummary, Error> {
    let sql = format!("{SUMMARY_SELECT} AND c.id = $2");
    Ok(summary(
        &tx.query_one(sql.as_str(), &[&user.0, &id.0]).await?,
    ))
}

/// The members told of a join or leave: none for the room everyone shares, whose members
/// are the population (a join there would be a frame to everyone online, and a row read
/// per account).
async fn members_told(tx: &Tx<'_>, room: &Room) -> Result<Vec<UserId>, Error> {
    if room.everyone {
        return Ok(Vec::new());
    }
    member_ids(tx, room.id).await
}

async fn member_ids(tx: &Tx<'_>, id: ConversationId) -> Result<Vec<UserId>, Error> {
    let rows = tx
        .query(
            "SELECT user_id FROM members WHERE conversation_id = $1",
            &[&id.0],
        )
        .await?;
    Ok(rows.iter().map(|r| UserId(r.get(0))).collect())
}

pub async fn create(
    tx: &Tx<'_>,
    creator: UserId,
    name: &RoomName,
    password_hash: Option<&str>,
) -> Result<Applied, Error> {
    let Some(creator_user) = find_user(tx, creator).await? else {
        return Ok(Err(WriteRejection::NotFound("user")));
    };
    let id = ConversationId::new();
    // The unique index on lower(name) decides races between nodes.
    let inserted = tx
        .execute(
            "INSERT INTO conversations (id, kind, name, password_hash, created_by)
             VALUES ($1, 'room', $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&id.0, &name.as_str(), &password_hash, &creator.0],
        )
        .await?;
    if inserted == 0 {
        return Ok(Err(WriteRejection::Conflict(
            "a room with that name exists",
        )));
    }
    tx.execute(
        "INSERT INTO members (conversation_id, user_id) VALUES ($1, $2)",
        &[&id.0, &creator.0],
    )
    .await?;
    let Some(created) = find_room(tx, id).await? else {
        return Ok(Err(WriteRejection::NotFound("room")));
    };
    Ok(Ok(WriteOutcome::RoomCreated {
        room: created,
        creator: creator_user,
        conversation: summary_of(tx, creator, id).await?,
    }))
}

/// Whether `id` is a room, holding its row until the transaction ends so a concurrent
/// delete cannot slip between this check and the membership change. `FOR NO KEY UPDATE`,
/// not `FOR SHARE`: the membership change updates the row's member count (a trigger), and
/// two joins each holding a share lock while waiting to update would deadlock.
async fn lock_room(tx: &Tx<'_>, id: ConversationId) -> Result<bool, Error> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM conversations WHERE id = $1 AND kind = 'room' FOR NO KEY UPDATE",
            &[&id.0],
        )
        .await?;
    Ok(row.is_some())
}

pub async fn join(tx: &Tx<'_>, user: UserId, id: ConversationId) -> Result<Applied, Error> {
    let Some(user_record) = find_user(tx, user).await? else {
        return Ok(Err(WriteRejection::NotFound("user")));
    };
    if !lock_room(tx, id).await? {
        return Ok(Err(WriteRejection::NotFound("room")));
    }
    // A newcomer has read what was said before they came (as in Slack or Zulip): the
    // room's history is there to scroll, not hundreds of unread messages.
    let changed = tx
        .execute(
            "INSERT INTO members (conversation_id, user_id, read_seq)
             SELECT id, $2, last_seq FROM conversations WHERE id = $1
             ON CONFLICT DO NOTHING",
            &[&id.0, &user.0],
        )
        .await?
        == 1;
    let Some(joined) = find_room(tx, id).await? else {
        return Ok(Err(WriteRejection::NotFound("room")));
    };
    let members = members_told(tx, &joined).await?;
    Ok(Ok(WriteOutcome::RoomJoined {
        user: user_record,
        room: joined,
        conversation: summary_of(tx, user, id).await?,
        members,
        changed,
    }))
}

pub async fn leave(tx: &Tx<'_>, user: UserId, id: ConversationId) -> Result<Applied, Error> {
    let Some(user_record) = find_user(tx, user).await? else {
        return Ok(Err(WriteRejection::NotFound("user")));
    };
    // Only rooms are left: a direct conversation's id changes nothing (leaving one would
    // drop its messages for this person while the peer's sends are still acknowledged).
    if !lock_room(tx, id).await? {
        return Ok(Err(WriteRejection::NotFound("room")));
    }
    let changed = tx
        .execute(
            "DELETE FROM members WHERE conversation_id = $1 AND user_id = $2",
            &[&id.0, &user.0],
        )
        .await?
        == 1;
    let Some(left) = find_room(tx, id).await? else {
        return Ok(Err(WriteRejection::NotFound("room")));
    };
    Ok(Ok(WriteOutcome::RoomLeft {
        user: user_record,
        members: members_told(tx, &left).await?,
        room: left,
        changed,
    }))
}

pub async fn delete(tx: &Tx<'_>, user: UserId, id: ConversationId) -> Result<Applied, Error> {
    let Some(row) = tx
        .query_opt(
            "SELECT created_by, everyone FROM conversations WHERE id = $1 AND kind = 'room' FOR UPDATE",
            &[&id.0],
        )
        .await?
    else {
        return Ok(Err(WriteRejection::NotFound("room")));
    };
    if row.get::<_, bool>(1) {
        return Ok(Err(WriteRejection::Forbidden(
            "the room everyone shares cannot be deleted; you may leave it",
        )));
    }
    if row.get::<_, Option<uuid::Uuid>>(0) != Some(user.0) {
        return Ok(Err(WriteRejection::Forbidden(
            "only the room's creator can delete it",
        )));
    }
    // Read under the row lock: no join or leave slips in before the delete.
    let members = member_ids(tx, id).await?;
    tx.execute("DELETE FROM conversations WHERE id = $1", &[&id.0])
        .await?;
    Ok(Ok(WriteOutcome::RoomDeleted { room: id, members }))
}
