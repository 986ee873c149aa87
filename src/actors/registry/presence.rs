//! Presence: who is announced online, and what each local viewer may see of it.
//!
//! Alone, a node decides presence itself from its users' first and last windows. In a
//! cluster it reports local socket counts to the mirror, and presence comes back from
//! Redis (as a [`ClusterEvent::Presence`](crate::cluster::ClusterEvent), through the
//! fan-out) for every node alike.

use super::entry::{Entry, Phase};
use super::{GetLocalCounts, GetOnlineUsers, OnlineSetReplaced, PresenceRegistry};
use crate::actors::messages::GetOnlineFor;
use crate::actors::user::DeliverFrame;
use crate::cluster::LocalCountChanged;
use crate::domain::{User, UserId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use tokio::sync::oneshot;

impl PresenceRegistry {
    /// Everyone online but `viewer` and those hidden from them by a block.
    pub(super) fn online_for(&self, viewer: &Entry) -> Vec<User> {
        self.online
            .values()
            .filter(|u| u.id != viewer.user.id && !viewer.hides(u.id))
            .cloned()
            .collect()
    }

    /// Records `user`'s arrival or departure and tells every local viewer allowed to see.
    pub(super) fn set_online(&mut self, user: &User, online: bool) {
        let changed = if online {
            self.online.insert(user.id, user.clone()).is_none()
        } else {
            self.online.remove(&user.id).is_some()
        };
        if !changed {
            return;
        }
        let frame = ServerEvent::Presence {
            user: Cow::Borrowed(user),
            online,
        }
        .to_frame();
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
    pub(super) fn local_count_changed(&mut self, user: User, count: usize) {
        match &self.cluster {
            Some(cluster) => cluster.counts.do_send(LocalCountChanged { user, count }),
            None => self.set_online(&user, count > 0),
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
