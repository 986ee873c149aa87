//! The actors, one module each, and the frames they hand to sockets.
//!
//! ```text
//! SocketSession ──AttachSocket/DetachSocket──▶ PresenceRegistry ──spawns/stops──▶ UserActor
//!       │  ▲                                        ▲      │ Deliver*          │
//!       │  └────────────── ToSocket ─────────────────┼──────┼───────────────────┘
//!       └──ExecuteCommand──▶ UserActor ──ApplyWrite──▶ PersistActor ──WritesCommitted──┘
//! ```
//!
//! Imports point one way, downward: `socket` → `registry` → `user` → `chat` → `persist`
//! (and everything → [`messages`]). An actor that calls back up holds a `Recipient` for
//! exactly the messages it sends, defined by the sender or in [`messages`], and the actor
//! above implements `Handler` for them: the PersistActor holds `Recipient<WritesCommitted>`,
//! the chat service `Recipient<UserTyped>`, `Recipient<GetOnlineAmong>` and `Recipient<ShowOnlinePage>`, each UserActor a
//! [`user::RegistryLink`] (`DetachSocket`, `OpenOnlineView`); the registry reaches the
//! ClusterMirror through a [`registry::ClusterLink`]. `startup` takes the registry's
//! address before it runs and builds the rest in plain order.

pub mod admission;
mod inbound;
pub mod messages;
pub mod outbound;
mod paced;
pub mod persist;
pub mod registry;
pub mod socket;
pub mod user;

use actix::Message;
use bytestring::ByteString;

/// What a UserActor hands to one of its window sockets.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum ToSocket {
    /// A serialized server frame.
    Frame(ByteString),
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
}

/// Mailbox bound for actors whose callers must never wait for space (write order relies
/// on mailbox order). Load is bounded upstream by per-user rate limits.
pub(crate) const LARGE_MAILBOX: usize = 1 << 20;
