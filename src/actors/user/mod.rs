//! The UserActor: one per online user on this node, owning all of that user's windows.
//!
//! Everything a window shows passes through here, so all windows of a person see the
//! same frames in the same order. A new window is *syncing* until its `ready` snapshot
//! is sent: frames for it queue up meanwhile and follow the snapshot, so nothing falls
//! between the snapshot and the live stream. A window that cannot keep up (its socket's
//! mailbox is full) is closed so it reconnects and resyncs.
//!
//! This file holds the actor, its messages and its windows' lifecycle; the rest is split
//! by concern: `snapshot` (a new window's `ready`), `delivery` (frames and messages to
//! the windows), `catch_up` (reading what was missed from Postgres), `watch` (the tick
//! that looks for stalled sockets and open gaps, only while there may be some), `cmd`
//! (each command a window can send, decoded and applied side by side) and `commands` (how
//! commands end: writes, room actions and queries). It calls the PresenceRegistry above it
//! only through the [`RegistryLink`] it is given.

mod catch_up;
mod change_order;
pub mod cmd;
pub mod commands;
mod delivery;
mod line;
mod membership;
mod sequencer;
mod snapshot;
mod watch;
mod window;

use super::admission::Admitted;
use super::messages::{DetachSocket, OpenOnlineView};
use super::outbound::Outbound;
use super::persist::Origin;
use super::ToSocket;
use crate::chat::Chat;
use crate::domain::{Change, ConversationId, Message, User, WindowId};
use crate::metrics::Metrics;
use actix::prelude::*;
use bytestring::ByteString;
use change_order::Parked;
use chrono::{DateTime, Utc};
use commands::Turn;
use futures_util::future::{BoxFuture, FutureExt, Shared};
pub use membership::{ForgetConversation, TrackConversation};
use sequencer::Sequencer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
pub use watch::StartWatch;
use window::Window;

/// Command: take on a new authenticated window of this user (the registry attached it):
/// it gets its `ready` snapshot, then the live stream.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddWindow {
    pub window: WindowId,
    pub socket: Recipient<ToSocket>,
    /// The socket's byte budget, charged with every frame handed to it.
    pub outbound: Arc<Outbound>,
    /// Shown in the window's `ready` frame.
    pub expires_at: DateTime<Utc>,
    /// The window's turn at the connect gate: let go once its `ready` is out.
    pub admitted: Admitted,
    /// The `ref` of the window's `auth` frame, carried back by `ready`.
    pub reference: Option<String>,
}

/// Command: forget a window (its socket closed), so nothing more is handed to it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveWindow {
    pub window: WindowId,
}

/// Command: the user's last window here closed; stop (the registry spawns a new
/// UserActor with their next window).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopUser;

/// Command: hand `frame` to every window but `except` (the window the change came from,
/// which has had its own reply).
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverFrame {
    pub frame: ByteString,
    pub except: Option<WindowId>,
}

/// Command: hand `frame` (news of `conversation`, such as typing) to every window if the
/// user is a member of it. The room everyone shares sends its news to every user on a
/// node rather than list its members: one who left it hears nothing.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverIfMember {
    pub conversation: ConversationId,
    pub frame: ByteString,
}

/// Command: hand `frame` to `window` alone (what the registry sends one window of the
/// online list: its pages and its changes).
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverToWindow {
    pub window: WindowId,
    pub frame: ByteString,
}

/// Command: a committed message; the `origin` window (if it is ours) gets an `ack`,
/// every other window the shared `message` frame.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverMessage {
    pub message: Arc<Message>,
    pub frame: ByteString,
    pub origin: Option<Origin>,
    /// When this node's PersistActor received the write (none for other nodes' writes).
    pub received_at: Option<Instant>,
    /// The user blocked the sender (a room message): show nothing, only keep the order.
    pub hidden: bool,
    /// Sent to every user on the node (the room everyone shares): dropped unless the
    /// user is a member, that is, unless their delivery order tracks the conversation.
    pub members_only: bool,
}

/// Command: a committed edit, deletion or reaction; every window gets `frame`, in the
/// conversation's change order, after the message it changes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverChange {
    pub change: Arc<Change>,
    pub frame: ByteString,
    /// The window that asked for it (if it is ours): it gets its copy with its `ref`.
    pub origin: Option<Origin>,
    /// The user does not see it (they blocked the sender, or the person reacting): show
    /// nothing, only keep the order.
    pub hidden: bool,
    /// As for [`DeliverMessage`].
    pub members_only: bool,
}

/// Command: close every window (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseWindows {
    pub code: u16,
    pub reason: &'static str,
}

/// Command: events may have been lost (a Redis outage): read from Postgres what the
/// windows have not seen, and re-send the mirrored UI state.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Resync;

/// The PresenceRegistry, as far as a UserActor calls it (it is spawned by the registry,
/// so it holds recipients for exactly what it sends up, not the registry's address).
pub struct RegistryLink {
    /// Told of a window this actor dropped (fallen behind, or its snapshot failed).
    pub detach: Recipient<DetachSocket>,
    /// Opens each new window's view of the online list, for its snapshot.
    pub views: Recipient<OpenOnlineView>,
}

/// Resolves once this node's route for the user is in Redis, so events for them come
/// here: a snapshot read before that could miss an event committed meanwhile (see
/// `cluster::scripts::DELIVER`). Shared by the windows opened until then; ready at once
/// on a node alone.
pub type Routed = Shared<BoxFuture<'static, ()>>;

/// A [`Routed`] that resolves when `done` is answered (or dropped).
pub fn routed_when(done: tokio::sync::oneshot::Receiver<bool>) -> Routed {
    done.map(|_| ()).boxed().shared()
}

/// A [`Routed`] that is ready: no routes to wait for.
pub fn routed_now() -> Routed {
    futures_util::future::ready(()).boxed().shared()
}

pub struct UserActor {
    user: User,
    registry: RegistryLink,
    chat: Chat,
    /// Every snapshot's rows are read after this resolves.
    routed: Routed,
    windows: HashMap<WindowId, Window>,
    /// Releases messages per conversation in `seq` order, each once.
    sequencer: Sequencer<DeliverMessage>,
    /// Releases changes per conversation in change-number order, each once.
    change_order: Sequencer<DeliverChange>,
    /// Changes released ahead of the message they change, per conversation, in order
    /// (see `change_order`); an entry goes once its queue is empty.
    parked: HashMap<ConversationId, Parked>,
    /// A resync's catch-up failed (the store was busy or down): the next tick reads
    /// every conversation past what was delivered again.
    resync_owed: bool,
    /// A catch-up read is in flight (at most one per user; see `catch_up`).
    catching_up: bool,
    /// The command being applied: whichever helper ends it asynchronously (a write, a
    /// room action, a query) takes it and hands it back to [`Self::finish`] when done;
    /// left here, the command was done when `apply` returned.
    turn: Option<Turn>,
    /// Deliveries that arrived before the first snapshot, which sets where each
    /// conversation starts (`None` once it is in).
    early: Option<Vec<DeliverMessage>>,
    /// Changes that arrived before the first snapshot (emptied with `early`).
    early_changes: Vec<DeliverChange>,
    metrics: Metrics,
    /// Whether the watch (stalled sockets, gaps, parked changes, a catch-up owed) is
    /// ticking: only while there is something to watch (`watch.rs`).
    watch: watch::Watch,
    /// This actor's own address, weak (it must not keep itself alive): a frame handed
    /// to a window starts the watch from code that has no context.
    me: Option<actix::WeakAddr<UserActor>>,
}

impl UserActor {
    pub fn new(
        user: User,
        registry: RegistryLink,
        chat: Chat,
        routed: Routed,
        metrics: Metrics,
    ) -> Self {
        UserActor {
            user,
            registry,
            chat,
            routed,
            windows: HashMap::new(),
            sequencer: Sequencer::default(),
            change_order: Sequencer::default(),
            parked: HashMap::new(),
            resync_owed: false,
            catching_up: false,
            turn: None,
            early: Some(Vec::new()),
            early_changes: Vec::new(),
            metrics,
            watch: watch::Watch::Idle,
            me: None,
        }
    }
}

impl Actor for UserActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::LARGE_MAILBOX);
        self.me = Some(ctx.address().downgrade());
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.watch_stopped();
    }
}

impl Handler<AddWindow> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: AddWindow, ctx: &mut Self::Context) {
        self.windows
            .insert(msg.window, Window::new(msg.socket, msg.outbound));
        self.sync_window(msg.window, msg.expires_at, msg.admitted, msg.reference, ctx);
    }
}

impl Handler<RemoveWindow> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: RemoveWindow, _ctx: &mut Self::Context) {
        self.windows.remove(&msg.window);
    }
}

impl Handler<StopUser> for UserActor {
    type Result = ();

    fn handle(&mut self, _msg: StopUser, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<CloseWindows> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: CloseWindows, _ctx: &mut Self::Context) {
        for window in self.windows.values() {
            window.socket.do_send(ToSocket::Close {
                code: msg.code,
                reason: msg.reason,
            });
        }
    }
}
