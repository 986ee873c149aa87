//! The PresenceRegistry: who is online on this node, who may see whom, and where to
//! deliver.
//!
//! It is the one place that decides a user's first and last window (so `presence`
//! events are exact), owns the directory of UserActors (spawning one on a user's first
//! window and stopping it after the last), keeps each online user's block sets (so every
//! viewer's online list is block-filtered), and routes committed writes from the
//! PersistActor to the UserActors of the people they concern.

use super::persist::{Origin, WritesCommitted};
use super::user::{AddWindow, DeliverFrame, DeliverMessage, RemoveWindow, StopUser, UserActor};
use super::ToSocket;
use crate::chat::Chat;
use crate::db::writes::WriteOutcome;
use crate::db::{self, Pool};
use crate::domain::{ConversationId, User, UserId, WindowId};
use crate::metrics::Metrics;
use crate::protocol::ServerEvent;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
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

/// Query: every announced online user, unfiltered (callers filter with their own blocks).
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

/// Internal: a user's block sets finished loading.
#[derive(Message)]
#[rtype(result = "()")]
struct BlockSetsLoaded {
    user: UserId,
    generation: u64,
    result: Result<db::blocks::BlockSets, String>,
}

/// A block change that arrived while the user's block sets were loading.
#[derive(Debug, Clone, Copy)]
enum BlockChange {
    Outgoing { other: UserId, active: bool },
    Incoming { other: UserId, active: bool },
}

enum Phase {
    /// Block sets are loading; the user is not announced yet.
    Loading {
        changes: Vec<BlockChange>,
        waiting: Vec<oneshot::Sender<Vec<User>>>,
    },
    /// Announced: others see the user (block permitting).
    Online,
}

struct Entry {
    user: User,
    actor: Addr<UserActor>,
    windows: HashSet<WindowId>,
    phase: Phase,
    /// Whom this user blocked.
    blocks_out: HashSet<UserId>,
    /// Who blocked this user.
    blocks_in: HashSet<UserId>,
    /// Tells a late load result apart from the current incarnation's.
    generation: u64,
}

impl Entry {
    fn hides(&self, other: UserId) -> bool {
        self.blocks_out.contains(&other) || self.blocks_in.contains(&other)
    }

    fn apply(&mut self, change: BlockChange) {
        let (set, other, active) = match change {
            BlockChange::Outgoing { other, active } => (&mut self.blocks_out, other, active),
            BlockChange::Incoming { other, active } => (&mut self.blocks_in, other, active),
        };
        if active {
            set.insert(other);
        } else {
            set.remove(&other);
        }
    }

    fn is_online(&self) -> bool {
        matches!(self.phase, Phase::Online)
    }
}

pub struct PresenceRegistry {
    pool: Pool,
    /// Handed to each UserActor it spawns.
    chat: Chat,
    users: HashMap<UserId, Entry>,
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
            next_generation: 0,
            max_windows,
            metrics,
        }
    }

    fn online_for(&self, viewer: &Entry) -> Vec<User> {
        self.users
            .values()
            .filter(|e| e.is_online() && e.user.id != viewer.user.id && !viewer.hides(e.user.id))
            .map(|e| e.user.clone())
            .collect()
    }

    /// Tells everyone who may see `user` that they came online or went offline.
    fn announce(&self, user: &Entry, online: bool) {
        let frame = ServerEvent::Presence {
            user: &user.user,
            online,
        }
        .to_frame();
        for viewer in self.users.values() {
            if viewer.user.id != user.user.id && viewer.is_online() && !user.hides(viewer.user.id) {
                viewer.actor.do_send(DeliverFrame {
                    frame: frame.clone(),
                    except: None,
                });
            }
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

    fn block_changed(
        &mut self,
        blocker: &User,
        blocked: &User,
        active: bool,
        origin: Option<&Origin>,
    ) {
        let both_online = |users: &HashMap<UserId, Entry>| {
            users.get(&blocker.id).is_some_and(Entry::is_online)
                && users.get(&blocked.id).is_some_and(Entry::is_online)
        };
        let visible_before = both_online(&self.users) && !self.users[&blocker.id].hides(blocked.id);
        let changes = [
            (
                blocker.id,
                BlockChange::Outgoing {
                    other: blocked.id,
                    active,
                },
            ),
            (
                blocked.id,
                BlockChange::Incoming {
                    other: blocker.id,
                    active,
                },
            ),
        ];
        for (id, change) in changes {
            if let Some(entry) = self.users.get_mut(&id) {
                entry.apply(change);
                if let Phase::Loading { changes, .. } = &mut entry.phase {
                    changes.push(change);
                }
            }
        }
        let visible_after = both_online(&self.users) && !self.users[&blocker.id].hides(blocked.id);
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
        if visible_before != visible_after {
            for (viewer, subject) in [(blocker, blocked), (blocked, blocker)] {
                let frame = ServerEvent::Presence {
                    user: subject,
                    online: visible_after,
                }
                .to_frame();
                self.users[&viewer.id].actor.do_send(DeliverFrame {
                    frame,
                    except: None,
                });
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
        Ok(entry.actor.clone())
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
        if !entry.windows.is_empty() {
            return;
        }
        let entry = self.users.remove(&msg.user).expect("present above");
        self.metrics.users_online.dec();
        entry.actor.do_send(StopUser);
        if entry.is_online() {
            self.announce(&entry, false);
        }
    }
}

impl Handler<BlockSetsLoaded> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: BlockSetsLoaded, ctx: &mut Self::Context) {
        let Some(entry) = self.users.get_mut(&msg.user) else {
            return;
        };
        if entry.generation != msg.generation || entry.is_online() {
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
        let entry = &self.users[&msg.user];
        if !waiting.is_empty() {
            let online = self.online_for(entry);
            for w in waiting {
                let _ = w.send(online.clone());
            }
        }
        self.announce(entry, true);
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
        MessageResult(
            self.users
                .values()
                .filter(|e| e.is_online())
                .map(|e| e.user.clone())
                .collect(),
        )
    }
}

impl Handler<UserTyped> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: UserTyped, _ctx: &mut Self::Context) {
        let frame = ServerEvent::Typing {
            conversation_id: msg.conversation,
            user_id: msg.sender,
        }
        .to_frame();
        for member in msg.members {
            if member == msg.sender {
                continue;
            }
            if let Some(entry) = self.users.get(&member) {
                if entry.is_online() && !entry.hides(msg.sender) {
                    entry.actor.do_send(DeliverFrame {
                        frame: frame.clone(),
                        except: None,
                    });
                }
            }
        }
    }
}

impl Handler<WritesCommitted> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: WritesCommitted, _ctx: &mut Self::Context) {
        for write in msg.writes {
            match write.outcome {
                WriteOutcome::MessageStored {
                    message,
                    recipients,
                } => {
                    let frame = ServerEvent::Message { message: &message }.to_frame();
                    let message = Arc::new(message);
                    for recipient in recipients {
                        if let Some(entry) = self.users.get(&recipient) {
                            let origin = (recipient == message.sender_id)
                                .then(|| write.origin.clone())
                                .flatten();
                            entry.actor.do_send(DeliverMessage {
                                message: message.clone(),
                                frame: frame.clone(),
                                origin,
                                received_at: write.received_at,
                            });
                        }
                    }
                }
                WriteOutcome::ReadMoved {
                    user,
                    conversation,
                    seq,
                } => {
                    if let Some(entry) = self.users.get(&user) {
                        entry.actor.do_send(DeliverFrame {
                            frame: ServerEvent::Read {
                                conversation_id: conversation,
                                seq,
                            }
                            .to_frame(),
                            except: write.origin.map(|o| o.window),
                        });
                    }
                }
                WriteOutcome::UiSaved { user, state } => {
                    if let Some(entry) = self.users.get(&user) {
                        entry.actor.do_send(DeliverFrame {
                            frame: ServerEvent::Ui { state: &state }.to_frame(),
                            except: write.origin.map(|o| o.window),
                        });
                    }
                }
                WriteOutcome::BlockChanged {
                    blocker,
                    blocked,
                    active,
                    ..
                } => self.block_changed(&blocker, &blocked, active, write.origin.as_ref()),
                WriteOutcome::MessageExisted { .. } | WriteOutcome::DirectOpened { .. } => {}
            }
        }
    }
}
