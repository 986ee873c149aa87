//! Presence: who is announced online, and what each local viewer may see of it: which
//! windows a change concerns (their views, see `views`), and the questions windows ask.
//!
//! Alone, a node decides presence itself from its users' first and last windows. In a
//! cluster it reports local socket counts to the mirror, and presence comes back from
//! Redis (as a [`ClusterEvent::Presence`](crate::cluster::ClusterEvent), through the
//! fan-out) for every node alike.

use super::entry::{Entry, Phase, Waiting};
use super::online_set::SortKey;
use super::views::WindowRef;
use super::{GetLocalCounts, GetOnlinePage, OnlineSetReplaced, PresenceRegistry};
use crate::actors::messages::{FirstView, GetOnlineAmong, OpenOnlineView, ShowOnlinePage};
use crate::actors::user::DeliverFrame;
use crate::cluster::LocalCountChanged;
use crate::domain::{User, UserId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use tokio::sync::oneshot;

/// `viewer`'s filter: everyone but themself and those a block hides from them.
pub(super) fn visible_to(viewer: &Entry) -> impl Fn(&User) -> bool + '_ {
    move |u: &User| u.id != viewer.user.id && !viewer.hides(u.id)
}

impl PresenceRegistry {
    /// How many people `viewer` may see online: everyone less those hidden from them
    /// (and themself). O(their blocks).
    pub(super) fn visible_count(&self, viewer: &Entry) -> usize {
        let hidden: HashSet<UserId> = viewer
            .hidden()
            .chain(std::iter::once(viewer.user.id))
            .filter(|u| self.online.contains(*u))
            .collect();
        self.online.len() - hidden.len()
    }

    /// Records `user`'s arrival or departure, and gathers it for each local window whose
    /// range holds them or whose user talks with them (if a block does not hide them).
    pub(super) fn set_online(&mut self, user: &User, online: bool) {
        let changed = if online {
            self.online.insert(user)
        } else {
            self.online.remove(user.id)
        };
        if !changed {
            return;
        }
        let key = SortKey::of(user);
        // First pages record it once each; other ranges and partners, window by window.
        let mut windows: HashSet<WindowRef> = self
            .views
            .record_in_ranges(user.id, &key, online)
            .into_iter()
            .collect();
        for viewer in self.views.watchers_of(user.id) {
            if let Some(entry) = self.users.get(&viewer) {
                windows.extend(entry.windows.iter().map(|w| (viewer, *w)));
            }
        }
        for window in windows {
            match self.users.get(&window.0) {
                Some(entry)
                    if window.0 != user.id && entry.is_online() && !entry.hides(user.id) =>
                {
                    self.views.record(window, user.id, &key, !online, online);
                }
                _ => {}
            }
        }
    }

    /// A block between `viewer` and `other` changed whether the viewer may see them
    /// (`hidden_before` says how it was): the viewer's windows that track them hear of it
    /// at the next flush. Each records how it showed them at its last flush (online then,
    /// as its first page's pending changes or the online set say, and not hidden), so a
    /// later change of theirs is compared with that and not with the new blocks. Someone
    /// offline now concerns only windows whose first page's pending changes name them.
    pub(super) fn show_to(&mut self, viewer: UserId, other: UserId, hidden_before: bool) {
        let Some(entry) = self.users.get(&viewer) else {
            return;
        };
        if other == viewer {
            return;
        }
        let key = self.online.get(other).map(SortKey::of);
        let partner = entry.partners.contains(&other);
        let online_now = key.is_some();
        let shown_now = online_now && !entry.hides(other);
        for window in entry.windows.iter().map(|w| (viewer, *w)) {
            let online_then = self
                .views
                .page_pending(&window)
                .and_then(|page| page.get(&other).copied())
                .filter(|_| !partner);
            let tracked = partner
                || match &key {
                    Some(key) => self.views.admits(&window, key),
                    None => online_then.is_some(),
                };
            if !tracked {
                continue;
            }
            let was_shown = online_then.unwrap_or(online_now) && !hidden_before;
            // Only a stretch's size reads the key: for someone offline, it is unchanged.
            let key = key.clone().unwrap_or_else(|| SortKey::first_with(""));
            self.views.record(window, other, &key, was_shown, shown_now);
        }
    }

    /// `user` has a new display name: the online set and their entry take it; each of
    /// their windows here and every local viewer who may show them now (a window whose
    /// range holds them, or someone who talks with them) hears of it. A viewer whose
    /// block sets are still loading is left out: their snapshot reads the new name. (The
    /// person's own entry, if loading, keeps it: it is newer than what the load read.)
    pub(super) fn renamed(&mut self, user: &User) {
        let frame = ServerEvent::UserUpdated {
            user: Cow::Borrowed(user),
        }
        .to_frame();
        let mut viewers: HashSet<UserId> = self.views.watchers_of(user.id).collect();
        if let Some(key) = self.online.rename(user) {
            viewers.extend(
                self.views
                    .showing(&key)
                    .into_iter()
                    .map(|(viewer, _)| viewer),
            );
        }
        if let Some(entry) = self.users.get_mut(&user.id) {
            entry.user.name = user.name.clone();
            if let Phase::Loading { renamed, .. } = &mut entry.phase {
                *renamed = true;
            }
            entry.actor.do_send(DeliverFrame {
                frame: frame.clone(),
                except: None,
            });
        }
        // Every node where they have windows keeps the mirror's copy current.
        self.remirror(user.id);
        viewers.remove(&user.id);
        for viewer in viewers {
            match self.users.get(&viewer) {
                Some(entry) if entry.is_online() && !entry.hides(user.id) => {
                    entry.actor.do_send(DeliverFrame {
                        frame: frame.clone(),
                        except: None,
                    });
                }
                _ => {}
            }
        }
    }

    /// Writes a local user's details to the mirror again (in a cluster), so a node that
    /// rebuilds from Redis reads their new name.
    fn remirror(&self, user: UserId) {
        if let (Some(cluster), Some(entry)) = (&self.cluster, self.users.get(&user)) {
            if entry.is_online() {
                cluster.counts.do_send(LocalCountChanged {
                    user: entry.user.clone(),
                    count: entry.windows.len(),
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

    /// Answers a question about a viewer's view now (their block sets are in), or keeps
    /// it until they are. A viewer with no window here: the question is dropped (its
    /// reply channel closes, and the asker takes the empty answer).
    pub(super) fn answer(&mut self, viewer: UserId, question: Waiting) {
        let Some(entry) = self.users.get_mut(&viewer) else {
            return;
        };
        if let Phase::Loading { waiting, .. } = &mut entry.phase {
            waiting.push(question);
            return;
        }
        match question {
            Waiting::View { window, reply } => {
                let _ = reply.send(self.open_view(viewer, window));
            }
            Waiting::Page(page) => self.show_page(page),
            Waiting::Among { people, reply } => {
                let entry = &self.users[&viewer];
                let among = people
                    .into_iter()
                    .filter(|p| *p == viewer || (self.online.contains(*p) && !entry.hides(*p)))
                    .collect();
                let _ = reply.send(among);
            }
        }
    }
}

impl Handler<OpenOnlineView> for PresenceRegistry {
    type Result = ResponseFuture<FirstView>;

    fn handle(&mut self, msg: OpenOnlineView, _ctx: &mut Self::Context) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        let window = msg.window;
        self.answer(msg.viewer, Waiting::View { window, reply });
        Box::pin(async move { answer.await.unwrap_or_default() })
    }
}

impl Handler<ShowOnlinePage> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: ShowOnlinePage, _ctx: &mut Self::Context) {
        self.answer(msg.viewer, Waiting::Page(msg));
    }
}

impl Handler<GetOnlineAmong> for PresenceRegistry {
    type Result = ResponseFuture<Vec<UserId>>;

    fn handle(&mut self, msg: GetOnlineAmong, _ctx: &mut Self::Context) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        let people = msg.people;
        self.answer(msg.viewer, Waiting::Among { people, reply });
        Box::pin(async move { answer.await.unwrap_or_default() })
    }
}

impl Handler<GetOnlinePage> for PresenceRegistry {
    type Result = MessageResult<GetOnlinePage>;

    fn handle(&mut self, msg: GetOnlinePage, _ctx: &mut Self::Context) -> Self::Result {
        let GetOnlinePage {
            viewer,
            hidden,
            prefix,
            offset,
            limit,
        } = msg;
        let visible = |u: &User| u.id != viewer && !hidden.contains(&u.id);
        let (people, _) = super::views::page(&self.online, visible, &prefix, offset, limit);
        let count = if prefix.is_empty() {
            let left_out = hidden
                .iter()
                .chain(std::iter::once(&viewer))
                .filter(|u| self.online.contains(**u))
                .count();
            self.online.len() - left_out
        } else {
            self.online
                .with_prefix(&prefix)
                .filter(|u| visible(u))
                .count()
        };
        MessageResult((people, count))
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
