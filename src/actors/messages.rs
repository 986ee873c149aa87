//! The messages that lower layers send up to the PresenceRegistry: the chat service (used
//! by the UserActors and by HTTP) and the UserActor, which the registry spawns and hands
//! a `Chat`. They are defined here, below all of them, so a sender holds a `Recipient`
//! for exactly what it sends and imports nothing of the registry; the registry implements
//! `Handler` for each.

use crate::db::conversations::Audience;
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

/// Command: open `window`'s view of the online list for its `ready` snapshot, and answer
/// what the snapshot shows: the first page, the count, the online partners. From then on
/// the window gets `online_changes` for that range and those partners. Waits while the
/// viewer's block sets are still loading, so the answer is never unfiltered.
#[derive(Message)]
#[rtype(result = "FirstView")]
pub struct OpenOnlineView {
    pub viewer: UserId,
    pub window: WindowId,
}

/// What a new window's `ready` shows of the online list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FirstView {
    /// The first page, in list order.
    pub online: Vec<User>,
    /// Everyone the viewer may see online.
    pub count: usize,
    /// The online people the viewer has a direct conversation with.
    pub partners: Vec<User>,
}

/// Query: which of `people` are online and visible to `viewer` (a room's members'
/// presence). Costs O(people), whatever the population; waits like [`OpenOnlineView`].
#[derive(Message)]
#[rtype(result = "Vec<UserId>")]
pub struct GetOnlineAmong {
    pub viewer: UserId,
    pub people: Vec<UserId>,
}

/// Command: answer `window`'s `online` request with a page of the viewer's
/// block-filtered online list, in list order (the people whose email starts with
/// `prefix`, lower case, empty for everyone; `offset` of them skipped, at most `limit`),
/// and make that page's stretch of the list the range the window tracks. The registry
/// sends the `online_page` frame itself, through the UserActor, so it is ordered with
/// the window's `online_changes`. Its cost follows the page, not the population.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct ShowOnlinePage {
    pub viewer: UserId,
    pub window: WindowId,
    /// The request's `ref`, echoed.
    pub reference: Option<String>,
    pub prefix: String,
    pub offset: usize,
    pub limit: usize,
}

/// Notification: `sender` is typing in `conversation`, to `audience`; the registry shows
/// it to the members' windows here and publishes it for other nodes. Typing is not
/// stored, so it does not pass through the PersistActor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserTyped {
    pub sender: UserId,
    pub conversation: ConversationId,
    pub audience: Audience,
}
