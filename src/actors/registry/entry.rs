//! What the registry knows of one local user.

use super::super::user::{DeliverFrame, UserActor};
use crate::domain::{User, UserId, WindowId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::Addr;
use std::borrow::Cow;
use std::collections::HashSet;
use tokio::sync::oneshot;

/// A block change, seen from one party.
#[derive(Debug, Clone, Copy)]
pub(super) enum BlockChange {
    /// This user blocked (`active`) or unblocked `other`.
    Outgoing { other: UserId, active: bool },
    /// `other` blocked or unblocked this user.
    Incoming { other: UserId, active: bool },
}

pub(super) enum Phase {
    /// Block sets are loading; the user is not announced yet. Changes that arrive
    /// meanwhile are replayed over the loaded sets; snapshot requests wait.
    Loading {
        changes: Vec<BlockChange>,
        waiting: Vec<oneshot::Sender<Vec<User>>>,
    },
    /// Announceable: others may see the user (block permitting).
    Online,
}

pub(super) struct Entry {
    pub user: User,
    pub actor: Addr<UserActor>,
    pub windows: HashSet<WindowId>,
    pub phase: Phase,
    /// Whom this user blocked.
    pub blocks_out: HashSet<UserId>,
    /// Who blocked this user.
    pub blocks_in: HashSet<UserId>,
    /// Tells a late load result apart from the current incarnation's.
    pub generation: u64,
    /// `Some` while an online user's block sets are re-read (after a Redis outage, when
    /// block events may have been missed): changes to replay over the fresh read.
    pub reloading: Option<Vec<BlockChange>>,
}

impl Entry {
    /// Either of the two has blocked the other: they do not see each other.
    pub fn hides(&self, other: UserId) -> bool {
        self.blocks_out.contains(&other) || self.blocks_in.contains(&other)
    }

    /// Applies a change, and remembers it if a re-read is under way.
    pub fn record(&mut self, change: BlockChange) {
        self.apply(change);
        if let Some(pending) = &mut self.reloading {
            pending.push(change);
        }
    }

    pub fn apply(&mut self, change: BlockChange) {
        let (set, other, active) = match change {
            BlockChange::Outgoing { other, active } => (&mut self.blocks_out, other, active),
            BlockChange::Incoming { other, active } => (&mut self.blocks_in, other, active),
        };
        if active {
            set.insert(other);
        } else {
            set.remove(&other);
        }
    }

    /// Tells this user's windows that `other` appeared or vanished for them.
    pub fn show_presence(&self, other: &User, online: bool) {
        let frame = ServerEvent::Presence {
            user: Cow::Borrowed(other),
            online,
        }
        .to_frame();
        self.actor.do_send(DeliverFrame {
            frame,
            except: None,
        });
    }

    pub fn is_online(&self) -> bool {
        matches!(self.phase, Phase::Online)
    }
}
