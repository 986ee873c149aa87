//! Typed identifiers, so a user id can never be passed where a conversation id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
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

/// One open window (socket) of a user on this node; never leaves the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowId(pub u64);

impl fmt::Display for WindowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "w{}", self.0)
    }
}

/// The sender's own name for a message, which makes a retried send idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 100;

    pub fn parse(s: String) -> Result<Self, &'static str> {
        if s.trim().is_empty() {
            Err("client_id must not be empty")
        } else if s.chars().count() > Self::MAX_LEN {
            Err("client_id is longer than 100 characters")
        } else {
            Ok(ClientId(s))
        }
    }

    /// Wraps an id read back from the database, where it was validated on the way in.
    pub(crate) fn from_stored(s: String) -> Self {
        ClientId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
