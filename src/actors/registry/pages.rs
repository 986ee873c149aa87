//! What windows are sent of the online list: the first page of a new window, the pages
//! windows ask for, the changes each tick gathered, and counts that moved.
//!
//! Every frame here goes to one window through its UserActor ([`DeliverToWindow`]), so
//! a page and the changes after it arrive in the order they were made.

use super::entry::Entry;
use super::online_set::OnlineSet;
use super::online_set::SortKey;
use super::presence::visible_to;
use super::views::{self, Range, View, WindowRef};
use super::PresenceRegistry;
use crate::actors::messages::{FirstView, ShowOnlinePage};
use crate::actors::user::DeliverToWindow;
use crate::domain::{User, UserId, WindowId};
use crate::protocol::{ServerEvent, ToFrame, ONLINE_PAGE};
use bytestring::ByteString;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The most pages built one by one in a tick; see [`PresenceRegistry::flush_views`].
pub const REPAGES_PER_TICK: usize = 1_000;

/// The most re-pages sent in a tick, shared or not: a wave of 17,000 first pages (~7 KB
/// each) at once is ~120 MB for the sockets and the clients in one turn, so it is spread
/// over ticks (a window waiting for its page keeps hearing its grown range meanwhile).
pub const REPAGE_FRAMES_PER_TICK: usize = 2_000;

/// The first page as every viewer who hides nobody and is not on it sees it, built and
/// serialized once a tick (a viewer on it sees one more person past it, and gets a page
/// of their own).
struct SharedFirstPage {
    people: Vec<User>,
    range: Option<Range>,
    /// Everyone online but one (the viewer).
    count: usize,
    frame: ByteString,
}

impl SharedFirstPage {
    fn build(online: &OnlineSet, limit: usize) -> SharedFirstPage {
        let people: Vec<User> = online.iter().take(limit).cloned().collect();
        let range = Range::of_page(&people, "", 0, limit);
        let count = online.len().saturating_sub(1);
        let frame = ServerEvent::OnlinePage {
            reference: None,
            prefix: None,
            offset: 0,
            count,
            people: Cow::Borrowed(&people),
        }
        .to_frame();
        SharedFirstPage {
            people,
            range,
            count,
            frame,
        }
    }

    /// The frame, size and range for `viewer` (who hides nobody and sees `count`), or
    /// `None` if their page differs: they are on it, or the set does not hold them yet.
    fn for_viewer(
        &self,
        viewer: UserId,
        count: usize,
    ) -> Option<(ByteString, usize, Option<Range>)> {
        if count != self.count || self.people.iter().any(|u| u.id == viewer) {
            return None;
        }
        Some((self.frame.clone(), self.people.len(), self.range.clone()))
    }
}

/// A first page's changes in one tick as a member who hides nobody (and is not among
/// them) sees them, serialized once per count and shared by every such member.
struct SharedChanges {
    came: Vec<User>,
    went: Vec<UserId>,
    frames: HashMap<usize, ByteString>,
}

impl SharedChanges {
    fn of(online: &OnlineSet, pending: &HashMap<UserId, bool>) -> SharedChanges {
        let (came, went) =
            views::final_changes(pending.iter().map(|(p, was)| (*p, *was)), |p| online.get(p));
        SharedChanges {
            came,
            went,
            frames: HashMap::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.came.is_empty() && self.went.is_empty()
    }

    fn frame(&mut self, count: usize) -> ByteString {
        self.frames
            .entry(count)
            .or_insert_with(|| {
                ServerEvent::OnlineChanges {
                    came: Cow::Borrowed(&self.came),
                    went: Cow::Borrowed(&self.went),
                    count,
                }
                .to_frame()
            })
            .clone()
    }
}

/// An `online_changes` frame.
fn changes_frame(came: Vec<User>, went: Vec<UserId>, count: usize) -> ByteString {
    ServerEvent::OnlineChanges {
        came: Cow::Owned(came),
        went: Cow::Owned(went),
        count,
    }
    .to_frame()
}

/// A page about to be sent: the request it answers and what it holds.
struct Page {
    reference: Option<String>,
    prefix: String,
    offset: usize,
    limit: usize,
    people: Vec<User>,
    range: Option<Range>,
}

impl PresenceRegistry {
    /// A new window's view: the first page becomes its range. A window that closed
    /// meanwhile gets no view (and its snapshot goes nowhere).
    pub(super) fn open_view(&mut self, viewer: UserId, window: WindowId) -> FirstView {
        let Some(entry) = self.users.get(&viewer) else {
            return FirstView::default();
        };
        if !entry.windows.contains(&window) {
            return FirstView::default();
        }
        let visible = visible_to(entry);
        let (online, range) = views::page(&self.online, &visible, "", 0, ONLINE_PAGE);
        let count = self.visible_count(entry);
        let mut partners: Vec<User> = entry
            .partners
            .iter()
            .filter_map(|p| self.online.get(*p))
            .filter(|u| visible(u))
            .cloned()
            .collect();
        partners.sort_by_key(|u| u.email.to_lowercase());
        let view = View::new(range, String::new(), ONLINE_PAGE, online.len(), count);
        let shown = |p: UserId| p != viewer && !entry.hides(p) && self.online.contains(p);
        self.views.set((viewer, window), view, shown);
        FirstView {
            online,
            count,
            partners,
        }
    }

    /// Answers a window's `online` request; the page becomes the window's range.
    pub(super) fn show_page(&mut self, msg: ShowOnlinePage) {
        let Some(entry) = self.users.get(&msg.viewer) else {
            return;
        };
        if !entry.windows.contains(&msg.window) {
            return;
        }
        let (people, range) = views::page(
            &self.online,
            visible_to(entry),
            &msg.prefix,
            msg.offset,
            msg.limit,
        );
        let page = Page {
            reference: msg.reference,
            prefix: msg.prefix,
            offset: msg.offset,
            limit: msg.limit,
            people,
            range,
        };
        self.send_page((msg.viewer, msg.window), page);
    }

    /// Sends `page` to `window` and makes it the window's range. Changes gathered for
    /// the old range go first, so nothing about the partners is lost with it.
    fn send_page(&mut self, window: WindowRef, page: Page) {
        self.flush_window(window);
        let Some(entry) = self.users.get(&window.0) else {
            return;
        };
        let visible = visible_to(entry);
        let count = if page.prefix.is_empty() {
            self.visible_count(entry)
        } else {
            // A search's matches are one run of the order: O(matches).
            self.online
                .with_prefix(&page.prefix)
                .filter(|u| visible(u))
                .count()
        };
        let frame = ServerEvent::OnlinePage {
            reference: page.reference.as_deref().map(Cow::Borrowed),
            prefix: (!page.prefix.is_empty()).then_some(Cow::Borrowed(page.prefix.as_str())),
            offset: page.offset,
            count,
            people: Cow::Borrowed(&page.people),
        }
        .to_frame();
        entry.actor.do_send(DeliverToWindow {
            window: window.1,
            frame,
        });
        let heard = match self.views.get(&window) {
            Some(old) => old.count_sent,
            None => self.visible_count(entry),
        };
        let size = page.people.len();
        let view = View::new(page.range, page.prefix, page.limit, size, heard);
        let shown = |p: UserId| p != window.0 && !entry.hides(p) && self.online.contains(p);
        self.views.set(window, view, shown);
    }

    /// The timer: each tick's changes, and every [`COUNT_EVERY`](super::COUNT_EVERY) the
    /// counts that moved (after the flush, when nothing is pending).
    pub(super) fn tick(&mut self) {
        self.flush_views();
        self.ticks += 1;
        let per_count = (super::COUNT_EVERY.as_millis() / super::TICK.as_millis()).max(1);
        if u128::from(self.ticks) % per_count == 0 {
            self.refresh_counts();
        }
    }

    /// The tick: every window with changes gets them as one `online_changes`, and a
    /// range that outgrew its page (or a full page that emptied) is asked again.
    ///
    /// A first page's changes are recorded once for all its windows, and its frame is
    /// built once for the members who hide nobody and see nothing of their own change.
    /// Re-pages come in waves (everyone's first page outgrows itself at the same
    /// arrivals), so the first page of viewers who hide nobody is built and serialized
    /// once per tick and shared, and at most [`REPAGES_PER_TICK`] other pages are built
    /// per tick, and at most [`REPAGE_FRAMES_PER_TICK`] sent (the rest wait for the
    /// next): the registry also carries messages, and a wave must not hold them up.
    pub(super) fn flush_views(&mut self) {
        let (pages, windows) = self.views.take_dirty();
        let mut flushed: HashSet<WindowRef> = HashSet::with_capacity(windows.len());
        let mut to_repage: Vec<WindowRef> = Vec::new();
        for page in pages {
            let mut shared = SharedChanges::of(&self.online, &page.pending);
            for window in &page.windows {
                self.flush_member(*window, &page.pending, &mut shared);
                flushed.insert(*window);
            }
            if let Some(first) = page.windows.first() {
                if self.views.needs_repage(first) {
                    to_repage.extend(page.windows.iter().copied());
                }
            }
        }
        for window in windows {
            if flushed.insert(window) {
                self.flush_window(window);
                if self.views.needs_repage(&window) {
                    to_repage.push(window);
                }
            }
        }
        let mut shared: HashMap<usize, SharedFirstPage> = HashMap::new();
        let (mut built, mut sent) = (0, 0);
        for window in to_repage {
            let (Some(view), Some(entry)) = (self.views.get(&window), self.users.get(&window.0))
            else {
                continue;
            };
            if sent >= REPAGE_FRAMES_PER_TICK {
                self.views.touch(window);
                continue;
            }
            sent += 1;
            if view.prefix.is_empty() && view.is_first_page() && entry.hidden().next().is_none() {
                let count = self.visible_count(entry);
                let limit = view.limit;
                let page = shared
                    .entry(limit)
                    .or_insert_with(|| SharedFirstPage::build(&self.online, limit));
                if let Some((frame, size, range)) = page.for_viewer(window.0, count) {
                    // Its changes went out just above.
                    entry.actor.do_send(DeliverToWindow {
                        window: window.1,
                        frame,
                    });
                    let view = View::new(range, String::new(), limit, size, count);
                    self.views.set(window, view, |_| true);
                    self.metrics.presence_frames.inc();
                    continue;
                }
            }
            if built >= REPAGES_PER_TICK {
                self.views.touch(window);
                continue;
            }
            built += 1;
            let (offset, people, range) = views::repage(&self.online, visible_to(entry), view);
            let page = Page {
                reference: None,
                prefix: view.prefix.clone(),
                offset,
                limit: view.limit,
                people,
                range,
            };
            self.send_page(window, page);
            self.metrics.presence_frames.inc();
        }
        self.metrics.online_views.set(self.views.len() as i64);
    }

    /// Sends a first page's member what changed for it this tick: the page's changes
    /// (taken for the tick, in `pending`) and its own. A member who hides nobody and has
    /// no change of its own is sent the page's shared frame.
    fn flush_member(
        &mut self,
        window: WindowRef,
        pending: &HashMap<UserId, bool>,
        shared: &mut SharedChanges,
    ) {
        let Some(entry) = self.users.get(&window.0) else {
            self.views.remove(window);
            return;
        };
        let Some(view) = self.views.get(&window) else {
            return;
        };
        let count = self.visible_count(entry);
        let plain = view.pending().is_empty()
            && entry.hidden().next().is_none()
            && !pending.contains_key(&window.0);
        let frame = if plain {
            if shared.is_empty() && count == view.count_sent {
                return;
            }
            shared.frame(count)
        } else {
            let (came, went) = self.changes_for(entry, view, Some(pending));
            if came.is_empty() && went.is_empty() && count == view.count_sent {
                return;
            }
            changes_frame(came, went, count)
        };
        self.views.take_pending(&window, count);
        entry.actor.do_send(DeliverToWindow {
            window: window.1,
            frame,
        });
        self.metrics.presence_frames.inc();
    }

    /// Sends `window` what changed for it since the last tick, with the count, if
    /// anything did (a first page's changes stay there for its other windows).
    fn flush_window(&mut self, window: WindowRef) {
        let Some(entry) = self.users.get(&window.0) else {
            self.views.remove(window);
            return;
        };
        let Some(view) = self.views.get(&window) else {
            return;
        };
        let count = self.visible_count(entry);
        let (came, went) = self.changes_for(entry, view, self.views.page_pending(&window));
        if came.is_empty() && went.is_empty() && count == view.count_sent {
            return;
        }
        self.views.take_pending(&window, count);
        entry.actor.do_send(DeliverToWindow {
            window: window.1,
            frame: changes_frame(came, went, count),
        });
        self.metrics.presence_frames.inc();
    }

    /// What changed for `entry`'s window with `view`: its own pending people, and its
    /// first page's (`page`), each compared with how the window shows them now.
    fn changes_for(
        &self,
        entry: &Entry,
        view: &View,
        page: Option<&HashMap<UserId, bool>>,
    ) -> (Vec<User>, Vec<UserId>) {
        let own = view.pending();
        let viewer = entry.user.id;
        // A page's person is inside the range: shown before if online and not hidden.
        let from_page = page
            .into_iter()
            .flatten()
            .filter(|(person, _)| !own.contains_key(person))
            .map(|(person, was)| (*person, *was && *person != viewer && !entry.hides(*person)));
        let pending = own.iter().map(|(p, was)| (*p, *was)).chain(from_page);
        let visible = visible_to(entry);
        views::final_changes(pending, |person| {
            self.online.get(person).filter(|u| {
                visible(u) && (entry.partners.contains(&person) || view.admits(&SortKey::of(u)))
            })
        })
    }

    /// The slow tick: windows whose count moved, but whose range saw no change, hear the
    /// count. O(windows × their blocks), every [`COUNT_EVERY`](super::COUNT_EVERY).
    fn refresh_counts(&mut self) {
        let windows: Vec<WindowRef> = self.views.windows().copied().collect();
        for window in windows {
            self.flush_window(window);
        }
    }

    /// Each of `people` now has a direct conversation with the others (its first message
    /// committed): local ones track each other from now on, and hear of those online.
    pub(super) fn partnered(&mut self, people: &[UserId]) {
        for me in people {
            let Some(entry) = self.users.get_mut(me) else {
                continue;
            };
            let new: Vec<UserId> = people
                .iter()
                .filter(|p| *p != me && entry.partners.insert(**p))
                .copied()
                .collect();
            if !entry.is_online() {
                // Their views open once the block sets are in, from the loaded partners.
                continue;
            }
            self.views.watch(*me, new.iter().copied());
            for other in new {
                let Some(user) = self.online.get(other) else {
                    continue;
                };
                let entry = &self.users[me];
                if entry.hides(other) {
                    continue;
                }
                // Windows whose range shows them already see them; the others hear.
                let key = SortKey::of(user);
                for window in entry.windows.iter().map(|w| (*me, *w)) {
                    if self.views.get(&window).is_some() && !self.views.admits(&window, &key) {
                        self.views.record(window, other, &key, false, true);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_first_page_is_for_viewers_not_on_it_who_see_everyone_else() {
        let mut online = OnlineSet::default();
        let people: Vec<User> = ["a@x", "b@x", "c@x", "d@x"]
            .iter()
            .map(|e| User {
                id: UserId::new(),
                email: (*e).into(),
            })
            .collect();
        for u in &people {
            online.insert(u);
        }
        let page = SharedFirstPage::build(&online, 2);
        let (frame, size, range) = page.for_viewer(people[3].id, 3).expect("d is not on it");
        let sent: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(sent["people"][1]["email"], "b@x");
        assert_eq!((sent["count"].as_u64(), size), (Some(3), 2));
        assert!(range.expect("a range").admits(&SortKey::of(&people[1])));
        assert!(page.for_viewer(people[0].id, 3).is_none(), "a is on it");
        assert!(page.for_viewer(people[3].id, 2).is_none(), "d sees fewer");
    }
}
