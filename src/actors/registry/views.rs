//! Views: what each local window tracks of the online list, and the changes gathered
//! for it until the next tick (protocol v2, docs/decisions/0015).
//!
//! A window tracks one stretch of the list (its *range*: the first page from `ready`,
//! or the page it last asked for) and the user's conversation partners, wherever they
//! sort. A presence change concerns only the windows whose range holds the person or
//! who talk with them, found through two indexes, so its cost follows those windows and
//! not the population. Changes are gathered per window and sent once a tick as one
//! `online_changes` frame, each person in their final state.

use super::online_set::{OnlineSet, SortKey};
use crate::domain::{User, UserId, WindowId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A window, as the views know it: its user and its id.
pub(super) type WindowRef = (UserId, WindowId);

/// Where a tracked range ends. (The derived order matters only between `Key`s and
/// `End`, the two ends a first page can have.)
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Hi {
    /// At this person, inclusive: a full page ends at its last person.
    Key(SortKey),
    /// With the last email that starts with this prefix (a search's short page).
    Prefix(String),
    /// At the end of the list (a short page without a prefix).
    End,
}

impl Hi {
    fn admits(&self, key: &SortKey) -> bool {
        match self {
            Hi::Key(hi) => key <= hi,
            Hi::Prefix(p) => key.email.as_str() < p.as_str() || key.email.starts_with(p.as_str()),
            Hi::End => true,
        }
    }
}

/// The stretch of the list a window tracks, by keys rather than offsets: arrivals before
/// it do not move it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Range {
    /// From this person on, inclusive; `None` from the start.
    pub lo: Option<SortKey>,
    pub hi: Hi,
}

impl Range {
    pub fn admits(&self, key: &SortKey) -> bool {
        self.lo.as_ref().is_none_or(|lo| key >= lo) && self.hi.admits(key)
    }

    /// The range a page answers: from its first person (or the start of its prefix, for
    /// the first page) to its last (or the end of its prefix or of the list, for a page
    /// that was not full). `None` for an empty page past the end: nothing to track.
    pub fn of_page(people: &[User], prefix: &str, offset: usize, limit: usize) -> Option<Range> {
        let first = people.first();
        if first.is_none() && offset > 0 {
            return None;
        }
        let lo = match first {
            Some(first) if offset > 0 => Some(SortKey::of(first)),
            _ => (!prefix.is_empty()).then(|| SortKey::first_with(prefix)),
        };
        let hi = match people.last() {
            Some(last) if people.len() >= limit => Hi::Key(SortKey::of(last)),
            _ if prefix.is_empty() => Hi::End,
            _ => Hi::Prefix(prefix.to_owned()),
        };
        Some(Range { lo, hi })
    }
}

/// One window's view.
pub(super) struct View {
    /// `None` after a page past the end: the window tracks only partners.
    pub range: Option<Range>,
    /// The request the range answers, so it can be asked again (re-paged).
    pub prefix: String,
    pub limit: usize,
    /// People in the range: the page's, plus arrivals, less departures. A range that
    /// grew past twice its page (or a full page that shrank under half) is re-paged.
    /// A first page's size is its group's ([`FirstPage`]), kept there.
    size: usize,
    /// People whose showing may have changed since the last tick, each with whether the
    /// window showed them before the tick's first change of them. What they are shown
    /// as now is read at the tick, from the online set and the viewer's blocks.
    pending: HashMap<UserId, bool>,
    /// The count the window last heard.
    pub count_sent: usize,
}

impl View {
    pub fn new(
        range: Option<Range>,
        prefix: String,
        limit: usize,
        size: usize,
        count: usize,
    ) -> View {
        View {
            range,
            prefix,
            limit,
            size,
            pending: HashMap::new(),
            count_sent: count,
        }
    }

    pub fn admits(&self, key: &SortKey) -> bool {
        self.range.as_ref().is_some_and(|r| r.admits(key))
    }

    /// Whether the range is a first page (from the start of the list, no prefix).
    pub fn is_first_page(&self) -> bool {
        matches!(self.range, Some(Range { lo: None, .. }))
    }

    /// The people changed for this window alone since the tick (partners outside its
    /// range, block changes), with whether it showed them before; emptied.
    pub fn take_pending(&mut self) -> HashMap<UserId, bool> {
        std::mem::take(&mut self.pending)
    }

    pub fn pending(&self) -> &HashMap<UserId, bool> {
        &self.pending
    }
}

/// Whether a range of `size` people, asked as pages of `limit`, needs asking again:
/// grown past twice its page, or a full page shrunk under half of it (so the window is
/// not left with a sliver).
fn needs_repage(range: &Range, size: usize, limit: usize) -> bool {
    size > 2 * limit || (matches!(range.hi, Hi::Key(_)) && size < limit / 2)
}

/// A first page's identity: where it ends, and the page length it was asked with.
type FirstPageKey = (Hi, usize);

/// The windows that track the same first page. Nearly every window tracks a first page,
/// and most of them the same one; under a connect storm, arrivals land inside it. So a
/// change is recorded once for the group, not once per window, and each tick builds one
/// frame that every member who hides nobody is sent as it is.
#[derive(Default)]
struct FirstPage {
    /// People online in the range (whoever a viewer hides).
    size: usize,
    /// Changes since the last tick: person → online before the tick's first change of
    /// them. Everyone here is inside the range.
    pending: HashMap<UserId, bool>,
    windows: HashSet<WindowRef>,
}

/// The changes one first page gathered in a tick, taken for the flush: its members, and
/// person → online before the tick.
pub(super) struct FirstPageChanges {
    pub windows: Vec<WindowRef>,
    pub pending: HashMap<UserId, bool>,
}

/// Every local window's view, and the indexes that find the windows a change concerns.
#[derive(Default)]
pub(super) struct Views {
    views: HashMap<WindowRef, View>,
    /// Windows on a first page, grouped by page: an arrival at key k concerns the groups
    /// ending at or after k, whatever their number of windows.
    first_pages: BTreeMap<FirstPageKey, FirstPage>,
    /// The other ranged views (scrolled or searching: few), by where they start.
    ranged: BTreeMap<SortKey, HashSet<WindowRef>>,
    /// Person → the local users who have a direct conversation with them.
    watchers: BTreeMap<UserId, HashSet<UserId>>,
    /// Windows with changes of their own waiting for the tick.
    dirty: HashSet<WindowRef>,
    /// First pages with changes waiting for the tick.
    dirty_pages: BTreeSet<FirstPageKey>,
}

impl Views {
    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn get(&self, window: &WindowRef) -> Option<&View> {
        self.views.get(window)
    }

    /// Sets (or replaces) a window's view. A window joining a first page mid-tick takes
    /// the page's pending people as its own, as `shown` says it shows them now (its page
    /// was built after those changes), so the tick does not tell it again.
    pub fn set(&mut self, window: WindowRef, mut view: View, shown: impl Fn(UserId) -> bool) {
        self.remove(window);
        match &view.range {
            Some(Range { lo: None, hi }) => {
                let group = self
                    .first_pages
                    .entry((hi.clone(), view.limit))
                    .or_insert_with(|| FirstPage {
                        size: view.size,
                        ..FirstPage::default()
                    });
                group.windows.insert(window);
                for person in group.pending.keys() {
                    view.pending.insert(*person, shown(*person));
                }
                if !group.pending.is_empty() {
                    self.dirty.insert(window);
                }
            }
            Some(Range { lo: Some(lo), .. }) => {
                self.ranged.entry(lo.clone()).or_default().insert(window);
            }
            None => {}
        }
        self.views.insert(window, view);
    }

    /// Forgets a window's view (it closed, or is being replaced); its pending changes go.
    pub fn remove(&mut self, window: WindowRef) -> Option<View> {
        let view = self.views.remove(&window)?;
        self.dirty.remove(&window);
        match &view.range {
            Some(Range { lo: None, hi }) => {
                let key = (hi.clone(), view.limit);
                if let Some(group) = self.first_pages.get_mut(&key) {
                    group.windows.remove(&window);
                    if group.windows.is_empty() {
                        self.first_pages.remove(&key);
                        self.dirty_pages.remove(&key);
                    }
                }
            }
            Some(Range { lo: Some(lo), .. }) => unindex(&mut self.ranged, lo, &window),
            None => {}
        }
        Some(view)
    }

    /// `person` (at `key`) came online or went: recorded once for every first page that
    /// holds them. Returns the other ranged windows that hold them (few), whose changes
    /// the caller records one by one ([`Views::record`]), as the viewer's blocks allow.
    pub fn record_in_ranges(
        &mut self,
        person: UserId,
        key: &SortKey,
        online: bool,
    ) -> Vec<WindowRef> {
        for (page, group) in self.first_pages.range_mut((Hi::Key(key.clone()), 0)..) {
            group.pending.entry(person).or_insert(!online);
            if online {
                group.size += 1;
            } else {
                group.size = group.size.saturating_sub(1);
            }
            self.dirty_pages.insert(page.clone());
        }
        self.ranged
            .range(..=key.clone())
            .flat_map(|(_, windows)| windows.iter().copied())
            .filter(|w| self.views[w].admits(key))
            .collect()
    }

    /// Records a change of `person` for `window` alone: whether the window showed them
    /// before (what the tick compares the final state with, if this is the tick's first
    /// change of them) and whether it shows them now (for the range's size).
    pub fn record(
        &mut self,
        window: WindowRef,
        person: UserId,
        key: &SortKey,
        was_shown: bool,
        now_shown: bool,
    ) {
        let Some(view) = self.views.get_mut(&window) else {
            return;
        };
        if view.admits(key) && was_shown != now_shown {
            let size = match &view.range {
                Some(Range { lo: None, hi }) => self
                    .first_pages
                    .get_mut(&(hi.clone(), view.limit))
                    .map(|group| &mut group.size),
                _ => Some(&mut view.size),
            };
            if let Some(size) = size {
                *size = if now_shown {
                    *size + 1
                } else {
                    size.saturating_sub(1)
                };
            }
        }
        view.pending.entry(person).or_insert(was_shown);
        self.dirty.insert(window);
    }

    /// Whether `window`'s range holds `key`.
    pub fn admits(&self, window: &WindowRef, key: &SortKey) -> bool {
        self.views.get(window).is_some_and(|v| v.admits(key))
    }

    /// Whether `window`'s range needs asking again ([`needs_repage`]).
    pub fn needs_repage(&self, window: &WindowRef) -> bool {
        let Some(view) = self.views.get(window) else {
            return false;
        };
        let Some(range) = &view.range else {
            return false;
        };
        let size = match &range.lo {
            None => match self.first_pages.get(&(range.hi.clone(), view.limit)) {
                Some(group) => group.size,
                None => return false,
            },
            Some(_) => view.size,
        };
        needs_repage(range, size, view.limit)
    }

    /// The changes `window`'s first page (if it is on one) gathered since the tick.
    pub fn page_pending(&self, window: &WindowRef) -> Option<&HashMap<UserId, bool>> {
        let view = self.views.get(window)?;
        let hi = match &view.range {
            Some(Range { lo: None, hi }) => hi,
            _ => return None,
        };
        Some(&self.first_pages.get(&(hi.clone(), view.limit))?.pending)
    }

    /// Takes a window's own pending changes, and sets the count it has now heard.
    pub fn take_pending(&mut self, window: &WindowRef, count: usize) -> HashMap<UserId, bool> {
        match self.views.get_mut(window) {
            Some(view) => {
                view.count_sent = count;
                view.take_pending()
            }
            None => HashMap::new(),
        }
    }

    /// Keeps `window` for the next tick (its re-page waits).
    pub fn touch(&mut self, window: WindowRef) {
        if self.views.contains_key(&window) {
            self.dirty.insert(window);
        }
    }

    /// What waits for the tick, emptied for the next: each first page's changes with its
    /// members, and the windows with changes of their own.
    pub fn take_dirty(&mut self) -> (Vec<FirstPageChanges>, HashSet<WindowRef>) {
        let pages = std::mem::take(&mut self.dirty_pages)
            .into_iter()
            .filter_map(|key| {
                let group = self.first_pages.get_mut(&key)?;
                Some(FirstPageChanges {
                    windows: group.windows.iter().copied().collect(),
                    pending: std::mem::take(&mut group.pending),
                })
            })
            .collect();
        (pages, std::mem::take(&mut self.dirty))
    }

    /// All windows with a view.
    pub fn windows(&self) -> impl Iterator<Item = &WindowRef> {
        self.views.keys()
    }

    /// `viewer` has a direct conversation with each of `partners`.
    pub fn watch(&mut self, viewer: UserId, partners: impl IntoIterator<Item = UserId>) {
        for partner in partners {
            self.watchers.entry(partner).or_default().insert(viewer);
        }
    }

    /// `viewer` left this node: they watch nobody any more.
    pub fn unwatch(&mut self, viewer: UserId, partners: impl IntoIterator<Item = UserId>) {
        for partner in partners {
            unindex(&mut self.watchers, &partner, &viewer);
        }
    }

    /// The local users who talk with `person`.
    pub fn watchers_of(&self, person: UserId) -> impl Iterator<Item = UserId> + '_ {
        self.watchers.get(&person).into_iter().flatten().copied()
    }
}

/// The changes gathered for one window, each person in their final state: (came, went).
/// `pending` holds whether the window showed each person before the tick; `shown_now`
/// gives how it shows them now (`None`: not shown). Someone who came and went within
/// the tick (or went and came back) is in neither. Arrivals come in list order,
/// departures by id (every window tracking the same people gets the same frame).
pub(super) fn final_changes<'a>(
    pending: impl IntoIterator<Item = (UserId, bool)>,
    shown_now: impl Fn(UserId) -> Option<&'a User>,
) -> (Vec<User>, Vec<UserId>) {
    let (mut came, mut went) = (Vec::new(), Vec::new());
    for (person, was) in pending {
        match (was, shown_now(person)) {
            (false, Some(user)) => came.push(user.clone()),
            (true, None) => went.push(person),
            _ => {}
        }
    }
    came.sort_by_cached_key(SortKey::of);
    went.sort();
    (came, went)
}

/// Takes `item` out of `key`'s set, dropping the set once empty (so the map shrinks).
fn unindex<K: Ord, T: std::hash::Hash + Eq>(map: &mut BTreeMap<K, HashSet<T>>, key: &K, item: &T) {
    if let Some(set) = map.get_mut(key) {
        set.remove(item);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

/// A page of `online` as a viewer sees it (`visible`): the people whose email starts
/// with `prefix`, `offset` of them skipped, at most `limit`; and the range it answers.
/// Costs O(offset + limit) of the matches.
pub(super) fn page(
    online: &OnlineSet,
    visible: impl Fn(&User) -> bool,
    prefix: &str,
    offset: usize,
    limit: usize,
) -> (Vec<User>, Option<Range>) {
    let people: Vec<User> = online
        .with_prefix(prefix)
        .filter(|u| visible(u))
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    let range = Range::of_page(&people, prefix, offset, limit);
    (people, range)
}

/// A range asked again from where it starts: (offset, people, range). The offset costs
/// O(matches before the range), paid only when a range is re-paged.
pub(super) fn repage(
    online: &OnlineSet,
    visible: impl Fn(&User) -> bool,
    view: &View,
) -> (usize, Vec<User>, Option<Range>) {
    let Some(lo) = view.range.as_ref().and_then(|r| r.lo.clone()) else {
        let (people, range) = page(online, visible, &view.prefix, 0, view.limit);
        return (0, people, range);
    };
    let prefix = view.prefix.as_str();
    let offset = online
        .with_prefix(prefix)
        .take_while(|u| SortKey::of(u) < lo)
        .filter(|u| visible(u))
        .count();
    let (people, range) = page(online, visible, prefix, offset, view.limit);
    (offset, people, range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str) -> User {
        User {
            id: UserId::new(),
            email: email.into(),
        }
    }

    fn set_of(emails: &[&str]) -> (OnlineSet, Vec<User>) {
        let mut set = OnlineSet::default();
        let users: Vec<User> = emails.iter().map(|e| user(e)).collect();
        for u in &users {
            set.insert(u);
        }
        (set, users)
    }

    #[test]
    fn a_full_page_tracks_its_keys_and_a_short_one_the_rest_of_the_list() {
        let (set, users) = set_of(&["a@x", "b@x", "c@x", "d@x", "e@x"]);
        let (people, range) = page(&set, |_| true, "", 1, 2);
        assert_eq!(people, users[1..3]);
        let range = range.expect("a range");
        assert!(!range.admits(&SortKey::of(&users[0])));
        assert!(range.admits(&SortKey::of(&users[1])) && range.admits(&SortKey::of(&users[2])));
        assert!(!range.admits(&SortKey::of(&users[3])));
        // Someone arriving between b and c is inside; after c, outside.
        assert!(range.admits(&SortKey::of(&user("bz@x"))));
        let (_, short) = page(&set, |_| true, "", 3, 10);
        assert!(short.expect("a range").admits(&SortKey::of(&user("zz@x"))));
        let (none, past) = page(&set, |_| true, "", 9, 10);
        assert!(none.is_empty() && past.is_none());
    }

    #[test]
    fn a_search_tracks_its_prefix_whatever_arrives_inside_it() {
        let (set, users) = set_of(&["ann@x", "bob@x", "bobby@x", "carl@x"]);
        let (people, range) = page(&set, |_| true, "bo", 0, 10);
        assert_eq!(people, users[1..3]);
        let range = range.expect("a range");
        for inside in ["bo@x", "bob2@x", "boz@y"] {
            assert!(range.admits(&SortKey::of(&user(inside))), "{inside}");
        }
        for outside in ["ann@x", "bn@x", "bp@x", "carl@x"] {
            assert!(!range.admits(&SortKey::of(&user(outside))), "{outside}");
        }
    }

    fn first_page_view() -> View {
        View::new(
            Some(Range {
                lo: None,
                hi: Hi::End,
            }),
            String::new(),
            100,
            0,
            0,
        )
    }

    #[test]
    fn a_tick_sends_each_person_once_in_their_final_state() {
        let (back, gone, flicker) = (user("a@x"), user("b@x"), user("c@x"));
        // Before the tick: `back` and `gone` were shown. Now only `back` is online
        // (it went and came back), `gone` went, `flicker` came and went.
        let pending = [(back.id, true), (gone.id, true), (flicker.id, false)];
        let online_now = [back.clone()];
        let (came, went) = final_changes(pending, |p| online_now.iter().find(|u| u.id == p));
        assert!(came.is_empty(), "{came:?}");
        assert_eq!(went, [gone.id]);
    }

    #[test]
    fn a_first_page_records_a_change_once_for_all_its_windows() {
        let mut views = Views::default();
        let (w1, w2) = ((UserId::new(), WindowId(1)), (UserId::new(), WindowId(2)));
        views.set(w1, first_page_view(), |_| false);
        views.set(w2, first_page_view(), |_| false);
        let (ann, bob) = (user("ann@x"), user("bob@x"));
        let ranged = views.record_in_ranges(ann.id, &SortKey::of(&ann), true);
        assert!(ranged.is_empty());
        views.record_in_ranges(ann.id, &SortKey::of(&ann), false);
        views.record_in_ranges(bob.id, &SortKey::of(&bob), true);
        // A window joining mid-tick takes the page's people as it shows them now.
        let late = (UserId::new(), WindowId(3));
        views.set(late, first_page_view(), |p| p == bob.id);
        assert_eq!(views.get(&late).unwrap().pending()[&bob.id], true);
        let (pages, windows) = views.take_dirty();
        assert_eq!(windows, HashSet::from([late]));
        assert_eq!(pages.len(), 1);
        let members: HashSet<WindowRef> = pages[0].windows.iter().copied().collect();
        assert_eq!(members, HashSet::from([w1, w2, late]));
        // Ann's first change found her offline; Bob's too.
        assert_eq!(
            pages[0].pending,
            HashMap::from([(ann.id, false), (bob.id, false)])
        );
        let (pages, _) = views.take_dirty();
        assert!(pages.is_empty(), "taken once");
        for w in [w1, w2, late] {
            views.remove(w);
        }
        assert!(views.first_pages.is_empty() && views.views.is_empty());
    }

    #[test]
    fn a_change_concerns_the_windows_whose_range_holds_it_and_indexes_shrink() {
        let (set, users) = set_of(&["a@x", "c@x", "e@x", "g@x"]);
        let mut views = Views::default();
        let (first, scrolled, far) = (
            (UserId::new(), WindowId(1)),
            (UserId::new(), WindowId(2)),
            (UserId::new(), WindowId(3)),
        );
        for (w, offset) in [(first, 0), (scrolled, 1), (far, 3)] {
            let (people, range) = page(&set, |_| true, "", offset, 2);
            views.set(
                w,
                View::new(range, String::new(), 2, people.len(), 4),
                |_| false,
            );
        }
        let mut at = |email: &str| -> (bool, HashSet<WindowRef>) {
            let arrival = user(email);
            let ranged = views.record_in_ranges(arrival.id, &SortKey::of(&arrival), true);
            let (pages, _) = views.take_dirty();
            (!pages.is_empty(), ranged.into_iter().collect())
        };
        assert_eq!(at("b@x"), (true, HashSet::new()));
        assert_eq!(at("d@x"), (false, HashSet::from([scrolled])));
        assert_eq!(at("h@x"), (false, HashSet::from([far])));
        assert_eq!(at("f@x"), (false, HashSet::new()));
        assert_eq!(users.len(), 4);
        for w in [first, scrolled, far] {
            assert!(views.remove(w).is_some());
        }
        assert!(views.first_pages.is_empty() && views.ranged.is_empty());
        assert_eq!(views.len(), 0);
    }

    #[test]
    fn a_range_that_doubled_is_asked_again_from_where_it_starts() {
        let emails: Vec<String> = (0..10).map(|i| format!("p{i}@x")).collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let (set, users) = set_of(&refs);
        let (people, range) = page(&set, |_| true, "", 2, 2);
        let range = range.expect("a range");
        assert!(!needs_repage(&range, people.len(), 2));
        assert!(needs_repage(&range, 5, 2));
        let view = View::new(Some(range.clone()), String::new(), 2, 5, 10);
        let (offset, people, _) = repage(&set, |_| true, &view);
        assert_eq!((offset, people), (2, users[2..4].to_vec()));
        assert!(
            needs_repage(&range, 0, 2),
            "a full page that emptied is refilled"
        );
    }
}
