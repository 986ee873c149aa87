//! Message history, read side.

use super::{DbError, Pool};
use crate::domain::{ClientId, ConversationId, Message, MessageId, Quote, UserId};
use tokio_postgres::Row;

/// The columns [`message`] reads, from `messages m` joined with [`REPLY_JOIN`].
pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.seq, m.sender_id, m.body, m.client_id, m.created_at,
     m.reply_to, r.sender_id AS reply_sender, left(r.body, 200) AS reply_body";

/// The replied-to message `r` of `messages m`, for [`MESSAGE_COLUMNS`].
pub(crate) const REPLY_JOIN: &str =
    "LEFT JOIN messages r ON r.conversation_id = m.conversation_id AND r.seq = m.reply_to";

/// [`REPLY_JOIN`] as reader `$4` may see it: a quote of someone the reader blocked, or
/// who blocked the reader, joins nothing and reads as gone (`sender_id`, `body` null).
const REPLY_JOIN_FOR_READER: &str =
    "LEFT JOIN messages r ON r.conversation_id = m.conversation_id AND r.seq = m.reply_to
       AND NOT EXISTS (SELECT 1 FROM blocks qb
                       WHERE (qb.blocker_id = $4 AND qb.blocked_id = r.sender_id)
                          OR (qb.blocker_id = r.sender_id AND qb.blocked_id = $4))";

pub(crate) fn message(row: &Row) -> Message {
    Message {
        id: MessageId(row.get("id")),
        conversation_id: ConversationId(row.get("conversation_id")),
        seq: row.get("seq"),
        sender_id: UserId(row.get("sender_id")),
        body: row.get("body"),
        client_id: ClientId::from_stored(row.get("client_id")),
        created_at: row.get("created_at"),
        reply_to: row.get::<_, Option<i64>>("reply_to").map(|seq| Quote {
            seq,
            sender_id: row.get::<_, Option<uuid::Uuid>>("reply_sender").map(UserId),
            body: row.get("reply_body"),
        }),
    }
}

/// Which page of history to read: the protocol's own choice, read as it is.
pub use banter_protocol::Page;

/// Whether `$4` (the reader) blocked the message's sender in a room: such messages are
/// never shown to the reader (in direct chats a block stops new messages instead).
const HIDDEN_FROM_READER: &str = "EXISTS (
    SELECT 1 FROM blocks b JOIN conversations c ON c.id = m.conversation_id
    WHERE c.kind = 'room' AND b.blocker_id = $4 AND b.blocked_id = m.sender_id)";

/// Page bounds: the scan order and the exclusive bounds `$3 < seq < $5`. Scrolling back
/// reads the newest rows below the bound, then puts them in order.
fn bounds(page: Page) -> (&'static str, i64, i64) {
    match page {
        Page::After(after) => ("ASC", after, i64::MAX),
        Page::Between(after, before) => ("ASC", after, before),
        Page::Before(before) => ("DESC", 0, before),
        Page::Latest => ("DESC", 0, i64::MAX),
    }
}

/// A page of history as `reader` may see it, in ascending `seq` order: messages from
/// people the reader blocked in a room are left out (and the page is filled past them,
/// so a short page still means the end).
pub async fn history(
    pool: &Pool,
    conversation: ConversationId,
    reader: UserId,
    page: Page,
    limit: i64,
) -> Result<Vec<Message>, DbError> {
    let conn = pool.get().await?;
    let (order, after, before) = bounds(page);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m {REPLY_JOIN_FOR_READER}
         WHERE m.conversation_id = $1 AND m.seq > $3 AND m.seq < $5 AND NOT {HIDDEN_FROM_READER}
         ORDER BY m.seq {order} LIMIT $2"
    );
    let mut messages: Vec<Message> = conn
        .query(
            sql.as_str(),
            &[&conversation.0, &limit, &after, &reader.0, &before],
        )
        .await?
        .iter()
        .map(message)
        .collect();
    messages.sort_by_key(|m| m.seq);
    Ok(messages)
}

/// Like [`history`], but every message comes back, marked when hidden from `reader`:
/// delivery needs each `seq` to keep its order.
pub async fn history_marked(
    pool: &Pool,
    conversation: ConversationId,
    reader: UserId,
    page: Page,
    limit: i64,
) -> Result<Vec<(Message, bool)>, DbError> {
    let conn = pool.get().await?;
    let (order, after, before) = bounds(page);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, {HIDDEN_FROM_READER} AS hidden FROM messages m {REPLY_JOIN_FOR_READER}
         WHERE m.conversation_id = $1 AND m.seq > $3 AND m.seq < $5
         ORDER BY m.seq {order} LIMIT $2"
    );
    let mut messages: Vec<(Message, bool)> = conn
        .query(
            sql.as_str(),
            &[&conversation.0, &limit, &after, &reader.0, &before],
        )
        .await?
        .iter()
        .map(|row| (message(row), row.get("hidden")))
        .collect();
    messages.sort_by_key(|(m, _)| m.seq);
    Ok(messages)
}
