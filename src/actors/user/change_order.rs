//! Ordering a UserActor's change frames (edits, deletions, reactions): each conversation's
//! changes reach the windows in change-number order, each once, and never ahead of the
//! message they change.
//!
//! Change numbers are sequenced like messages (a second [`Sequencer`], keyed by change
//! number; a gap that persists is filled from Postgres by `catch_up`). A released change
//! whose message the windows have not been shown yet (another node's message event is
//! late) is parked behind it, with every later change of that conversation, until the
//! message sequencer delivers it: a client that got the edit first would drop it and
//! then show the message's old text.

use super::window::FrameKey;
use super::{DeliverChange, UserActor};
use crate::domain::{ConversationId, WindowId};
use crate::protocol::ToFrame;
use bytestring::ByteString;

/// A change frame on its way to the windows.
pub struct ChangeFrame {
    pub conversation: ConversationId,
    /// The highest message `seq` it concerns: it waits until that was delivered.
    pub seq: i64,
    /// Its change number, for a live change (a window's snapshot may have counted it).
    pub number: Option<i64>,
    pub frame: ByteString,
    /// The asking window, and its copy (with its `ref`) in place of `frame`.
    pub reply: Option<(WindowId, ByteString)>,
    /// The user does not see it; it only moves the order on.
    pub hidden: bool,
}

impl From<DeliverChange> for ChangeFrame {
    fn from(c: DeliverChange) -> Self {
        let reply = c.origin.map(|origin| {
            let reference = origin.reference.as_deref();
            (origin.window, c.change.event(reference).to_frame())
        });
        ChangeFrame {
            conversation: c.change.conversation_id,
            seq: c.change.seq,
            number: Some(c.change.number),
            frame: c.frame,
            reply,
            hidden: c.hidden,
        }
    }
}

impl UserActor {
    /// Sequences a live change, and passes on what it releases.
    pub(super) fn offer_change(&mut self, change: DeliverChange) {
        let (conversation, number) = (change.change.conversation_id, change.change.number);
        let ready = self.change_order.offer(conversation, number, change);
        self.pass_changes(ready.into_iter().map(ChangeFrame::from));
    }

    /// Shows changes in their order, parking them behind a message not yet shown.
    pub(super) fn pass_changes(&mut self, changes: impl IntoIterator<Item = ChangeFrame>) {
        for change in changes {
            let conversation = change.conversation;
            let queued = self
                .parked
                .get(&conversation)
                .is_some_and(|q| !q.is_empty());
            // A conversation without a message cursor has shown no message here yet:
            // nothing to wait for.
            let ahead = self
                .sequencer
                .delivered_of(conversation)
                .is_some_and(|delivered| change.seq > delivered);
            if queued || ahead {
                self.parked
                    .entry(conversation)
                    .or_default()
                    .push_back(change);
            } else {
                self.show_change(change);
            }
        }
    }

    /// Shows the parked changes of `conversation` whose messages are delivered now.
    pub(super) fn unpark(&mut self, conversation: ConversationId) {
        let delivered = self.sequencer.delivered_of(conversation);
        loop {
            let Some(queue) = self.parked.get_mut(&conversation) else {
                return;
            };
            let next_ready = queue
                .front()
                .is_some_and(|c| delivered.is_none_or(|d| c.seq <= d));
            if !next_ready {
                if queue.is_empty() {
                    self.parked.remove(&conversation);
                }
                return;
            }
            if let Some(change) = queue.pop_front() {
                self.show_change(change);
            }
        }
    }

    fn show_change(&mut self, change: ChangeFrame) {
        if change.hidden {
            return;
        }
        let key = change
            .number
            .map(|n| FrameKey::Change(change.conversation, n));
        let asking = change.reply.as_ref().map(|(window, _)| *window);
        if let Some((window, reply)) = change.reply {
            self.send_keyed(window, key, reply);
        }
        self.broadcast_keyed(key, &change.frame, asking);
    }

    /// Stops ordering a conversation's changes (the user left it, or it was deleted).
    pub(super) fn forget_changes(&mut self, conversation: ConversationId) {
        self.change_order.forget(conversation);
        self.parked.remove(&conversation);
    }
}
