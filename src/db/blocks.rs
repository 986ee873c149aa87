//! The `blocks` table, read side.

use super::{DbError, Pool};
use crate::domain::{User, UserId};

/// The people `user` has blocked, newest first.
pub async fn blocked_by(pool: &Pool, user: UserId) -> Result<Vec<User>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT u.id, u.email, u.display_name FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = $1 ORDER BY b.created_at DESC",
            &[&user.0],
        )
        .await?;
    Ok(rows.iter().map(super::users::user).collect())
}

/// Both directions of `user`'s blocks: whom they blocked, and who blocked them; and,
/// read beside them for the registry, whom they have a direct conversation with.
#[derive(Debug, Default, Clone)]
pub struct BlockSets {
    pub outgoing: Vec<UserId>,
    pub incoming: Vec<UserId>,
    /// Filled by [`block_sets_of`] only (the registry's read).
    pub partners: Vec<UserId>,
    /// Their display name, read with the sets (the registry announces them under it).
    pub name: Option<String>,
}

pub async fn block_sets(pool: &Pool, user: UserId) -> Result<BlockSets, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT blocker_id, blocked_id FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
            &[&user.0],
        )
        .await?;
    let mut sets = BlockSets::default();
    for row in rows {
        let (blocker, blocked) = (UserId(row.get(0)), UserId(row.get(1)));
        if blocker == user {
            sets.outgoing.push(blocked);
        } else {
            sets.incoming.push(blocker);
        }
    }
    Ok(sets)
}

/// The block sets, direct partners and display name of each of `users` (each distinct) in
/// three queries: a connect storm loads them in batches (see [`batch`](super::batch)), not
/// one connection per person.
pub async fn block_sets_of(
    pool: &Pool,
    users: Vec<UserId>,
) -> Result<std::collections::HashMap<UserId, BlockSets>, DbError> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT blocker_id, blocked_id FROM blocks
             WHERE blocker_id = ANY($1) OR blocked_id = ANY($1)",
            &[&ids],
        )
        .await?;
    let pairs = conn
        .query(
            "SELECT user_lo, user_hi FROM direct_pairs
             WHERE user_lo = ANY($1) OR user_hi = ANY($1)",
            &[&ids],
        )
        .await?;
    let names = conn
        .query(
            "SELECT id, display_name FROM users WHERE id = ANY($1)",
            &[&ids],
        )
        .await?;
    let mut sets: std::collections::HashMap<UserId, BlockSets> =
        users.iter().map(|u| (*u, BlockSets::default())).collect();
    for row in names {
        if let Some(of) = sets.get_mut(&UserId(row.get(0))) {
            of.name = row.get(1);
        }
    }
    for row in rows {
        let (blocker, blocked) = (UserId(row.get(0)), UserId(row.get(1)));
        if let Some(of) = sets.get_mut(&blocker) {
            of.outgoing.push(blocked);
        }
        if let Some(of) = sets.get_mut(&blocked) {
            of.incoming.push(blocker);
        }
    }
    for row in pairs {
        let (lo, hi) = (UserId(row.get(0)), UserId(row.get(1)));
        for (me, other) in [(lo, hi), (hi, lo)] {
            if let Some(of) = sets.get_mut(&me) {
                of.partners.push(other);
            }
        }
    }
    Ok(sets)
}

/// Reads block sets in batches.
pub type BlockSetReader = super::batch::BatchReader<UserId, BlockSets>;

/// How block sets are batched: one read in flight (one connection), up to 1,000 people.
pub const BLOCK_SET_BATCHES: super::batch::BatchLimits = super::batch::BatchLimits {
    waiting: 20_000,
    max_batch: 1_000,
    concurrency: 1,
    max_wait: std::time::Duration::from_secs(30),
};

/// Starts the block-set reader on the current runtime.
pub fn block_set_reader(pool: Pool) -> BlockSetReader {
    super::batch::BatchReader::start(BLOCK_SET_BATCHES, move |users| {
        let pool = pool.clone();
        async move { block_sets_of(&pool, users).await }
    })
}
