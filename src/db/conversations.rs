//! Conversations and members, read side.

use super::{DbError, Pool};
use crate::domain::{ConversationId, ConversationKind, ConversationSummary, User, UserId};
use tokio_postgres::Row;

/// Columns of [`summary`] and `viewer` (the member they are read for), from `members m`
/// on; the caller adds which members.
macro_rules! summary_from {
    () => {
        "
    SELECT m.user_id AS viewer, c.id, c.kind, c.name, c.last_seq, c.last_change, m.read_seq,
           p.id AS peer_id, p.email AS peer_email,
           CASE WHEN EXISTS (SELECT 1 FROM blocks bn
                             WHERE (bn.blocker_id = m.user_id AND bn.blocked_id = p.id)
                                OR (bn.blocker_id = p.id AND bn.blocked_id = m.user_id))
                THEN NULL ELSE p.display_name END AS peer_name,
           CASE WHEN p.share_receipts
                 AND (SELECT v.share_receipts FROM users v WHERE v.id = m.user_id)
                 AND NOT EXISTS (SELECT 1 FROM blocks br
                                 WHERE (br.blocker_id = m.user_id AND br.blocked_id = p.id)
                                    OR (br.blocker_id = p.id AND br.blocked_id = m.user_id))
                THEN (SELECT pm.read_seq FROM members pm
                      WHERE pm.conversation_id = c.id AND pm.user_id = p.id)
           END AS peer_read_seq,
           ARRAY(SELECT mn.seq FROM mentions mn JOIN messages ms
                   ON ms.conversation_id = mn.conversation_id AND ms.seq = mn.seq
                 WHERE mn.user_id = m.user_id AND mn.conversation_id = c.id
                   AND mn.seq > m.read_seq
                   AND NOT EXISTS (SELECT 1 FROM blocks b
                                   WHERE b.blocker_id = m.user_id AND b.blocked_id = ms.sender_id)
                 ORDER BY mn.seq DESC LIMIT 99) AS mentions
    FROM members m
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN direct_pairs d ON d.conversation_id = c.id
    LEFT JOIN users p ON p.id = CASE WHEN d.user_lo = m.user_id THEN d.user_hi ELSE d.user_lo END"
    };
}

/// Columns of [`summary`], selected for member `$1`.
pub(crate) const SUMMARY_SELECT: &str = concat!(summary_from!(), "\n    WHERE m.user_id = $1");

/// Columns of [`summary`], selected for every member in the array `$1` (see `viewer`).
pub(crate) const SUMMARIES_OF_MANY: &str =
    concat!(summary_from!(), "\n    WHERE m.user_id = ANY($1)");

/// A person's conversations as their list shows them: the most recent first.
pub(crate) const RECENT_FIRST: &str = "ORDER BY c.last_seq DESC, c.created_at DESC";

pub(crate) fn summary(row: &Row) -> ConversationSummary {
    let kind: String = row.get("kind");
    let last_seq: i64 = row.get("last_seq");
    let read_seq: i64 = row.get("read_seq");
    let peer = row.get::<_, Option<uuid::Uuid>>("peer_id").map(|id| User {
        id: UserId(id),
        email: row.get("peer_email"),
        name: row.get("peer_name"),
    });
    ConversationSummary {
        id: ConversationId(row.get("id")),
        kind: ConversationKind::parse(&kind).unwrap_or(ConversationKind::Room),
        peer,
        name: row.get("name"),
        last_seq,
        read_seq,
        unread: (last_seq - read_seq).max(0),
        last_change: row.get("last_change"),
        peer_read_seq: row.get("peer_read_seq"),
        mentions: {
            let mut seqs: Vec<i64> = row.get("mentions");
            seqs.reverse();
            seqs
        },
    }
}

/// Every conversation `user` belongs to, most recently active first.
pub async fn list_for(pool: &Pool, user: UserId) -> Result<Vec<ConversationSummary>, DbError> {
    let conn = pool.get().await?;
    let sql = format!("{SUMMARY_SELECT} {RECENT_FIRST}");
    let rows = conn.query(sql.as_str(), &[&user.0]).await?;
    Ok(rows.iter().map(summary).collect())
}

/// One conversation as `user` sees it; `None` when they are not a member.
pub async fn summary_for(
    pool: &Pool,
    user: UserId,
    conversation: ConversationId,
) -> Result<Option<ConversationSummary>, DbError> {
    let conn = pool.get().await?;
    let sql = format!("{SUMMARY_SELECT} AND c.id = $2");
    let row = conn
        .query_opt(sql.as_str(), &[&user.0, &conversation.0])
        .await?;
    Ok(row.as_ref().map(summary))
}

/// Whether `user` is a member of `conversation` (one index lookup, whatever its size).
pub async fn is_member(
    pool: &Pool,
    user: UserId,
    conversation: ConversationId,
) -> Result<bool, DbError> {
    let conn = pool.get().await?;
    let row = conn
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2)",
            &[&conversation.0, &user.0],
        )
        .await?;
    Ok(row.get(0))
}

/// Whom a conversation's live news goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Its members.
    Members(Vec<UserId>),
    /// The room everyone shares: its members are about everyone, so they are not read;
    /// each UserActor that tracks the room takes it.
    Everyone,
}

/// Whom `conversation`'s live news goes to, or `None` when `user` is not a member. The
/// room everyone shares costs one row, not one per account.
pub async fn audience_if_member(
    pool: &Pool,
    user: UserId,
    conversation: ConversationId,
) -> Result<Option<Audience>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            // Two branches, each under a filter on the room's flag decided once per
            // row (a join condition on it would still scan every member and drop them).
            "SELECT c.everyone, m.user_id FROM conversations c
             LEFT JOIN LATERAL (
                 SELECT user_id FROM members WHERE conversation_id = c.id AND NOT c.everyone
                 UNION ALL
                 SELECT user_id FROM members
                 WHERE conversation_id = c.id AND c.everyone AND user_id = $2
             ) m ON true
             WHERE c.id = $1",
            &[&conversation.0, &user.0],
        )
        .await?;
    let everyone = rows.first().is_some_and(|r| r.get::<_, bool>(0));
    let members: Vec<UserId> = rows
        .iter()
        .filter_map(|r| r.get::<_, Option<uuid::Uuid>>(1).map(UserId))
        .collect();
    if !members.contains(&user) {
        return Ok(None);
    }
    Ok(Some(if everyone {
        Audience::Everyone
    } else {
        Audience::Members(members)
    }))
}

/// The last `seq` and the last change number of every conversation `user` belongs to.
pub async fn last_seqs(
    pool: &Pool,
    user: UserId,
) -> Result<Vec<(ConversationId, i64, i64)>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT c.id, c.last_seq, c.last_change FROM members m
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.user_id = $1",
            &[&user.0],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (ConversationId(r.get(0)), r.get(1), r.get(2)))
        .collect())
}
