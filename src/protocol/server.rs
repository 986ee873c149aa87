//! Frames the server sends (SPEC §6), serialized once and shared by every window.

use super::codes::ErrorCode;
use crate::domain::{
    ConversationId, ConversationSummary, Message, Room, RoomMember, UiState, User, UserId,
};
use bytestring::ByteString;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent<'a> {
    /// The snapshot a window starts from.
    Ready {
        me: &'a User,
        online: &'a [User],
        blocked: &'a [User],
        conversations: &'a [ConversationSummary],
        /// (addition) every room, for the room list.
        rooms: &'a [Room],
        ui: &'a UiState,
        expires_at: DateTime<Utc>,
    },
    Presence {
        user: &'a User,
        online: bool,
    },
    /// A message for a window that did not send it.
    Message {
        message: &'a Message,
    },
    /// The sending window's confirmation that its message is committed.
    Ack {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        message: &'a Message,
    },
    History {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        conversation_id: ConversationId,
        messages: &'a [Message],
    },
    Blocked {
        user: &'a User,
    },
    Unblocked {
        user: &'a User,
    },
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    Ui {
        state: &'a UiState,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    Error {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        code: ErrorCode,
        message: &'a str,
    },
    /// Reply to a re-sent `auth`: the session now lasts until `expires_at`.
    Session {
        expires_at: DateTime<Utc>,
    },
    /// (addition) A room was created, or its member count changed: for everyone's list.
    Room {
        room: &'a Room,
    },
    /// (addition) A room was deleted, with its messages.
    RoomDeleted {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        room_id: ConversationId,
    },
    /// (addition) You are a member of this room now (you created or joined it).
    Joined {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        room: &'a Room,
        conversation: &'a ConversationSummary,
    },
    /// (addition) You left this room.
    Left {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        room_id: ConversationId,
    },
    /// (addition) Someone joined (`joined: true`) or left a room you are in.
    Member {
        room_id: ConversationId,
        user: &'a User,
        joined: bool,
    },
    /// (addition) Reply to `members`: the room's members with their presence.
    Members {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
        room_id: ConversationId,
        members: &'a [RoomMember],
    },
}

impl ServerEvent<'_> {
    /// The JSON text frame. Serializing these types cannot fail (no maps with
    /// non-string keys, no failing `Serialize` impls).
    pub fn to_frame(&self) -> ByteString {
        ByteString::from(serde_json::to_string(self).unwrap_or_default())
    }
}

/// An `error` frame.
pub fn error_frame(reference: Option<&str>, code: ErrorCode, message: &str) -> ByteString {
    ServerEvent::Error {
        reference,
        code,
        message,
    }
    .to_frame()
}
