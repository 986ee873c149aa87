//! One window as its UserActor sees it.

use super::super::outbound::{Charged, Outbound};
use super::super::ToSocket;
use super::line::Line;
use crate::domain::ConversationId;
use actix::dev::SendError;
use actix::Recipient;
use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A frame's place in its conversation's order, so a window never gets a message (by
/// `seq`) or a change (by change number) its snapshot already counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKey {
    Message(ConversationId, i64),
    Change(ConversationId, i64),
}

/// Per conversation, how far a snapshot told a window: its last `seq` and its last
/// change number.
pub type Known = HashMap<ConversationId, (i64, i64)>;

pub struct Window {
    pub socket: Recipient<ToSocket>,
    /// The socket's byte budget: every frame handed here (or held behind the snapshot)
    /// is charged to it, and it can cut the socket's connection.
    pub outbound: Arc<Outbound>,
    /// `Some` until the `ready` snapshot went out: frames waiting behind it.
    syncing: Option<Vec<(Option<FrameKey>, ByteString)>>,
    /// What the snapshot told this window about.
    known: Known,
    /// The window's commands, run in the order it sent them.
    pub line: Line,
}

/// What became of a frame handed to a window.
pub enum Handed {
    Sent,
    /// Queued behind the snapshot, or already known to the window.
    Held,
    /// The window is too far behind (its queue is full, in frames or bytes).
    Full,
    /// The socket is gone.
    Closed,
}

impl Window {
    pub fn new(socket: Recipient<ToSocket>, outbound: Arc<Outbound>) -> Self {
        Window {
            socket,
            outbound,
            syncing: Some(Vec::new()),
            known: HashMap::new(),
            line: Line::default(),
        }
    }

    /// Hands a frame to the socket, or queues it behind the snapshot (at most `bound`).
    pub fn hand(&mut self, key: Option<FrameKey>, frame: ByteString, bound: usize) -> Handed {
        let counted = match key {
            Some(FrameKey::Message(c, seq)) => self.known.get(&c).is_some_and(|k| seq <= k.0),
            Some(FrameKey::Change(c, n)) => self.known.get(&c).is_some_and(|k| n <= k.1),
            None => false,
        };
        if counted {
            return Handed::Held;
        }
        let bytes = frame.len();
        if self.outbound.charge(bytes) == Charged::OverBudget {
            return Handed::Full;
        }
        let handed = match &mut self.syncing {
            Some(queue) if queue.len() < bound => {
                queue.push((key, frame));
                return Handed::Held;
            }
            Some(_) => Handed::Full,
            None => match self.socket.try_send(ToSocket::Frame(frame)) {
                Ok(()) => return Handed::Sent,
                Err(SendError::Full(_)) => Handed::Full,
                Err(SendError::Closed(_)) => Handed::Closed,
            },
        };
        self.outbound.refund(bytes);
        handed
    }

    /// Have bytes waited towards the socket, none leaving, for longer than `limit`?
    /// (A window still waiting for its snapshot holds its frames itself.)
    pub fn stalled(&self, limit: Duration) -> bool {
        self.syncing.is_none() && self.outbound.stalled(limit)
    }

    /// Do bytes handed to the socket wait to leave? (What waits behind the snapshot is
    /// the window's own, not the socket's.)
    pub fn bytes_waiting(&self) -> bool {
        self.syncing.is_none() && self.outbound.queued() > 0
    }

    /// The snapshot is out: remember what it covered and release what waited behind it.
    pub fn synced(&mut self, known: Known) -> Vec<(Option<FrameKey>, ByteString)> {
        self.known = known;
        let held = self.syncing.take().unwrap_or_default();
        // They are charged again as they are handed over.
        self.outbound
            .refund(held.iter().map(|(_, frame)| frame.len()).sum());
        held
    }
}
