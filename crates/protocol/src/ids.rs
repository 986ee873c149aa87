//! Typed identifiers, so a user id can never be passed where a conversation id belongs.
//! On the wire every id is an opaque string (a UUID).

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use ts_rs::TS;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, JsonSchema)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                $name(Uuid::new_v4())
            }

            /// Parses the opaque string form clients hold.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::parse_str(s).ok().map($name)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A person known to Banter (one per issuer + subject).
    UserId
);
uuid_id!(
    /// A direct chat or a room.
    ConversationId
);
uuid_id!(
    /// One stored message.
    MessageId
);

/// The sender's own name for a message, which makes a retried send idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 100;

    pub fn parse(s: String) -> Result<Self, &'static str> {
        if s.trim().is_empty() {
            Err("client_id must not be empty")
        } else if s.chars().count() > Self::MAX_LEN {
            Err("client_id is longer than 100 characters")
        } else if s.contains('\0') {
            Err("client_id must not contain the NUL character (U+0000)")
        } else {
            Ok(ClientId(s))
        }
    }

    /// Wraps an id read back from storage, where it was validated on the way in.
    pub fn from_stored(s: String) -> Self {
        ClientId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Deserializers for the id fields of client frames: a malformed id is refused with a
/// message naming the field (`"room_id is not a valid id"`), which is what the server
/// answers in its `bad_request` error.
pub(crate) mod field {
    use super::*;
    use serde::de::Error;

    fn uuid<'de, D: Deserializer<'de>>(d: D, field: &str) -> Result<Uuid, D::Error> {
        let s = String::deserialize(d)?;
        Uuid::parse_str(&s).map_err(|_| D::Error::custom(format!("{field} is not a valid id")))
    }

    fn some_uuid<'de, D: Deserializer<'de>>(d: D, field: &str) -> Result<Option<Uuid>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => Uuid::parse_str(&s)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("{field} is not a valid id"))),
        }
    }

    pub fn conversation_id<'de, D: Deserializer<'de>>(d: D) -> Result<ConversationId, D::Error> {
        uuid(d, "conversation_id").map(ConversationId)
    }

    pub fn room_id<'de, D: Deserializer<'de>>(d: D) -> Result<ConversationId, D::Error> {
        uuid(d, "room_id").map(ConversationId)
    }

    pub fn user_id<'de, D: Deserializer<'de>>(d: D) -> Result<UserId, D::Error> {
        uuid(d, "user_id").map(UserId)
    }

    pub fn some_conversation_id<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<ConversationId>, D::Error> {
        some_uuid(d, "conversation_id").map(|u| u.map(ConversationId))
    }

    pub fn some_to<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UserId>, D::Error> {
        some_uuid(d, "to").map(|u| u.map(UserId))
    }
}
