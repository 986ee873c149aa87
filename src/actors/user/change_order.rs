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
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A change frame on its way to the windows.
pub struct ChangeFrame {
    pub conversation: ConversationId,
    /// The highest message `seq` it concerns: it waits until that was delivered.
    pub seq: i64,
    /// Its change number, for a live change (a window's snapshot may have counted it).
    pub number: Option<i64>,
    /// What every window is sent (none: only `reply` is owed).
    pub frame: Option<ByteString>,
    /// The asking window, and its copy (with its `ref`) in place of `frame`.
    pub reply: Option<(WindowId, ByteString)>,
    /// The user does not see it; it only moves the order on.
    pub hidden: bool,
}

/// The changes of one conversation waiting for a message the windows were not shown yet.
pub struct Parked {
    /// Since when the first of them waits: past the gap timeout, the messages are read
    /// from the store (the message event may be lost, or was never for this node).
    pub since: Instant,
    pub queue: VecDeque<ChangeFrame>,
}

fn reply_of(change: &DeliverChange) -> Option<(WindowId, ByteString)> {
    change.origin.as_ref().map(|origin| {
        let reference = origin.reference.as_deref();
        (origin.window, change.change.event(reference).to_frame())
    })
}

impl From<DeliverChange> for ChangeFrame {
    fn from(c: DeliverChange) -> Self {
        ChangeFrame {
            conversation: c.change.conversation_id,
            seq: c.change.seq,
            number: Some(c.change.number),
            reply: reply_of(&c),
            frame: Some(c.frame),
            hidden: c.hidden,
        }
    }
}

impl UserActor {
    /// Sequences a live change, and passes on what it releases.
    pub(super) fn offer_change(&mut self, change: DeliverChange) {
        let (conversation, number) = (change.change.conversation_id, change.change.number);
        if change.members_only && !self.tracks(conversation) {
            return; // sent to every user (the room everyone shares); not a member
        }
        let ready = self.change_order.offer(conversation, number, change);
        self.pass_changes(ready.into_iter().map(ChangeFrame::from));
        if self.change_order.has_gap_in(conversation) {
            self.watch_soon();
        }
    }

    /// Everything of `conversation` up to change `through` is known (a snapshot, a join,
    /// or `filled`: the changed messages' state read from the store, already a frame).
    /// What waited past it follows; a change it covers that an asking window of ours
    /// made still gets its reply.
    pub(super) fn changes_known_up_to(
        &mut self,
        conversation: ConversationId,
        through: i64,
        filled: Option<ChangeFrame>,
    ) {
        let (released, covered) = self.change_order.known_up_to_keeping(conversation, through);
        let replies = covered.iter().filter_map(|c| {
            Some(ChangeFrame {
                conversation,
                seq: c.change.seq,
                number: None,
                frame: None,
                reply: Some(reply_of(c)?),
                hidden: false,
            })
        });
        let replies: Vec<ChangeFrame> = replies.collect();
        let live = released.into_iter().map(ChangeFrame::from);
        self.pass_changes(filled.into_iter().chain(replies).chain(live));
    }

    /// Shows changes in their order, parking them behind a message not yet shown.
    pub(super) fn pass_changes(&mut self, changes: impl IntoIterator<Item = ChangeFrame>) {
        for change in changes {
            let conversation = change.conversation;
            let queued = self.parked.contains_key(&conversation);
            // No message cursor: no message of it was shown here yet, so the change's
            // may still be on its way.
            let ahead = self
                .sequencer
                .delivered_of(conversation)
                .is_none_or(|delivered| change.seq > delivered);
            if queued || ahead {
                self.parked
                    .entry(conversation)
                    .or_insert_with(|| Parked {
                        since: Instant::now(),
                        queue: VecDeque::new(),
                    })
                    .queue
                    .push_back(change);
                self.watch_soon();
            } else {
                self.show_change(change);
            }
        }
    }

    /// Shows the parked changes of `conversation` whose messages are delivered now.
    pub(super) fn unpark(&mut self, conversation: ConversationId) {
        let Some(delivered) = self.sequencer.delivered_of(conversation) else {
            return;
        };
        let Some(parked) = self.parked.get_mut(&conversation) else {
            return;
        };
        let mut ready = Vec::new();
        while parked.queue.front().is_some_and(|c| c.seq <= delivered) {
            ready.extend(parked.queue.pop_front());
        }
        if parked.queue.is_empty() {
            self.parked.remove(&conversation);
        } else if !ready.is_empty() {
            parked.since = Instant::now(); // the next one waits from now
        }
        for change in ready {
            self.show_change(change);
        }
    }

    /// Conversations whose changes have waited for a message past `patience`, with the
    /// `seq` to read messages after.
    pub(super) fn stale_parks(&self, patience: Duration) -> Vec<(ConversationId, i64)> {
        self.parked
            .iter()
            .filter(|(_, p)| p.since.elapsed() >= patience)
            .filter_map(|(conversation, p)| {
                let first = p.queue.front()?.seq;
                let after = self
                    .sequencer
                    .delivered_of(*conversation)
                    .unwrap_or(first - 1);
                Some((*conversation, after))
            })
            .collect()
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
        if let Some(frame) = &change.frame {
            self.broadcast_keyed(key, frame, asking);
        }
    }

    /// Stops ordering a conversation's changes (the user left it, or it was deleted).
    pub(super) fn forget_changes(&mut self, conversation: ConversationId) {
        self.change_order.forget(conversation);
        self.parked.remove(&conversation);
    }
}
