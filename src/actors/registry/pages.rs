//! What windows are sent of the online list: the first page of a new window, the pages
//! windows ask for, the changes each tick gathered, and counts that moved.
//!
//! Every frame here goes to one window through its UserActor ([`DeliverToWindow`]), so
//! a page and the changes after it arrive in the order they were made.

use super::entry::Entry;
use super::online_set::OnlineSet;
use super::online_set::SortKey;
use super::presence::visible_to;
use super::views::{self, Range, Tracks, View, WindowRef};
use super::PresenceRegistry;
use crate::actors::messages::{FirstView, ShowOnlinePage};
use crate::actors::user::DeliverToWindow;
use crate::domain::{User, UserId, WindowId};
use crate::protocol::{ServerEvent, ToFrame, ONLINE_PAGE};
use bytestring::ByteString;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// The most stretches re-paged in a tick; see [`PresenceRegistry::flush_views`].
pub const REPAGES_PER_TICK: usize = 1_000;

/// A first page's changes in one tick as a member who hides nobody (and is not among
/// them) sees them, serialized once per count and shared by every such member.
struct SharedChanges {
    came: Vec<User>,
    went: Vec<UserId>,
    frames: HashMap<usize, ByteString>,
}

impl SharedChanges {
    fn of(online: &OnlineSet, pending: &HashMap<UserId, bool>, page: &Range) -> SharedChanges {
        let (came, went) = views::final_changes(pending.iter().map(|(p, was)| (*p, *was)), |p| {
            online.get(p).filter(|u| page.admits(&SortKey::of(u)))
        });
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

/// Whether a first page's `pending` changes name one of `entry`'s partners (whose
/// changes are the window's own): O(the smaller of the two).
fn names_a_partner(entry: &Entry, pending: &HashMap<UserId, bool>) -> bool {
    if entry.partners.len() < pending.len() {
        entry.partners.iter().any(|p| pending.contains_key(p))
    } else {
        pending.keys().any(|p| entry.partners.contains(p))
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
    tracks: Tracks,
    /// The first page as it stood when built, for a window joining it.
    first: Option<Range>,
    /// People inside that first page's range but past `limit`, not sent: arrivals since
    /// the page last slid. The window starts without them, and its next flush tells it
    /// whoever the slid page still holds.
    cut: Vec<UserId>,
}

impl PresenceRegistry {
    /// The page `entry`'s user sees for a request, and what it tracks: the first page
    /// (offset 0, no prefix) as its windows see it now, or a stretch.
    fn build_page(&self, entry: &Entry, prefix: &str, offset: usize, limit: usize) -> Page {
        let visible = visible_to(entry);
        let (people, tracks, first, cut) = if offset == 0 && prefix.is_empty() {
            let first = self.views.first_page(limit, &self.online);
            let mut people = views::first_page_people(&self.online, &visible, &first);
            // Until the page slides at its flush, its range may hold more than `limit`
            // (a storm's arrivals): a page never lists more than it was asked for.
            let cut = people.split_off(limit.min(people.len()));
            let cut = cut.into_iter().map(|u| u.id).collect();
            (people, Tracks::FirstPage, Some(first), cut)
        } else {
            let (people, tracks) = views::page(&self.online, &visible, prefix, offset, limit);
            (people, tracks, None, Vec::new())
        };
        Page {
            reference: None,
            prefix: prefix.to_owned(),
            offset,
            limit,
            people,
            tracks,
            first,
            cut,
        }
    }

    /// A new window's view: the first page becomes its range. A window that closed
    /// meanwhile gets no view (and its snapshot goes nowhere).
    pub(super) fn open_view(&mut self, viewer: UserId, window: WindowId) -> FirstView {
        let Some(entry) = self.users.get(&viewer) else {
            return FirstView::default();
        };
        if !entry.windows.contains(&window) {
            return FirstView::default();
        }
        let page = self.build_page(entry, "", 0, ONLINE_PAGE);
        let count = self.visible_count(entry);
        let visible = visible_to(entry);
        let mut partners: Vec<User> = entry
            .partners
            .iter()
            .filter_map(|p| self.online.get(*p))
            .filter(|u| visible(u))
            .cloned()
            .collect();
        partners.sort_by_key(|u| u.email.to_lowercase());
        let view = View::new(Tracks::FirstPage, String::new(), ONLINE_PAGE, 0, count);
        let shown = |p: UserId| p != viewer && !entry.hides(p) && self.online.contains(p);
        self.views
            .set((viewer, window), view, page.first, shown, &page.cut);
        FirstView {
            online: page.people,
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
        let page = Page {
            reference: msg.reference,
            ..self.build_page(entry, &msg.prefix, msg.offset, msg.limit)
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
        let view = View::new(page.tracks, page.prefix, page.limit, size, heard);
        let shown = |p: UserId| p != window.0 && !entry.hides(p) && self.online.contains(p);
        self.views.set(window, view, page.first, shown, &page.cut);
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
    /// stretch that outgrew its page (or a full page that emptied) is asked again.
    ///
    /// A first page's changes are recorded once for all its windows; it slides to hold
    /// the first `limit` people again, and its frame is built once for the members who
    /// hide nobody and see nothing of their own change. At most [`REPAGES_PER_TICK`]
    /// stretches are re-paged per tick (the rest wait for the next): the registry also
    /// carries messages, and a wave must not hold them up.
    pub(super) fn flush_views(&mut self) {
        let (pages, windows) = self
            .views
            .take_dirty(&self.online, Instant::now(), super::TICK);
        let mut flushed: HashSet<WindowRef> = HashSet::with_capacity(windows.len());
        for page in pages {
            let range = Range {
                lo: None,
                hi: page.hi,
            };
            let mut shared = SharedChanges::of(&self.online, &page.pending, &range);
            for window in &page.windows {
                self.flush(*window, Some((&page.pending, &mut shared)));
                flushed.insert(*window);
            }
        }
        let mut built = 0;
        for window in windows {
            if !flushed.insert(window) {
                continue;
            }
            self.flush_window(window);
            if !self.views.needs_repage(&window) {
                continue;
            }
            let (Some(view), Some(entry)) = (self.views.get(&window), self.users.get(&window.0))
            else {
                continue;
            };
            if built >= REPAGES_PER_TICK {
                self.views.touch(window);
                continue;
            }
            built += 1;
            let (offset, _, _) = views::repage(&self.online, visible_to(entry), view);
            let page = self.build_page(entry, &view.prefix, offset, view.limit);
            self.send_page(window, page);
            self.metrics.presence_frames.inc();
        }
        self.metrics.online_views.set(self.views.len() as i64);
    }

    /// Sends `window` what changed for it since the last tick, with the count, if
    /// anything did (a first page's changes stay there for its other windows).
    fn flush_window(&mut self, window: WindowRef) {
        self.flush(window, None);
    }

    /// Sends `window` what changed for it, with the count, if anything did: its own
    /// changes, and its first page's: those `tick` took for this tick (with the page's
    /// shared frame, sent as it is to a member who hides nobody and has no change of its
    /// own), or else those gathered so far.
    fn flush(
        &mut self,
        window: WindowRef,
        tick: Option<(&HashMap<UserId, bool>, &mut SharedChanges)>,
    ) {
        let Some(entry) = self.users.get(&window.0) else {
            self.views.remove(window);
            return;
        };
        let Some(view) = self.views.get(&window) else {
            return;
        };
        let count = self.visible_count(entry);
        let frame = match tick {
            Some((pending, shared))
                if view.pending().is_empty()
                    && entry.hidden().next().is_none()
                    && !pending.contains_key(&window.0)
                    && !names_a_partner(entry, pending) =>
            {
                if shared.is_empty() && count == view.count_sent {
                    return;
                }
                shared.frame(count)
            }
            tick => {
                let page = match tick {
                    Some((pending, _)) => Some(pending),
                    None => self.views.page_pending(&window),
                };
                let (came, went) = self.changes_for(window, entry, view, page);
                if came.is_empty() && went.is_empty() && count == view.count_sent {
                    return;
                }
                // Flushed ahead of its first page (whose changes stay for its other
                // windows): what it was just told of them is its new baseline.
                let baseline: Vec<(UserId, bool)> = match (tick, page) {
                    (None, Some(page)) => page
                        .keys()
                        .map(|p| (*p, self.shown_now(window, entry, *p)))
                        .collect(),
                    _ => Vec::new(),
                };
                let frame = changes_frame(came, went, count);
                self.views.take_pending(&window, count);
                self.views.set_baseline(&window, baseline);
                entry.actor.do_send(DeliverToWindow {
                    window: window.1,
                    frame,
                });
                self.metrics.presence_frames.inc();
                return;
            }
        };
        self.views.take_pending(&window, count);
        entry.actor.do_send(DeliverToWindow {
            window: window.1,
            frame,
        });
        self.metrics.presence_frames.inc();
    }

    /// What changed for `window` (of `entry`, with `view`): its own pending people, and
    /// its first page's (`page`), each compared with how the window shows them now.
    fn changes_for(
        &self,
        window: WindowRef,
        entry: &Entry,
        view: &View,
        page: Option<&HashMap<UserId, bool>>,
    ) -> (Vec<User>, Vec<UserId>) {
        let own = view.pending();
        let viewer = entry.user.id;
        // A page's person is inside the range: shown before if online and not hidden.
        // Partners are the window's own changes (they are shown wherever they sort).
        let from_page = page
            .into_iter()
            .flatten()
            .filter(|(person, _)| !own.contains_key(person) && !entry.partners.contains(person))
            .map(|(person, was)| (*person, *was && *person != viewer && !entry.hides(*person)));
        let pending = own.iter().map(|(p, was)| (*p, *was)).chain(from_page);
        views::final_changes(pending, |person| {
            self.online
                .get(person)
                .filter(|_| self.shown_now(window, entry, person))
        })
    }

    /// Whether `window` (of `entry`) shows `person` now: online, not hidden, and inside
    /// its range or a partner.
    fn shown_now(&self, window: WindowRef, entry: &Entry, person: UserId) -> bool {
        self.online.get(person).is_some_and(|u| {
            visible_to(entry)(u)
                && (entry.partners.contains(&person) || self.views.admits(&window, &SortKey::of(u)))
        })
    }

    /// The slow tick: windows whose count moved, but whose range saw no change, hear the
    /// count. O(windows × their blocks), every [`COUNT_EVERY`](super::COUNT_EVERY).
    /// A window whose first page waits to be flushed is left to it: the page's flush
    /// brings the count (and flushing it ahead would cost every member a baseline).
    fn refresh_counts(&mut self) {
        let windows: Vec<WindowRef> = self
            .views
            .windows()
            .filter(|w| self.views.page_pending(w).is_none_or(HashMap::is_empty))
            .copied()
            .collect();
        for window in windows {
            self.flush_window(window);
        }
    }

    /// `me` has just started a direct conversation with `other`: partners are each
    /// window's own changes from now on, so each window records how it showed them at
    /// its last flush (inside its range, online then as its first page's pending changes
    /// say), and shows them from now on.
    pub(super) fn track_partner(&mut self, me: UserId, other: UserId) {
        let Some(entry) = self.users.get(&me) else {
            return;
        };
        if entry.hides(other) || other == me {
            return;
        }
        let user = self.online.get(other);
        let key = user.map(SortKey::of);
        for window in entry.windows.iter().map(|w| (me, *w)) {
            if self.views.get(&window).is_none() {
                continue;
            }
            let online_then = self
                .views
                .page_pending(&window)
                .and_then(|page| page.get(&other).copied());
            let in_range = match &key {
                Some(key) => self.views.admits(&window, key),
                None => online_then.is_some(),
            };
            let was_shown = in_range && online_then.unwrap_or(user.is_some());
            let now_shown = user.is_some();
            if was_shown != now_shown || online_then.is_some() {
                // Only a stretch's size reads the key, and a stretch has one here.
                let key = key.clone().unwrap_or_else(|| SortKey::first_with(""));
                self.views.record(window, other, &key, was_shown, now_shown);
            }
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
                self.track_partner(*me, other);
            }
        }
    }
}
