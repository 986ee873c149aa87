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
//! Rooms (protocol v3): the client knows the rooms the user is a member of; they come
//! with `ready` and are kept live by `joined`, `left`, `room` and `room_deleted`. Every
//! other room is in the server's directory, asked a page at a time (`/rooms`, and a
//! room named by a name not among the user's). A room's messages print like any other
//! (with the room's conversation id), but a room is never taken for a direct chat: a
//! conversation's kind and peer come only from the server (`ready`, `joined`, `GET
//! /api/conversations`), never from a sender.
//!
//! Changes to messages (edits, deletions, reactions) print as they come, each after its
//! message: a conversation's changes wait while its gap is filled, and after a
//! reconnect the client asks `changes` for every conversation whose `last_change` moved
//! and prints the changed messages it had shown as they are now (`changed`), holding
//! back live changes of that conversation until then. Each change number prints once.
//! The client keeps little about messages: for the `/react` toggle, its own reactions on
//! the messages shown this session (at most [`MINE_MAX`] messages).
//!
//! This file holds the state itself ([`Chat`], the types it is made of, [`Effects`],
//! [`Lookup`]); each part below adds to `impl Chat` what it is about:
//! - `events`: [`Chat::on_event`], reacting to the server's events;
//! - `commands`: [`Chat::on_command`], reacting to the person's commands;
//! - `ready`: a `ready`, first or after a reconnect;
//! - `people`: who is who, and the HTTP lookups that tell ([`Chat::lookup`],
//!   [`Chat::learn`], [`Chat::learn_people`]); who is tracked online;
//! - `open`: the open chat, and what `/open` names;
//! - `rooms`: the user's rooms and room actions;
//! - `directory`: the room directory, for `/rooms` and for rooms named by name;
//! - `messages`: sending, pending sends and re-sends, printing messages once;
//! - `history`: `history` shown and gaps filled;
//! - `changes`: edits, deletions and reactions, asked for and shown, and catching up on
//!   them after a reconnect;
//! - `tests`: the unit tests, driving it as the client does.

mod changes;
mod commands;
mod directory;
mod events;
mod history;
mod messages;
mod open;
mod people;
mod ready;
mod rooms;

use crate::output::Line;
use banter_protocol::{ConversationId, ConversationKind, Message, Request, Room, User, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most messages whose reactions of mine the client remembers (for `/react`); past
/// that, the one remembered longest ago is forgotten.
pub const MINE_MAX: usize = 1000;

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
    /// `online` with a prefix: print the page as `online` lines.
    Online,
    /// `online` for the first page (`/online` after a search moved the tracked range):
    /// print everyone tracked as `online` lines, as after `ready`.
    OnlineFirst,
    /// `create_room`, `join_room`, `leave_room` or `delete_room`, typed as `what`. Not
    /// asked again on a new socket (the first may have been carried out).
    Room { what: String },
    /// `rooms` for `/rooms` or `/more`: print the page as `room` lines, and remember
    /// where `/more` continues (the same `query`).
    Rooms { query: Option<String> },
    /// `rooms` looking for the room called `name` (not one of the user's), to do
    /// `action` on it once found.
    Find { name: String, action: RoomAction },
    /// `edit`, `delete` or `react`: answered by its change (printed as any), or `ok`
    /// when it was so already (`unchanged`). Asked again on a new socket: each is
    /// idempotent.
    Change,
    /// `changes` catching a conversation up after a reconnect (or when the server's own
    /// catch-up said more follow): print the changed messages as `changed` lines.
    Changes,
}

/// What a command does to a room it names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RoomAction {
    /// `/open`: only one of the user's rooms opens.
    Open,
    Join {
        password: Option<String>,
    },
    Leave,
    Delete,
    Members,
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

/// A change to messages of a conversation, as the server told it: live
/// (`message_edited`, `message_deleted`, `reaction`) or as their state now (`changes`).
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Edited {
        reference: Option<String>,
        seq: i64,
        body: String,
        change: i64,
    },
    Deleted {
        reference: Option<String>,
        seq: i64,
        change: i64,
    },
    Reaction {
        reference: Option<String>,
        seq: i64,
        user: UserId,
        emoji: String,
        add: bool,
        change: i64,
    },
    State {
        reference: Option<String>,
        messages: Vec<Message>,
        through: i64,
        more: bool,
    },
}

/// The emoji I reacted with on one message, and when that was last learned (which
/// message is forgotten first).
#[derive(Debug, Clone)]
struct Mine {
    emoji: Vec<String>,
    touched: u64,
}

/// The client's whole state.
#[derive(Debug, Default)]
pub struct Chat {
    me: Option<User>,
    /// Everyone heard of (online, blocked, conversation peers), for emails and `/open`.
    people: HashMap<UserId, User>,
    /// Who is online of what this window tracks (protocol v2): its range of the online
    /// list (the first page from `ready`, or the last `online_page`) and the online
    /// conversation partners, kept by `online_changes`.
    online: HashMap<UserId, User>,
    /// The conversation partners `ready` named: tracked whatever the range.
    partners: HashSet<UserId>,
    /// The tracked range is a page `/online <prefix>` asked for (or any page but the
    /// first), not the first page of the list.
    paged_away: bool,
    blocked: HashMap<UserId, User>,
    conversations: HashMap<ConversationId, Known>,
    /// The rooms the user is a member of (all `ready` tells of, protocol v3). A room
    /// left is forgotten: the server no longer tells of its changes.
    rooms: HashMap<ConversationId, Room>,
    /// Where `/more` continues: the query of the last `/rooms` page and its last room's
    /// name, while more rooms follow.
    next_rooms: Option<(Option<String>, String)>,
    /// Per conversation, the highest `seq` printed (or counted by `ready` or `joined`).
    seen: HashMap<ConversationId, i64>,
    /// Lookups done (each is done once, found or not).
    looked_up: HashSet<Lookup>,
    open: Option<OpenChat>,
    pending: Vec<PendingSend>,
    outstanding: BTreeMap<String, Outstanding>,
    gaps: HashMap<ConversationId, Gap>,
    /// Per conversation, the highest change number printed (or counted by `ready` or
    /// `joined`): a change at or below it is not printed again.
    changed: HashMap<ConversationId, i64>,
    /// Conversations whose changes are being caught up with `changes`, each with the
    /// highest `seq` printed before (later messages print as they are now anyway).
    catching: HashMap<ConversationId, i64>,
    /// Changes that arrived while their conversation's gap was being filled or its
    /// changes caught up, printed after.
    held: HashMap<ConversationId, Vec<Change>>,
    /// My reactions on messages shown this session, by conversation and `seq` (only
    /// messages that have one; at most [`MINE_MAX`]).
    mine: HashMap<(ConversationId, i64), Mine>,
    /// Counts what `mine` learns, to forget the oldest first.
    mine_clock: u64,
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

    fn next_ref(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }
}

#[cfg(test)]
mod tests;
