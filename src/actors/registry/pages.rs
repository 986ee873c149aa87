//! What windows are sent of the online list: the first page of a new window, the pages
//! windows ask for, the changes each tick gathered, and counts that moved.
//!
//! Every frame here goes to one window through its UserActor ([`DeliverToWindow`]), so
//! a page and the changes after it arrive in the order they were made.

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
use std::collections::HashMap;

/// The most pages built one by one in a tick; see [`PresenceRegistry::flush_views`].
pub const REPAGES_PER_TICK: usize = 1_000;

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
        self.views.set((viewer, window), view);
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
        self.views.set(window, view);
    }

    /// The tick: every window with changes gets them as one `online_changes`, and a
    /// range that outgrew its page (or a full page that emptied) is asked again.
    ///
    /// Re-pages come in waves (everyone's first page outgrows itself at the same
    /// arrivals), so the first page of viewers who hide nobody is built and serialized
    /// once per tick and shared, and at most [`REPAGES_PER_TICK`] other pages are built
    /// per tick (the rest wait for the next): the registry also carries messages, and a
    /// wave must not hold them up.
    pub(super) fn flush_views(&mut self) {
        let mut shared: HashMap<usize, SharedFirstPage> = HashMap::new();
        let mut built = 0;
        for window in self.views.take_dirty() {
            self.flush_window(window);
            let Some(view) = self.views.get(&window) else {
                continue;
            };
            if !view.needs_repage() {
                continue;
            }
            let Some(entry) = self.users.get(&window.0) else {
                continue;
            };
            let first_page = view.prefix.is_empty()
                && view.range.as_ref().is_some_and(|r| r.lo.is_none())
                && entry.hidden().next().is_none();
            if first_page {
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
                    self.views.set(window, view);
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

    /// Sends `window` what changed for it since the last tick, with the count, if
    /// anything did.
    fn flush_window(&mut self, window: WindowRef) {
        let Some(entry) = self.users.get(&window.0) else {
            self.views.remove(window);
            return;
        };
        let count = self.visible_count(entry);
        let Some(view) = self.views.get_mut(&window) else {
            return;
        };
        let (came, went) = view.take_changes();
        if came.is_empty() && went.is_empty() && count == view.count_sent {
            return;
        }
        view.count_sent = count;
        let frame = ServerEvent::OnlineChanges {
            came: Cow::Owned(came),
            went: Cow::Owned(went),
            count,
        }
        .to_frame();
        entry.actor.do_send(DeliverToWindow {
            window: window.1,
            frame,
        });
        self.metrics.presence_frames.inc();
    }

    /// The slow tick: windows whose count moved, but whose range saw no change, hear the
    /// count. O(windows × their blocks), every [`COUNT_EVERY`](super::COUNT_EVERY).
    pub(super) fn refresh_counts(&mut self) {
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
                    if self.views.get(&window).is_some_and(|v| !v.admits(&key)) {
                        self.views
                            .record(window, other, &key, false, Some(user.clone()));
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
