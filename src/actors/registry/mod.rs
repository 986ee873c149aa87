//! The PresenceRegistry: who is online, who may see whom, and where to deliver.
//!
//! It is the one place on a node that decides a user's first and last local window,
//! owns the directory of UserActors (spawning one on a user's first window and stopping
//! it after the last), keeps each local user's block sets (so every viewer's online list
//! is block-filtered), and shows committed changes to the windows they concern.
//!
//! Alone, a node announces presence itself. In a cluster, it reports local socket counts
//! to the [`ClusterMirror`], and presence comes back from Redis for every node alike.
//! Committed changes are applied locally at once and published for the other nodes.

mod entry;

use super::persist::{Origin, WritesCommitted};
use super::user::{
    AddWindow, CloseWindows, DeliverFrame, DeliverMessage, RemoveWindow, Resync, StopUser,
    UserActor,
};
use super::ToSocket;
use crate::chat::Chat;
use crate::cluster::{
    ClusterEvent, ClusterEventReceived, ClusterMirror, GetLocalCounts, LocalCountChanged,
    OnlineSetReplaced, PublishEvent, ResyncUsers,
};
use crate::db::writes::WriteOutcome;
use crate::db::{self, Pool};
use crate::domain::{ConversationId, Room, User, UserId, WindowId};
use crate::metrics::Metrics;
use crate::protocol::ServerEvent;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use entry::{BlockChange, Entry, Phase};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Command: a socket of `user` authenticated; attach it to the user's UserActor.
#[derive(Message)]
#[rtype(result = "Result<Addr<UserActor>, AttachRefused>")]
pub struct AttachSocket {
    pub user: User,
    pub window: WindowId,
    pub socket: Recipient<ToSocket>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachRefused {
    #[error("this user already has the most windows allowed")]
    TooManyWindows,
}

/// Command: a socket closed (or was evicted). Idempotent.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DetachSocket {
    pub user: UserId,
    pub window: WindowId,
}

/// Query: `viewer`'s block-filtered online list. Waits while the viewer's block sets
/// are still loading, so the answer is never unfiltered.
#[derive(Message)]
#[rtype(result = "Vec<User>")]
pub struct GetOnlineFor {
    pub viewer: UserId,
}

/// Query: everyone announced online, unfiltered (callers filter with their own blocks).
#[derive(Message)]
#[rtype(result = "Vec<User>")]
pub struct GetOnlineUsers;

/// Notification: `sender` is typing in `conversation`, whose members are `members`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserTyped {
    pub sender: UserId,
    pub conversation: ConversationId,
    pub members: Vec<UserId>,
}

/// Command: close every window on this node with `code` (shutdown: 1012, "reconnect
/// elsewhere").
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAllWindows {
    pub code: u16,
    pub reason: &'static str,
}

/// Internal: a user's block sets finished loading.
#[derive(Message)]
#[rtype(result = "()")]
struct BlockSetsLoaded {
    user: UserId,
    generation: u64,
    result: Result<db::blocks::BlockSets, String>,
}

pub struct PresenceRegistry {
    pool: Pool,
    /// Handed to each UserActor it spawns.
    chat: Chat,
    /// This node's users (those with a socket here).
    users: HashMap<UserId, Entry>,
    /// Everyone announced online: this node's users alone, or the whole cluster's.
    online: HashMap<UserId, User>,
    /// Set when several nodes share Redis: presence is then decided there.
    cluster: Option<Addr<ClusterMirror>>,
    next_generation: u64,
    max_windows: usize,
    metrics: Metrics,
}

impl PresenceRegistry {
    pub fn new(pool: Pool, chat: Chat, max_windows: usize, metrics: Metrics) -> Self {
        PresenceRegistry {
            pool,
            chat,
            users: HashMap::new(),
            online: HashMap::new(),
            cluster: None,
            next_generation: 0,
            max_windows,
            metrics,
        }
    }

    /// Joins a cluster: from now on presence comes from the mirror.
    pub fn with_cluster(mut self, mirror: Addr<ClusterMirror>) -> Self {
        self.cluster = Some(mirror);
        self
    }

    fn online_for(&self, viewer: &Entry) -> Vec<User> {
        self.online
            .values()
            .filter(|u| u.id != viewer.user.id && !viewer.hides(u.id))
            .cloned()
            .collect()
    }

    /// Records `user`'s arrival or departure and tells every local viewer allowed to see.
    fn set_online(&mut self, user: &User, online: bool) {
        let changed = if online {
            self.online.insert(user.id, user.clone()).is_none()
        } else {
            self.online.remove(&user.id).is_some()
        };
        if !changed {
            return;
        }
        let frame = ServerEvent::Presence { user, online }.to_frame();
        for viewer in self.users.values() {
            if viewer.user.id != user.id && viewer.is_online() && !viewer.hides(user.id) {
                viewer.actor.do_send(DeliverFrame {
                    frame: frame.clone(),
                    except: None,
                });
            }
        }
    }

    /// A local user's socket count changed, or they became announceable. In a cluster
    /// Redis decides what that means; alone, the first and last socket decide.
    fn local_count_changed(&mut self, user: User, count: usize) {
        match &self.cluster {
            Some(mirror) => mirror.do_send(LocalCountChanged { user, count }),
            None => self.set_online(&user, count > 0),
        }
    }

    fn publish(&self, event: ClusterEvent) {
        if let Some(mirror) = &self.cluster {
            mirror.do_send(PublishEvent { event });
        }
    }

    fn load_block_sets(
        &self,
        user: UserId,
        generation: u64,
        delay: Duration,
        ctx: &mut Context<Self>,
    ) {
        let pool = self.pool.clone();
        let me = ctx.address();
        actix::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = db::blocks::block_sets(&pool, user)
                .await
                .map_err(|e| crate::error_chain(&e));
            me.do_send(BlockSetsLoaded {
                user,
                generation,
                result,
            });
        });
    }

    /// Applies a block change to the local parties: their block sets, presence both ways
    /// (if both are online), and the blocker's other windows.
    fn block_changed(
        &mut self,
        blocker: &User,
        blocked: &User,
        active: bool,
        origin: Option<&Origin>,
    ) {
        // The blocker's other windows hear of it first, then presence changes both ways.
        if let Some(entry) = self.users.get(&blocker.id) {
            let frame = if active {
                ServerEvent::Blocked { user: blocked }
            } else {
                ServerEvent::Unblocked { user: blocked }
            }
            .to_frame();
            entry.actor.do_send(DeliverFrame {
                frame,
                except: origin.map(|o| o.window),
            });
        }
        let both_online =
            self.online.contains_key(&blocker.id) && self.online.contains_key(&blocked.id);
        let parties = [
            (
                blocker,
                blocked,
                BlockChange::Outgoing {
                    other: blocked.id,
                    active,
                },
            ),
            (
                blocked,
                blocker,
                BlockChange::Incoming {
                    other: blocker.id,
                    active,
                },
            ),
        ];
        for (me, other, change) in parties {
            let Some(entry) = self.users.get_mut(&me.id) else {
                continue;
            };
            let hidden_before = entry.hides(other.id);
            entry.record(change);
            if let Phase::Loading { changes, .. } = &mut entry.phase {
                changes.push(change);
                continue;
            }
            let hidden_after = entry.hides(other.id);
            if both_online && hidden_before != hidden_after {
                entry.show_presence(other, !hidden_after);
            }
        }
    }

    /// Sends `frame` to every window on this node, but `except`.
    fn to_everyone(&self, frame: &bytestring::ByteString, except: Option<WindowId>) {
        for entry in self.users.values().filter(|e| e.is_online()) {
            entry.actor.do_send(DeliverFrame {
                frame: frame.clone(),
                except,
            });
        }
    }

    /// Tells a room's other members here that `user` joined or left.
    fn to_members(&self, members: &[UserId], room: &Room, user: &User, joined: bool) {
        let frame = ServerEvent::Member {
            room_id: room.id,
            user,
            joined,
        }
        .to_frame();
        for member in members.iter().filter(|m| **m != user.id) {
            self.to_user(*member, frame.clone(), None);
        }
    }

    /// Sends `frame` to `user`'s windows here, but `except`.
    fn to_user(&self, user: UserId, frame: bytestring::ByteString, except: Option<WindowId>) {
        if let Some(entry) = self.users.get(&user) {
            entry.actor.do_send(DeliverFrame { frame, except });
        }
    }

    /// Shows a committed change to this node's windows; `origin` is set when the change
    /// came from one of them.
    fn apply(
        &mut self,
        event: &ClusterEvent,
        origin: Option<&Origin>,
        received_at: Option<Instant>,
    ) {
        let except = origin.map(|o| o.window);
        match event {
            ClusterEvent::Presence { user, online } => self.set_online(user, *online),
            ClusterEvent::Message {
                message,
                recipients,
                hidden_from,
            } => {
                let frame = ServerEvent::Message { message }.to_frame();
                let shared = Arc::new(message.clone());
                let everyone = recipients.iter().map(|u| (u, false));
                for (recipient, hidden) in everyone.chain(hidden_from.iter().map(|u| (u, true))) {
                    if let Some(entry) = self.users.get(recipient) {
                        let origin = (*recipient == message.sender_id)
                            .then(|| origin.cloned())
                            .flatten();
                        entry.actor.do_send(DeliverMessage {
                            message: shared.clone(),
                            frame: frame.clone(),
                            origin,
                            received_at,
                            hidden,
                        });
                    }
                }
            }
            ClusterEvent::Read {
                user,
                conversation,
                seq,
            } => {
                let frame = ServerEvent::Read {
                    conversation_id: *conversation,
                    seq: *seq,
                }
                .to_frame();
                self.to_user(*user, frame, except);
            }
            ClusterEvent::Ui { user, state } => {
                self.to_user(*user, ServerEvent::Ui { state }.to_frame(), except)
            }
            ClusterEvent::Block {
                blocker,
                blocked,
                active,
            } => self.block_changed(blocker, blocked, *active, origin),
            ClusterEvent::RoomCreated {
                room,
                creator,
                conversation,
            } => {
                self.to_everyone(&ServerEvent::Room { room }.to_frame(), None);
                let joined = ServerEvent::Joined {
                    reference: None,
                    room,
                    conversation,
                };
                self.to_user(creator.id, joined.to_frame(), except);
            }
            ClusterEvent::RoomJoined {
                user,
                room,
                conversation,
                members,
            } => {
                self.to_everyone(&ServerEvent::Room { room }.to_frame(), None);
                let joined = ServerEvent::Joined {
                    reference: None,
                    room,
                    conversation,
                };
                self.to_user(user.id, joined.to_frame(), except);
                self.to_members(members, room, user, true);
            }
            ClusterEvent::RoomLeft {
                user,
                room,
                members,
            } => {
                self.to_everyone(&ServerEvent::Room { room }.to_frame(), None);
                let left = ServerEvent::Left {
                    reference: None,
                    room_id: room.id,
                };
                self.to_user(user.id, left.to_frame(), except);
                self.to_members(members, room, user, false);
            }
            ClusterEvent::RoomDeleted { room } => {
                let deleted = ServerEvent::RoomDeleted {
                    reference: None,
                    room_id: *room,
                };
                self.to_everyone(&deleted.to_frame(), except);
            }
            ClusterEvent::Typing {
                sender,
                conversation,
                members,
            } => {
                let frame = ServerEvent::Typing {
                    conversation_id: *conversation,
                    user_id: *sender,
                }
                .to_frame();
                for member in members.iter().filter(|m| *m != sender) {
                    if let Some(entry) = self.users.get(member) {
                        if entry.is_online() && !entry.hides(*sender) {
                            entry.actor.do_send(DeliverFrame {
                                frame: frame.clone(),
                                except: None,
                            });
                        }
                    }
                }
            }
        }
    }
}

impl Actor for PresenceRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::LARGE_MAILBOX);
    }
}

impl Handler<AttachSocket> for PresenceRegistry {
    type Result = Result<Addr<UserActor>, AttachRefused>;

    fn handle(&mut self, msg: AttachSocket, ctx: &mut Self::Context) -> Self::Result {
        let id = msg.user.id;
        if !self.users.contains_key(&id) {
            self.next_generation += 1;
            let generation = self.next_generation;
            let actor = UserActor::new(
                msg.user.clone(),
                ctx.address(),
                self.chat.clone(),
                self.metrics.clone(),
            )
            .start();
            self.users.insert(
                id,
                Entry {
                    user: msg.user.clone(),
                    actor,
                    windows: HashSet::new(),
                    phase: Phase::Loading {
                        changes: Vec::new(),
                        waiting: Vec::new(),
                    },
                    blocks_out: HashSet::new(),
                    blocks_in: HashSet::new(),
                    generation,
                    reloading: None,
                },
            );
            self.metrics.users_online.inc();
            self.load_block_sets(id, generation, Duration::ZERO, ctx);
        }
        let entry = self.users.get_mut(&id).expect("inserted above");
        if entry.windows.len() >= self.max_windows {
            return Err(AttachRefused::TooManyWindows);
        }
        entry.windows.insert(msg.window);
        self.metrics.sockets_open.inc();
        entry.actor.do_send(AddWindow {
            window: msg.window,
            socket: msg.socket,
            expires_at: msg.expires_at,
        });
        let (actor, user, count, announceable) = (
            entry.actor.clone(),
            entry.user.clone(),
            entry.windows.len(),
            entry.is_online(),
        );
        if announceable {
            self.local_count_changed(user, count);
        }
        Ok(actor)
    }
}

impl Handler<DetachSocket> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: DetachSocket, _ctx: &mut Self::Context) {
        let Some(entry) = self.users.get_mut(&msg.user) else {
            return;
        };
        if !entry.windows.remove(&msg.window) {
            return;
        }
        self.metrics.sockets_open.dec();
        entry.actor.do_send(RemoveWindow { window: msg.window });
        let (user, count, announceable) =
            (entry.user.clone(), entry.windows.len(), entry.is_online());
        if count == 0 {
            let entry = self.users.remove(&msg.user).expect("present above");
            self.metrics.users_online.dec();
            entry.actor.do_send(StopUser);
        }
        if announceable {
            self.local_count_changed(user, count);
        }
    }
}

impl Handler<BlockSetsLoaded> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: BlockSetsLoaded, ctx: &mut Self::Context) {
        let Some(entry) = self.users.get_mut(&msg.user) else {
            return;
        };
        if entry.generation != msg.generation || (entry.is_online() && entry.reloading.is_none()) {
            return;
        }
        let sets = match msg.result {
            Ok(sets) => sets,
            Err(cause) => {
                log::error!("loading blocks of {} failed, retrying: {cause}", msg.user);
                self.load_block_sets(msg.user, msg.generation, Duration::from_secs(1), ctx);
                return;
            }
        };
        if let Some(changes) = entry.reloading.take() {
            return self.block_sets_reloaded(msg.user, sets, changes);
        }
        let Phase::Loading { changes, waiting } =
            std::mem::replace(&mut entry.phase, Phase::Online)
        else {
            return;
        };
        entry.blocks_out = sets.outgoing.into_iter().collect();
        entry.blocks_in = sets.incoming.into_iter().collect();
        for change in changes {
            entry.apply(change);
        }
        let (user, count) = (entry.user.clone(), entry.windows.len());
        let online = self.online_for(&self.users[&msg.user]);
        for w in waiting {
            let _ = w.send(online.clone());
        }
        self.local_count_changed(user, count);
    }
}

impl PresenceRegistry {
    /// Replaces an online user's block sets with a fresh read (plus what changed since)
    /// and tells their windows whose visibility changed.
    fn block_sets_reloaded(
        &mut self,
        user: UserId,
        sets: db::blocks::BlockSets,
        changes: Vec<BlockChange>,
    ) {
        let Some(entry) = self.users.get_mut(&user) else {
            return;
        };
        let before: HashSet<UserId> = self
            .online
            .keys()
            .copied()
            .filter(|u| entry.hides(*u))
            .collect();
        entry.blocks_out = sets.outgoing.into_iter().collect();
        entry.blocks_in = sets.incoming.into_iter().collect();
        for change in changes {
            entry.apply(change);
        }
        for other in self.online.values() {
            let (was, is) = (before.contains(&other.id), entry.hides(other.id));
            if other.id != user && was != is {
                entry.show_presence(other, !is);
            }
        }
    }
}

impl Handler<GetOnlineFor> for PresenceRegistry {
    type Result = ResponseFuture<Vec<User>>;

    fn handle(&mut self, msg: GetOnlineFor, _ctx: &mut Self::Context) -> Self::Result {
        let Some(entry) = self.users.get_mut(&msg.viewer) else {
            return Box::pin(async { Vec::new() });
        };
        if let Phase::Loading { waiting, .. } = &mut entry.phase {
            let (tx, rx) = oneshot::channel();
            waiting.push(tx);
            return Box::pin(async move { rx.await.unwrap_or_default() });
        }
        let online = self.online_for(&self.users[&msg.viewer]);
        Box::pin(async move { online })
    }
}

impl Handler<GetOnlineUsers> for PresenceRegistry {
    type Result = MessageResult<GetOnlineUsers>;

    fn handle(&mut self, _msg: GetOnlineUsers, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.online.values().cloned().collect())
    }
}

impl Handler<UserTyped> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: UserTyped, _ctx: &mut Self::Context) {
        let event = ClusterEvent::Typing {
            sender: msg.sender,
            conversation: msg.conversation,
            members: msg.members,
        };
        self.apply(&event, None, None);
        self.publish(event);
    }
}

impl Handler<WritesCommitted> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: WritesCommitted, _ctx: &mut Self::Context) {
        for write in msg.writes {
            let event = match write.outcome {
                WriteOutcome::MessageStored {
                    message,
                    recipients,
                    hidden_from,
                } => ClusterEvent::Message {
                    message,
                    recipients,
                    hidden_from,
                },
                WriteOutcome::ReadMoved {
                    user,
                    conversation,
                    seq,
                } => ClusterEvent::Read {
                    user,
                    conversation,
                    seq,
                },
                WriteOutcome::UiSaved { user, state } => ClusterEvent::Ui { user, state },
                WriteOutcome::BlockChanged {
                    blocker,
                    blocked,
                    active,
                    ..
                } => ClusterEvent::Block {
                    blocker,
                    blocked,
                    active,
                },
                WriteOutcome::RoomCreated {
                    room,
                    creator,
                    conversation,
                } => ClusterEvent::RoomCreated {
                    room,
                    creator,
                    conversation,
                },
                WriteOutcome::RoomJoined {
                    user,
                    room,
                    conversation,
                    members,
                    changed: true,
                } => ClusterEvent::RoomJoined {
                    user,
                    room,
                    conversation,
                    members,
                },
                WriteOutcome::RoomLeft {
                    user,
                    room,
                    members,
                    changed: true,
                } => ClusterEvent::RoomLeft {
                    user,
                    room,
                    members,
                },
                WriteOutcome::RoomDeleted { room } => ClusterEvent::RoomDeleted { room },
                WriteOutcome::MessageExisted { .. }
                | WriteOutcome::DirectOpened { .. }
                | WriteOutcome::RoomJoined { changed: false, .. }
                | WriteOutcome::RoomLeft { changed: false, .. } => continue,
            };
            self.apply(&event, write.origin.as_ref(), Some(write.received_at));
            self.publish(event);
        }
    }
}

impl Handler<ClusterEventReceived> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: ClusterEventReceived, _ctx: &mut Self::Context) {
        self.apply(&msg.event, None, None);
    }
}

impl Handler<OnlineSetReplaced> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: OnlineSetReplaced, _ctx: &mut Self::Context) {
        let now: HashMap<UserId, User> = msg.users.into_iter().map(|u| (u.id, u)).collect();
        let gone: Vec<User> = self
            .online
            .values()
            .filter(|u| !now.contains_key(&u.id))
            .cloned()
            .collect();
        for user in gone {
            self.set_online(&user, false);
        }
        for user in now.values() {
            self.set_online(user, true);
        }
    }
}

impl Handler<GetLocalCounts> for PresenceRegistry {
    type Result = MessageResult<GetLocalCounts>;

    fn handle(&mut self, _msg: GetLocalCounts, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.users
                .values()
                .filter(|e| e.is_online())
                .map(|e| (e.user.clone(), e.windows.len()))
                .collect(),
        )
    }
}

impl Handler<ResyncUsers> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, _msg: ResyncUsers, ctx: &mut Self::Context) {
        let mut reload = Vec::new();
        for (id, entry) in self.users.iter_mut() {
            entry.actor.do_send(Resync);
            // Block events may have been missed too: re-read the sets of the announced.
            if entry.is_online() && entry.reloading.is_none() {
                entry.reloading = Some(Vec::new());
                reload.push((*id, entry.generation));
            }
        }
        for (id, generation) in reload {
            self.load_block_sets(id, generation, Duration::ZERO, ctx);
        }
    }
}

impl Handler<CloseAllWindows> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: CloseAllWindows, _ctx: &mut Self::Context) {
        for entry in self.users.values() {
            entry.actor.do_send(CloseWindows {
                code: msg.code,
                reason: msg.reason,
            });
        }
    }
}
