//! Message history, read side.

use super::{DbError, Pool};
use crate::domain::{ClientId, ConversationId, Message, MessageId, UserId};
use tokio_postgres::Row;

pub(crate) const MESSAGE_COLUMNS: &str =
    "id, conversation_id, seq, sender_id, body, client_id, created_at";

pub(crate) fn message(row: &Row) -> Message {
    Message {
        id: MessageId(row.get("id")),
        conversation_id: ConversationId(row.get("conversation_id")),
        seq: row.get("seq"),
        sender_id: UserId(row.get("sender_id")),
        body: row.get("body"),
        client_id: ClientId::from_stored(row.get("client_id")),
        created_at: row.get("created_at"),
    }
}

/// Which page of history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Messages with `seq > after`, oldest first: catching up after a gap.
    After(i64),
    /// Messages with `seq < before`, the newest of them: scrolling up.
    Before(i64),
    /// The newest messages.
    Latest,
}

/// A page of history in ascending `seq` order.
pub async fn history(
    pool: &Pool,
    conversation: ConversationId,
    page: Page,
    limit: i64,
) -> Result<Vec<Message>, DbError> {
    let conn = pool.get().await?;
    // Scrolling back reads the newest rows below the bound, then puts them in order.
    let (condition, order, bound) = match page {
        Page::After(after) => ("seq > $3", "ASC", after),
        Page::Before(before) => ("seq < $3", "DESC", before),
        Page::Latest => ("seq < $3", "DESC", i64::MAX),
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND {condition}
         ORDER BY seq {order} LIMIT $2"
    );
    let mut messages: Vec<Message> = conn
        .query(sql.as_str(), &[&conversation.0, &limit, &bound])
        .await?
        .iter()
        .map(message)
        .collect();
    messages.sort_by_key(|m| m.seq);
    Ok(messages)
}
