//! Every write Banter makes, each applied inside a PersistActor transaction.
//!
//! An operation either applies ([`WriteOutcome`]) or is refused for a reason the
//! client should hear ([`WriteRejection`]); a SQL error aborts the whole transaction
//! and the PersistActor retries the operations one by one.

use super::messages::{message, MESSAGE_COLUMNS};
use crate::domain::{
    ClientId, ConversationId, Message, MessageBody, MessageId, UiState, User, UserId,
};
use tokio_postgres::Transaction;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The direct conversation with this person, created on the first message.
    Direct(UserId),
    /// A conversation the sender belongs to.
    Conversation(ConversationId),
}

/// One write, as the PersistActor queues it.
#[derive(Debug, Clone)]
pub enum WriteOp {
    SendMessage {
        sender: UserId,
        target: Target,
        body: MessageBody,
        client_id: ClientId,
    },
    OpenDirect {
        user: UserId,
        peer: UserId,
    },
    Block {
        blocker: UserId,
        blocked: UserId,
    },
    Unblock {
        blocker: UserId,
        blocked: UserId,
    },
    MarkRead {
        user: UserId,
        conversation: ConversationId,
        seq: i64,
    },
    SaveUi {
        user: UserId,
        state: UiState,
    },
}

/// What a committed write changed, carrying what delivery needs.
#[derive(Debug, Clone)]
pub enum WriteOutcome {
    /// A new message; `recipients` are the members who should receive it (members who
    /// blocked the sender are left out), the sender included.
    MessageStored {
        message: Message,
        recipients: Vec<UserId>,
    },
    /// The same `client_id` was sent before: the original, delivered to no one again.
    MessageExisted {
        message: Message,
    },
    DirectOpened {
        conversation: ConversationId,
    },
    /// A block was added (`active`) or removed; `changed` is false when it was already so.
    BlockChanged {
        blocker: User,
        blocked: User,
        active: bool,
        changed: bool,
    },
    ReadMoved {
        user: UserId,
        conversation: ConversationId,
        seq: i64,
    },
    UiSaved {
        user: UserId,
        state: UiState,
    },
}

/// Why a write was refused; each maps to a protocol error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRejection {
    #[error("one of you has blocked the other")]
    Blocked,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(&'static str),
}

type Applied = Result<WriteOutcome, WriteRejection>;

/// Applies one operation inside `tx`. `Err` is a database failure (abort the batch);
/// `Ok(Err(..))` is a refusal (the transaction goes on).
pub async fn apply(tx: &Transaction<'_>, op: &WriteOp) -> Result<Applied, tokio_postgres::Error> {
    match op {
        WriteOp::SendMessage {
            sender,
            target,
            body,
            client_id,
        } => send_message(tx, *sender, *target, body, client_id).await,
        WriteOp::OpenDirect { user, peer } => Ok(open_direct(tx, *user, *peer)
            .await?
            .map(|conversation| WriteOutcome::DirectOpened { conversation })),
        WriteOp::Block { blocker, blocked } => set_block(tx, *blocker, *blocked, true).await,
        WriteOp::Unblock { blocker, blocked } => set_block(tx, *blocker, *blocked, false).await,
        WriteOp::MarkRead {
            user,
            conversation,
            seq,
        } => mark_read(tx, *user, *conversation, *seq).await,
        WriteOp::SaveUi { user, state } => {
            let json = serde_json::to_value(state).unwrap_or_default();
            tx.execute(
                "UPDATE users SET ui_state = $2 WHERE id = $1",
                &[&user.0, &json],
            )
            .await?;
            Ok(Ok(WriteOutcome::UiSaved {
                user: *user,
                state: state.clone(),
            }))
        }
    }
}

async fn find_user(
    tx: &Transaction<'_>,
    id: UserId,
) -> Result<Option<User>, tokio_postgres::Error> {
    let row = tx
        .query_opt("SELECT email FROM users WHERE id = $1", &[&id.0])
        .await?;
    Ok(row.map(|r| User {
        id,
        email: r.get(0),
    }))
}

async fn either_blocked(
    tx: &Transaction<'_>,
    a: UserId,
    b: UserId,
) -> Result<bool, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2)
                                     OR (blocker_id = $2 AND blocked_id = $1)",
            &[&a.0, &b.0],
        )
        .await?;
    Ok(row.is_some())
}

/// The direct conversation of `user` and `peer`, created (with both as members) if new.
async fn open_direct(
    tx: &Transaction<'_>,
    user: UserId,
    peer: UserId,
) -> Result<Result<ConversationId, WriteRejection>, tokio_postgres::Error> {
    if user == peer {
        return Ok(Err(WriteRejection::BadRequest(
            "a direct conversation needs another person",
        )));
    }
    if find_user(tx, peer).await?.is_none() {
        return Ok(Err(WriteRejection::NotFound("user")));
    }
    let (lo, hi) = if user < peer {
        (user, peer)
    } else {
        (peer, user)
    };
    let select = "SELECT conversation_id FROM direct_pairs WHERE user_lo = $1 AND user_hi = $2";
    if let Some(row) = tx.query_opt(select, &[&lo.0, &hi.0]).await? {
        return Ok(Ok(ConversationId(row.get(0))));
    }
    let id = ConversationId::new();
    tx.execute(
        "INSERT INTO conversations (id, kind) VALUES ($1, 'direct')",
        &[&id.0],
    )
    .await?;
    let inserted = tx
        .execute(
            "INSERT INTO direct_pairs (user_lo, user_hi, conversation_id) VALUES ($1, $2, $3)
             ON CONFLICT (user_lo, user_hi) DO NOTHING",
            &[&lo.0, &hi.0, &id.0],
        )
        .await?;
    if inserted == 0 {
        // Another node created the pair first; use theirs and drop ours.
        tx.execute("DELETE FROM conversations WHERE id = $1", &[&id.0])
            .await?;
        let row = tx.query_one(select, &[&lo.0, &hi.0]).await?;
        return Ok(Ok(ConversationId(row.get(0))));
    }
    tx.execute(
        "INSERT INTO members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)",
        &[&id.0, &lo.0, &hi.0],
    )
    .await?;
    Ok(Ok(id))
}

async fn send_message(
    tx: &Transaction<'_>,
    sender: UserId,
    target: Target,
    body: &MessageBody,
    client_id: &ClientId,
) -> Result<Applied, tokio_postgres::Error> {
    let existing = tx
        .query_opt(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_id = $2"
            ),
            &[&sender.0, &client_id.as_str()],
        )
        .await?;
    if let Some(row) = existing {
        return Ok(Ok(WriteOutcome::MessageExisted {
            message: message(&row),
        }));
    }
    let conversation = match target {
        Target::Direct(peer) => match open_direct(tx, sender, peer).await? {
            Ok(id) => id,
            Err(rejection) => return Ok(Err(rejection)),
        },
        Target::Conversation(id) => id,
    };
    // Membership, and for a direct conversation the peer, in one look.
    let member = tx
        .query_opt(
            "SELECT c.kind, CASE WHEN d.user_lo = $2 THEN d.user_hi ELSE d.user_lo END
             FROM members m JOIN conversations c ON c.id = m.conversation_id
             LEFT JOIN direct_pairs d ON d.conversation_id = c.id
             WHERE m.conversation_id = $1 AND m.user_id = $2",
            &[&conversation.0, &sender.0],
        )
        .await?;
    let Some(member) = member else {
        return Ok(Err(WriteRejection::NotFound("conversation")));
    };
    if let Some(peer) = member.get::<_, Option<uuid::Uuid>>(1) {
        if either_blocked(tx, sender, UserId(peer)).await? {
            return Ok(Err(WriteRejection::Blocked));
        }
    }
    let seq: i64 = tx
        .query_one(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
            &[&conversation.0],
        )
        .await?
        .get(0);
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())
                 RETURNING {MESSAGE_COLUMNS}"
            ),
            &[
                &MessageId::new().0,
                &conversation.0,
                &seq,
                &sender.0,
                &body.as_str(),
                &client_id.as_str(),
            ],
        )
        .await?;
    // The sender has read what they wrote; the others receive it unless they blocked the sender.
    tx.execute(
        "UPDATE members SET read_seq = $3 WHERE conversation_id = $1 AND user_id = $2",
        &[&conversation.0, &sender.0, &seq],
    )
    .await?;
    let recipients = tx
        .query(
            "SELECT m.user_id FROM members m WHERE m.conversation_id = $1
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = m.user_id AND b.blocked_id = $2)",
            &[&conversation.0, &sender.0],
        )
        .await?
        .iter()
        .map(|r| UserId(r.get(0)))
        .collect();
    Ok(Ok(WriteOutcome::MessageStored {
        message: message(&row),
        recipients,
    }))
}

async fn set_block(
    tx: &Transaction<'_>,
    blocker: UserId,
    blocked: UserId,
    active: bool,
) -> Result<Applied, tokio_postgres::Error> {
    if blocker == blocked {
        return Ok(Err(WriteRejection::BadRequest("you cannot block yourself")));
    }
    let (Some(blocker_user), Some(blocked_user)) =
        (find_user(tx, blocker).await?, find_user(tx, blocked).await?)
    else {
        return Ok(Err(WriteRejection::NotFound("user")));
    };
    let changed = if active {
        tx.execute(
            "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&blocker.0, &blocked.0],
        )
        .await?
    } else {
        tx.execute(
            "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
            &[&blocker.0, &blocked.0],
        )
        .await?
    } == 1;
    if changed {
        tx.execute(
            "INSERT INTO block_events (blocker_id, blocked_id, action) VALUES ($1, $2, $3)",
            &[
                &blocker.0,
                &blocked.0,
                &if active { "block" } else { "unblock" },
            ],
        )
        .await?;
    }
    Ok(Ok(WriteOutcome::BlockChanged {
        blocker: blocker_user,
        blocked: blocked_user,
        active,
        changed,
    }))
}

async fn mark_read(
    tx: &Transaction<'_>,
    user: UserId,
    conversation: ConversationId,
    seq: i64,
) -> Result<Applied, tokio_postgres::Error> {
    if seq < 0 {
        return Ok(Err(WriteRejection::BadRequest("seq must not be negative")));
    }
    let row = tx
        .query_opt(
            "UPDATE members m SET read_seq = GREATEST(m.read_seq, LEAST($3, c.last_seq))
             FROM conversations c
             WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.user_id = $2
             RETURNING m.read_seq",
            &[&conversation.0, &user.0, &seq],
        )
        .await?;
    Ok(match row {
        Some(row) => Ok(WriteOutcome::ReadMoved {
            user,
            conversation,
            seq: row.get(0),
        }),
        None => Err(WriteRejection::NotFound("conversation")),
    })
}
