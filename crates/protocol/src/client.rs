//! Frames clients send: a [`ClientFrame`] (tagged by `type`) inside a [`Request`], which
//! adds the optional `ref` that the frame's reply carries back.
//!
//! Deserializing checks the shape and the ids (a malformed id is refused naming its
//! field); the server then validates what depends on its configuration (body length,
//! page sizes) and on the frame as a whole (a send names exactly one target).

use crate::ids::{field, ConversationId, UserId};
use crate::model::UiState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The longest `ref` a client may attach, in characters.
pub const MAX_REF_CHARS: usize = 100;

/// One client frame with its `ref`: `{"type": "send", "ref": "s1", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Request {
    /// The client's name for this request, echoed by its reply (at most 100 characters).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reference: Option<String>,
    #[serde(flatten)]
    pub frame: ClientFrame,
}

impl Request {
    /// A frame without a `ref`.
    pub fn new(frame: ClientFrame) -> Self {
        Request {
            reference: None,
            frame,
        }
    }

    /// A frame whose reply carries `reference`.
    pub fn with_ref(reference: impl Into<String>, frame: ClientFrame) -> Self {
        Request {
            reference: Some(reference.into()),
            frame,
        }
    }

    /// The JSON text frame. These types always serialize (strings, numbers, JSON maps).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The frames a client sends; `type` selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame of every socket, and later a fresh token before the session ends.
    Auth { token: String },
    /// A message to a conversation (`conversation_id`) or a person (`to`): exactly one.
    Send {
        /// The sender's idempotency key: a retry with the same id stores nothing twice.
        client_id: String,
        body: String,
        #[serde(
            default,
            deserialize_with = "field::some_conversation_id",
            skip_serializing_if = "Option::is_none"
        )]
        #[schemars(with = "Option<ConversationId>")]
        #[ts(optional)]
        conversation_id: Option<ConversationId>,
        #[serde(
            default,
            deserialize_with = "field::some_to",
            skip_serializing_if = "Option::is_none"
        )]
        #[schemars(with = "Option<UserId>")]
        #[ts(optional)]
        to: Option<UserId>,
        /// The `seq` of the message this one answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reply_to: Option<i64>,
    },
    /// A page of a conversation's messages (see [`Page`]).
    History {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        after_seq: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        before_seq: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        limit: Option<i64>,
    },
    /// (addition) Replaces the text of my message `seq` (same rules as a `send` body).
    /// Once committed, every window of every member gets `message_edited`; the asking
    /// window's copy carries the `ref` (its reply). When the text already was this,
    /// nothing changes and the reply is `ok`.
    Edit {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        seq: i64,
        body: String,
    },
    /// (addition) Deletes message `seq` for everyone: mine, or any in a room I created.
    /// Every member's windows get `message_deleted` (the asking window's with the
    /// `ref`); a message already deleted is answered `ok`.
    Delete {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        seq: i64,
    },
    /// (addition) Puts my reaction `emoji` (one emoji) on message `seq`, or takes it off
    /// with `"add": false`. The windows of the members who may see it get `reaction`
    /// (the asking window's with the `ref`); when it already was so, `ok`.
    React {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        seq: i64,
        emoji: String,
        #[serde(default = "yes")]
        #[ts(as = "Option<bool>", optional)]
        add: bool,
    },
    /// (addition) The messages of `conversation_id` changed (edited, deleted, reacted to)
    /// after change number `after`, as they are now. Answered by `changes`.
    Changes {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        after: i64,
    },
    /// (addition) Whether I share my read positions (read receipts; on by default).
    /// Off, no one is shown how far I read, and I am shown no one's. Answered `ok`;
    /// every window of mine gets `receipts`.
    SetReceipts { share: bool },
    /// (addition) Who of a conversation's other members has read up to message `seq`
    /// ("seen by"). Answered by `seen`; refused `forbidden` while I do not share mine.
    Seen {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        seq: i64,
    },
    /// I have read `conversation_id` up to `seq`.
    Read {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
        seq: i64,
    },
    Block {
        #[schemars(with = "UserId")]
        #[serde(deserialize_with = "field::user_id")]
        user_id: UserId,
    },
    Unblock {
        #[schemars(with = "UserId")]
        #[serde(deserialize_with = "field::user_id")]
        user_id: UserId,
    },
    /// The UI state every window of mine mirrors.
    Ui { state: UiState },
    /// (addition) Sets my display name (trimmed; 1–64 characters, no control
    /// characters). Answered `ok`; everyone who sees me, on every node, and each of my
    /// windows get `user_updated`.
    SetName { name: String },
    Typing {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::conversation_id")]
        conversation_id: ConversationId,
    },
    CreateRoom {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        password: Option<String>,
    },
    JoinRoom {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::room_id")]
        room_id: ConversationId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        password: Option<String>,
    },
    LeaveRoom {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::room_id")]
        room_id: ConversationId,
    },
    DeleteRoom {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::room_id")]
        room_id: ConversationId,
    },
    Members {
        #[schemars(with = "ConversationId")]
        #[serde(deserialize_with = "field::room_id")]
        room_id: ConversationId,
    },
    /// (addition) A page of the people online you may see, in list order (email without
    /// case): `offset` skips that many (default 0), `limit` says how many (default 100,
    /// at most 200), `prefix` keeps only emails that start with it (case-insensitive).
    /// Answered by `online_page`.
    Online {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        offset: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        limit: Option<i64>,
    },
    /// (v3) A page of the room directory: every room, by name without case. `query`
    /// keeps the rooms whose name contains it (case-insensitive), `after` starts after
    /// the room of that name (the last one of the previous page), `limit` says how many
    /// (default 50, at most 100). Answered by `rooms`.
    Rooms {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        query: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        limit: Option<i64>,
    },
    /// (addition) An application heartbeat: `{"type":"ping","ref":"h1"}` is answered
    /// `ok` with its `ref` (without a `ref`, nothing). A browser cannot send WebSocket
    /// pings, so this is how it checks that the server still answers. The socket's own
    /// actor answers it at once, ahead of replies still being worked out for earlier
    /// frames (behind a slow query, a busy server would look dead). It touches no
    /// database and takes no allowance: it costs what a refused frame costs.
    Ping,
}

fn yes() -> bool {
    true
}

impl ClientFrame {
    /// A `send` to `target`.
    pub fn send(
        target: Target,
        client_id: impl Into<String>,
        body: impl Into<String>,
        reply_to: Option<i64>,
    ) -> Self {
        let (conversation_id, to) = match target {
            Target::Conversation(c) => (Some(c), None),
            Target::Direct(u) => (None, Some(u)),
        };
        ClientFrame::Send {
            client_id: client_id.into(),
            body: body.into(),
            conversation_id,
            to,
            reply_to,
        }
    }

    /// A `history` request for `page`.
    pub fn history(conversation_id: ConversationId, page: Page, limit: Option<i64>) -> Self {
        let (after_seq, before_seq) = page.bounds();
        ClientFrame::History {
            conversation_id,
            after_seq,
            before_seq,
            limit,
        }
    }
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The direct conversation with this person, created on the first message.
    Direct(UserId),
    /// A conversation the sender belongs to.
    Conversation(ConversationId),
}

/// Which messages a `history` request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Messages with `seq > after`, oldest first: catching up after a gap.
    After(i64),
    /// Messages with `seq < before`, the newest of them: scrolling up.
    Before(i64),
    /// The newest messages.
    Latest,
    /// Messages with `after < seq < before`, oldest first: a window of history.
    Between(i64, i64),
}

impl Page {
    /// The page `after_seq` / `before_seq` ask for (both: the messages between them).
    pub fn from_bounds(after: Option<i64>, before: Option<i64>) -> Result<Page, &'static str> {
        if after.is_some_and(|a| a < 0) || before.is_some_and(|b| b < 0) {
            return Err("seq bounds must not be negative");
        }
        Ok(match (after, before) {
            (Some(a), Some(b)) => Page::Between(a, b),
            (Some(a), None) => Page::After(a),
            (None, Some(b)) => Page::Before(b),
            (None, None) => Page::Latest,
        })
    }

    /// `(after_seq, before_seq)` as a request carries them.
    pub fn bounds(self) -> (Option<i64>, Option<i64>) {
        match self {
            Page::After(a) => (Some(a), None),
            Page::Before(b) => (None, Some(b)),
            Page::Latest => (None, None),
            Page::Between(a, b) => (Some(a), Some(b)),
        }
    }
}
