//! Message history, read side.

use super::{DbError, Pool};
use crate::domain::{ClientId, ConversationId, Message, MessageId, Quote, UserId};
use tokio_postgres::Row;

/// The columns [`message`] reads, from `messages m` joined with [`REPLY_JOIN`].
/// A deleted message's quote reads as gone.
pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.seq, m.sender_id, m.body, m.client_id, m.created_at,
     m.edited_at, m.deleted_at, m.change_seq,
     m.reply_to, CASE WHEN r.deleted_at IS NULL THEN r.sender_id END AS reply_sender,
     CASE WHEN r.deleted_at IS NULL THEN left(r.body, 200) END AS reply_body";

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
        edited_at: row.get("edited_at"),
        deleted_at: row.get("deleted_at"),
        // Filled in by [`with_reactions`] where the reader is known.
        reactions: Vec::new(),
        version: row.get("change_seq"),
    }
}

/// Fills in the reactions of `messages` as `reader` may see them: not those of people
/// the reader blocked (as their room messages are not shown). One query for them all.
pub(crate) async fn with_reactions(
    conn: &tokio_postgres::Client,
    reader: UserId,
    messages: &mut [Message],
) -> Result<(), tokio_postgres::Error> {
    let (conversations, seqs): (Vec<uuid::Uuid>, Vec<i64>) = messages
        .iter()
        .filter(|m| m.version > 0)
        .map(|m| (m.conversation_id.0, m.seq))
        .unzip();
    if seqs.is_empty() {
        return Ok(()); // never changed: never reacted to
    }
    let rows = conn
        .query(
            "SELECT r.conversation_id, r.seq, r.emoji, array_agg(r.user_id ORDER BY r.created_at, r.user_id)
             FROM reactions r
             JOIN unnest($1::uuid[], $2::int8[]) AS k(c, s) ON r.conversation_id = k.c AND r.seq = k.s
             WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $3 AND b.blocked_id = r.user_id)
             GROUP BY r.conversation_id, r.seq, r.emoji
             ORDER BY min(r.created_at), r.emoji",
            &[&conversations, &seqs, &reader.0],
        )
        .await?;
    let at: std::collections::HashMap<(ConversationId, i64), usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| ((m.conversation_id, m.seq), i))
        .collect();
    for row in rows {
        let key = (ConversationId(row.get(0)), row.get::<_, i64>(1));
        if let Some(&i) = at.get(&key) {
            let users: Vec<uuid::Uuid> = row.get(3);
            messages[i].reactions.push(crate::domain::Reaction {
                emoji: row.get(2),
                users: users.into_iter().map(UserId).collect(),
            });
        }
    }
    Ok(())
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
    with_reactions(&conn, reader, &mut messages).await?;
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
    let (mut bare, hidden): (Vec<Message>, Vec<bool>) = messages.into_iter().unzip();
    with_reactions(&conn, reader, &mut bare).await?;
    Ok(bare.into_iter().zip(hidden).collect())
}

/// Messages changed after a change number, as [`changes_since`] reads them.
pub struct ChangedPage {
    /// In change order, as the reader may see them (hidden ones left out).
    pub messages: Vec<Message>,
    /// Every change up to this number is in `messages` (or hidden from the reader).
    pub through: i64,
    /// More changed messages follow: ask again after `through`.
    pub more: bool,
}

/// The messages of `conversation` whose latest change is past `after`, as they are now
/// and as `reader` may see them; `None` when the reader is not a member. A message
/// changed many times comes once, so the cost is the messages changed, not the changes.
pub async fn changes_since(
    pool: &Pool,
    conversation: ConversationId,
    reader: UserId,
    after: i64,
    limit: i64,
) -> Result<Option<ChangedPage>, DbError> {
    let conn = pool.get().await?;
    // Read first: whatever the second statement sees includes every change up to it.
    let Some(row) = conn
        .query_opt(
            "SELECT c.last_change FROM conversations c
             JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $2
             WHERE c.id = $1",
            &[&conversation.0, &reader.0],
        )
        .await?
    else {
        return Ok(None);
    };
    let last_change: i64 = row.get(0);
    if last_change <= after {
        return Ok(Some(ChangedPage {
            messages: Vec::new(),
            through: last_change.max(after),
            more: false,
        }));
    }
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m {REPLY_JOIN_FOR_READER}
         WHERE m.conversation_id = $1 AND m.change_seq > $3 AND NOT {HIDDEN_FROM_READER}
         ORDER BY m.change_seq LIMIT $2"
    );
    let mut messages: Vec<Message> = conn
        .query(sql.as_str(), &[&conversation.0, &limit, &after, &reader.0])
        .await?
        .iter()
        .map(message)
        .collect();
    with_reactions(&conn, reader, &mut messages).await?;
    let more = messages.len() as i64 == limit;
    let through = match messages.last() {
        Some(last) if more => last.version,
        Some(last) => last.version.max(last_change),
        None => last_change,
    };
    Ok(Some(ChangedPage {
        messages,
        through,
        more,
    }))
}
