//! Every write Banter makes, each applied inside a PersistActor transaction.
//!
//! An operation either applies ([`WriteOutcome`]) or is refused for a reason the
//! client should hear ([`WriteRejection`]); a SQL error aborts the whole transaction
//! and the PersistActor retries the operations one by one.

mod changes;
mod messages;
mod rooms;

pub use crate::db::statements::Tx;
pub use changes::Asked as ChangeAsked;
pub use messages::PAIR_CONVERSATIONS;

/// The PersistActor's own connection, out of the pool: commits never queue behind reads
/// for a connection, and its statements stay prepared.
pub type WriteConnection = crate::db::statements::CachedClient;

use crate::domain::{
    Change, ClientId, ConversationId, ConversationSummary, DisplayName, Message, MessageBody, Room,
    RoomName, UiState, User, UserId,
};

/// Where a message goes: a person (the direct conversation, created on the first
/// message) or a conversation the sender belongs to.
pub use banter_protocol::Target;

/// One write, as the PersistActor queues it.
#[derive(Debug, Clone)]
pub enum WriteOp {
    SendMessage {
        sender: UserId,
        target: Target,
        body: MessageBody,
        client_id: ClientId,
        /// The `seq` of the message this one answers, in the same conversation.
        reply_to: Option<i64>,
    },
    /// An edit, a deletion or a reaction on message `seq` of `conversation`.
    ChangeMessage {
        actor: UserId,
        conversation: ConversationId,
        seq: i64,
        asked: ChangeAsked,
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
    SetName {
        user: UserId,
        name: DisplayName,
    },
    /// Whether `user` shares their read positions.
    SetReceipts {
        user: UserId,
        share: bool,
    },
    /// A new room with its creator as the first member. The password arrives hashed:
    /// hashing is slow on purpose and must not hold up a transaction.
    CreateRoom {
        creator: UserId,
        name: RoomName,
        password_hash: Option<String>,
    },
    /// Membership of a room whose password (if any) the caller already checked.
    JoinRoom {
        user: UserId,
        room: ConversationId,
    },
    LeaveRoom {
        user: UserId,
        room: ConversationId,
    },
    /// Only the room's creator may; its members and messages go with it.
    DeleteRoom {
        user: UserId,
        room: ConversationId,
    },
}

/// What a committed write changed, carrying what delivery needs.
#[derive(Debug, Clone)]
pub enum WriteOutcome {
    /// A new message; `recipients` are the members who should receive it (members who
    /// blocked the sender are left out), the sender included.
    MessageStored {
        message: Message,
        /// Empty when `everyone`.
        recipients: Vec<UserId>,
        /// Room members who blocked the sender: they get nothing, but their delivery
        /// order still moves past this `seq`. When `everyone`: every person who blocked
        /// the sender, member or not.
        hidden_from: Vec<UserId>,
        /// A direct conversation's message: its two people are partners from now on.
        direct: bool,
        /// The room everyone shares: its members are not listed (they are about
        /// everyone); each UserActor that tracks the room delivers it.
        everyone: bool,
    },
    /// The same `client_id` was sent before: the original, delivered to no one again.
    MessageExisted {
        message: Message,
    },
    DirectOpened {
        conversation: ConversationId,
    },
    /// A message changed; `recipients` see it, `hidden_from` (members who blocked its
    /// sender, or the person reacting) only move their change order past it.
    MessageChanged {
        change: Change,
        /// Empty when `everyone`.
        recipients: Vec<UserId>,
        /// When `everyone`: every person it is hidden from, member or not.
        hidden_from: Vec<UserId>,
        /// The room everyone shares (see `MessageStored`).
        everyone: bool,
    },
    /// The change asked for was already so (a retry): nothing to show.
    Unchanged,
    /// A block was added (`active`) or removed; `changed` is false when it was already so.
    BlockChanged {
        blocker: User,
        blocked: User,
        active: bool,
        changed: bool,
    },
    /// `user`'s read position in `conversation` is `seq`; `moved` is false when it was
    /// already there (or past it), and then no one is told.
    ReadMoved {
        user: UserId,
        conversation: ConversationId,
        seq: i64,
        moved: bool,
        /// The other person of a direct chat, to be shown the read receipt: only while
        /// both share receipts and no block stands between them.
        receipt_to: Option<UserId>,
    },
    /// `user` now shares their read receipts (`share`), or not.
    ReceiptsSet {
        user: UserId,
        share: bool,
    },
    UiSaved {
        user: UserId,
        state: UiState,
    },
    /// `user` (as they are now) chose a new display name.
    Renamed {
        user: User,
    },
    /// A room appeared; `conversation` is the creator's view of it.
    RoomCreated {
        room: Room,
        creator: User,
        conversation: ConversationSummary,
    },
    /// `user` is a member now (`changed` is false when they already were); `members`
    /// are all members, `user` included.
    RoomJoined {
        user: User,
        room: Room,
        conversation: ConversationSummary,
        members: Vec<UserId>,
        changed: bool,
    },
    /// `user` left; `members` are those who remain.
    RoomLeft {
        user: User,
        room: Room,
        members: Vec<UserId>,
        changed: bool,
    },
    /// `members` are those it had (they alone hear of it).
    RoomDeleted {
        room: ConversationId,
        members: Vec<UserId>,
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
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    /// The message was deleted.
    #[error("{0}")]
    Gone(&'static str),
}

pub(crate) type Applied = Result<WriteOutcome, WriteRejection>;

/// Applies `ops` in order inside `tx`; consecutive message sends are stored together.
/// `Err` is a database failure (abort the batch); `Ok(Err(..))` is a refusal (the
/// transaction goes on).
pub async fn apply_batch(
    tx: &Tx<'_>,
    ops: &[WriteOp],
) -> Result<Vec<Applied>, tokio_postgres::Error> {
    let mut results = Vec::with_capacity(ops.len());
    let mut run: Vec<messages::SendRequest<'_>> = Vec::new();
    for op in ops {
        if let WriteOp::SendMessage {
            sender,
            target,
            body,
            client_id,
            reply_to,
        } = op
        {
            run.push(messages::SendRequest {
                sender: *sender,
                target: *target,
                body,
                client_id,
                reply_to: *reply_to,
            });
            continue;
        }
        if !run.is_empty() {
            results.extend(messages::send_batch(tx, &run).await?);
            run.clear();
        }
        results.push(apply_one(tx, op).await?);
    }
    if !run.is_empty() {
        results.extend(messages::send_batch(tx, &run).await?);
    }
    Ok(results)
}

/// Applies one operation other than a message send.
async fn apply_one(tx: &Tx<'_>, op: &WriteOp) -> Result<Applied, tokio_postgres::Error> {
    match op {
        WriteOp::SendMessage { .. } => unreachable!("messages are stored in runs by apply_batch"),
        WriteOp::ChangeMessage {
            actor,
            conversation,
            seq,
            asked,
        } => changes::change(tx, *actor, *conversation, *seq, asked).await,
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
        WriteOp::SetName { user, name } => {
            let row = tx
                .query_opt(
                    "UPDATE users SET display_name = $2 WHERE id = $1
                     RETURNING id, email, display_name",
                    &[&user.0, &name.as_str()],
                )
                .await?;
            Ok(match row {
                Some(row) => Ok(WriteOutcome::Renamed {
                    user: crate::db::users::user(&row),
                }),
                None => Err(WriteRejection::NotFound("user")),
            })
        }
        WriteOp::SetReceipts { user, share } => {
            let updated = tx
                .execute(
                    "UPDATE users SET share_receipts = $2 WHERE id = $1",
                    &[&user.0, share],
                )
                .await?;
            Ok(if updated == 1 {
                Ok(WriteOutcome::ReceiptsSet {
                    user: *user,
                    share: *share,
                })
            } else {
                Err(WriteRejection::NotFound("user"))
            })
        }
        WriteOp::CreateRoom {
            creator,
            name,
            password_hash,
        } => rooms::create(tx, *creator, name, password_hash.as_deref()).await,
        WriteOp::JoinRoom { user, room } => rooms::join(tx, *user, *room).await,
        WriteOp::LeaveRoom { user, room } => rooms::leave(tx, *user, *room).await,
        WriteOp::DeleteRoom { user, room } => rooms::delete(tx, *user, *room).await,
    }
}

pub(super) async fn find_user(
    tx: &Tx<'_>,
    id: UserId,
) -> Result<Option<User>, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT id, email, display_name FROM users WHERE id = $1",
            &[&id.0],
        )
        .await?;
    Ok(row.as_ref().map(crate::db::users::user))
}

/// The direct conversation of `user` and `peer`, created (with both as members) if new,
/// unless one of them blocked the other.
pub(super) async fn open_direct(
    tx: &Tx<'_>,
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
    // No new conversation across a block (either way): it would appear in the other's
    // list although nothing can be said in it.
    if blocked_between(tx, user, peer).await? {
        return Ok(Err(WriteRejection::Blocked));
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

/// Whether a block stands between `a` and `b`, either way.
pub(super) async fn blocked_between(
    tx: &Tx<'_>,
    a: UserId,
    b: UserId,
) -> Result<bool, tokio_postgres::Error> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2)
                                     OR (blocker_id = $2 AND blocked_id = $1)",
            &[&a.0, &b.0],
        )
        .await?
        .is_some())
}

async fn set_block(
    tx: &Tx<'_>,
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
    tx: &Tx<'_>,
    user: UserId,
    conversation: ConversationId,
    seq: i64,
) -> Result<Applied, tokio_postgres::Error> {
    if seq < 0 {
        return Ok(Err(WriteRejection::BadRequest("seq must not be negative")));
    }
    // `before` is the position as it was (the CTE reads the snapshot the UPDATE starts
    // from), so a read that does not move it is told apart and announced to no one.
    let row = tx
        .query_opt(
            "WITH before AS (
                 SELECT read_seq FROM members
                 WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE
             )
             UPDATE members m SET read_seq = GREATEST(m.read_seq, LEAST($3, c.last_seq))
             FROM conversations c, before
             WHERE c.id = m.conversation_id AND m.conversation_id = $1 AND m.user_id = $2
             RETURNING m.read_seq, before.read_seq",
            &[&conversation.0, &user.0, &seq],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Err(WriteRejection::NotFound("conversation")));
    };
    let moved = row.get::<_, i64>(0) != row.get::<_, i64>(1);
    let receipt_to = if moved {
        tx.query_opt(
            "SELECT p.user_id FROM members p
             JOIN conversations c ON c.id = p.conversation_id AND c.kind = 'direct'
             JOIN users me ON me.id = $2 AND me.share_receipts
             JOIN users peer ON peer.id = p.user_id AND peer.share_receipts
             WHERE p.conversation_id = $1 AND p.user_id <> $2
               AND NOT EXISTS (SELECT 1 FROM blocks b
                               WHERE (b.blocker_id = $2 AND b.blocked_id = p.user_id)
                                  OR (b.blocker_id = p.user_id AND b.blocked_id = $2))",
            &[&conversation.0, &user.0],
        )
        .await?
        .map(|row| UserId(row.get(0)))
    } else {
        None
    };
    Ok(Ok(WriteOutcome::ReadMoved {
        user,
        conversation,
        seq: row.get(0),
        moved,
        receipt_to,
    }))
}
