//! Presence: who is announced online, and what each local viewer may see of it.
//!
//! Alone, a node decides presence itself from its users' first and last windows. In a
//! cluster it reports local socket counts to the mirror, and presence comes back from
//! Redis (as a [`ClusterEvent::Presence`](crate::cluster::ClusterEvent), through the
//! fan-out) for every node alike.

use super::entry::{Entry, Phase};
use super::{GetLocalCounts, GetOnlineUsers, OnlineSetReplaced, PresenceRegistry};
use crate::actors::messages::{GetOnlineFor, GetOnlinePage, OnlinePage};
use crate::actors::user::DeliverFrame;
use crate::cluster::LocalCountChanged;
use crate::domain::{User, UserId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use tokio::sync::oneshot;

impl PresenceRegistry {
    /// Everyone online but `viewer` and those hidden from them by a block, in list order.
    pub(super) fn online_for(&self, viewer: &Entry) -> Vec<User> {
        self.online
            .iter()
            .filter(|u| u.id != viewer.user.id && !viewer.hides(u.id))
            .cloned()
            .collect()
    }

    /// Records `user`'s arrival or departure and tells every local viewer allowed to see.
    pub(super) fn set_online(&mut self, user: &User, online: bool) {
        let changed = if online {
            self.online.insert(user)
        } else {
            self.online.remove(user.id)
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
        self.answer_viewer(msg.viewer, |r, viewer| r.online_for(viewer), |list| list)
    }
}

impl PresenceRegistry {
    /// Answers a query about `viewer`'s view of the online set: with `loaded` once their
    /// block sets are in, or, while they load, with `from_list` over their filtered list
    /// when it is ready (so an answer is never unfiltered). Nobody here: the default.
    fn answer_viewer<T: Default + 'static>(
        &mut self,
        viewer: UserId,
        loaded: impl FnOnce(&Self, &Entry) -> T,
        from_list: impl FnOnce(Vec<User>) -> T + 'static,
    ) -> ResponseFuture<T> {
        let Some(entry) = self.users.get_mut(&viewer) else {
            return Box::pin(async { T::default() });
        };
        if let Phase::Loading { waiting, .. } = &mut entry.phase {
            let (tx, rx) = oneshot::channel();
            waiting.push(tx);
            return Box::pin(async move { from_list(rx.await.unwrap_or_default()) });
        }
        let answer = loaded(self, &self.users[&viewer]);
        Box::pin(async move { answer })
    }

    /// `viewer`'s page of the online list (their block sets are loaded).
    fn online_page(&self, viewer: &Entry, msg: &GetOnlinePage) -> OnlinePage {
        let visible = |u: &&User| u.id != viewer.user.id && !viewer.hides(u.id);
        let people: Vec<User> = self
            .online
            .with_prefix(&msg.prefix)
            .filter(visible)
            .skip(msg.offset)
            .take(msg.limit)
            .cloned()
            .collect();
        let count = if msg.prefix.is_empty() {
            // Everyone less those hidden from the viewer (and the viewer): O(their blocks).
            let hidden: std::collections::HashSet<UserId> = viewer
                .hidden()
                .chain(std::iter::once(viewer.user.id))
                .filter(|u| self.online.contains(*u))
                .collect();
            self.online.len() - hidden.len()
        } else {
            // A prefix's matches are one run of the order: O(matches).
            self.online.with_prefix(&msg.prefix).filter(visible).count()
        };
        OnlinePage { people, count }
    }
}

/// A page taken from a whole block-filtered list (a viewer whose sets were loading).
fn page_of(list: Vec<User>, msg: &GetOnlinePage) -> OnlinePage {
    let matching: Vec<User> = list
        .into_iter()
        .filter(|u| u.email.to_lowercase().starts_with(&msg.prefix))
        .collect();
    let count = matching.len();
    OnlinePage {
        people: matching
            .into_iter()
            .skip(msg.offset)
            .take(msg.limit)
            .collect(),
        count,
    }
}

impl Handler<GetOnlinePage> for PresenceRegistry {
    type Result = ResponseFuture<OnlinePage>;

    fn handle(&mut self, msg: GetOnlinePage, _ctx: &mut Self::Context) -> Self::Result {
        let later = msg.clone();
        self.answer_viewer(
            msg.viewer,
            |r, entry| r.online_page(entry, &msg),
            move |list| page_of(list, &later),
        )
    }
}

impl Handler<GetOnlineUsers> for PresenceRegistry {
    type Result = MessageResult<GetOnlineUsers>;

    fn handle(&mut self, _msg: GetOnlineUsers, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.online.iter().cloned().collect())
    }
}

impl Handler<OnlineSetReplaced> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: OnlineSetReplaced, _ctx: &mut Self::Context) {
        let now: HashMap<UserId, User> = msg.users.into_iter().map(|u| (u.id, u)).collect();
        let gone: Vec<User> = self
            .online
            .iter()
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
