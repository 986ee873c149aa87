//! What the terminal client knows and how it reacts: to server events, to commands, to
//! a new connection. No I/O here: every reaction returns [`Effects`] (lines to print,
//! frames to send), which keeps the resume logic testable without a socket.
//!
//! Resume (docs/protocol.md "Ordering and resume"): the client remembers, per
//! conversation, the last `seq` it printed. After a reconnect it asks `history
//! after_seq` for every conversation that moved, holds back live messages of those
//! conversations until their gap is filled (so every conversation still prints in `seq`
//! order, each message once), and only then re-sends unacknowledged messages with their
//! original `client_id`. A message of ours found while filling a gap was committed
//! before the drop: it is reported as `sent`, not sent again.
//!
//! Rooms: their messages print like any other (with the room's conversation id), but a
//! room is never taken for a direct chat: a conversation's kind and peer come only from
//! the server (`ready`, `joined`, `GET /api/conversations`), never from a sender.

use super::commands::{Command, DEFAULT_HISTORY, HELP};
use super::frames::{Conversation, Event, Page, Ready, Request, Target, HISTORY_MAX};
use super::output::{Line, Shown};
use crate::domain::{ConversationId, ConversationKind, Message, User, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one reaction asks the caller to do, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub lines: Vec<Line>,
    pub frames: Vec<Request>,
}

/// A conversation as the server described it.
#[derive(Debug)]
struct Known {
    kind: ConversationKind,
    /// The other person of a direct chat.
    peer: Option<UserId>,
}

/// Something to look up over HTTP before an event can be printed with names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `GET /api/conversations`: a conversation this client has not heard of.
    Conversations(ConversationId),
    /// `GET /api/rooms/{room}/members`: someone writing in a room, not met otherwise.
    Members { room: ConversationId, user: UserId },
}

/// The chat `/open` chose.
#[derive(Debug, Clone)]
struct OpenChat {
    peer: User,
    /// The oldest `seq` shown of it, where `/history` continues from.
    oldest: Option<i64>,
}

/// A message typed here that the server has not acknowledged yet.
#[derive(Debug, Clone)]
struct PendingSend {
    reference: String,
    client_id: String,
    body: String,
    peer: UserId,
}

/// Why a `history` request was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// `/open` or `/history`: print as `history` lines.
    Show,
    /// Filling a gap after a reconnect: print as `message` lines.
    Gap,
}

#[derive(Debug, Clone)]
struct Outstanding {
    purpose: Purpose,
    frame: Request,
}

/// A conversation being caught up after a reconnect.
#[derive(Debug, Default)]
struct Gap {
    /// Its `last_seq` in the new `ready`.
    target: i64,
    /// Live messages that arrived meanwhile, printed once the gap is filled.
    buffered: Vec<Message>,
}

/// The client's whole state.
#[derive(Debug, Default)]
pub struct Chat {
    me: Option<User>,
    /// Everyone heard of (online, blocked, conversation peers), for emails and `/open`.
    people: HashMap<UserId, User>,
    online: HashMap<UserId, User>,
    blocked: HashMap<UserId, User>,
    conversations: HashMap<ConversationId, Known>,
    /// Per conversation, the highest `seq` printed (or counted by `ready` or `joined`).
    seen: HashMap<ConversationId, i64>,
    /// Lookups done (each is done once, found or not).
    looked_up: HashSet<Lookup>,
    open: Option<OpenChat>,
    pending: Vec<PendingSend>,
    outstanding: BTreeMap<String, Outstanding>,
    gaps: HashMap<ConversationId, Gap>,
    counter: u64,
}

impl Chat {
    /// The signed-in person, once connected.
    pub fn me(&self) -> Option<&User> {
        self.me.as_ref()
    }

    /// True unless a gap is being filled after a reconnect (input waits meanwhile).
    pub fn synced(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Nothing sent is waiting for an answer (a clean moment to leave).
    pub fn idle(&self) -> bool {
        self.pending.is_empty() && self.outstanding.is_empty()
    }

    /// How many typed messages the server has not acknowledged.
    pub fn unsent(&self) -> usize {
        self.pending.len()
    }

    /// What printing this event needs to look up first, if anything: a conversation
    /// this client has not heard of (someone's first message, a room joined elsewhere),
    /// or the email of someone writing in a room. The caller fetches it, hands it to
    /// [`Chat::learn`] or [`Chat::learn_people`], and asks again; each lookup is made once.
    pub fn lookup(&self, event: &Event) -> Option<Lookup> {
        let needs = |conversation: ConversationId, user: UserId| {
            let lookup = match self.conversations.get(&conversation) {
                None => Lookup::Conversations(conversation),
                Some(_) if self.people.contains_key(&user) => return None,
                Some(k) if k.kind == ConversationKind::Room => Lookup::Members {
                    room: conversation,
                    user,
                },
                Some(_) => return None,
            };
            (!self.looked_up.contains(&lookup)).then_some(lookup)
        };
        match event {
            Event::Message { message } => needs(message.conversation_id, message.sender_id),
            Event::History { messages, .. } => messages
                .iter()
                .find_map(|m| needs(m.conversation_id, m.sender_id)),
            Event::Typing {
                conversation_id,
                user_id,
            } => needs(*conversation_id, *user_id),
            _ => None,
        }
    }

    /// Records that `lookup` was made (so it is not made again, whatever it found).
    pub fn looked_up(&mut self, lookup: Lookup) {
        self.looked_up.insert(lookup);
    }

    /// Learns conversations' kinds and peers (from `GET /api/conversations`).
    pub fn learn(&mut self, conversations: Vec<Conversation>) {
        for c in conversations {
            self.know(c);
        }
    }

    /// Learns people's emails (a room's members).
    pub fn learn_people(&mut self, people: Vec<User>) {
        for p in people {
            self.people.entry(p.id).or_insert(p);
        }
    }

    fn know(&mut self, c: Conversation) {
        let peer = c.peer.map(|p| {
            let id = p.id;
            self.people.insert(id, p);
            id
        });
        self.conversations
            .insert(c.id, Known { kind: c.kind, peer });
    }

    /// A `ready`: the first one prints the snapshot; a later one (a reconnect) prints
    /// what changed meanwhile and starts filling gaps.
    pub fn on_ready(&mut self, ready: Ready) -> Effects {
        let mut fx = Effects::default();
        let first = self.me.is_none();
        self.people.insert(ready.me.id, ready.me.clone());
        let old_online = std::mem::take(&mut self.online);
        let old_blocked = std::mem::take(&mut self.blocked);
        for u in &ready.online {
            self.people.insert(u.id, u.clone());
            self.online.insert(u.id, u.clone());
        }
        for u in &ready.blocked {
            self.people.insert(u.id, u.clone());
            self.blocked.insert(u.id, u.clone());
        }
        if first {
            fx.lines.push(Line::Ready {
                me: ready.me.email.clone(),
                online: self.online.len(),
            });
            fx.lines
                .extend(by_email(self.online.values()).map(|u| Line::Online(u.email.clone())));
        } else {
            fx.lines.push(Line::Reconnected);
            for (old, new, online) in [
                (&old_online, &self.online, true),
                (&self.online, &old_online, false),
            ] {
                let changed = new.values().filter(|u| !old.contains_key(&u.id));
                fx.lines.extend(by_email(changed).map(|u| Line::Presence {
                    online,
                    email: u.email.clone(),
                }));
            }
            let now_blocked = self
                .blocked
                .values()
                .filter(|u| !old_blocked.contains_key(&u.id));
            fx.lines
                .extend(by_email(now_blocked).map(|u| Line::Blocked(u.email.clone())));
            let unblocked = old_blocked
                .values()
                .filter(|u| !self.blocked.contains_key(&u.id));
            fx.lines
                .extend(by_email(unblocked).map(|u| Line::Unblocked(u.email.clone())));
        }
        self.me = Some(ready.me);

        // Requests of the old socket went with it: shown history is asked again, gaps
        // are worked out afresh below.
        self.gaps.clear();
        let old = std::mem::take(&mut self.outstanding);
        for (reference, o) in old {
            if o.purpose == Purpose::Show {
                fx.frames.push(o.frame.clone());
                self.outstanding.insert(reference, o);
            }
        }
        for c in ready.conversations {
            let (id, kind, last_seq) = (c.id, c.kind, c.last_seq);
            self.know(c);
            // Before the first `ready` is history; so is a room joined elsewhere while
            // away (as after `joined`). A direct chat begun while away is all missed.
            let start = if first || kind == ConversationKind::Room {
                last_seq
            } else {
                0
            };
            let after = *self.seen.entry(id).or_insert(start);
            if last_seq > after {
                let gap = Gap {
                    target: last_seq,
                    buffered: Vec::new(),
                };
                self.gaps.insert(id, gap);
                self.ask_gap(id, after, &mut fx);
            }
        }
        if self.gaps.is_empty() {
            self.resend_pending(&mut fx);
        }
        fx
    }

    /// A frame from the server.
    pub fn on_event(&mut self, event: Event) -> Effects {
        let mut fx = Effects::default();
        match event {
            Event::Ready(ready) => return self.on_ready(ready),
            Event::Presence { user, online } => {
                let email = user.email.clone();
                if online {
                    self.online.insert(user.id, user.clone());
                } else {
                    self.online.remove(&user.id);
                }
                self.people.insert(user.id, user);
                fx.lines.push(Line::Presence { online, email });
            }
            Event::Message { message } => match self.gaps.get_mut(&message.conversation_id) {
                Some(gap) => gap.buffered.push(message),
                None => self.show_new(message, &mut fx),
            },
            Event::Ack { reference, message } => self.acked(reference, message, &mut fx),
            Event::History {
                reference,
                conversation_id,
                messages,
            } => self.history(reference, conversation_id, messages, &mut fx),
            Event::Blocked { user } => {
                fx.lines.push(Line::Blocked(user.email.clone()));
                self.people.insert(user.id, user.clone());
                self.blocked.insert(user.id, user);
            }
            Event::Unblocked { user } => {
                fx.lines.push(Line::Unblocked(user.email.clone()));
                self.blocked.remove(&user.id);
                self.people.insert(user.id, user);
            }
            Event::Read {
                conversation_id,
                seq,
            } => fx.lines.push(Line::Read {
                conversation: conversation_id,
                seq,
            }),
            Event::Typing {
                conversation_id,
                user_id,
            } => fx.lines.push(Line::Typing {
                conversation: conversation_id,
                email: self.email_of(user_id),
            }),
            Event::Error {
                reference,
                code,
                message,
            } => {
                fx.lines.push(Line::Error { code, message });
                if let Some(reference) = reference {
                    self.pending.retain(|p| p.reference != reference);
                    self.refused(&reference, &mut fx);
                }
            }
            Event::Joined { conversation } => {
                // A room's messages reach a new member from the one after the join on.
                self.seen
                    .entry(conversation.id)
                    .or_insert(conversation.last_seq);
                self.know(conversation);
            }
            Event::Session { .. } | Event::Unknown => {}
        }
        fx
    }

    /// A decoded line of input. (`/quit` is the caller's: it ends the session.)
    pub fn on_command(&mut self, command: Command) -> Effects {
        let mut fx = Effects::default();
        match command {
            Command::Say(body) => match self.open.as_ref().map(|o| o.peer.id) {
                None => fx.lines.push(no_chat()),
                Some(peer) => {
                    let pending = PendingSend {
                        reference: self.next_ref("s"),
                        client_id: uuid::Uuid::new_v4().to_string(),
                        body,
                        peer,
                    };
                    fx.frames.push(self.send_frame(&pending));
                    self.pending.push(pending);
                }
            },
            Command::Online => {
                fx.lines
                    .extend(by_email(self.online.values()).map(|u| Line::Online(u.email.clone())));
                fx.lines.push(Line::End("online"));
            }
            Command::Blocked => {
                fx.lines.extend(
                    by_email(self.blocked.values()).map(|u| Line::Blocked(u.email.clone())),
                );
                fx.lines.push(Line::End("blocked"));
            }
            Command::Open(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(peer) if Some(peer.id) == self.me.as_ref().map(|m| m.id) => fx.lines.push(
                    Line::error("bad_request", "that is you; open someone else's chat"),
                ),
                Ok(peer) => {
                    let conversation = self.direct_with(peer.id);
                    fx.lines.push(Line::Opened {
                        peer: peer.email.clone(),
                        conversation,
                    });
                    self.open = Some(OpenChat { peer, oldest: None });
                    match conversation {
                        Some(c) => self.ask_shown(c, Page::Newest, DEFAULT_HISTORY, &mut fx),
                        None => fx.lines.push(Line::End("history")),
                    }
                }
            },
            Command::History(n) => match self.open.as_ref().map(|o| (o.peer.id, o.oldest)) {
                None => fx.lines.push(no_chat()),
                Some((peer, oldest)) => match self.direct_with(peer) {
                    None => fx.lines.push(Line::End("history")),
                    Some(c) => {
                        let page = oldest.map(Page::Before).unwrap_or(Page::Newest);
                        self.ask_shown(c, page, n, &mut fx);
                    }
                },
            },
            Command::Read => {
                let open = self.open.as_ref().map(|o| o.peer.id);
                let conversation = open.and_then(|peer| self.direct_with(peer));
                let seen = conversation.and_then(|c| self.seen.get(&c)).copied();
                match (open, conversation, seen) {
                    (None, _, _) => fx.lines.push(no_chat()),
                    (Some(_), Some(conversation), Some(seq)) if seq > 0 => {
                        fx.frames.push(Request::Read {
                            conversation_id: conversation,
                            seq,
                        });
                        fx.lines.push(Line::Read { conversation, seq });
                    }
                    _ => fx.lines.push(Line::error(
                        "no_messages",
                        "the open chat has no messages yet",
                    )),
                }
            }
            Command::Block(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::Block {
                        reference: self.next_ref("b"),
                        user_id: user.id,
                    });
                    fx.lines.push(Line::Blocked(user.email.clone()));
                    self.blocked.insert(user.id, user);
                }
            },
            Command::Unblock(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::Unblock {
                        reference: self.next_ref("b"),
                        user_id: user.id,
                    });
                    fx.lines.push(Line::Unblocked(user.email.clone()));
                    self.blocked.remove(&user.id);
                }
            },
            Command::Help => {
                fx.lines
                    .extend(HELP.iter().map(|&(usage, text)| Line::Help { usage, text }));
                fx.lines.push(Line::End("help"));
            }
            Command::Quit => {}
        }
        fx
    }

    fn next_ref(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn email_of(&self, id: UserId) -> String {
        self.people
            .get(&id)
            .map(|u| u.email.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The direct chat with `peer`, if it exists yet.
    fn direct_with(&self, peer: UserId) -> Option<ConversationId> {
        self.conversations
            .iter()
            .find(|(_, k)| k.peer == Some(peer))
            .map(|(id, _)| *id)
    }

    /// Someone named by email (any case) or user id.
    fn resolve(&self, who: &str) -> Result<User, Line> {
        if let Some(id) = UserId::parse(who) {
            return Ok(self.people.get(&id).cloned().unwrap_or(User {
                id,
                email: who.to_owned(),
            }));
        }
        self.people
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(who))
            .cloned()
            .ok_or_else(|| {
                Line::error(
                    "unknown_user",
                    format!("{who} is not online, blocked or in one of your chats"),
                )
            })
    }

    fn send_frame(&self, p: &PendingSend) -> Request {
        let target = match self.direct_with(p.peer) {
            Some(c) => Target::Conversation(c),
            None => Target::Person(p.peer),
        };
        Request::Send {
            reference: p.reference.clone(),
            client_id: p.client_id.clone(),
            body: p.body.clone(),
            target,
        }
    }

    fn resend_pending(&self, fx: &mut Effects) {
        fx.frames
            .extend(self.pending.iter().map(|p| self.send_frame(p)));
    }

    fn ask_gap(&mut self, conversation: ConversationId, after: i64, fx: &mut Effects) {
        let reference = self.next_ref("g");
        let frame = Request::history(
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

    fn ask_shown(&mut self, conversation: ConversationId, page: Page, n: i64, fx: &mut Effects) {
        let reference = self.next_ref("h");
        let frame = Request::history(reference.clone(), conversation, page, n);
        fx.frames.push(frame.clone());
        self.outstanding.insert(
            reference,
            Outstanding {
                purpose: Purpose::Show,
                frame,
            },
        );
    }

    fn shown(&self, m: &Message) -> Shown {
        Shown {
            conversation: m.conversation_id,
            seq: m.seq,
            sender: self.email_of(m.sender_id),
            body: m.body.clone(),
        }
    }

    /// Prints a message not printed before (by `seq`), in its conversation's order.
    fn show_new(&mut self, m: Message, fx: &mut Effects) {
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
            fx.lines.push(Line::Sent {
                conversation: m.conversation_id,
                seq: m.seq,
                body: m.body,
            });
            return;
        }
        fx.lines.push(Line::Message(self.shown(&m)));
    }

    /// Remembers the oldest `seq` shown of the open chat, for `/history`.
    fn note_shown(&mut self, conversation: ConversationId, seq: i64) {
        let open_conversation = self.open.as_ref().and_then(|o| self.direct_with(o.peer.id));
        if open_conversation == Some(conversation) {
            if let Some(open) = &mut self.open {
                open.oldest = Some(open.oldest.map_or(seq, |o| o.min(seq)));
            }
        }
    }

    fn acked(&mut self, reference: Option<String>, m: Message, fx: &mut Effects) {
        let Some(i) = self.pending.iter().position(|p| {
            reference.as_deref() == Some(p.reference.as_str())
                || p.client_id == m.client_id.as_str()
        }) else {
            return; // already reported (found while filling a gap)
        };
        let p = self.pending.remove(i);
        // We only write to direct chats: this is the one with `p.peer`.
        self.conversations.insert(
            m.conversation_id,
            Known {
                kind: ConversationKind::Direct,
                peer: Some(p.peer),
            },
        );
        let seen = self.seen.entry(m.conversation_id).or_insert(0);
        *seen = (*seen).max(m.seq);
        self.note_shown(m.conversation_id, m.seq);
        fx.lines.push(Line::Sent {
            conversation: m.conversation_id,
            seq: m.seq,
            body: m.body,
        });
    }

    fn history(
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
            Purpose::Show => {
                for m in &messages {
                    fx.lines.push(Line::History(self.shown(m)));
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
    /// messages still print), so input does not wait forever.
    fn refused(&mut self, reference: &str, fx: &mut Effects) {
        if let Some(o) = self.outstanding.remove(reference) {
            if o.purpose == Purpose::Gap {
                if let Request::History {
                    conversation_id, ..
                } = o.frame
                {
                    self.gap_filled(conversation_id, fx);
                }
            }
        }
    }

    fn gap_filled(&mut self, conversation: ConversationId, fx: &mut Effects) {
        let Some(gap) = self.gaps.remove(&conversation) else {
            return;
        };
        let mut buffered = gap.buffered;
        buffered.sort_by_key(|m| m.seq);
        for m in buffered {
            self.show_new(m, fx);
        }
        if self.gaps.is_empty() {
            self.resend_pending(fx);
        }
    }
}

fn no_chat() -> Line {
    Line::error("no_chat", "no chat is open; /open <email> first")
}

/// People in a stable order: by email.
fn by_email<'a>(people: impl Iterator<Item = &'a User>) -> impl Iterator<Item = &'a User> {
    let mut v: Vec<&User> = people.collect();
    v.sort_by(|a, b| a.email.cmp(&b.email));
    v.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, MessageId};
    use chrono::Utc;

    fn user(n: u128, email: &str) -> User {
        User {
            id: UserId(uuid::Uuid::from_u128(n)),
            email: email.into(),
        }
    }

    fn alice() -> User {
        user(1, "alice@example.com")
    }

    fn bob() -> User {
        user(2, "bob@example.com")
    }

    fn conversation() -> ConversationId {
        ConversationId(uuid::Uuid::from_u128(99))
    }

    fn message(seq: i64, from: &User, body: &str, client_id: &str) -> Message {
        let json = serde_json::json!({
            "id": MessageId(uuid::Uuid::new_v4()), "conversation_id": conversation(), "seq": seq,
            "sender_id": from.id, "body": body, "client_id": ClientId::parse(client_id.into()).unwrap(),
            "created_at": Utc::now(),
        });
        serde_json::from_value(json).unwrap()
    }

    fn ready(online: Vec<User>, last_seq: Option<i64>) -> Ready {
        Ready {
            me: alice(),
            online,
            blocked: vec![],
            conversations: last_seq
                .map(|last_seq| Conversation {
                    id: conversation(),
                    kind: crate::domain::ConversationKind::Direct,
                    peer: Some(bob()),
                    name: None,
                    last_seq,
                    read_seq: 0,
                })
                .into_iter()
                .collect(),
            expires_at: Utc::now(),
        }
    }

    fn texts(fx: &Effects) -> Vec<String> {
        fx.lines.iter().map(|l| l.to_string()).collect()
    }

    /// The `client_id` and target of a `send` frame.
    fn sent(frame: &Request) -> (String, Target) {
        match frame {
            Request::Send {
                client_id, target, ..
            } => (client_id.clone(), *target),
            other => panic!("not a send: {other:?}"),
        }
    }

    #[test]
    fn the_first_ready_prints_who_is_online_in_email_order() {
        let mut chat = Chat::default();
        let fx = chat.on_ready(ready(vec![user(3, "zoe@example.com"), bob()], None));
        assert_eq!(
            texts(&fx),
            [
                "ready me=alice@example.com online=2",
                "online bob@example.com",
                "online zoe@example.com"
            ]
        );
        assert!(fx.frames.is_empty());
    }

    #[test]
    fn a_first_message_goes_to_the_person_and_later_ones_to_the_conversation() {
        let mut chat = Chat::default();
        chat.on_ready(ready(vec![bob()], None));
        let fx = chat.on_command(Command::Open("BOB@example.com".into()));
        assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
        let fx = chat.on_command(Command::Say("hi".into()));
        let (client_id, target) = sent(&fx.frames[0]);
        assert_eq!(target, Target::Person(bob().id));
        assert!(!chat.idle());
        let fx = chat.on_event(Event::Ack {
            reference: Some("s1".into()),
            message: message(1, &alice(), "hi", &client_id),
        });
        assert_eq!(texts(&fx), [format!("sent {} 1 hi", conversation())]);
        assert!(chat.idle());
        let fx = chat.on_command(Command::Say("again".into()));
        assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(conversation()));
    }

    #[test]
    fn after_a_reconnect_gaps_are_filled_in_order_and_unacknowledged_sends_are_resolved_once() {
        let mut chat = Chat::default();
        chat.on_ready(ready(vec![bob()], Some(2)));
        chat.on_command(Command::Open("bob@example.com".into()));
        let committed = sent(&chat.on_command(Command::Say("one".into())).frames[0]).0;
        let lost = sent(&chat.on_command(Command::Say("two".into())).frames[0]).0;

        // The socket drops; meanwhile "one" was committed as seq 3 and bob wrote seq 4.
        let fx = chat.on_ready(ready(vec![], Some(4)));
        assert_eq!(
            texts(&fx),
            ["reconnected", "presence offline bob@example.com"]
        );
        assert!(!chat.synced());
        let gap = fx.frames.last().unwrap().clone();
        let Request::History {
            reference,
            after_seq,
            ..
        } = gap
        else {
            panic!("a gap request: {gap:?}");
        };
        assert_eq!(after_seq, Some(2));
        // No send goes out before the gap is filled.
        assert!(!fx.frames.iter().any(|f| matches!(f, Request::Send { .. })));

        // A live message arrives before the gap's answer: it waits its turn.
        let fx = chat.on_event(Event::Message {
            message: message(5, &bob(), "five", "b5"),
        });
        assert!(fx.lines.is_empty());
        let fx = chat.on_event(Event::History {
            reference: Some(reference),
            conversation_id: conversation(),
            messages: vec![
                message(3, &alice(), "one", &committed),
                message(4, &bob(), "four", "b4"),
            ],
        });
        let c = conversation();
        assert_eq!(
            texts(&fx),
            [
                format!("sent {c} 3 one"),
                format!("message {c} 4 bob@example.com four"),
                format!("message {c} 5 bob@example.com five"),
            ]
        );
        assert!(chat.synced());
        // Only the message that was not committed is sent again, with its client_id.
        let resent: Vec<String> = fx.frames.iter().map(|f| sent(f).0).collect();
        assert_eq!(resent, [lost]);
        assert_eq!(chat.unsent(), 1);
    }

    #[test]
    fn a_room_is_never_taken_for_a_direct_chat_with_someone_writing_in_it() {
        let mut chat = Chat::default();
        chat.on_ready(ready(vec![bob()], None));
        // A message in a conversation never heard of: it must be looked up first.
        let event = Event::Message {
            message: message(1, &bob(), "hello room", "b1"),
        };
        assert_eq!(
            chat.lookup(&event),
            Some(Lookup::Conversations(conversation()))
        );
        chat.looked_up(Lookup::Conversations(conversation()));
        chat.learn(vec![Conversation {
            id: conversation(),
            kind: crate::domain::ConversationKind::Room,
            peer: None,
            name: Some("General".into()),
            last_seq: 1,
            read_seq: 0,
        }]);
        assert_eq!(chat.lookup(&event), None);
        let fx = chat.on_event(event);
        assert_eq!(
            texts(&fx),
            [format!(
                "message {} 1 bob@example.com hello room",
                conversation()
            )]
        );
        let fx = chat.on_command(Command::Open("bob@example.com".into()));
        assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
        let fx = chat.on_command(Command::Say("hi".into()));
        assert_eq!(sent(&fx.frames[0]).1, Target::Person(bob().id));
    }

    #[test]
    fn a_refused_send_is_no_longer_pending() {
        let mut chat = Chat::default();
        chat.on_ready(ready(vec![bob()], Some(1)));
        chat.on_command(Command::Open("bob@example.com".into()));
        chat.on_command(Command::Say("hi".into()));
        let fx = chat.on_event(Event::Error {
            reference: Some("s2".into()),
            code: "blocked".into(),
            message: "one of you has blocked the other".into(),
        });
        assert_eq!(
            texts(&fx),
            ["error blocked one of you has blocked the other"]
        );
        assert_eq!(chat.unsent(), 0);
    }

    #[test]
    fn commands_needing_an_open_chat_or_a_known_person_say_so() {
        let mut chat = Chat::default();
        chat.on_ready(ready(vec![], None));
        let fx = chat.on_command(Command::Say("hi".into()));
        assert_eq!(
            texts(&fx),
            ["error no_chat no chat is open; /open <email> first"]
        );
        let fx = chat.on_command(Command::Open("nobody@example.com".into()));
        assert!(texts(&fx)[0].starts_with("error unknown_user nobody@example.com"));
        let fx = chat.on_command(Command::Open("alice@example.com".into()));
        assert!(texts(&fx)[0].starts_with("error bad_request"));
    }
}
