//! The vocabulary of Banter: the protocol's types (ids, people, conversations, rooms,
//! messages, UI state, from `banter-protocol`) and what only the server has: validated
//! bodies, display names, room names and passwords, and window ids.

pub mod change;
pub mod ids;
pub mod mention;
pub mod message;
pub mod name;
pub mod room;

pub use banter_protocol::{
    ClientId, ConversationId, ConversationKind, ConversationSummary, Message, MessageId, Quote,
    Reaction, Room, RoomMember, UiState, User, UserId, QUOTE_CHARS, REACTIONS_PER_MESSAGE,
    REACTIONS_PER_PERSON,
};
pub use change::{Change, ChangeKind, Emoji, NotAnEmoji};
pub use ids::WindowId;
pub use mention::mentioned_emails;
pub use message::{hide_quote, hide_quotes, BodyError, MessageBody};
pub use name::DisplayName;
pub use room::{DirectoryPage, RoomName, RoomPassword};
