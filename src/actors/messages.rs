//! The messages that lower layers send up to the PresenceRegistry: the chat service (used
//! by the UserActors and by HTTP) and the UserActor, which the registry spawns and hands
//! a `Chat`. They are defined here, below all of them, so a sender holds a `Recipient`
//! for exactly what it sends and imports nothing of the registry; the registry implements
//! `Handler` for each.

use crate::domain::{ConversationId, User, UserId, WindowId};
use actix::Message;

/// Command: a socket closed (or was evicted); forget it, and stop the user's UserActor
/// after their last window. Sent by the SocketSession as it stops and by the UserActor
/// when it drops a window that fell behind or closed. Idempotent, since both may.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DetachSocket {
    pub user: UserId,
    pub window: WindowId,
}

/// Query: `viewer`'s block-filtered online list, for a window's `ready` snapshot and for
/// a room's member list. Waits while the viewer's block sets are still loading, so the
/// answer is never unfiltered.
#[derive(Message)]
#[rtype(result = "Vec<User>")]
pub struct GetOnlineFor {
    pub viewer: UserId,
}

/// Query: a page of `viewer`'s block-filtered online list, in list order: the people
/// whose email starts with `prefix` (lower case; empty for everyone), `offset` of them
/// skipped, at most `limit`. Like [`GetOnlineFor`], it waits while the viewer's block sets
/// load. Its cost follows the page and the matches, not the population: without a prefix
/// the count comes from the set's size less the people hidden from the viewer.
#[derive(Message, Clone)]
#[rtype(result = "OnlinePage")]
pub struct GetOnlinePage {
    pub viewer: UserId,
    pub prefix: String,
    pub offset: usize,
    pub limit: usize,
}

/// A page of the online list and how many people the whole list holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnlinePage {
    pub people: Vec<User>,
    pub count: usize,
}

/// Notification: `sender` is typing in `conversation`, whose members are `members`; the
/// registry shows it to the members' windows here and publishes it for other nodes.
/// Typing is not stored, so it does not pass through the PersistActor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserTyped {
    pub sender: UserId,
    pub conversation: ConversationId,
    pub members: Vec<UserId>,
}
