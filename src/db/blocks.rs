//! The `blocks` table, read side.

use super::{DbError, Pool};
use crate::domain::{User, UserId};

/// The people `user` has blocked, newest first.
pub async fn blocked_by(pool: &Pool, user: UserId) -> Result<Vec<User>, DbError> {
    let conn = pool.get().await?;
    let rows = conn
        .query(
            "SELECT u.id, u.email FROM blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.blocker_id = $1 ORDER BY b.created_at DESC",
            &[&user.0],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| User {
            id: UserId(r.get(0)),
            email: r.get(1),
        })
        .collect())
}

/// Both directions of `user`'s blocks: whom they blocked, and who blocked them.
#[derive(Debug, Default, Clone)]
pub struct BlockSets {
    pub outgoing: Vec<UserId>,
    pub incoming: Vec<UserId>,
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
