//! `history` asked and answered: pages shown for `/open` and `/history`, and gaps
//! filled after a reconnect (live messages and changes held back meanwhile), given up
//! if the server refuses, after which pending sends go out again.

use super::{Chat, Effects, Outstanding, Purpose};
use crate::frames::{self, HISTORY_MAX};
use crate::output::Line;
use banter_protocol::{ClientFrame, ConversationId, Message, Page};

impl Chat {
    pub(super) fn ask_gap(&mut self, conversation: ConversationId, after: i64, fx: &mut Effects) {
        let reference = self.next_ref("g");
        let frame = frames::history(
            reference.clone(),
            conversation,
            Page::After(after),
            HISTORY_MAX,
        );
        fx.frames.push(frame.clone());
        self.outstanding.insert(
            reference,
            Outstanding {
                purpose: Purpose::Gap,
                frame,
            },
        );
    }

    pub(super) fn ask_shown(
        &mut self,
        conversation: ConversationId,
        page: Page,
        n: i64,
        fx: &mut Effects,
    ) {
        let reference = self.next_ref("h");
        let frame = frames::history(reference.clone(), conversation, page, n);
        fx.frames.push(frame.clone());
        self.outstanding.insert(
            reference,
            Outstanding {
                purpose: Purpose::Show,
                frame,
            },
        );
    }

    pub(super) fn history(
        &mut self,
        reference: Option<String>,
        conversation: ConversationId,
        messages: Vec<Message>,
        fx: &mut Effects,
    ) {
        let Some(o) = reference.and_then(|r| self.outstanding.remove(&r)) else {
            return;
        };
        match o.purpose {
            Purpose::Members
            | Purpose::Online
            | Purpose::OnlineFirst
            | Purpose::Room { .. }
            | Purpose::Rooms { .. }
            | Purpose::Find { .. }
            | Purpose::Change
            | Purpose::Changes => {}
            Purpose::Show => {
                for m in &messages {
                    self.push_message(Line::History(self.shown(m)), m, fx);
                }
                if let Some(first) = messages.first() {
                    self.note_shown(conversation, first.seq);
                }
                fx.lines.push(Line::End("history"));
            }
            Purpose::Gap => {
                let full = messages.len() as i64 >= HISTORY_MAX;
                for m in messages {
                    self.show_new(m, fx);
                }
                let seen = self.seen.get(&conversation).copied().unwrap_or(0);
                let target = self.gaps.get(&conversation).map_or(0, |g| g.target);
                if full && seen < target {
                    self.ask_gap(conversation, seen, fx);
                } else {
                    self.gap_filled(conversation, fx);
                }
            }
        }
    }

    /// A request the server refused: a gap it cannot fill is given up (its live
    /// messages still print), so input does not wait forever; so is a catch-up on
    /// changes (the changes held meanwhile print).
    pub(super) fn refused(&mut self, reference: &str, fx: &mut Effects) {
        let Some(o) = self.outstanding.remove(reference) else {
            return;
        };
        match (o.purpose, o.frame.frame) {
            (
                Purpose::Gap,
                ClientFrame::History {
                    conversation_id, ..
                },
            ) => self.gap_filled(conversation_id, fx),
            (
                Purpose::Changes,
                ClientFrame::Changes {
                    conversation_id, ..
                },
            ) => self.caught_up(conversation_id, fx),
            _ => {}
        }
    }

    pub(super) fn gap_filled(&mut self, conversation: ConversationId, fx: &mut Effects) {
        let Some(gap) = self.gaps.remove(&conversation) else {
            return;
        };
        let mut buffered = gap.buffered;
        buffered.sort_by_key(|m| m.seq);
        for m in buffered {
            self.show_new(m, fx);
        }
        self.release(conversation, fx);
        if self.gaps.is_empty() {
            self.resend_pending(fx);
        }
    }
}
