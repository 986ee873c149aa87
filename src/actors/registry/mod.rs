//! The PresenceRegistry: who is online, who may see whom, and where to deliver.
//!
//! It is the one place on a node that decides a user's first and last local window,
//! owns the directory of UserActors (spawning one on a user's first window and stopping
//! it after the last), keeps each local user's block sets (so every viewer's online list
//! is block-filtered), and shows committed changes to the windows they concern.
//!
//! Alone, a node announces presence itself. In a cluster, it reports local socket counts
//! to the ClusterMirror, and presence comes back from Redis for every node alike.
//! Committed changes are applied locally at once and published for the other nodes.
//!
//! This file holds the actor and the messages it answers; its behaviour is split by
//! concern: `directory` (attach, detach, UserActors), `presence` (the online set and
//! whom a change concerns), `views` (what each window tracks of the list) and `pages`
//! (what is sent of it: first pages, asked pages, each tick's changes), `blocks` (block
//! sets) and `fanout` (committed and reported changes to windows).
//! What lower layers send up to it ([`DetachSocket`](crate::actors::messages::DetachSocket),
//! [`OpenOnlineView`](crate::actors::messages::OpenOnlineView),
//! [`UserTyped`](crate::actors::messages::UserTyped),
//! [`WritesCommitted`](crate::actors::persist::WritesCommitted)) is defined below it, by
//! the sender or in [`messages`](crate::actors::messages), and handled here.

mod blocks;
mod directory;
mod entry;
mod fanout;
mod online_set;
mod pages;
mod presence;
mod views;

use super::admission::Admitted;
use super::outbound::Outbound;
use super::user::UserActor;
use super::ToSocket;
use crate::chat::Chat;
use crate::cluster::{
    ChangeRoutes, ClusterEventReceived, GetLocalCounts, LocalCountChanged, OnlineSetReplaced,
    PublishEvent, ResyncUsers,
};
use crate::db::blocks::BlockSetReader;
use crate::domain::{User, UserId, WindowId};
use crate::metrics::Metrics;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use entry::Entry;
use std::collections::HashMap;
use std::sync::Arc;

/// How often windows get the presence changes gathered for them: at most 5 frames a
/// second whatever the churn, and a change waits at most this long.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(200);

/// How often a window whose range saw no change hears that the count moved: a count
/// pushed on every arrival would be a frame per window per arrival.
pub const COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Command: a socket of `user` authenticated; attach it to the user's UserActor (spawned
/// on their first window here), which the socket then sends its commands to.
#[derive(Message)]
#[rtype(result = "Result<Addr<UserActor>, AttachRefused>")]
pub struct AttachSocket {
    pub user: User,
    pub window: WindowId,
    pub socket: Recipient<ToSocket>,
    /// The socket's byte budget, handed on to the UserActor.
    pub outbound: Arc<Outbound>,
    pub expires_at: DateTime<Utc>,
    /// The window's turn at the connect gate, handed on to the UserActor, which lets
    /// it go once the window's `ready` is out.
    pub admitted: Admitted,
    /// The `ref` of the `auth` frame, carried back by `ready`.
    pub reference: Option<String>,
}

/// Why a window was not attached (the socket closes with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachRefused {
    #[error("this user already has the most windows allowed")]
    TooManyWindows,
}

/// Query: a page of the online list for the HTTP API, whose caller may have no window
/// here: `hidden` (the caller's blocks, both ways, read from Postgres) and the viewer
/// are left out. Answers the page and how many match in all; costs O(offset + limit),
/// and the count O(hidden) (O(matches) with a prefix), never the whole population.
#[derive(Message)]
#[rtype(result = "(Vec<User>, usize)")]
pub struct GetOnlinePage {
    pub viewer: UserId,
    pub hidden: std::collections::HashSet<UserId>,
    /// Lower case; empty for everyone.
    pub prefix: String,
    pub offset: usize,
    pub limit: usize,
}

/// Command: close every window on this node with `code` (shutdown: 1012, "reconnect
/// elsewhere").
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseAllWindows {
    pub code: u16,
    pub reason: &'static str,
}

/// Command (shutdown): answered once every committed write that reached the registry
/// before it has been handed to the ClusterMirror, so the mirror's last flush carries
/// the writes the PersistActor's drain committed (the registry handles its mailbox in
/// order, and the drain's writes were sent to it before the drain was answered).
#[derive(Message)]
#[rtype(result = "()")]
pub struct FinishPublishing;

/// The ClusterMirror, as far as the registry calls it.
pub struct ClusterLink {
    /// Takes local socket counts; Redis decides presence from them.
    pub counts: Recipient<LocalCountChanged>,
    /// Takes this node's committed changes, for the other nodes.
    pub events: Recipient<PublishEvent>,
    /// Takes where this node's users have windows, so their events are routed here.
    pub routes: Recipient<ChangeRoutes>,
}

pub struct PresenceRegistry {
    /// Reads local users' block sets, in batches under a connect storm.
    block_sets: BlockSetReader,
    /// Handed to each UserActor it spawns.
    chat: Chat,
    /// This node's users (those with a socket here).
    users: HashMap<UserId, Entry>,
    /// Everyone announced online: this node's users alone, or the whole cluster's.
    online: online_set::OnlineSet,
    /// What each local window tracks of the online list, and its changes since the tick.
    views: views::Views,
    /// Set when several nodes share Redis: presence is then decided there.
    cluster: Option<ClusterLink>,
    next_generation: u64,
    /// Ticks since start, for the slower count refresh.
    ticks: u64,
    max_windows: usize,
    metrics: Metrics,
}

impl PresenceRegistry {
    pub fn new(
        block_sets: BlockSetReader,
        chat: Chat,
        max_windows: usize,
        metrics: Metrics,
    ) -> Self {
        PresenceRegistry {
            block_sets,
            chat,
            users: HashMap::new(),
            online: online_set::OnlineSet::default(),
            views: views::Views::default(),
            cluster: None,
            next_generation: 0,
            ticks: 0,
            max_windows,
            metrics,
        }
    }

    /// Joins a cluster: from now on presence comes from the mirror.
    pub fn with_cluster(mut self, cluster: ClusterLink) -> Self {
        self.cluster = Some(cluster);
        self
    }
}

impl Actor for PresenceRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(super::LARGE_MAILBOX);
        ctx.run_interval(TICK, |act, _| act.tick());
    }
}
