//! Changes to messages after they were sent: `/edit`, `/delete <seq>` and `/react` asked
//! (each answered by its change, or by `ok` when it was so already), and the server's
//! changes shown: `edited`, `deleted` and `reaction` lines as they come, `changed` lines
//! (with their `state`) for a `changes` frame.
//!
//! A conversation's changes print after its messages and in change order, each once: a
//! change waits while the conversation's gap is being filled or its changes caught up
//! (after a reconnect, `changes after` the last change number printed), and a change
//! number at or below the last one printed is not printed again.
//!
//! For the `/react` toggle the client remembers my reactions on the messages it was
//! shown this session, as far as it was told (at most [`MINE_MAX`] messages).

use super::open::{no_chat, no_messages};
use super::{Change, Chat, Effects, Mine, Purpose, MINE_MAX};
use crate::output::{Line, MessageState};
use banter_protocol::{ClientFrame, ConversationId, Message, Request};

impl Chat {
    /// `/edit`, `/delete <seq>` or `/react`: the frame `make` builds for the open chat's
    /// conversation, sent and waited for.
    pub(super) fn ask_change(
        &mut self,
        make: impl FnOnce(&Chat, ConversationId) -> ClientFrame,
        fx: &mut Effects,
    ) {
        let conversation = match (&self.open, self.open_conversation()) {
            (None, _) => return fx.lines.push(no_chat()),
            (Some(_), None) => return fx.lines.push(no_messages()),
            (Some(_), Some(c)) => c,
        };
        let reference = self.next_ref("e");
        let frame = Request::with_ref(reference.clone(), make(self, conversation));
        self.ask(reference, frame, Purpose::Change, fx);
    }

    /// Whether I reacted with `emoji` on message `seq`, as far as this client knows.
    pub(super) fn reacted(&self, conversation: ConversationId, seq: i64, emoji: &str) -> bool {
        self.mine
            .get(&(conversation, seq))
            .is_some_and(|m| m.emoji.iter().any(|e| same_emoji(e, emoji)))
    }

    /// `changes` for the messages of `conversation` changed after change `after`; those
    /// up to `seq` `upto` print as `changed`. Live changes of it wait for the answer.
    pub(super) fn ask_changes(
        &mut self,
        conversation: ConversationId,
        after: i64,
        upto: i64,
        fx: &mut Effects,
    ) {
        let reference = self.next_ref("c");
        let frame = Request::with_ref(
            reference.clone(),
            ClientFrame::Changes {
                conversation_id: conversation,
                after,
            },
        );
        self.catching.insert(conversation, upto);
        self.ask(reference, frame, Purpose::Changes, fx);
    }

    /// A change from the server: shown now, or held while its conversation's gap is
    /// being filled or its changes caught up (the catching-up answer itself is shown).
    pub(super) fn on_change(
        &mut self,
        conversation: ConversationId,
        change: Change,
        fx: &mut Effects,
    ) {
        let catching_up = matches!(
            &change,
            Change::State { reference: Some(r), .. }
                if self.outstanding.get(r).is_some_and(|o| o.purpose == Purpose::Changes)
        );
        if !catching_up && self.holding(conversation) {
            return self.held.entry(conversation).or_default().push(change);
        }
        self.show_change(conversation, change, fx);
    }

    fn holding(&self, conversation: ConversationId) -> bool {
        self.gaps.contains_key(&conversation) || self.catching.contains_key(&conversation)
    }

    /// Shows the changes held for `conversation`, unless it is still being caught up.
    pub(super) fn release(&mut self, conversation: ConversationId, fx: &mut Effects) {
        while !self.holding(conversation) {
            let Some(held) = self.held.get_mut(&conversation).filter(|h| !h.is_empty()) else {
                self.held.remove(&conversation);
                return;
            };
            let change = held.remove(0);
            self.show_change(conversation, change, fx);
        }
    }

    /// Stops catching `conversation` up (its `changes` was refused) and shows what waited.
    pub(super) fn caught_up(&mut self, conversation: ConversationId, fx: &mut Effects) {
        self.catching.remove(&conversation);
        self.release(conversation, fx);
    }

    fn show_change(&mut self, conversation: ConversationId, change: Change, fx: &mut Effects) {
        match change {
            Change::Edited {
                reference,
                seq,
                body,
                change,
            } => {
                self.answered(reference.as_deref());
                if self.first_time(conversation, change) {
                    fx.lines.push(Line::Edited {
                        conversation,
                        seq,
                        body,
                    });
                }
            }
            Change::Deleted {
                reference,
                seq,
                change,
            } => {
                self.answered(reference.as_deref());
                if self.first_time(conversation, change) {
                    self.remember_mine((conversation, seq), Vec::new());
                    fx.lines.push(Line::Deleted { conversation, seq });
                }
            }
            Change::Reaction {
                reference,
                seq,
                user,
                emoji,
                add,
                change,
            } => {
                self.answered(reference.as_deref());
                if self.first_time(conversation, change) {
                    if self.me.as_ref().is_some_and(|me| me.id == user) {
                        self.set_mine(conversation, seq, &emoji, add);
                    }
                    fx.lines.push(Line::Reaction {
                        added: add,
                        conversation,
                        seq,
                        email: self.email_of(user),
                        emoji,
                    });
                }
            }
            Change::State {
                reference,
                messages,
                through,
                more,
            } => self.changed_now(conversation, reference, messages, through, more, fx),
        }
    }

    /// A `changes` frame: the messages changed past the last change printed, as they are
    /// now. Those shown before (up to `seq` `upto`) print as `changed`; later ones print
    /// as they are now when their turn comes.
    fn changed_now(
        &mut self,
        conversation: ConversationId,
        reference: Option<String>,
        messages: Vec<Message>,
        through: i64,
        more: bool,
        fx: &mut Effects,
    ) {
        let asked = reference.as_deref().is_some_and(|r| {
            self.outstanding
                .get(r)
                .is_some_and(|o| o.purpose == Purpose::Changes)
        });
        if asked {
            self.answered(reference.as_deref());
        }
        let upto = match self.catching.get(&conversation) {
            Some(upto) if asked => *upto,
            _ => self.seen.get(&conversation).copied().unwrap_or(0),
        };
        let last = self.changed.get(&conversation).copied().unwrap_or(0);
        for m in messages.iter().filter(|m| m.version > last) {
            self.note_mine(m);
            if m.seq <= upto {
                fx.lines.push(Line::Changed(self.shown(m)));
                fx.lines.push(Line::State(state(m)));
            }
        }
        let last = self.changed.entry(conversation).or_insert(0);
        *last = (*last).max(through);
        if more {
            self.ask_changes(conversation, through, upto, fx);
        } else if asked {
            self.caught_up(conversation, fx);
        }
    }

    /// The answer `ok` to a change asked here: it was so already.
    pub(super) fn unchanged(&mut self, reference: &str, fx: &mut Effects) {
        if !self
            .outstanding
            .get(reference)
            .is_some_and(|o| o.purpose == Purpose::Change)
        {
            return;
        }
        let Some(asked) = self.outstanding.remove(reference) else {
            return;
        };
        let (conversation, seq) = match asked.frame.frame {
            ClientFrame::React {
                conversation_id,
                seq,
                emoji,
                add,
            } => {
                self.set_mine(conversation_id, seq, &emoji, add);
                (conversation_id, seq)
            }
            ClientFrame::Edit {
                conversation_id,
                seq,
                ..
            }
            | ClientFrame::Delete {
                conversation_id,
                seq,
            } => (conversation_id, seq),
            _ => return,
        };
        fx.lines.push(Line::Unchanged { conversation, seq });
    }

    /// Whether change number `change` of `conversation` is new here (then it is counted).
    fn first_time(&mut self, conversation: ConversationId, change: i64) -> bool {
        let last = self.changed.entry(conversation).or_insert(0);
        if change <= *last {
            return false;
        }
        *last = change;
        true
    }

    /// Learns my reactions on a message shown.
    pub(super) fn note_mine(&mut self, m: &Message) {
        let Some(me) = self.me.as_ref().map(|u| u.id) else {
            return;
        };
        let emoji = match m.deleted_at {
            Some(_) => Vec::new(),
            None => m
                .reactions
                .iter()
                .filter(|r| r.users.contains(&me))
                .map(|r| r.emoji.clone())
                .collect(),
        };
        self.remember_mine((m.conversation_id, m.seq), emoji);
    }

    fn set_mine(&mut self, conversation: ConversationId, seq: i64, emoji: &str, add: bool) {
        let key = (conversation, seq);
        let mut list = self
            .mine
            .get(&key)
            .map(|m| m.emoji.clone())
            .unwrap_or_default();
        list.retain(|e| !same_emoji(e, emoji));
        if add {
            list.push(emoji.to_owned());
        }
        self.remember_mine(key, list);
    }

    /// Remembers my reactions on one message (none: it is forgotten), forgetting the
    /// message remembered longest ago past [`MINE_MAX`].
    fn remember_mine(&mut self, key: (ConversationId, i64), emoji: Vec<String>) {
        if emoji.is_empty() {
            self.mine.remove(&key);
            return;
        }
        self.mine_clock += 1;
        let touched = self.mine_clock;
        self.mine.insert(key, Mine { emoji, touched });
        if self.mine.len() > MINE_MAX {
            let oldest = self
                .mine
                .iter()
                .min_by_key(|(_, m)| m.touched)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.mine.remove(&oldest);
            }
        }
    }

    /// Forgets what is known of a conversation's changes (a room left or deleted).
    pub(super) fn forget_changes(&mut self, conversation: ConversationId) {
        self.changed.remove(&conversation);
        self.catching.remove(&conversation);
        self.held.remove(&conversation);
        self.mine.retain(|(c, _), _| *c != conversation);
    }
}

/// Whether the message has something for a `state` line to say.
pub(super) fn marked(m: &Message) -> bool {
    m.edited_at.is_some() || m.deleted_at.is_some() || !m.reactions.is_empty()
}

/// What a message became, for its `state` line.
pub(super) fn state(m: &Message) -> MessageState {
    MessageState {
        conversation: m.conversation_id,
        seq: m.seq,
        edited: m.edited_at.is_some(),
        deleted: m.deleted_at.is_some(),
        reactions: m
            .reactions
            .iter()
            .filter(|r| !r.users.is_empty())
            .map(|r| (r.emoji.clone(), r.users.len()))
            .collect(),
    }
}

/// One emoji typed with or without its variation selector is the same reaction (the
/// server stores "❤" as "❤️").
fn same_emoji(a: &str, b: &str) -> bool {
    fn bare(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars().filter(|c| !matches!(c, '\u{fe0e}' | '\u{fe0f}'))
    }
    bare(a).eq(bare(b))
}
