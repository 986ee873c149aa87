//! The protocol as the terminal client speaks it: typed frames both ways.
//!
//! Server frames are decoded into [`Event`] by serde's tag dispatch (never by looking
//! for substrings), so a frame the server changes shape of fails loudly in one place.
//! Frame types this client does not know yet decode to [`Event::Unknown`] and are
//! ignored, as docs/protocol.md allows servers to add frames.

use crate::domain::{ConversationId, ConversationKind, Message, Room, User, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most messages one `history` request may ask for (docs/protocol.md).
pub const HISTORY_MAX: i64 = 200;

/// A conversation as `ready` and `GET /api/conversations` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    #[serde(default)]
    pub peer: Option<User>,
    #[serde(default)]
    pub name: Option<String>,
    pub last_seq: i64,
    #[serde(default)]
    pub read_seq: i64,
}

/// The body of `GET /api/conversations`.
#[derive(Debug, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
}

/// The body of `GET /api/rooms/{id}/members` (each member's `online` is not needed).
#[derive(Debug, Deserialize)]
pub struct MemberList {
    pub members: Vec<User>,
}

/// One member of a room in a `members` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    pub id: UserId,
    pub email: String,
    pub online: bool,
}

/// The snapshot a window starts from.
#[derive(Debug, Clone, Deserialize)]
pub struct Ready {
    pub me: User,
    pub online: Vec<User>,
    pub blocked: Vec<User>,
    pub conversations: Vec<Conversation>,
    /// Every room, for the room list.
    #[serde(default)]
    pub rooms: Vec<Room>,
    pub expires_at: DateTime<Utc>,
}

/// A frame from the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Ready(Ready),
    Presence {
        user: User,
        online: bool,
    },
    Message {
        message: Message,
    },
    Ack {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        message: Message,
    },
    History {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        conversation_id: ConversationId,
        messages: Vec<Message>,
    },
    Blocked {
        user: User,
    },
    Unblocked {
        user: User,
    },
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    Error {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        code: String,
        message: String,
    },
    Session {
        expires_at: DateTime<Utc>,
    },
    /// A room was created, or its member count changed.
    Room {
        room: Room,
    },
    /// A room was deleted (the answer to `delete_room` carries its `ref`).
    RoomDeleted {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        room_id: ConversationId,
    },
    /// You became a member of a room (the window that asked gets its `ref`).
    Joined {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        room: Room,
        conversation: Conversation,
    },
    /// You left a room (the window that asked gets its `ref`).
    Left {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        room_id: ConversationId,
    },
    /// Someone joined (`joined: true`) or left a room you are in.
    Member {
        room_id: ConversationId,
        user: User,
        joined: bool,
    },
    /// The answer to `members`.
    Members {
        #[serde(rename = "ref", default)]
        reference: Option<String>,
        room_id: ConversationId,
        members: Vec<Member>,
    },
    /// `ui`, and any frame type added after this client was written.
    #[serde(other)]
    Unknown,
}

/// Decodes one text frame.
pub fn decode(text: &str) -> Result<Event, serde_json::Error> {
    serde_json::from_str(text)
}

/// Where a message goes: a known conversation, or a person (the server creates the
/// direct conversation on the first message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Target {
    #[serde(rename = "conversation_id")]
    Conversation(ConversationId),
    #[serde(rename = "to")]
    Person(UserId),
}

/// Which page of history to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest messages.
    Newest,
    /// Messages with `seq > n`, oldest first (filling a gap).
    After(i64),
    /// The newest messages with `seq < n` (scrolling up).
    Before(i64),
}

/// A frame to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    Auth {
        token: String,
    },
    Send {
        #[serde(rename = "ref")]
        reference: String,
        client_id: String,
        body: String,
        #[serde(flatten)]
        target: Target,
        /// The `seq` of the message this one answers (`/reply`).
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<i64>,
    },
    History {
        #[serde(rename = "ref")]
        reference: String,
        conversation_id: ConversationId,
        #[serde(skip_serializing_if = "Option::is_none")]
        after_seq: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        before_seq: Option<i64>,
        limit: i64,
    },
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    Block {
        #[serde(rename = "ref")]
        reference: String,
        user_id: UserId,
    },
    Unblock {
        #[serde(rename = "ref")]
        reference: String,
        user_id: UserId,
    },
    CreateRoom {
        #[serde(rename = "ref")]
        reference: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    JoinRoom {
        #[serde(rename = "ref")]
        reference: String,
        room_id: ConversationId,
        #[serde(skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    LeaveRoom {
        #[serde(rename = "ref")]
        reference: String,
        room_id: ConversationId,
    },
    DeleteRoom {
        #[serde(rename = "ref")]
        reference: String,
        room_id: ConversationId,
    },
    Members {
        #[serde(rename = "ref")]
        reference: String,
        room_id: ConversationId,
    },
}

impl Request {
    /// A `history` request for `page`.
    pub fn history(
        reference: String,
        conversation_id: ConversationId,
        page: Page,
        limit: i64,
    ) -> Self {
        let (after_seq, before_seq) = match page {
            Page::Newest => (None, None),
            Page::After(n) => (Some(n), None),
            Page::Before(n) => (None, Some(n)),
        };
        Request::History {
            reference,
            conversation_id,
            after_seq,
            before_seq,
            limit: limit.clamp(1, HISTORY_MAX),
        }
    }

    /// The JSON text frame. These types always serialize (plain strings and numbers).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const ALICE: &str = "a1c0ffee-0000-4000-8000-000000000001";
    const BOB: &str = "b2c0ffee-0000-4000-8000-000000000002";
    const CONV: &str = "c3c0ffee-0000-4000-8000-000000000003";

    fn room() -> Value {
        json!({"id": CONV, "name": "General", "has_password": true, "created_by": ALICE,
               "members": 2})
    }

    fn message(seq: i64) -> Value {
        json!({"id": "0e5fc0ff-0000-4000-8000-000000000009", "conversation_id": CONV,
               "seq": seq, "sender_id": BOB, "body": "hello", "client_id": "b-1",
               "created_at": "2026-11-21T10:00:03.5Z"})
    }

    #[test]
    fn every_documented_server_frame_decodes_to_its_variant() {
        let ready = json!({"type": "ready", "me": {"id": ALICE, "email": "alice@example.com"},
            "online": [{"id": BOB, "email": "bob@example.com"}], "blocked": [],
            "conversations": [{"id": CONV, "kind": "direct", "peer": {"id": BOB, "email": "bob@example.com"},
                               "last_seq": 3, "read_seq": 1, "unread": 2}],
            "ui": {"draft": ""}, "expires_at": "2026-11-21T10:15:00Z"});
        let Ok(Event::Ready(ready)) = decode(&ready.to_string()) else {
            panic!("ready")
        };
        assert_eq!(ready.me.email, "alice@example.com");
        assert_eq!(ready.conversations[0].last_seq, 3);

        let cases = [
            (
                json!({"type": "presence", "user": {"id": BOB, "email": "b"}, "online": false}),
                "presence",
            ),
            (json!({"type": "message", "message": message(2)}), "message"),
            (
                json!({"type": "ack", "ref": "s1", "message": message(2)}),
                "ack",
            ),
            (
                json!({"type": "history", "ref": "h1", "conversation_id": CONV, "messages": [message(1)]}),
                "history",
            ),
            (
                json!({"type": "blocked", "user": {"id": BOB, "email": "b"}}),
                "blocked",
            ),
            (
                json!({"type": "unblocked", "user": {"id": BOB, "email": "b"}}),
                "unblocked",
            ),
            (
                json!({"type": "read", "conversation_id": CONV, "seq": 2}),
                "read",
            ),
            (
                json!({"type": "typing", "conversation_id": CONV, "user_id": BOB}),
                "typing",
            ),
            (
                json!({"type": "error", "code": "blocked", "message": "no"}),
                "error",
            ),
            (
                json!({"type": "session", "expires_at": "2026-11-21T10:29:00Z"}),
                "session",
            ),
            (
                json!({"type": "joined", "ref": "j1", "room": room(),
                    "conversation": {"id": CONV, "kind": "room", "name": "General", "last_seq": 4,
                                     "read_seq": 4, "unread": 0}}),
                "joined",
            ),
            (json!({"type": "room", "room": room()}), "room"),
            (
                json!({"type": "room_deleted", "ref": "d1", "room_id": CONV}),
                "room_deleted",
            ),
            (json!({"type": "left", "room_id": CONV}), "left"),
            (
                json!({"type": "member", "room_id": CONV, "user": {"id": BOB, "email": "b"},
                       "joined": true}),
                "member",
            ),
            (
                json!({"type": "members", "ref": "m1", "room_id": CONV,
                       "members": [{"id": BOB, "email": "b", "online": false}]}),
                "members",
            ),
            (json!({"type": "ui", "state": {"draft": "x"}}), "unknown"),
            (json!({"type": "something_new", "x": 1}), "unknown"),
        ];
        for (frame, kind) in cases {
            let event = decode(&frame.to_string()).unwrap_or_else(|e| panic!("{frame}: {e}"));
            let got = match event {
                Event::Presence { .. } => "presence",
                Event::Message { .. } => "message",
                Event::Ack { .. } => "ack",
                Event::History { .. } => "history",
                Event::Blocked { .. } => "blocked",
                Event::Unblocked { .. } => "unblocked",
                Event::Read { .. } => "read",
                Event::Typing { .. } => "typing",
                Event::Error { .. } => "error",
                Event::Session { .. } => "session",
                Event::Joined { .. } => "joined",
                Event::Room { .. } => "room",
                Event::RoomDeleted { .. } => "room_deleted",
                Event::Left { .. } => "left",
                Event::Member { .. } => "member",
                Event::Members { .. } => "members",
                Event::Unknown => "unknown",
                Event::Ready(_) => "ready",
            };
            assert_eq!(got, kind, "{frame}");
        }
    }

    #[test]
    fn a_frame_of_a_known_type_with_a_wrong_shape_is_an_error() {
        assert!(decode(r#"{"type":"message","message":{"seq":"x"}}"#).is_err());
        assert!(decode("not json").is_err());
    }

    #[test]
    fn requests_serialize_as_the_protocol_documents_them() {
        let conversation = ConversationId::parse(CONV).unwrap();
        let peer = UserId::parse(BOB).unwrap();
        let send = Request::Send {
            reference: "s1".into(),
            client_id: "c".into(),
            body: "hi".into(),
            target: Target::Person(peer),
            reply_to: None,
        };
        let sent: Value = serde_json::from_str(&send.to_text()).unwrap();
        assert_eq!(
            sent,
            json!({"type": "send", "ref": "s1", "client_id": "c", "body": "hi", "to": BOB})
        );
        let reply = Request::Send {
            reference: "s2".into(),
            client_id: "d".into(),
            body: "yes".into(),
            target: Target::Conversation(conversation),
            reply_to: Some(3),
        };
        let reply: Value = serde_json::from_str(&reply.to_text()).unwrap();
        assert_eq!(
            reply,
            json!({"type": "send", "ref": "s2", "client_id": "d", "body": "yes",
                   "conversation_id": CONV, "reply_to": 3})
        );
        let join = Request::JoinRoom {
            reference: "j1".into(),
            room_id: conversation,
            password: Some("pw".into()),
        };
        let join: Value = serde_json::from_str(&join.to_text()).unwrap();
        assert_eq!(
            join,
            json!({"type": "join_room", "ref": "j1", "room_id": CONV, "password": "pw"})
        );
        let create = Request::CreateRoom {
            reference: "c1".into(),
            name: "Book club".into(),
            password: None,
        };
        let create: Value = serde_json::from_str(&create.to_text()).unwrap();
        assert_eq!(
            create,
            json!({"type": "create_room", "ref": "c1", "name": "Book club"})
        );
        let history = Request::history("h1".into(), conversation, Page::After(4), 500);
        let history: Value = serde_json::from_str(&history.to_text()).unwrap();
        assert_eq!(
            history,
            json!({"type": "history", "ref": "h1", "conversation_id": CONV, "after_seq": 4, "limit": 200})
        );
    }
}
