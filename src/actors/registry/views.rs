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
use std::collections::{BTreeMap, HashMap, HashSet};

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
    pub size: usize,
    /// Changes since the last tick: person → (shown before the tick, shown now as).
    pending: HashMap<UserId, (bool, Option<User>)>,
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

    /// Does the range need asking again: grown past twice its page, or a full page
    /// shrunk under half of it (so the window is not left with a sliver)?
    pub fn needs_repage(&self) -> bool {
        match &self.range {
            Some(range) => {
                self.size > 2 * self.limit
                    || (matches!(range.hi, Hi::Key(_)) && self.size < self.limit / 2)
            }
            None => false,
        }
    }

    /// The changes gathered since the last tick, each person in their final state:
    /// (came, went). Someone who came and went within the tick (or went and came back)
    /// is in neither. Arrivals come in list order, departures by id (every window
    /// tracking the same people gets the same frame).
    pub fn take_changes(&mut self) -> (Vec<User>, Vec<UserId>) {
        let (mut came, mut went) = (Vec::new(), Vec::new());
        for (person, (was, now)) in self.pending.drain() {
            match (was, now) {
                (false, Some(user)) => came.push(user),
                (true, None) => went.push(person),
                _ => {}
            }
        }
        came.sort_by_cached_key(SortKey::of);
        went.sort();
        (came, went)
    }
}

/// Every local window's view, and the indexes that find the windows a change concerns.
#[derive(Default)]
pub(super) struct Views {
    views: HashMap<WindowRef, View>,
    /// Views whose range starts at the beginning (first pages: nearly every window), by
    /// where they end: an arrival at key k concerns those ending at or after k.
    first_pages: BTreeMap<Hi, HashSet<WindowRef>>,
    /// The other ranged views (scrolled or searching: few), by where they start.
    ranged: BTreeMap<SortKey, HashSet<WindowRef>>,
    /// Person → the local users who have a direct conversation with them.
    watchers: BTreeMap<UserId, HashSet<UserId>>,
    /// Windows with changes waiting for the tick.
    dirty: HashSet<WindowRef>,
}

impl Views {
    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn get(&self, window: &WindowRef) -> Option<&View> {
        self.views.get(window)
    }

    pub fn get_mut(&mut self, window: &WindowRef) -> Option<&mut View> {
        self.views.get_mut(window)
    }

    /// Sets (or replaces) a window's view.
    pub fn set(&mut self, window: WindowRef, view: View) {
        self.remove(window);
        match &view.range {
            Some(Range { lo: None, hi }) => {
                self.first_pages
                    .entry(hi.clone())
                    .or_default()
                    .insert(window);
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
            Some(Range { lo: None, hi }) => unindex(&mut self.first_pages, hi, &window),
            Some(Range { lo: Some(lo), .. }) => unindex(&mut self.ranged, lo, &window),
            None => {}
        }
        Some(view)
    }

    /// The windows whose range holds `key`: first pages ending at or after it, and the
    /// other ranges starting at or before it that reach it.
    pub fn covering(&self, key: &SortKey) -> Vec<WindowRef> {
        let firsts = self
            .first_pages
            .range(Hi::Key(key.clone())..)
            .flat_map(|(_, windows)| windows.iter().copied());
        let others = self
            .ranged
            .range(..=key.clone())
            .flat_map(|(_, windows)| windows.iter().copied())
            .filter(|w| self.views[w].admits(key));
        firsts.chain(others).collect()
    }

    /// Records a change of `person` for `window`: `now` is how they are shown from now
    /// on (`None`: not shown); `was_shown`, whether the window showed them before (what
    /// the tick compares the final state with, if this is the tick's first change of
    /// them). The window's range size follows when the range holds them.
    pub fn record(
        &mut self,
        window: WindowRef,
        person: UserId,
        key: &SortKey,
        was_shown: bool,
        now: Option<User>,
    ) {
        let Some(view) = self.views.get_mut(&window) else {
            return;
        };
        if view.admits(key) && was_shown != now.is_some() {
            if now.is_some() {
                view.size += 1;
            } else {
                view.size = view.size.saturating_sub(1);
            }
        }
        view.pending
            .entry(person)
            .and_modify(|(_, shown)| *shown = now.clone())
            .or_insert((was_shown, now));
        self.dirty.insert(window);
    }

    /// Keeps `window` for the next tick (its re-page waits).
    pub fn touch(&mut self, window: WindowRef) {
        if self.views.contains_key(&window) {
            self.dirty.insert(window);
        }
    }

    /// The windows with changes waiting, emptied for the next tick.
    pub fn take_dirty(&mut self) -> HashSet<WindowRef> {
        std::mem::take(&mut self.dirty)
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

    #[test]
    fn a_tick_sends_each_person_once_in_their_final_state() {
        let mut views = Views::default();
        let w = (UserId::new(), WindowId(1));
        views.set(
            w,
            View::new(
                Some(Range {
                    lo: None,
                    hi: Hi::End,
                }),
                String::new(),
                100,
                0,
                0,
            ),
        );
        let (back, gone, flicker) = (user("a@x"), user("b@x"), user("c@x"));
        let key = |u: &User| SortKey::of(u);
        // `back` was shown, went and came back; `gone` was shown and went; `flicker`
        // came and went.
        views.record(w, back.id, &key(&back), true, None);
        views.record(w, back.id, &key(&back), false, Some(back.clone()));
        views.record(w, gone.id, &key(&gone), true, None);
        views.record(w, flicker.id, &key(&flicker), false, Some(flicker.clone()));
        views.record(w, flicker.id, &key(&flicker), true, None);
        assert_eq!(views.take_dirty(), HashSet::from([w]));
        let (came, went) = views.get_mut(&w).unwrap().take_changes();
        assert!(came.is_empty(), "{came:?}");
        assert_eq!(went, [gone.id]);
        assert!(views.take_dirty().is_empty());
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
            views.set(w, View::new(range, String::new(), 2, people.len(), 4));
        }
        let at = |email: &str| -> HashSet<WindowRef> {
            views
                .covering(&SortKey::of(&user(email)))
                .into_iter()
                .collect()
        };
        assert_eq!(at("b@x"), HashSet::from([first]));
        assert_eq!(at("d@x"), HashSet::from([scrolled]));
        assert_eq!(at("h@x"), HashSet::from([far]));
        assert_eq!(at("f@x"), HashSet::new());
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
        let mut view = View::new(range, String::new(), 2, people.len(), 10);
        assert!(!view.needs_repage());
        view.size = 5;
        assert!(view.needs_repage());
        let (offset, people, _) = repage(&set, |_| true, &view);
        assert_eq!((offset, people), (2, users[2..4].to_vec()));
        view.size = 0;
        assert!(view.needs_repage(), "a full page that emptied is refilled");
    }
}
