//! Changing a committed message: an edit, a deletion, a reaction put on or taken off.
//!
//! Each locks the conversation's row (as a send does), checks who may, applies the
//! change, and takes the conversation's next change number, so a conversation's changes
//! commit in number order. A change that changes nothing (the same text again, a
//! deletion of a deleted message, a reaction already so) takes no number and is answered
//! as done: a retry is harmless.

use super::{blocked_between, Applied, Tx, WriteOutcome, WriteRejection};
use crate::domain::{
    Change, ChangeKind, ConversationId, Emoji, MessageBody, UserId, REACTIONS_PER_MESSAGE,
    REACTIONS_PER_PERSON,
};
use chrono::{DateTime, Utc};
use tokio_postgres::Error;

/// What the person asked to change.
#[derive(Debug, Clone)]
pub enum Asked {
    Edit(MessageBody),
    Delete,
    React { emoji: Emoji, add: bool },
}

/// The conversation and the message as the change finds them, under the row lock.
struct Found {
    kind: String,
    created_by: Option<UserId>,
    /// The other person of a direct chat.
    peer: Option<UserId>,
    sender: UserId,
    body: String,
    deleted: bool,
    /// The room everyone shares: its members are not listed for delivery.
    everyone: bool,
}

const GONE: WriteRejection = WriteRejection::Gone("the message was deleted");

pub async fn change(
    tx: &Tx<'_>,
    actor: UserId,
    conversation: ConversationId,
    seq: i64,
    asked: &Asked,
) -> Result<Applied, Error> {
    let Some(found) = find(tx, actor, conversation, seq).await? else {
        return Ok(Err(WriteRejection::NotFound("message")));
    };
    // A deletion is not stopped by a block: one's own words can always be taken back,
    // and a room's creator can remove a message of someone they blocked.
    let deleting = matches!(asked, Asked::Delete);
    if let Some(peer) = found.peer.filter(|_| !deleting) {
        // Nothing else moves in a direct chat across a block, either way.
        if blocked_between(tx, actor, peer).await? {
            return Ok(Err(WriteRejection::Blocked));
        }
    } else if !deleting && found.sender != actor && blocked_by(tx, actor, found.sender).await? {
        // A room message from someone the actor blocked is not shown to them.
        return Ok(Err(WriteRejection::NotFound("message")));
    }
    let what = match asked {
        Asked::Edit(body) => {
            if found.sender != actor {
                return Ok(Err(WriteRejection::Forbidden(
                    "only its sender may edit a message",
                )));
            }
            if found.deleted {
                return Ok(Err(GONE));
            }
            if found.body == body.as_str() {
                return Ok(Ok(WriteOutcome::Unchanged));
            }
            let edited_at: DateTime<Utc> = tx
                .query_one(
                    "WITH kept AS (
                         INSERT INTO message_edits (conversation_id, seq, editor_id, body)
                         VALUES ($1, $2, $3, $4)
                     )
                     UPDATE messages SET body = $5, edited_at = clock_timestamp()
                     WHERE conversation_id = $1 AND seq = $2 RETURNING edited_at",
                    &[&conversation.0, &seq, &actor.0, &found.body, &body.as_str()],
                )
                .await?
                .get(0);
            // Mentions follow the text: those it no longer names are no longer mentioned.
            tx.execute(
                "DELETE FROM mentions WHERE conversation_id = $1 AND seq = $2",
                &[&conversation.0, &seq],
            )
            .await?;
            if found.kind == "room" {
                let edited = (conversation, seq, found.sender, body.as_str());
                super::messages::record_mentions(tx, std::iter::once(edited)).await?;
            }
            ChangeKind::Edited {
                body: body.as_str().to_owned(),
                edited_at,
            }
        }
        Asked::Delete => {
            let moderator = found.kind == "room" && found.created_by == Some(actor);
            if found.sender != actor && !moderator {
                return Ok(Err(WriteRejection::Forbidden(
                    "only its sender (or, in a room, the room's creator) may delete a message",
                )));
            }
            if found.deleted {
                return Ok(Ok(WriteOutcome::Unchanged));
            }
            // Its text goes, with every earlier version, its reactions and mentions.
            for table in ["message_edits", "reactions", "mentions"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE conversation_id = $1 AND seq = $2"),
                    &[&conversation.0, &seq],
                )
                .await?;
            }
            let deleted_at: DateTime<Utc> = tx
                .query_one(
                    "UPDATE messages SET body = '', edited_at = NULL, deleted_at = clock_timestamp()
                     WHERE conversation_id = $1 AND seq = $2 RETURNING deleted_at",
                    &[&conversation.0, &seq],
                )
                .await?
                .get(0);
            ChangeKind::Deleted { deleted_at }
        }
        Asked::React { emoji, add } => {
            if found.deleted {
                return Ok(Err(GONE));
            }
            let changed = if *add {
                match react(tx, actor, conversation, seq, emoji).await? {
                    Ok(changed) => changed,
                    Err(refused) => return Ok(Err(refused)),
                }
            } else {
                tx.execute(
                    "DELETE FROM reactions
                     WHERE conversation_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4",
                    &[&conversation.0, &seq, &actor.0, &emoji.as_str()],
                )
                .await?
                    == 1
            };
            if !changed {
                return Ok(Ok(WriteOutcome::Unchanged));
            }
            ChangeKind::Reaction {
                user_id: actor,
                emoji: emoji.as_str().to_owned(),
                add: *add,
            }
        }
    };
    let number: i64 = tx
        .query_one(
            "WITH next AS (
                 UPDATE conversations SET last_change = last_change + 1 WHERE id = $1
                 RETURNING last_change
             )
             UPDATE messages SET change_seq = (SELECT last_change FROM next)
             WHERE conversation_id = $1 AND seq = $2 RETURNING change_seq",
            &[&conversation.0, &seq],
        )
        .await?
        .get(0);
    // Who is shown it: the members, less those who blocked the message's sender (they
    // never saw the message) or, for a reaction, the person reacting.
    let reactor = match &what {
        ChangeKind::Reaction { user_id, .. } => *user_id,
        _ => found.sender,
    };
    let (mut recipients, mut hidden_from) = (Vec::new(), Vec::new());
    if found.everyone {
        // The room everyone shares lists no members, only whom a block hides it from
        // (members or not): each UserActor that tracks the room delivers it.
        for row in tx
            .query(
                "SELECT DISTINCT blocker_id FROM blocks
                 WHERE blocked_id IN ($1, $2) AND blocker_id <> $3",
                &[&found.sender.0, &reactor.0, &actor.0],
            )
            .await?
        {
            hidden_from.push(UserId(row.get(0)));
        }
    } else {
        for row in tx
            .query(
                "SELECT m.user_id, EXISTS (SELECT 1 FROM blocks b
                                           WHERE b.blocker_id = m.user_id AND b.blocked_id IN ($2, $3))
                 FROM members m WHERE m.conversation_id = $1",
                &[&conversation.0, &found.sender.0, &reactor.0],
            )
            .await?
        {
            let (member, hidden) = (UserId(row.get(0)), row.get::<_, bool>(1));
            if hidden && member != actor {
                hidden_from.push(member);
            } else {
                recipients.push(member);
            }
        }
    }
    Ok(Ok(WriteOutcome::MessageChanged {
        change: Change {
            conversation_id: conversation,
            seq,
            number,
            by: actor,
            what,
        },
        recipients,
        hidden_from,
        everyone: found.everyone,
    }))
}

/// The conversation (locked) and the message, if `actor` is a member and it exists.
async fn find(
    tx: &Tx<'_>,
    actor: UserId,
    conversation: ConversationId,
    seq: i64,
) -> Result<Option<Found>, Error> {
    let Some(c) = tx
        .query_opt(
            "SELECT c.kind, c.created_by,
                    CASE WHEN d.user_lo = $2 THEN d.user_hi ELSE d.user_lo END AS peer,
                    c.everyone
             FROM conversations c
             JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $2
             LEFT JOIN direct_pairs d ON d.conversation_id = c.id
             WHERE c.id = $1 FOR NO KEY UPDATE OF c",
            &[&conversation.0, &actor.0],
        )
        .await?
    else {
        return Ok(None);
    };
    let Some(m) = tx
        .query_opt(
            "SELECT sender_id, body, deleted_at IS NOT NULL FROM messages
             WHERE conversation_id = $1 AND seq = $2",
            &[&conversation.0, &seq],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Found {
        kind: c.get(0),
        created_by: c.get::<_, Option<uuid::Uuid>>(1).map(UserId),
        peer: c.get::<_, Option<uuid::Uuid>>(2).map(UserId),
        sender: UserId(m.get(0)),
        body: m.get(1),
        deleted: m.get(2),
        everyone: c.get(3),
    }))
}

/// Puts `actor`'s `emoji` on the message: `Ok(false)` if it was already there, refused
/// past the bounds on distinct emoji per message and per person.
async fn react(
    tx: &Tx<'_>,
    actor: UserId,
    conversation: ConversationId,
    seq: i64,
    emoji: &Emoji,
) -> Result<Result<bool, WriteRejection>, Error> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND seq = $2
                                                  AND user_id = $3 AND emoji = $4),
                    EXISTS (SELECT 1 FROM reactions WHERE conversation_id = $1 AND seq = $2
                                                  AND emoji = $4),
                    (SELECT count(DISTINCT emoji) FROM reactions
                     WHERE conversation_id = $1 AND seq = $2),
                    (SELECT count(*) FROM reactions
                     WHERE conversation_id = $1 AND seq = $2 AND user_id = $3)",
            &[&conversation.0, &seq, &actor.0, &emoji.as_str()],
        )
        .await?;
    let (mine, used, distinct, by_me): (bool, bool, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if mine {
        return Ok(Ok(false));
    }
    if !used && distinct >= REACTIONS_PER_MESSAGE as i64 {
        return Ok(Err(WriteRejection::Conflict(
            "this message has as many different reactions as it may have (20)",
        )));
    }
    if by_me >= REACTIONS_PER_PERSON as i64 {
        return Ok(Err(WriteRejection::Conflict(
            "you have put as many reactions on this message as one person may (10)",
        )));
    }
    tx.execute(
        "INSERT INTO reactions (conversation_id, seq, user_id, emoji) VALUES ($1, $2, $3, $4)",
        &[&conversation.0, &seq, &actor.0, &emoji.as_str()],
    )
    .await?;
    Ok(Ok(true))
}

async fn blocked_by(tx: &Tx<'_>, blocker: UserId, blocked: UserId) -> Result<bool, Error> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
            &[&blocker.0, &blocked.0],
        )
        .await?
        .is_some())
}
