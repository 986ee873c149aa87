//! What windows are sent of the online list: the first page of a new window, the pages
//! windows ask for, the changes each tick gathered, and counts that moved.
//!
//! Every frame here goes to one window through its UserActor ([`DeliverToWindow`]), so
//! a page and the changes after it arrive in the order they were made.

use super::online_set::SortKey;
use super::presence::visible_to;
use super::views::{self, Range, View, WindowRef};
use super::PresenceRegistry;
use crate::actors::messages::{FirstView, ShowOnlinePage};
use crate::actors::user::DeliverToWindow;
use crate::domain::{User, UserId, WindowId};
use crate::protocol::{ServerEvent, ToFrame, ONLINE_PAGE};
use std::borrow::Cow;

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
    pub(super) fn flush_views(&mut self) {
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
