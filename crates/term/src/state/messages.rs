//! Messages: a typed one is sent with a fresh `client_id` and stays pending until its
//! `ack` (re-sent after a reconnect); an incoming one prints once, in its
//! conversation's `seq` order, followed by what it quotes and what it became (edited,
//! deleted, reactions).

use super::open::no_chat;
use super::{changes, Chat, Chosen, Dest, Effects, Known, PendingSend};
use crate::output::{Line, Quoted, Shown};
use banter_protocol::{ClientFrame, ConversationKind, Message, Request, Target};

impl Chat {
    /// Text typed for the open chat: sent at once, with a fresh `client_id`.
    pub(super) fn say(&mut self, body: String, reply_to: Option<i64>, fx: &mut Effects) {
        let to = match self.open.as_ref().map(|o| &o.chosen) {
            None => return fx.lines.push(no_chat()),
            Some(Chosen::Direct(peer)) => Dest::Person(peer.id),
            Some(Chosen::Room { id, .. }) => Dest::Room(*id),
        };
        let pending = PendingSend {
            reference: self.next_ref("s"),
            client_id: uuid::Uuid::new_v4().to_string(),
            body,
            to,
            reply_to,
        };
        fx.frames.push(self.send_frame(&pending));
        self.pending.push(pending);
    }

    fn send_frame(&self, p: &PendingSend) -> Request {
        let target = match p.to {
            Dest::Room(room) => Target::Conversation(room),
            Dest::Person(peer) => match self.direct_with(peer) {
                Some(c) => Target::Conversation(c),
                None => Target::Direct(peer),
            },
        };
        Request::with_ref(
            p.reference.clone(),
            ClientFrame::send(target, p.client_id.clone(), p.body.clone(), p.reply_to),
        )
    }

    pub(super) fn resend_pending(&self, fx: &mut Effects) {
        fx.frames
            .extend(self.pending.iter().map(|p| self.send_frame(p)));
    }

    pub(super) fn shown(&self, m: &Message) -> Shown {
        Shown {
            conversation: m.conversation_id,
            seq: m.seq,
            sender: self.email_of(m.sender_id),
            body: m.body.clone(),
        }
    }

    /// Pushes `line` (the `message`, `history` or `sent` line of `m`), right after it the
    /// `reply-to` line if `m` answers an earlier message, then its `state` line if it
    /// was edited, is deleted or has reactions.
    pub(super) fn push_message(&mut self, line: Line, m: &Message, fx: &mut Effects) {
        fx.lines.push(line);
        if let Some(q) = &m.reply_to {
            fx.lines.push(Line::ReplyTo(Quoted {
                conversation: m.conversation_id,
                seq: m.seq,
                quoted_seq: q.seq,
                sender: q.sender_id.map(|id| self.email_of(id)),
                body: q.body.clone(),
            }));
        }
        self.note_mine(m);
        if changes::marked(m) {
            fx.lines.push(Line::State(changes::state(m)));
        }
    }

    /// Prints a message not printed before (by `seq`), in its conversation's order.
    pub(super) fn show_new(&mut self, m: Message, fx: &mut Effects) {
        let me = self.me.as_ref().map(|u| u.id);
        let seen = self.seen.entry(m.conversation_id).or_insert(0);
        if m.seq <= *seen {
            return;
        }
        *seen = m.seq;
        self.note_shown(m.conversation_id, m.seq);
        let ours = Some(m.sender_id) == me;
        if let Some(i) = self
            .pending
            .iter()
            .position(|p| ours && p.client_id == m.client_id.as_str())
        {
            // Committed before the socket dropped; its `ack` was lost with it.
            self.pending.remove(i);
            let line = Line::Sent {
                conversation: m.conversation_id,
                seq: m.seq,
                body: m.body.clone(),
            };
            return self.push_message(line, &m, fx);
        }
        self.push_message(Line::Message(self.shown(&m)), &m, fx);
    }

    pub(super) fn acked(&mut self, reference: Option<String>, m: Message, fx: &mut Effects) {
        let Some(i) = self.pending.iter().position(|p| {
            reference.as_deref() == Some(p.reference.as_str())
                || p.client_id == m.client_id.as_str()
        }) else {
            return; // already reported (found while filling a gap)
        };
        let p = self.pending.remove(i);
        if let Dest::Person(peer) = p.to {
            // A message to a person went to the direct chat with them: this one.
            self.conversations.insert(
                m.conversation_id,
                Known {
                    kind: ConversationKind::Direct,
                    peer: Some(peer),
                },
            );
        }
        let seen = self.seen.entry(m.conversation_id).or_insert(0);
        *seen = (*seen).max(m.seq);
        self.note_shown(m.conversation_id, m.seq);
        let line = Line::Sent {
            conversation: m.conversation_id,
            seq: m.seq,
            body: m.body.clone(),
        };
        self.push_message(line, &m, fx);
    }
}
