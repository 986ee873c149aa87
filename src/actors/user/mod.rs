//! The UserActor: one per online user on this node, owning all of that user's windows.
//!
//! Everything a window shows passes through here, so all windows of a person see the
//! same frames in the same order. A new window is *syncing* until its `ready` snapshot
//! is sent: frames for it queue up meanwhile and follow the snapshot, so nothing falls
//! between the snapshot and the live stream. A window that cannot keep up (its socket's
//! mailbox is full) is closed so it reconnects and resyncs.

mod sequencer;
mod window;

use super::persist::Origin;
use super::registry::{DetachSocket, GetOnlineFor, PresenceRegistry};
use super::ToSocket;
use crate::chat::{Chat, ChatError};
use crate::db;
use crate::db::messages::Page;
use crate::db::writes::{WriteOp, WriteOutcome};
use crate::domain::{ConversationId, Message, User, WindowId};
use crate::metrics::Metrics;
use crate::protocol::{close, error_frame, Command, Decoded, ServerEvent};
use actix::prelude::*;
use bytestring::ByteString;
use chrono::{DateTime, Utc};
use sequencer::Sequencer;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use window::{Handed, MessageKey, Window};

/// Command: a new authenticated window of this user.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddWindow {
    pub window: WindowId,
    pub socket: Recipient<ToSocket>,
    /// Shown in the window's `ready` frame.
    pub expires_at: DateTime<Utc>,
}

/// Command: forget a window (its socket closed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveWindow {
    pub window: WindowId,
}

/// Command: the user's last window closed; stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopUser;

/// Command: hand `frame` to every window but `except`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DeliverFrame {
    pub frame: ByteString,
    pub except: Option<WindowId>,
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

/// Internal: messages the windows had not seen, read from the store.
#[derive(Message)]
#[rtype(result = "()")]
struct StoreCaughtUp {
    /// Each with whether the user blocked its sender.
    missed: Vec<(Message, bool)>,
}

/// Command: run what a window asked for.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ExecuteCommand {
    pub window: WindowId,
    /// The client's address (per-address limits).
    pub address: Option<std::net::IpAddr>,
    pub decoded: Decoded,
}

pub struct UserActor {
    user: User,
    registry: Addr<PresenceRegistry>,
    chat: Chat,
    windows: HashMap<WindowId, Window>,
    /// Releases messages per conversation in `seq` order, each once.
    sequencer: Sequencer<DeliverMessage>,
    /// Deliveries that arrived before the first snapshot, which sets where each
    /// conversation starts (`None` once it is in).
    early: Option<Vec<DeliverMessage>>,
    metrics: Metrics,
}

impl UserActor {
    pub fn new(user: User, registry: Addr<PresenceRegistry>, chat: Chat, metrics: Metrics) -> Self {
        UserActor {
            user,
            registry,
            chat,
            windows: HashMap::new(),
            sequencer: Sequencer::default(),
            early: Some(Vec::new()),
            metrics,
        }
    }

    /// Hands a message to the windows: an `ack` to its origin window, the shared
    /// `message` frame to every other.
    fn deliver(&mut self, msg: DeliverMessage) {
        if msg.hidden {
            return;
        }
        let key = (msg.message.conversation_id, msg.message.seq);
        let origin = msg.origin.filter(|o| self.windows.contains_key(&o.window));
        if let Some(origin) = &origin {
            let ack = ServerEvent::Ack {
                reference: origin.reference.as_deref(),
                message: &msg.message,
            }
            .to_frame();
            self.send_to(origin.window, ack);
        }
        self.broadcast_keyed(Some(key), &msg.frame, origin.map(|o| o.window));
        if let Some(at) = msg.received_at {
            self.metrics
                .delivery_latency
                .observe(at.elapsed().as_secs_f64());
        }
    }

    fn release(&mut self, ready: Vec<DeliverMessage>) {
        for message in ready {
            self.deliver(message);
        }
    }

    /// Reads from the store what the windows have not seen: every conversation past what
    /// was delivered (`resync`), or only the ones with a gap open too long.
    fn catch_up(&mut self, resync: bool, ctx: &mut Context<Self>) {
        let gaps = self.sequencer.stale_gaps(self.chat.limits().gap_timeout);
        if !resync && gaps.is_empty() {
            return; // the usual case, checked on every tick: nothing to read
        }
        let pool = self.chat.pool.clone();
        let user = self.user.id;
        let delivered = self.sequencer.delivered();
        let page = self.chat.limits().history_max;
        let read = async move {
            let from: Vec<(ConversationId, i64)> = if resync {
                db::conversations::last_seqs(&pool, user)
                    .await?
                    .into_iter()
                    .filter(|(c, last)| *last > delivered.get(c).copied().unwrap_or(0))
                    .map(|(c, _)| (c, delivered.get(&c).copied().unwrap_or(0)))
                    .collect()
            } else {
                gaps
            };
            let mut missed = Vec::new();
            for (conversation, mut after) in from {
                loop {
                    let batch = db::messages::history_marked(
                        &pool,
                        conversation,
                        user,
                        Page::After(after),
                        page,
                    )
                    .await?;
                    let full = batch.len() as i64 == page;
                    after = batch.last().map_or(after, |(m, _)| m.seq);
                    missed.extend(batch);
                    if !full {
                        break;
                    }
                }
            }
            Ok::<_, crate::db::DbError>(missed)
        };
        ctx.spawn(read.into_actor(self).map(|result, act, ctx| match result {
            Ok(missed) => ctx.notify(StoreCaughtUp { missed }),
            Err(e) => log::error!(
                "catching up {} failed: {}",
                act.user.id,
                crate::error_chain(&e)
            ),
        }));
    }

    /// Hands a frame to one window, or queues it behind the window's snapshot.
    fn send_to(&mut self, id: WindowId, frame: ByteString) {
        self.send_keyed(id, None, frame);
    }

    /// Like [`Self::send_to`]; a message frame (`key`) its snapshot already counted is
    /// not sent again.
    fn send_keyed(&mut self, id: WindowId, key: Option<MessageKey>, frame: ByteString) {
        // Frames a window may fall behind (or queue behind its snapshot) before it closes.
        let bound = self.chat.limits().outbound_queue;
        let Some(window) = self.windows.get_mut(&id) else {
            return;
        };
        match window.hand(key, frame, bound) {
            Handed::Sent | Handed::Held => {}
            Handed::Full => {
                log::warn!("closing slow window {id} of {}", self.user.id);
                self.metrics.slow_consumers.inc();
                window.socket.do_send(ToSocket::Close {
                    code: close::SLOW_CONSUMER,
                    reason: "too far behind; reconnect",
                });
                self.drop_window(id);
            }
            Handed::Closed => self.drop_window(id),
        }
    }

    fn drop_window(&mut self, id: WindowId) {
        if self.windows.remove(&id).is_some() {
            self.registry.do_send(DetachSocket {
                user: self.user.id,
                window: id,
            });
        }
    }

    fn broadcast(&mut self, frame: &ByteString, except: Option<WindowId>) {
        self.broadcast_keyed(None, frame, except);
    }

    fn broadcast_keyed(
        &mut self,
        key: Option<MessageKey>,
        frame: &ByteString,
        except: Option<WindowId>,
    ) {
        let ids: Vec<WindowId> = self
            .windows
            .keys()
            .copied()
            .filter(|w| Some(*w) != except)
            .collect();
        for id in ids {
            self.send_keyed(id, key, frame.clone());
        }
    }

    fn send_error(&mut self, window: WindowId, reference: Option<&str>, error: &ChatError) {
        error.log_if_internal();
        self.send_to(
            window,
            error_frame(reference, error.code(), &error.to_string()),
        );
    }

    /// Builds and sends the `ready` snapshot of a new window, then what queued behind it.
    fn sync_window(
        &mut self,
        window: WindowId,
        expires_at: DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) {
        let registry = self.registry.clone();
        let pool = self.chat.pool.clone();
        let user = self.user.clone();
        let snapshot = async move {
            let online = registry
                .send(GetOnlineFor { viewer: user.id })
                .await
                .map_err(|e| e.to_string())?;
            let blocked = db::blocks::blocked_by(&pool, user.id)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            let conversations = db::conversations::list_for(&pool, user.id)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            let rooms = db::rooms::list(&pool)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            let ui = db::users::ui_state(&pool, user.id)
                .await
                .map_err(|e| crate::error_chain(&e))?;
            let known: HashMap<ConversationId, i64> =
                conversations.iter().map(|c| (c.id, c.last_seq)).collect();
            let ready = ServerEvent::Ready {
                me: &user,
                online: &online,
                blocked: &blocked,
                conversations: &conversations,
                rooms: &rooms,
                ui: &ui,
                expires_at,
            }
            .to_frame();
            Ok::<_, String>((ready, known))
        };
        ctx.spawn(snapshot.into_actor(self).map(move |result, act, _ctx| {
            let Some(entry) = act.windows.get_mut(&window) else {
                return;
            };
            match result {
                Ok((ready, known)) => {
                    let queued = entry.synced(known.clone());
                    act.send_to(window, ready);
                    for (key, frame) in queued {
                        act.send_keyed(window, key, frame);
                    }
                    if let Some(early) = act.early.take() {
                        // The first snapshot says where each conversation starts.
                        let mut ready = Vec::new();
                        for (conversation, last_seq) in known {
                            ready.extend(act.sequencer.known_up_to(conversation, last_seq));
                        }
                        for msg in early {
                            let (conversation, seq) =
                                (msg.message.conversation_id, msg.message.seq);
                            ready.extend(act.sequencer.offer(conversation, seq, msg));
                        }
                        act.release(ready);
                    }
                }
                Err(cause) => {
                    log::error!("snapshot for {} failed: {cause}", act.user.id);
                    entry.socket.do_send(ToSocket::Close {
                        code: 1011,
                        reason: "snapshot unavailable; reconnect",
                    });
                    act.drop_window(window);
                }
            }
        }));
    }

    /// Who asked for a write: the window and the frame's `ref`.
    fn origin(&self, window: WindowId, reference: &Option<String>) -> Option<Origin> {
        Some(Origin {
            window,
            reference: reference.clone(),
        })
    }

    /// Queues a write for `window` and reports a refusal to it. Successes reach the
    /// windows through the registry once committed.
    fn write(
        &mut self,
        window: WindowId,
        reference: Option<String>,
        op: WriteOp,
        ctx: &mut Context<Self>,
    ) {
        let origin = Origin {
            window,
            reference: reference.clone(),
        };
        let pending = self.chat.write(op, Some(origin));
        ctx.spawn(
            pending
                .into_actor(self)
                .map(move |result, act, _ctx| match result {
                    Ok(WriteOutcome::MessageExisted { message }) => {
                        let ack = ServerEvent::Ack {
                            reference: reference.as_deref(),
                            message: &message,
                        }
                        .to_frame();
                        act.send_to(window, ack);
                    }
                    Ok(_) => {}
                    Err(e) => act.send_error(window, reference.as_deref(), &e),
                }),
        );
    }

    /// Runs a room action; its window gets the reply (with `ref`), the user's other
    /// windows and everyone else hear of it through the registry once committed.
    fn room_action(
        &mut self,
        window: WindowId,
        reference: Option<String>,
        action: impl Future<Output = Result<WriteOutcome, ChatError>> + 'static,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(
            action
                .into_actor(self)
                .map(move |result, act, _ctx| match result {
                    Ok(outcome) => act.reply_to_room_action(window, reference.as_deref(), &outcome),
                    Err(e) => act.send_error(window, reference.as_deref(), &e),
                }),
        );
    }

    fn reply_to_room_action(
        &mut self,
        window: WindowId,
        reference: Option<&str>,
        outcome: &WriteOutcome,
    ) {
        let frame = match outcome {
            WriteOutcome::RoomCreated {
                room, conversation, ..
            }
            | WriteOutcome::RoomJoined {
                room, conversation, ..
            } => {
                // The room's messages reach this user from the one after the join on.
                let ready = self
                    .sequencer
                    .known_up_to(conversation.id, conversation.last_seq);
                self.release(ready);
                ServerEvent::Joined {
                    reference,
                    room,
                    conversation,
                }
                .to_frame()
            }
            WriteOutcome::RoomLeft { room, .. } => {
                self.sequencer.forget(room.id);
                ServerEvent::Left {
                    reference,
                    room_id: room.id,
                }
                .to_frame()
            }
            WriteOutcome::RoomDeleted { room } => {
                self.sequencer.forget(*room);
                ServerEvent::RoomDeleted {
                    reference,
                    room_id: *room,
                }
                .to_frame()
            }
            _ => return,
        };
        self.send_to(window, frame);
    }

    fn execute(
        &mut self,
        window: WindowId,
        address: Option<std::net::IpAddr>,
        decoded: Decoded,
        ctx: &mut Context<Self>,
    ) {
        let Decoded { reference, command } = decoded;
        let me = self.user.id;
        match command {
            // Handled by the socket session; never forwarded.
            Command::Auth { .. } => {}
            Command::Send {
                target,
                body,
                client_id,
                reply_to,
            } => {
                if let Err(e) = self.chat.check_send_rate(me) {
                    return self.send_error(window, reference.as_deref(), &e);
                }
                let op = WriteOp::SendMessage {
                    sender: me,
                    target,
                    body,
                    client_id,
                    reply_to,
                };
                self.write(window, reference, op, ctx);
            }
            Command::Read { conversation, seq } => {
                let op = WriteOp::MarkRead {
                    user: me,
                    conversation,
                    seq,
                };
                self.write(window, reference, op, ctx)
            }
            Command::Block { user } => self.write(
                window,
                reference,
                WriteOp::Block {
                    blocker: me,
                    blocked: user,
                },
                ctx,
            ),
            Command::Unblock { user } => self.write(
                window,
                reference,
                WriteOp::Unblock {
                    blocker: me,
                    blocked: user,
                },
                ctx,
            ),
            Command::Ui { state } => {
                self.write(window, reference, WriteOp::SaveUi { user: me, state }, ctx)
            }
            Command::History {
                conversation,
                page,
                limit,
            } => {
                let chat = self.chat.clone();
                let fut = async move { chat.history(me, conversation, page, limit).await };
                ctx.spawn(
                    fut.into_actor(self)
                        .map(move |result, act, _ctx| match result {
                            Ok(messages) => {
                                let frame = ServerEvent::History {
                                    reference: reference.as_deref(),
                                    conversation_id: conversation,
                                    messages: &messages,
                                }
                                .to_frame();
                                act.send_to(window, frame);
                            }
                            Err(e) => act.send_error(window, reference.as_deref(), &e),
                        }),
                );
            }
            Command::CreateRoom { name, password } => {
                let (chat, origin) = (self.chat.clone(), self.origin(window, &reference));
                let action = async move { chat.create_room(me, name, password, origin).await };
                self.room_action(window, reference, action, ctx);
            }
            Command::JoinRoom { room, password } => {
                let (chat, origin) = (self.chat.clone(), self.origin(window, &reference));
                let action =
                    async move { chat.join_room(me, room, password, address, origin).await };
                self.room_action(window, reference, action, ctx);
            }
            Command::LeaveRoom { room } => {
                let (chat, origin) = (self.chat.clone(), self.origin(window, &reference));
                let action = async move { chat.leave_room(me, room, origin).await };
                self.room_action(window, reference, action, ctx);
            }
            Command::DeleteRoom { room } => {
                let (chat, origin) = (self.chat.clone(), self.origin(window, &reference));
                let action = async move { chat.delete_room(me, room, origin).await };
                self.room_action(window, reference, action, ctx);
            }
            Command::Members { room } => {
                let chat = self.chat.clone();
                let fut = async move { chat.room_members(me, room).await };
                ctx.spawn(
                    fut.into_actor(self)
                        .map(move |result, act, _ctx| match result {
                            Ok(members) => {
                                let frame = ServerEvent::Members {
                                    reference: reference.as_deref(),
                                    room_id: room,
                                    members: &members,
                                }
                                .to_frame();
                                act.send_to(window, frame);
                            }
                            Err(e) => act.send_error(window, reference.as_deref(), &e),
                        }),
                );
            }
            Command::Typing { conversation } => {
                let chat = self.chat.clone();
                let fut = async move { chat.typing(me, conversation).await };
                ctx.spawn(fut.into_actor(self).map(move |result, act, _ctx| {
                    if let Err(e) = result {
                        act.send_error(window, reference.as_deref(), &e);
                    }
                }));
            }
        }
    }
}

impl Actor for UserActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::LARGE_MAILBOX);
        let every = self.chat.limits().gap_timeout / 2;
        ctx.run_interval(
            every.max(std::time::Duration::from_millis(50)),
            |act, ctx| act.catch_up(false, ctx),
        );
    }
}

impl Handler<AddWindow> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: AddWindow, ctx: &mut Self::Context) {
        self.windows.insert(msg.window, Window::new(msg.socket));
        self.sync_window(msg.window, msg.expires_at, ctx);
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

impl Handler<DeliverFrame> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverFrame, _ctx: &mut Self::Context) {
        self.broadcast(&msg.frame, msg.except);
    }
}

impl Handler<DeliverMessage> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverMessage, _ctx: &mut Self::Context) {
        if let Some(early) = &mut self.early {
            early.push(msg);
            return;
        }
        let (conversation, seq) = (msg.message.conversation_id, msg.message.seq);
        let ready = self.sequencer.offer(conversation, seq, msg);
        self.release(ready);
    }
}

impl Handler<Resync> for UserActor {
    type Result = ();

    fn handle(&mut self, _msg: Resync, ctx: &mut Self::Context) {
        self.catch_up(true, ctx);
        let (pool, user) = (self.chat.pool.clone(), self.user.id);
        ctx.spawn(
            async move { db::users::ui_state(&pool, user).await }
                .into_actor(self)
                .map(|result, act, _ctx| {
                    if let Ok(state) = result {
                        act.broadcast(&ServerEvent::Ui { state: &state }.to_frame(), None);
                    }
                }),
        );
    }
}

impl Handler<StoreCaughtUp> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: StoreCaughtUp, _ctx: &mut Self::Context) {
        let ready = sequencer::fill(&mut self.sequencer, msg.missed, |m, hidden| {
            DeliverMessage {
                frame: ServerEvent::Message { message: &m }.to_frame(),
                message: Arc::new(m),
                origin: None,
                received_at: None,
                hidden,
            }
        });
        self.release(ready);
    }
}

impl Handler<ExecuteCommand> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: ExecuteCommand, ctx: &mut Self::Context) {
        if self.windows.contains_key(&msg.window) {
            self.execute(msg.window, msg.address, msg.decoded, ctx);
        }
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
