//! Frames the server sends. The server serializes each once and shares the text with
//! every window it goes to, borrowing what it describes (`Cow::Borrowed`); a client
//! deserializes into owned values (`ServerEvent<'static>`).

use crate::codes::ErrorCode;
use crate::ids::{ConversationId, UserId};
use crate::model::{ConversationSummary, Message, Room, RoomMember, UiState, User};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use ts_rs::TS;

/// A frame from the server; `type` selects the variant. Replies caused by a client frame
/// carry that frame's `ref`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent<'a> {
    /// The snapshot a window starts from.
    Ready {
        /// (v4) The `ref` of the `auth` frame this answers, if it had one.
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        me: Cow<'a, User>,
        /// (v2) The first page of the online list: up to 100 people the window may see,
        /// in list order (email without case, then id). With fewer people online than a
        /// page, everyone. The window then tracks this range.
        online: Cow<'a, [User]>,
        /// (v2) How many people the window may see online in all (not counting itself).
        online_count: usize,
        /// (v2) The online people this user has a direct conversation with: tracked by
        /// every window whatever its range, so a client can list them on top.
        partners: Cow<'a, [User]>,
        blocked: Cow<'a, [User]>,
        conversations: Cow<'a, [ConversationSummary]>,
        /// (v3) The rooms this user is a member of, by name; the others are in the room
        /// directory (`rooms` request).
        rooms: Cow<'a, [Room]>,
        ui: Cow<'a, UiState>,
        /// (addition) Whether this person shares their read positions (see `receipts`).
        #[serde(default = "yes")]
        receipts: bool,
        expires_at: DateTime<Utc>,
    },
    /// (v2) What changed in what the window tracks (its range of the online list and
    /// the user's conversation partners) since the last such frame, sent at most every
    /// ~200 ms: `came` are now online and shown, `went` left (offline, hidden by a
    /// block, or out of the tracked range). A person is in at most one of the two, in
    /// their final state: online, offline and online again within one tick is nothing.
    /// `count` is `online_count` now. A window whose count moved but whose range did not
    /// gets a frame with only the count, at most every 10 s.
    OnlineChanges {
        came: Cow<'a, [User]>,
        went: Cow<'a, [UserId]>,
        count: usize,
    },
    /// A message for a window that did not send it.
    Message {
        message: Cow<'a, Message>,
    },
    /// The sending window's confirmation that its message is committed.
    Ack {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        message: Cow<'a, Message>,
    },
    History {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        messages: Cow<'a, [Message]>,
    },
    /// You blocked `user`: sent to your other windows, and (v4) to the asking window
    /// with its `ref` when the `block` frame carried one.
    Blocked {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        user: Cow<'a, User>,
    },
    /// As [`ServerEvent::Blocked`], for `unblock`.
    Unblocked {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        user: Cow<'a, User>,
    },
    /// Another window of mine read `conversation_id` up to `seq`; (addition) with
    /// `user_id`, the other person of a direct chat did (a read receipt: sent only while
    /// both share theirs and no block stands between them).
    Read {
        conversation_id: ConversationId,
        seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        user_id: Option<UserId>,
    },
    /// (addition) Whether I share my read positions now (after a `set_receipts`, to
    /// every window of mine).
    Receipts {
        share: bool,
    },
    /// (addition) The answer to `seen`: how many of the other members have read up to
    /// `seq` (`count`) and the first 100 of them by email (`users`). People who do not
    /// share their receipts, and people a block stands between you and, are not counted.
    Seen {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        seq: i64,
        count: i64,
        users: Cow<'a, [User]>,
    },
    Ui {
        state: Cow<'a, UiState>,
    },
    /// (addition) Message `seq` has a new text (`body`, as `send` would store it).
    /// `change` is its number in the conversation's change sequence: the frames of one
    /// conversation's changes come in that order, after the message itself.
    MessageEdited {
        /// The asking window's `ref`, on the copy it is sent (its reply).
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        seq: i64,
        body: Cow<'a, str>,
        edited_at: DateTime<Utc>,
        change: i64,
    },
    /// (addition) Message `seq` was deleted: show a tombstone; its text and reactions
    /// are gone.
    MessageDeleted {
        /// The asking window's `ref`, on the copy it is sent (its reply).
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        seq: i64,
        deleted_at: DateTime<Utc>,
        change: i64,
    },
    /// (addition) `user_id` put (`add`) or took off their reaction `emoji` on message
    /// `seq`.
    Reaction {
        /// The asking window's `ref`, on the copy it is sent (its reply).
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        seq: i64,
        user_id: UserId,
        emoji: Cow<'a, str>,
        add: bool,
        change: i64,
    },
    /// (addition) The reply to `changes`, and what a window is sent when the server
    /// filled a gap in the changes it delivered: the messages changed after the asked
    /// number, as they are now (each replaces the copy the client has, if it has one),
    /// in change order. Everything up to `through` is in it; `more`: ask again with
    /// `after` = `through`.
    Changes {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        conversation_id: ConversationId,
        messages: Cow<'a, [Message]>,
        through: i64,
        more: bool,
    },
    /// (addition) A person's details changed (their display name): sent to each of
    /// their windows and to the windows that show them now (their range of the online
    /// list, or a conversation with them). Others see the new name at their next
    /// `ready`, member list or directory page.
    UserUpdated {
        user: Cow<'a, User>,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    Error {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        code: ErrorCode,
        message: Cow<'a, str>,
        /// (v4) With `rate_limited`: how many milliseconds until the refused frame would
        /// pass (for an allowance kept across nodes, as the shared store counts it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        retry_after_ms: Option<u64>,
    },
    /// Reply to a re-sent `auth`: the session now lasts until `expires_at`.
    Session {
        /// (v4) The renewing `auth` frame's `ref`.
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        expires_at: DateTime<Utc>,
    },
    /// (v4) The reply to a frame with a `ref` that has no result of its own (`read`,
    /// `ui`, `typing`): it took effect.
    Ok {
        #[serde(rename = "ref")]
        reference: Cow<'a, str>,
    },
    /// (addition) A room you are in changed its member count. (v3: members only; before,
    /// every window heard of every room.)
    Room {
        room: Cow<'a, Room>,
    },
    /// (addition) A room you are in was deleted, with its messages (v3: members only).
    RoomDeleted {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        room_id: ConversationId,
    },
    /// (addition) You are a member of this room now (you created or joined it).
    Joined {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        room: Cow<'a, Room>,
        conversation: Cow<'a, ConversationSummary>,
    },
    /// (addition) You left this room.
    Left {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        room_id: ConversationId,
    },
    /// (addition) Someone joined (`joined: true`) or left a room you are in.
    Member {
        room_id: ConversationId,
        user: Cow<'a, User>,
        joined: bool,
    },
    /// (addition) Reply to `members`: the room's members with their presence.
    Members {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        room_id: ConversationId,
        members: Cow<'a, [RoomMember]>,
    },
    /// (addition) The answer to `online`: `people` from `offset` on, in list order, and
    /// `count`, how many there are in all (matching `prefix`, when one was given).
    /// (v2) The page replaces the range the window tracks: `online_changes` from then on
    /// concern these people's stretch of the list. Sent without `ref` when the server
    /// re-pages a range that arrivals grew past twice its size.
    OnlinePage {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        prefix: Option<Cow<'a, str>>,
        offset: usize,
        count: usize,
        people: Cow<'a, [User]>,
    },
    /// (v3) The answer to `rooms`: a page of the room directory, by name without case.
    /// `more` says whether rooms follow (ask again with `after` = the last one's name).
    /// `query` comes back trimmed, if a non-blank one was asked.
    Rooms {
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reference: Option<Cow<'a, str>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        query: Option<Cow<'a, str>>,
        rooms: Cow<'a, [Room]>,
        more: bool,
    },
    /// Never sent: what a client decodes a frame type it does not know yet into (servers
    /// may add frame types; clients ignore those they do not know).
    #[serde(other)]
    #[ts(skip)]
    #[schemars(skip)]
    Unknown,
}

fn yes() -> bool {
    true
}

impl ServerEvent<'_> {
    /// The JSON text frame. Serializing these types cannot fail (no maps with
    /// non-string keys, no failing `Serialize` impls).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes one text frame (a frame of an unknown type decodes to `Unknown`).
    pub fn decode(text: &str) -> Result<ServerEvent<'static>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The `ref` of the client frame this answers, if any.
    pub fn reference(&self) -> Option<&str> {
        match self {
            ServerEvent::Ack { reference, .. }
            | ServerEvent::History { reference, .. }
            | ServerEvent::Changes { reference, .. }
            | ServerEvent::Seen { reference, .. }
            | ServerEvent::MessageEdited { reference, .. }
            | ServerEvent::MessageDeleted { reference, .. }
            | ServerEvent::Reaction { reference, .. }
            | ServerEvent::Error { reference, .. }
            | ServerEvent::RoomDeleted { reference, .. }
            | ServerEvent::Joined { reference, .. }
            | ServerEvent::Left { reference, .. }
            | ServerEvent::Members { reference, .. }
            | ServerEvent::OnlinePage { reference, .. }
            | ServerEvent::Rooms { reference, .. }
            | ServerEvent::Ready { reference, .. }
            | ServerEvent::Blocked { reference, .. }
            | ServerEvent::Unblocked { reference, .. }
            | ServerEvent::Session { reference, .. } => reference.as_deref(),
            ServerEvent::Ok { reference } => Some(reference),
            _ => None,
        }
    }
}
