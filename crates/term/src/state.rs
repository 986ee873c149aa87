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
//! Rooms: the list of every room comes with `ready` and is kept live by `room`,
//! `room_deleted`, `joined` and `left`; which rooms the user is a member of comes from
//! `ready`'s conversations and `joined` / `left`. A room's messages print like any other
//! (with the room's conversation id), but a room is never taken for a direct chat: a
//! conversation's kind and peer come only from the server (`ready`, `joined`, `GET
//! /api/conversations`), never from a sender.

use super::commands::{Command, DEFAULT_HISTORY, HELP};
use super::frames::{self, HISTORY_MAX};
use super::output::{Line, Quoted, RoomShown, Shown};
use banter_protocol::{
    ClientFrame, ConversationId, ConversationKind, ConversationSummary, Message, Page, Request,
    Room, RoomMember, ServerEvent, Target, User, UserId,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one reaction asks the caller to do, in order.
#[derive(Debug, Default, PartialEq)]
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

/// What is open: a direct chat or a room.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Chosen {
    Direct(User),
    Room { id: ConversationId, name: String },
}

/// The chat `/open` (or `/join`, `/create`) chose.
#[derive(Debug, Clone)]
struct OpenChat {
    chosen: Chosen,
    /// The oldest `seq` shown of it, where `/history` continues from.
    oldest: Option<i64>,
}

/// Where a typed message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// A direct chat (created by the first message if need be).
    Person(UserId),
    /// A room, by its conversation id.
    Room(ConversationId),
}

/// A message typed here that the server has not acknowledged yet.
#[derive(Debug, Clone)]
struct PendingSend {
    reference: String,
    client_id: String,
    body: String,
    to: Dest,
    reply_to: Option<i64>,
}

/// Why a request was made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    /// `history` for `/open` or `/history`: print as `history` lines.
    Show,
    /// `history` filling a gap after a reconnect: print as `message` lines.
    Gap,
    /// `members`: print as `member` lines.
    Members,
    /// `create_room`, `join_room`, `leave_room` or `delete_room`, typed as `what`. Not
    /// asked again on a new socket (the first may have been carried out).
    Room { what: String },
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
    /// Every room, for `/rooms`.
    rooms: HashMap<ConversationId, Room>,
    /// The rooms the user is a member of.
    member_of: HashSet<ConversationId>,
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
    pub fn lookup(&self, event: &ServerEvent<'_>) -> Option<Lookup> {
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
        // The sender of a message, and of the one it quotes.
        let quoted = |m: &Message| {
            m.reply_to
                .as_ref()
                .and_then(|q| q.sender_id)
                .and_then(|s| needs(m.conversation_id, s))
        };
        let message_needs =
            |m: &Message| needs(m.conversation_id, m.sender_id).or_else(|| quoted(m));
        match event {
            ServerEvent::Message { message } => message_needs(message),
            // Our own message, in a conversation we wrote to: only a quote may be new.
            ServerEvent::Ack { message, .. } => quoted(message),
            ServerEvent::History { messages, .. } => messages.iter().find_map(message_needs),
            ServerEvent::Typing {
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
    pub fn learn(&mut self, conversations: Vec<ConversationSummary>) {
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

    fn know(&mut self, c: ConversationSummary) {
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
    fn on_ready(
        &mut self,
        me: User,
        online: Vec<User>,
        blocked: Vec<User>,
        conversations: Vec<ConversationSummary>,
        rooms: Vec<Room>,
    ) -> Effects {
        let mut fx = Effects::default();
        let first = self.me.is_none();
        self.people.insert(me.id, me.clone());
        let old_online = std::mem::take(&mut self.online);
        let old_blocked = std::mem::take(&mut self.blocked);
        for u in &online {
            self.people.insert(u.id, u.clone());
            self.online.insert(u.id, u.clone());
        }
        for u in &blocked {
            self.people.insert(u.id, u.clone());
            self.blocked.insert(u.id, u.clone());
        }
        if first {
            fx.lines.push(Line::Ready {
                me: me.email.clone(),
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
        self.me = Some(me);
        self.new_rooms(rooms, &conversations, first, &mut fx);

        // Requests of the old socket went with it: shown history and members are asked
        // again, gaps are worked out afresh below, room actions are reported unanswered
        // (one may have been carried out: asking again could create a room twice).
        self.gaps.clear();
        let old = std::mem::take(&mut self.outstanding);
        for (reference, o) in old {
            match &o.purpose {
                Purpose::Show | Purpose::Members => {
                    fx.frames.push(o.frame.clone());
                    self.outstanding.insert(reference, o);
                }
                Purpose::Gap => {}
                Purpose::Room { what } => fx.lines.push(Line::error(
                    "unanswered",
                    format!(
                        "{what}: the connection dropped before the server answered; /rooms shows where things stand"
                    ),
                )),
            }
        }
        for c in conversations {
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

    /// The room list and memberships of a `ready`; after a reconnect, prints what
    /// changed meanwhile (`room`, `room_deleted`, `joined`, `left` lines).
    fn new_rooms(
        &mut self,
        rooms: Vec<Room>,
        conversations: &[ConversationSummary],
        first: bool,
        fx: &mut Effects,
    ) {
        let old_rooms = std::mem::take(&mut self.rooms);
        let old_member_of = std::mem::take(&mut self.member_of);
        self.rooms = rooms.into_iter().map(|r| (r.id, r)).collect();
        self.member_of = conversations
            .iter()
            .filter(|c| c.kind == ConversationKind::Room)
            .map(|c| c.id)
            .collect();
        if self
            .open_room()
            .is_some_and(|r| !self.member_of.contains(&r))
        {
            self.open = None;
        }
        if first {
            return;
        }
        let mut gone: Vec<ConversationId> = old_rooms
            .keys()
            .filter(|id| !self.rooms.contains_key(id))
            .copied()
            .collect();
        gone.sort();
        fx.lines.extend(gone.into_iter().map(Line::RoomDeleted));
        for room in by_name(self.rooms.values()) {
            let member = self.member_of.contains(&room.id);
            let was_member = old_member_of.contains(&room.id);
            if old_rooms.get(&room.id) != Some(room) || member != was_member {
                fx.lines.push(self.room_line(room));
            }
            if member && !was_member {
                fx.lines.push(Line::Joined {
                    room: room.id,
                    name: room.name.clone(),
                });
            } else if was_member && !member {
                fx.lines.push(Line::Left(room.id));
            }
        }
    }

    /// A frame from the server.
    pub fn on_event(&mut self, event: ServerEvent<'_>) -> Effects {
        let mut fx = Effects::default();
        match event {
            ServerEvent::Ready {
                me,
                online,
                blocked,
                conversations,
                rooms,
                ..
            } => {
                return self.on_ready(
                    me.into_owned(),
                    online.into_owned(),
                    blocked.into_owned(),
                    conversations.into_owned(),
                    rooms.into_owned(),
                )
            }
            ServerEvent::Presence { user, online } => {
                let user = user.into_owned();
                let email = user.email.clone();
                if online {
                    self.online.insert(user.id, user.clone());
                } else {
                    self.online.remove(&user.id);
                }
                self.people.insert(user.id, user);
                fx.lines.push(Line::Presence { online, email });
            }
            ServerEvent::Message { message } => {
                let message = message.into_owned();
                match self.gaps.get_mut(&message.conversation_id) {
                    Some(gap) => gap.buffered.push(message),
                    None => self.show_new(message, &mut fx),
                }
            }
            ServerEvent::Ack { reference, message } => {
                self.acked(owned(reference), message.into_owned(), &mut fx)
            }
            ServerEvent::History {
                reference,
                conversation_id,
                messages,
            } => self.history(
                owned(reference),
                conversation_id,
                messages.into_owned(),
                &mut fx,
            ),
            ServerEvent::Blocked { user } => {
                let user = user.into_owned();
                fx.lines.push(Line::Blocked(user.email.clone()));
                self.people.insert(user.id, user.clone());
                self.blocked.insert(user.id, user);
            }
            ServerEvent::Unblocked { user } => {
                let user = user.into_owned();
                fx.lines.push(Line::Unblocked(user.email.clone()));
                self.blocked.remove(&user.id);
                self.people.insert(user.id, user);
            }
            ServerEvent::Read {
                conversation_id,
                seq,
            } => fx.lines.push(Line::Read {
                conversation: conversation_id,
                seq,
            }),
            ServerEvent::Typing {
                conversation_id,
                user_id,
            } => fx.lines.push(Line::Typing {
                conversation: conversation_id,
                email: self.email_of(user_id),
            }),
            ServerEvent::Error {
                reference,
                code,
                message,
            } => {
                fx.lines
                    .push(Line::error(code.as_str(), message.into_owned()));
                if let Some(reference) = owned(reference) {
                    self.pending.retain(|p| p.reference != reference);
                    self.refused(&reference, &mut fx);
                }
            }
            ServerEvent::Joined {
                reference,
                room,
                conversation,
            } => {
                let (room, conversation) = (room.into_owned(), conversation.into_owned());
                // A room's messages reach a new member from the one after the join on.
                self.seen
                    .entry(conversation.id)
                    .or_insert(conversation.last_seq);
                self.know(conversation);
                self.member_of.insert(room.id);
                fx.lines.push(Line::Joined {
                    room: room.id,
                    name: room.name.clone(),
                });
                // Joined here (`/join`, `/create`): the room opens, as `/open` would.
                if self.answered(reference.as_deref()) {
                    self.open = Some(OpenChat {
                        chosen: Chosen::Room {
                            id: room.id,
                            name: room.name.clone(),
                        },
                        oldest: None,
                    });
                    self.ask_shown(room.id, Page::Latest, DEFAULT_HISTORY, &mut fx);
                }
                self.rooms.insert(room.id, room);
            }
            ServerEvent::Room { room } => {
                let room = room.into_owned();
                fx.lines.push(self.room_line(&room));
                self.rooms.insert(room.id, room);
            }
            ServerEvent::RoomDeleted { reference, room_id } => {
                self.answered(reference.as_deref());
                // A gap being filled will not be: what arrived meanwhile prints first.
                self.gap_filled(room_id, &mut fx);
                self.rooms.remove(&room_id);
                self.not_a_member(room_id);
                fx.lines.push(Line::RoomDeleted(room_id));
            }
            ServerEvent::Left { reference, room_id } => {
                self.answered(reference.as_deref());
                self.gap_filled(room_id, &mut fx);
                self.not_a_member(room_id);
                fx.lines.push(Line::Left(room_id));
            }
            ServerEvent::Member {
                room_id,
                user,
                joined,
            } => {
                let user = user.into_owned();
                fx.lines.push(Line::MemberChanged {
                    joined,
                    room: room_id,
                    email: user.email.clone(),
                });
                self.people.entry(user.id).or_insert(user);
            }
            ServerEvent::Members {
                reference, members, ..
            } => {
                if self.answered(reference.as_deref()) {
                    self.members(members.into_owned(), &mut fx);
                }
            }
            ServerEvent::Session { .. } | ServerEvent::Ui { .. } | ServerEvent::Unknown => {}
        }
        fx
    }

    /// A decoded line of input. (`/quit` is the caller's: it ends the session.)
    pub fn on_command(&mut self, command: Command) -> Effects {
        let mut fx = Effects::default();
        match command {
            Command::Say(body) => self.say(body, None, &mut fx),
            Command::Reply { seq, body } => self.say(body, Some(seq), &mut fx),
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
            Command::Open(what) => match self.resolve_chat(&what) {
                Err(line) => fx.lines.push(line),
                Ok(Chosen::Direct(peer)) if Some(peer.id) == self.me.as_ref().map(|m| m.id) => {
                    fx.lines.push(Line::error(
                        "bad_request",
                        "that is you; open someone else's chat",
                    ))
                }
                Ok(Chosen::Direct(peer)) => {
                    let conversation = self.direct_with(peer.id);
                    fx.lines.push(Line::Opened {
                        peer: peer.email.clone(),
                        conversation,
                    });
                    self.open = Some(OpenChat {
                        chosen: Chosen::Direct(peer),
                        oldest: None,
                    });
                    match conversation {
                        Some(c) => self.ask_shown(c, Page::Latest, DEFAULT_HISTORY, &mut fx),
                        None => fx.lines.push(Line::End("history")),
                    }
                }
                Ok(Chosen::Room { id, name }) => {
                    fx.lines.push(Line::OpenedRoom {
                        room: id,
                        name: name.clone(),
                    });
                    self.open = Some(OpenChat {
                        chosen: Chosen::Room { id, name },
                        oldest: None,
                    });
                    self.ask_shown(id, Page::Latest, DEFAULT_HISTORY, &mut fx);
                }
            },
            Command::History(n) => match self.open.as_ref().map(|o| o.oldest) {
                None => fx.lines.push(no_chat()),
                Some(oldest) => match self.open_conversation() {
                    None => fx.lines.push(Line::End("history")),
                    Some(c) => {
                        let page = oldest.map(Page::Before).unwrap_or(Page::Latest);
                        self.ask_shown(c, page, n, &mut fx);
                    }
                },
            },
            Command::Read => {
                let conversation = self.open_conversation();
                let seen = conversation.and_then(|c| self.seen.get(&c)).copied();
                match (&self.open, conversation, seen) {
                    (None, _, _) => fx.lines.push(no_chat()),
                    (Some(_), Some(conversation), Some(seq)) if seq > 0 => {
                        fx.frames.push(Request::new(ClientFrame::Read {
                            conversation_id: conversation,
                            seq,
                        }));
                        fx.lines.push(Line::Read { conversation, seq });
                    }
                    _ => fx.lines.push(Line::error(
                        "no_messages",
                        "the open chat has no messages yet",
                    )),
                }
            }
            Command::Rooms => {
                let lines: Vec<Line> = by_name(self.rooms.values())
                    .map(|r| self.room_line(r))
                    .collect();
                fx.lines.extend(lines);
                fx.lines.push(Line::End("rooms"));
            }
            Command::Create { name, password } => {
                let reference = self.next_ref("r");
                let frame = Request::with_ref(
                    reference.clone(),
                    ClientFrame::CreateRoom {
                        name: name.clone(),
                        password,
                    },
                );
                self.ask(reference, frame, format!("/create {name}"), &mut fx);
            }
            Command::Join { room, password } => match self.find_room(&room) {
                Err(line) => {
                    // `/join Book club`: the name with spaces, unquoted.
                    let whole = password.as_ref().map(|p| format!("{room} {p}"));
                    match whole.as_deref().and_then(|w| self.room_named(w)) {
                        Some(r) => fx.lines.push(Line::error(
                            "usage",
                            format!(r#"quote a name with spaces: /join "{}" [password]"#, r.name),
                        )),
                        None => fx.lines.push(line),
                    }
                }
                Ok(id) => {
                    let reference = self.next_ref("r");
                    let frame = Request::with_ref(
                        reference.clone(),
                        ClientFrame::JoinRoom {
                            room_id: id,
                            password,
                        },
                    );
                    self.ask(reference, frame, format!("/join {room}"), &mut fx);
                }
            },
            Command::Leave(room) => match self.room_or_open(room.as_deref()) {
                Err(line) => fx.lines.push(line),
                Ok(id) => {
                    let reference = self.next_ref("r");
                    let frame = Request::with_ref(
                        reference.clone(),
                        ClientFrame::LeaveRoom { room_id: id },
                    );
                    self.ask(reference, frame, format!("/leave {id}"), &mut fx);
                }
            },
            Command::Delete(room) => match self.room_or_open(room.as_deref()) {
                Err(line) => fx.lines.push(line),
                Ok(id) => {
                    let reference = self.next_ref("r");
                    let frame = Request::with_ref(
                        reference.clone(),
                        ClientFrame::DeleteRoom { room_id: id },
                    );
                    self.ask(reference, frame, format!("/delete {id}"), &mut fx);
                }
            },
            Command::Members(room) => match self.room_or_open(room.as_deref()) {
                Err(line) => fx.lines.push(line),
                Ok(id) => {
                    let reference = self.next_ref("m");
                    let frame =
                        Request::with_ref(reference.clone(), ClientFrame::Members { room_id: id });
                    fx.frames.push(frame.clone());
                    self.outstanding.insert(
                        reference,
                        Outstanding {
                            purpose: Purpose::Members,
                            frame,
                        },
                    );
                }
            },
            Command::Block(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::with_ref(
                        self.next_ref("b"),
                        ClientFrame::Block { user_id: user.id },
                    ));
                    fx.lines.push(Line::Blocked(user.email.clone()));
                    self.blocked.insert(user.id, user);
                }
            },
            Command::Unblock(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::with_ref(
                        self.next_ref("b"),
                        ClientFrame::Unblock { user_id: user.id },
                    ));
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

    /// What `/open` names. An id is a room's if it is in the room list, else a user's;
    /// anything else is a known person's email, else a room's name, else an unknown
    /// email (with an `@`) or an unknown room. A room is opened only by its members.
    fn resolve_chat(&self, what: &str) -> Result<Chosen, Line> {
        let id = ConversationId::parse(what);
        let room = match id {
            Some(id) => self.rooms.get(&id),
            None if self.known_email(what) => None,
            None => self.room_named(what),
        };
        match room {
            Some(room) if self.member_of.contains(&room.id) => Ok(Chosen::Room {
                id: room.id,
                name: room.name.clone(),
            }),
            Some(room) => Err(Line::error(
                "not_member",
                format!("you are not a member of {}; /join it first", room.name),
            )),
            None if id.is_none() && !what.contains('@') && !self.known_email(what) => {
                Err(unknown_room(what))
            }
            None => self.resolve(what).map(Chosen::Direct),
        }
    }

    fn known_email(&self, email: &str) -> bool {
        self.people
            .values()
            .any(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// A room by name, whatever the case (names are unique whatever the case).
    fn room_named(&self, name: &str) -> Option<&Room> {
        let name = name.trim();
        self.rooms
            .values()
            .find(|r| r.name.to_lowercase() == name.to_lowercase())
    }

    /// A room named by id (sent as it is; the server knows) or by name (from the list).
    fn find_room(&self, room: &str) -> Result<ConversationId, Line> {
        match ConversationId::parse(room) {
            Some(id) => Ok(id),
            None => self
                .room_named(room)
                .map(|r| r.id)
                .ok_or_else(|| unknown_room(room)),
        }
    }

    /// The room named, or else the open one.
    fn room_or_open(&self, room: Option<&str>) -> Result<ConversationId, Line> {
        match (room, &self.open) {
            (Some(room), _) => self.find_room(room),
            (None, None) => Err(Line::error(
                "no_chat",
                "no room is open; /open <room> first, or name the room",
            )),
            (None, Some(open)) => match &open.chosen {
                Chosen::Room { id, .. } => Ok(*id),
                Chosen::Direct(_) => Err(Line::error(
                    "not_room",
                    "the open chat is not a room; /open <room> first, or name the room",
                )),
            },
        }
    }

    /// The open room, if a room is open.
    fn open_room(&self) -> Option<ConversationId> {
        match self.open.as_ref().map(|o| &o.chosen) {
            Some(Chosen::Room { id, .. }) => Some(*id),
            _ => None,
        }
    }

    /// The open chat's conversation, if it exists yet.
    fn open_conversation(&self) -> Option<ConversationId> {
        match self.open.as_ref().map(|o| &o.chosen) {
            None => None,
            Some(Chosen::Direct(peer)) => self.direct_with(peer.id),
            Some(Chosen::Room { id, .. }) => Some(*id),
        }
    }

    fn room_line(&self, room: &Room) -> Line {
        Line::Room(RoomShown {
            id: room.id,
            name: room.name.clone(),
            members: room.members,
            password: room.has_password,
            joined: self.member_of.contains(&room.id),
        })
    }

    /// Sends a room action and waits for its answer.
    fn ask(&mut self, reference: String, frame: Request, what: String, fx: &mut Effects) {
        fx.frames.push(frame.clone());
        self.outstanding.insert(
            reference,
            Outstanding {
                purpose: Purpose::Room { what },
                frame,
            },
        );
    }

    /// Whether `reference` answers a request of this client (which is then answered).
    fn answered(&mut self, reference: Option<&str>) -> bool {
        reference.is_some_and(|r| self.outstanding.remove(r).is_some())
    }

    /// No longer a member of `room` (left or deleted): it closes if it was open, and a
    /// later join starts from the messages after that join.
    fn not_a_member(&mut self, room: ConversationId) {
        self.member_of.remove(&room);
        self.seen.remove(&room);
        if self.open_room() == Some(room) {
            self.open = None;
        }
    }

    /// The answer to `/members`, by email.
    fn members(&mut self, mut members: Vec<RoomMember>, fx: &mut Effects) {
        members.sort_by(|a, b| a.email.cmp(&b.email));
        for m in members {
            fx.lines.push(Line::Member {
                email: m.email.clone(),
                online: m.online,
            });
            self.people.entry(m.id).or_insert(User {
                id: m.id,
                email: m.email,
            });
        }
        fx.lines.push(Line::End("members"));
    }

    /// Text typed for the open chat: sent at once, with a fresh `client_id`.
    fn say(&mut self, body: String, reply_to: Option<i64>, fx: &mut Effects) {
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

    fn resend_pending(&self, fx: &mut Effects) {
        fx.frames
            .extend(self.pending.iter().map(|p| self.send_frame(p)));
    }

    fn ask_gap(&mut self, conversation: ConversationId, after: i64, fx: &mut Effects) {
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

    fn ask_shown(&mut self, conversation: ConversationId, page: Page, n: i64, fx: &mut Effects) {
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

    fn shown(&self, m: &Message) -> Shown {
        Shown {
            conversation: m.conversation_id,
            seq: m.seq,
            sender: self.email_of(m.sender_id),
            body: m.body.clone(),
        }
    }

    /// Pushes `line` (the `message`, `history` or `sent` line of `m`), and right after
    /// it the `reply-to` line if `m` answers an earlier message.
    fn push_message(&self, line: Line, m: &Message, fx: &mut Effects) {
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
            let line = Line::Sent {
                conversation: m.conversation_id,
                seq: m.seq,
                body: m.body.clone(),
            };
            return self.push_message(line, &m, fx);
        }
        self.push_message(Line::Message(self.shown(&m)), &m, fx);
    }

    /// Remembers the oldest `seq` shown of the open chat, for `/history`.
    fn note_shown(&mut self, conversation: ConversationId, seq: i64) {
        if self.open_conversation() == Some(conversation) {
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
            Purpose::Members | Purpose::Room { .. } => {}
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
    /// messages still print), so input does not wait forever.
    fn refused(&mut self, reference: &str, fx: &mut Effects) {
        if let Some(o) = self.outstanding.remove(reference) {
            if o.purpose == Purpose::Gap {
                if let ClientFrame::History {
                    conversation_id, ..
                } = o.frame.frame
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

/// The `ref` of a server frame, owned.
fn owned(reference: Option<Cow<'_, str>>) -> Option<String> {
    reference.map(Cow::into_owned)
}

fn no_chat() -> Line {
    Line::error("no_chat", "no chat is open; /open <email> first")
}

fn unknown_room(name: &str) -> Line {
    Line::error(
        "unknown_room",
        format!("{name} is not a room (/rooms lists them)"),
    )
}

/// Rooms in a stable order: by name, whatever the case.
fn by_name<'a>(rooms: impl Iterator<Item = &'a Room>) -> impl Iterator<Item = &'a Room> {
    let mut v: Vec<&Room> = rooms.collect();
    v.sort_by_key(|r| (r.name.to_lowercase(), r.id));
    v.into_iter()
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
    use banter_protocol::{ClientId, ErrorCode, MessageId, Quote, UiState};
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

    /// Alice's `ready`.
    fn snapshot(
        online: Vec<User>,
        conversations: Vec<ConversationSummary>,
        rooms: Vec<Room>,
    ) -> ServerEvent<'static> {
        ServerEvent::Ready {
            me: Cow::Owned(alice()),
            online: online.into(),
            blocked: Vec::new().into(),
            conversations: conversations.into(),
            rooms: rooms.into(),
            ui: Cow::Owned(UiState::default()),
            expires_at: Utc::now(),
        }
    }

    /// Alice's `ready`, with her direct chat with bob if `last_seq` is given.
    fn ready(online: Vec<User>, last_seq: Option<i64>) -> ServerEvent<'static> {
        let conversations = last_seq
            .map(|last_seq| ConversationSummary {
                id: conversation(),
                kind: ConversationKind::Direct,
                peer: Some(bob()),
                name: None,
                last_seq,
                read_seq: 0,
                unread: last_seq,
            })
            .into_iter()
            .collect();
        snapshot(online, conversations, vec![])
    }

    fn texts(fx: &Effects) -> Vec<String> {
        fx.lines.iter().map(|l| l.to_string()).collect()
    }

    /// The `client_id` and target of a `send` frame.
    fn sent(frame: &Request) -> (String, Target) {
        match &frame.frame {
            ClientFrame::Send {
                client_id,
                conversation_id: Some(c),
                to: None,
                ..
            } => (client_id.clone(), Target::Conversation(*c)),
            ClientFrame::Send {
                client_id,
                conversation_id: None,
                to: Some(u),
                ..
            } => (client_id.clone(), Target::Direct(*u)),
            other => panic!("not a send with one target: {other:?}"),
        }
    }

    #[test]
    fn the_first_ready_prints_who_is_online_in_email_order() {
        let mut chat = Chat::default();
        let fx = chat.on_event(ready(vec![user(3, "zoe@example.com"), bob()], None));
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
        chat.on_event(ready(vec![bob()], None));
        let fx = chat.on_command(Command::Open("BOB@example.com".into()));
        assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
        let fx = chat.on_command(Command::Say("hi".into()));
        let (client_id, target) = sent(&fx.frames[0]);
        assert_eq!(target, Target::Direct(bob().id));
        assert!(!chat.idle());
        let fx = chat.on_event(ServerEvent::Ack {
            reference: Some("s1".into()),
            message: Cow::Owned(message(1, &alice(), "hi", &client_id)),
        });
        assert_eq!(texts(&fx), [format!("sent {} 1 hi", conversation())]);
        assert!(chat.idle());
        let fx = chat.on_command(Command::Say("again".into()));
        assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(conversation()));
    }

    #[test]
    fn after_a_reconnect_gaps_are_filled_in_order_and_unacknowledged_sends_are_resolved_once() {
        let mut chat = Chat::default();
        chat.on_event(ready(vec![bob()], Some(2)));
        chat.on_command(Command::Open("bob@example.com".into()));
        let committed = sent(&chat.on_command(Command::Say("one".into())).frames[0]).0;
        let lost = sent(&chat.on_command(Command::Say("two".into())).frames[0]).0;

        // The socket drops; meanwhile "one" was committed as seq 3 and bob wrote seq 4.
        let fx = chat.on_event(ready(vec![], Some(4)));
        assert_eq!(
            texts(&fx),
            ["reconnected", "presence offline bob@example.com"]
        );
        assert!(!chat.synced());
        let gap = fx.frames.last().unwrap().clone();
        let Request {
            reference: Some(reference),
            frame: ClientFrame::History { after_seq, .. },
        } = gap
        else {
            panic!("a gap request: {gap:?}");
        };
        assert_eq!(after_seq, Some(2));
        // No send goes out before the gap is filled.
        assert!(!fx
            .frames
            .iter()
            .any(|f| matches!(f.frame, ClientFrame::Send { .. })));

        // A live message arrives before the gap's answer: it waits its turn.
        let fx = chat.on_event(ServerEvent::Message {
            message: Cow::Owned(message(5, &bob(), "five", "b5")),
        });
        assert!(fx.lines.is_empty());
        let fx = chat.on_event(ServerEvent::History {
            reference: Some(reference.into()),
            conversation_id: conversation(),
            messages: vec![
                message(3, &alice(), "one", &committed),
                message(4, &bob(), "four", "b4"),
            ]
            .into(),
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
        chat.on_event(ready(vec![bob()], None));
        // A message in a conversation never heard of: it must be looked up first.
        let event = ServerEvent::Message {
            message: Cow::Owned(message(1, &bob(), "hello room", "b1")),
        };
        assert_eq!(
            chat.lookup(&event),
            Some(Lookup::Conversations(conversation()))
        );
        chat.looked_up(Lookup::Conversations(conversation()));
        chat.learn(vec![ConversationSummary {
            id: conversation(),
            kind: ConversationKind::Room,
            peer: None,
            name: Some("General".into()),
            last_seq: 1,
            read_seq: 0,
            unread: 1,
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
        assert_eq!(sent(&fx.frames[0]).1, Target::Direct(bob().id));
    }

    #[test]
    fn a_refused_send_is_no_longer_pending() {
        let mut chat = Chat::default();
        chat.on_event(ready(vec![bob()], Some(1)));
        chat.on_command(Command::Open("bob@example.com".into()));
        chat.on_command(Command::Say("hi".into()));
        let fx = chat.on_event(ServerEvent::Error {
            reference: Some("s2".into()),
            code: ErrorCode::Blocked,
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
        chat.on_event(ready(vec![], None));
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

    fn room_id(n: u128) -> ConversationId {
        ConversationId(uuid::Uuid::from_u128(n))
    }

    fn room(n: u128, name: &str, members: i64, has_password: bool) -> Room {
        Room {
            id: room_id(n),
            name: name.into(),
            has_password,
            created_by: Some(bob().id),
            members,
        }
    }

    fn room_conversation(n: u128, name: &str, last_seq: i64) -> ConversationSummary {
        ConversationSummary {
            id: room_id(n),
            kind: ConversationKind::Room,
            peer: None,
            name: Some(name.into()),
            last_seq,
            read_seq: 0,
            unread: last_seq,
        }
    }

    /// Alice, with bob online, two rooms (she is in "Book club") and no direct chat.
    fn with_rooms() -> Chat {
        let mut chat = Chat::default();
        chat.on_event(snapshot(
            vec![bob()],
            vec![room_conversation(11, "Book club", 3)],
            vec![
                room(10, "General", 1, false),
                room(11, "Book club", 2, true),
            ],
        ));
        chat
    }

    #[test]
    fn rooms_are_listed_by_name_and_kept_live() {
        let mut chat = with_rooms();
        let (general, club) = (room_id(10), room_id(11));
        let fx = chat.on_command(Command::Rooms);
        assert_eq!(
            texts(&fx),
            [
                format!("room {club} members=2 password=yes joined=yes Book club"),
                format!("room {general} members=1 password=no joined=no General"),
                "end rooms".to_owned(),
            ]
        );
        let fx = chat.on_event(ServerEvent::Room {
            room: Cow::Owned(room(12, "Attic", 1, false)),
        });
        assert_eq!(
            texts(&fx),
            [format!(
                "room {} members=1 password=no joined=no Attic",
                room_id(12)
            )]
        );
        let fx = chat.on_event(ServerEvent::Member {
            room_id: club,
            user: Cow::Owned(user(3, "carol@example.com")),
            joined: true,
        });
        assert_eq!(
            texts(&fx),
            [format!("member joined {club} carol@example.com")]
        );
        let fx = chat.on_event(ServerEvent::RoomDeleted {
            reference: None,
            room_id: general,
        });
        assert_eq!(texts(&fx), [format!("room_deleted {general}")]);
        let listed = texts(&chat.on_command(Command::Rooms));
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert!(listed[0].ends_with(" Attic"), "{listed:?}");
    }

    #[test]
    fn a_join_typed_here_opens_the_room_and_text_goes_to_it() {
        let mut chat = with_rooms();
        let general = room_id(10);
        let fx = chat.on_command(Command::Join {
            room: "general".into(),
            password: None,
        });
        let Some(Request {
            reference: Some(reference),
            frame: ClientFrame::JoinRoom { room_id: asked, .. },
        }) = fx.frames.first().cloned()
        else {
            panic!("a join: {fx:?}");
        };
        assert_eq!(asked, general);
        assert!(!chat.idle(), "the join waits for its answer");
        let fx = chat.on_event(ServerEvent::Joined {
            reference: Some(reference.into()),
            room: Cow::Owned(room(10, "General", 2, false)),
            conversation: Cow::Owned(room_conversation(10, "General", 7)),
        });
        assert_eq!(texts(&fx), [format!("joined {general} General")]);
        assert!(
            matches!(&fx.frames[..], [Request { frame: ClientFrame::History { conversation_id, .. }, .. }] if *conversation_id == general),
            "{fx:?}"
        );
        let fx = chat.on_command(Command::Say("hello room".into()));
        assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(general));

        // A join made elsewhere is printed, and opens nothing.
        let fx = chat.on_event(ServerEvent::Joined {
            reference: None,
            room: Cow::Owned(room(12, "Attic", 1, false)),
            conversation: Cow::Owned(room_conversation(12, "Attic", 0)),
        });
        assert_eq!(texts(&fx), [format!("joined {} Attic", room_id(12))]);
        assert!(fx.frames.is_empty());

        let fx = chat.on_event(ServerEvent::Left {
            reference: None,
            room_id: general,
        });
        assert_eq!(texts(&fx), [format!("left {general}")]);
        let fx = chat.on_command(Command::Say("anyone?".into()));
        assert_eq!(
            texts(&fx),
            ["error no_chat no chat is open; /open <email> first"]
        );
    }

    #[test]
    fn open_tells_people_from_rooms_and_opens_only_rooms_of_ours() {
        let mut chat = with_rooms();
        let club = room_id(11);
        let fx = chat.on_command(Command::Open("Book club".into()));
        assert_eq!(texts(&fx), [format!("opened room {club} Book club")]);
        let fx = chat.on_command(Command::Open(club.to_string()));
        assert_eq!(texts(&fx), [format!("opened room {club} Book club")]);
        let fx = chat.on_command(Command::Open("General".into()));
        assert_eq!(
            texts(&fx),
            ["error not_member you are not a member of General; /join it first"]
        );
        let fx = chat.on_command(Command::Open("Nowhere".into()));
        assert_eq!(
            texts(&fx),
            ["error unknown_room Nowhere is not a room (/rooms lists them)"]
        );
        let fx = chat.on_command(Command::Open("bob@example.com".into()));
        assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
        let fx = chat.on_command(Command::Leave(None));
        assert_eq!(
            texts(&fx),
            ["error not_room the open chat is not a room; /open <room> first, or name the room"]
        );
        // A room named like a known person's email does not hide the person.
        chat.on_event(ServerEvent::Room {
            room: Cow::Owned(room(12, "bob@example.com", 1, false)),
        });
        let fx = chat.on_command(Command::Open("bob@example.com".into()));
        assert_eq!(texts(&fx)[0], "opened bob@example.com new");
    }

    #[test]
    fn a_reply_carries_its_seq_and_an_incoming_reply_prints_what_it_quotes() {
        let mut chat = with_rooms();
        let club = room_id(11);
        chat.on_command(Command::Open("Book club".into()));
        let fx = chat.on_command(Command::Reply {
            seq: 2,
            body: "agreed".into(),
        });
        assert!(
            matches!(
                &fx.frames[..],
                [Request {
                    frame: ClientFrame::Send {
                        reply_to: Some(2),
                        ..
                    },
                    ..
                }]
            ),
            "{fx:?}"
        );
        assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(club));

        let mut reply = message(4, &bob(), "me too", "b4");
        reply.conversation_id = club;
        reply.reply_to = Some(Quote {
            seq: 2,
            sender_id: Some(alice().id),
            body: Some("shall we\nread it?".into()),
        });
        let fx = chat.on_event(ServerEvent::Message {
            message: Cow::Borrowed(&reply),
        });
        assert_eq!(
            texts(&fx),
            [
                format!("message {club} 4 bob@example.com me too"),
                format!("reply-to {club} 4 2 alice@example.com shall we\\nread it?"),
            ]
        );
        reply.seq = 5;
        reply.reply_to = Some(Quote {
            seq: 1,
            sender_id: None,
            body: None,
        });
        let fx = chat.on_event(ServerEvent::Message {
            message: Cow::Owned(reply),
        });
        assert_eq!(texts(&fx)[1], format!("reply-to {club} 5 1 unknown"));
    }
}
