//! Read receipts, read side: who of a conversation has read up to a message.

use super::{DbError, Pool};
use crate::domain::{ConversationId, User, UserId};

/// Most people a "seen by" answer names (its count covers them all).
pub const SEEN_NAMED: i64 = 100;

/// What a "seen by" question found.
pub enum SeenBy {
    /// How many have read up to the message, and the first of them by email.
    Seen { count: i64, users: Vec<User> },
    /// The asker is not a member.
    NotAMember,
    /// The asker does not share their own receipts, so is shown none.
    NotSharing,
}

/// The other members of `conversation` who have read up to `seq`, as `viewer` may see
/// them: people who share their receipts, with no block between them and the viewer.
pub async fn seen_by(
    pool: &Pool,
    conversation: ConversationId,
    viewer: UserId,
    seq: i64,
) -> Result<SeenBy, DbError> {
    let conn = pool.get().await?;
    let Some(me) = conn
        .query_opt(
            "SELECT u.share_receipts FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = $1 AND m.user_id = $2",
            &[&conversation.0, &viewer.0],
        )
        .await?
    else {
        return Ok(SeenBy::NotAMember);
    };
    if !me.get::<_, bool>(0) {
        return Ok(SeenBy::NotSharing);
    }
    let rows = conn
        .query(
            "SELECT u.id, u.email, u.display_name, count(*) OVER () FROM members m
             JOIN users u ON u.id = m.user_id AND u.share_receipts
             WHERE m.conversation_id = $1 AND m.user_id <> $2 AND m.read_seq >= $3
               AND NOT EXISTS (SELECT 1 FROM blocks b
                               WHERE (b.blocker_id = $2 AND b.blocked_id = u.id)
                                  OR (b.blocker_id = u.id AND b.blocked_id = $2))
             ORDER BY lower(u.email), u.id LIMIT $4",
            &[&conversation.0, &viewer.0, &seq, &SEEN_NAMED],
        )
        .await?;
    let count = rows.first().map_or(0, |r| r.get(3));
    Ok(SeenBy::Seen {
        count,
        users: rows.iter().map(super::users::user).collect(),
    })
}
