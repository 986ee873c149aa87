//! The vocabulary of Banter: typed ids, people, conversations, rooms, messages, UI state.

pub mod conversation;
pub mod ids;
pub mod message;
pub mod room;
pub mod ui_state;
pub mod user;

pub use conversation::{ConversationKind, ConversationSummary};
pub use ids::{ClientId, ConversationId, MessageId, UserId, WindowId};
pub use message::{BodyError, Message, MessageBody, Quote, QUOTE_CHARS};
pub use room::{Room, RoomMember, RoomName, RoomPassword};
pub use ui_state::UiState;
pub use user::User;
