//! What frames describe: people, messages, conversations, rooms and the mirrored UI
//! state. These are also the bodies of the HTTP API.

use crate::ids::{ClientId, ConversationId, MessageId, UserId};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `{"id", "email", "name"}`: the shape every list and event uses for a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: String,
    /// (addition) The display name the person chose (first taken from the identity
    /// provider's `name`, or `nickname`, at sign-in); absent until there is one, and then
    /// a client shows the email. 1–64 characters, no control characters. Not unique:
    /// the email tells two people of one name apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
}

/// The longest display name, in characters.
pub const NAME_CHARS: usize = 64;

/// A committed message, exactly as clients see it (plus `reply_to` when it answers one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Its place in the conversation: 1, 2, 3… without gaps.
    pub seq: i64,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: ClientId,
    pub created_at: DateTime<Utc>,
    /// The earlier message this one answers, quoted (absent for most messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reply_to: Option<Quote>,
    /// (addition) When its sender last edited it (absent: never edited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub edited_at: Option<DateTime<Utc>>,
    /// (addition) When it was deleted: a tombstone, `body` empty (absent: not deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// (addition) Its reactions as the reader may see them, by first use: each emoji with
    /// the people who reacted with it (not those a block stands between, see
    /// docs/protocol.md). Absent: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<Reaction>>", optional)]
    pub reactions: Vec<Reaction>,
    /// (addition) The conversation's change number of this message's latest edit,
    /// deletion or reaction (absent: 0, never changed). A change frame with a `change`
    /// at or below it is already part of this state.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[ts(as = "Option<i64>", optional)]
    pub version: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `{"emoji","users"}`: one emoji on a message and who reacted with it (its count is
/// the length of `users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<UserId>,
}

/// Most distinct emoji on one message.
pub const REACTIONS_PER_MESSAGE: usize = 20;
/// Most emoji one person puts on one message.
pub const REACTIONS_PER_PERSON: usize = 10;

/// Longest quote of a replied-to message, in characters.
pub const QUOTE_CHARS: usize = 200;

/// `{"seq","sender_id","body"}`: what a reply shows of the message it answers. `body` is
/// its first 200 characters, as edited; `null` when that message is gone (deleted, or
/// removed by retention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quote {
    pub seq: i64,
    pub sender_id: Option<UserId>,
    pub body: Option<String>,
}

/// A direct chat between two people, or a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Room,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Room => "room",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ConversationKind::Direct),
            "room" => Some(ConversationKind::Room),
            _ => None,
        }
    }
}

/// A conversation as one member sees it, with that member's unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// The other person of a direct chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub peer: Option<User>,
    /// A room's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    pub last_seq: i64,
    pub read_seq: i64,
    pub unread: i64,
    /// (addition) A direct chat's read receipt: how far the other person has read. Absent
    /// while either of you does not share receipts, or a block stands between you.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub peer_read_seq: Option<i64>,
    /// (addition) The conversation's latest change number (edits, deletions, reactions;
    /// absent: 0). A window that saw changes only up to a lower number asks `changes`.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[ts(as = "Option<i64>", optional)]
    pub last_change: i64,
    /// (addition) The `seq`s of the unread messages of a room that mention you (`@` and your
    /// email), ascending; at most the 99 newest. Not from someone a block stands between.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<i64>>", optional)]
    pub mentions: Vec<i64>,
}

/// `{"id","name","has_password","created_by","members"}`: a room in everyone's room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Room {
    pub id: ConversationId,
    pub name: String,
    pub has_password: bool,
    /// The person who may delete it (`None` once their account is gone).
    pub created_by: Option<UserId>,
    /// How many members it has.
    pub members: i64,
    /// (addition) The room every person joins when their account is created
    /// ("general"): it cannot be deleted; people may leave it and join again.
    #[serde(default, skip_serializing_if = "is_false")]
    #[ts(as = "Option<bool>", optional)]
    pub everyone: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A member of a room with their presence, as the asking viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomMember {
    pub id: UserId,
    pub email: String,
    /// (addition) Their display name, as in [`User::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    pub online: bool,
}

/// What every window of a person shows alike: the selected conversation and the draft.
/// Extra keys a client adds are kept and mirrored as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
pub struct UiState {
    /// The selected conversation (`null` or absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub selected: Option<String>,
    /// The selected conversation's draft (absent in a client's frame: empty).
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub draft: String,
    /// Keys of the client's own, kept and mirrored as they are.
    #[serde(flatten)]
    #[ts(skip)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
