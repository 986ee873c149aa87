//! What a window's `ready` snapshot reads from Postgres, for many people at once.
//!
//! A connect storm asks for thousands of snapshots within seconds; read through a
//! [`BatchReader`](super::batch::BatchReader), one batch of people costs four queries on
//! one connection, in one read-only transaction (so each snapshot is consistent with
//! itself).

use super::batch::{BatchLimits, BatchReader};
use super::conversations::{summary, RECENT_FIRST, SUMMARIES_OF_MANY};
use super::{DbError, Pool};
use crate::domain::{ConversationSummary, Room, UiState, User, UserId};
use std::collections::HashMap;

/// One person's part of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct SnapshotRows {
    /// Whom they blocked, newest first.
    pub blocked: Vec<User>,
    /// Their conversations, most recent first.
    pub conversations: Vec<ConversationSummary>,
    pub ui: UiState,
    /// The rooms they are a member of, by name (the others are in the directory).
    pub rooms: Vec<Room>,
    /// Their display name now: the session token's may be older (see the snapshot).
    pub name: Option<String>,
    /// Whether they share their read receipts.
    pub receipts: bool,
}

/// The snapshot rows of each of `users` (each distinct).
pub async fn read(
    pool: &Pool,
    users: Vec<UserId>,
) -> Result<HashMap<UserId, SnapshotRows>, DbError> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let mut conn = pool.get().await?;
    let tx = conn.snapshot().await?;
    let mut rows: HashMap<UserId, SnapshotRows> = users
        .iter()
        .map(|u| (*u, SnapshotRows::default()))
        .collect();
    let blocked = tx
        .query(
            "SELECT b.blocker_id, u.id, u.email, u.display_name FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = ANY($1) ORDER BY b.created_at DESC",
            &[&ids],
        )
        .await?;
    for row in &blocked {
        if let Some(of) = rows.get_mut(&UserId(row.get(0))) {
            of.blocked.push(User {
                id: UserId(row.get(1)),
                email: row.get(2),
                name: row.get(3),
            });
        }
    }
    let sql = format!("{SUMMARIES_OF_MANY} {RECENT_FIRST}");
    let summaries = tx.query(sql.as_str(), &[&ids]).await?;
    for row in &summaries {
        if let Some(of) = rows.get_mut(&UserId(row.get("viewer"))) {
            of.conversations.push(summary(row));
        }
    }
    let ui = tx
        .query(
            "SELECT id, ui_state, display_name, share_receipts FROM users WHERE id = ANY($1)",
            &[&ids],
        )
        .await?;
    for row in &ui {
        if let Some(of) = rows.get_mut(&UserId(row.get(0))) {
            of.ui = serde_json::from_value(row.get::<_, serde_json::Value>(1)).unwrap_or_default();
            of.name = row.get(2);
            of.receipts = row.get(3);
        }
    }
    for (member, room) in super::rooms::of_members(&tx, &ids).await? {
        if let Some(of) = rows.get_mut(&member) {
            of.rooms.push(room);
        }
    }
    tx.commit().await?;
    Ok(rows)
}

/// Reads snapshots in batches (see [`batch`](super::batch)).
pub type SnapshotReader = BatchReader<UserId, SnapshotRows>;

/// How snapshot reads are batched: two reads in flight at most (two of the pool's
/// connections; the writes and everything else keep the rest), up to 500 people each. A
/// storm of 15,000 windows queues rather than being shed; a window whose snapshot waited
/// 30 s is closed to come back later.
pub const SNAPSHOT_BATCHES: BatchLimits = BatchLimits {
    waiting: 20_000,
    max_batch: 500,
    concurrency: 2,
    max_wait: std::time::Duration::from_secs(30),
};

/// Starts the snapshot reader on the current runtime.
pub fn reader(pool: Pool) -> SnapshotReader {
    BatchReader::start(SNAPSHOT_BATCHES, move |users| {
        let pool = pool.clone();
        async move { read(&pool, users).await }
    })
}
