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
use std::ops::Bound;
use std::time::{Duration, Instant};

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

/// What a window tracks of the list (besides partners).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tracks {
    /// The first page: the first `limit` people online, wherever that ends now (its
    /// end lives with the other windows on the same first page, see [`FirstPage`]).
    FirstPage,
    /// A stretch by keys: a scrolled page or a search.
    Range(Range),
    /// Nothing (a page past the end): only partners.
    Nothing,
}

impl Tracks {
    /// What a page answers: the first page (offset 0, no prefix), or its stretch.
    pub fn of_page(people: &[User], prefix: &str, offset: usize, limit: usize) -> Tracks {
        if offset == 0 && prefix.is_empty() {
            return Tracks::FirstPage;
        }
        match Range::of_page(people, prefix, offset, limit) {
            Some(range) => Tracks::Range(range),
            None => Tracks::Nothing,
        }
    }
}

/// One window's view.
pub(super) struct View {
    pub tracks: Tracks,
    /// The request the range answers, so it can be asked again (re-paged).
    pub prefix: String,
    pub limit: usize,
    /// People in a stretch ([`Tracks::Range`]): the page's, plus arrivals, less
    /// departures. A stretch that grew past twice its page (or a full page that shrank
    /// under half) is re-paged. (A first page slides instead.)
    size: usize,
    /// People whose showing may have changed since the last tick, each with whether the
    /// window showed them before the tick's first change of them. What they are shown
    /// as now is read at the tick, from the online set and the viewer's blocks.
    pending: HashMap<UserId, bool>,
    /// The count the window last heard.
    pub count_sent: usize,
}

impl View {
    pub fn new(tracks: Tracks, prefix: String, limit: usize, size: usize, count: usize) -> View {
        View {
            tracks,
            prefix,
            limit,
            size,
            pending: HashMap::new(),
            count_sent: count,
        }
    }

    /// Where a stretch starts (`None` for a first page or nothing).
    pub fn starts_at(&self) -> Option<&SortKey> {
        match &self.tracks {
            Tracks::Range(range) => range.lo.as_ref(),
            _ => None,
        }
    }

    pub fn pending(&self) -> &HashMap<UserId, bool> {
        &self.pending
    }
}

/// Whether a stretch of `size` people, asked as pages of `limit`, needs asking again:
/// grown past twice its page, or a full page shrunk under half of it (so the window is
/// not left with a sliver).
fn needs_repage(range: &Range, size: usize, limit: usize) -> bool {
    size > 2 * limit || (matches!(range.hi, Hi::Key(_)) && size < limit / 2)
}

/// The windows on the first page of one length. Nearly every window is on the first
/// page; under a connect storm arrivals land inside it. So a change is recorded once for
/// the page, not once per window, and each tick builds one frame that every member who
/// hides nobody is sent as it is.
///
/// The page *slides*: it always holds the first `limit` people online (whoever a viewer
/// hides), so an arrival inside pushes its last person out and a departure pulls the
/// next one in, told to its windows as `went` and `came`. It never outgrows itself, so
/// it is never sent again whole.
struct FirstPage {
    /// Where the page ends now (moved each tick it changed).
    hi: Hi,
    /// Changes since the page's last flush: person → online before the first change of
    /// them since.
    pending: HashMap<UserId, bool>,
    windows: HashSet<WindowRef>,
    /// When the page may be flushed again ([`flush_interval`]).
    next_flush: Instant,
}

/// How many frames a node's first pages may send per tick, all pages together: a first
/// page with more windows than this is flushed less often than every tick, so a storm
/// of arrivals inside it (every window hearing of them) cannot take the node's writes
/// from messages. 2,000 a tick is 10,000 frames a second.
pub const PAGE_FRAMES_PER_TICK: usize = 2_000;

/// How long a first page with `windows` windows waits between flushes: a tick, or one
/// more tick per [`PAGE_FRAMES_PER_TICK`] windows (17,000 windows: 1.8 s).
pub(super) fn flush_interval(windows: usize, tick: Duration) -> Duration {
    let ticks = windows.div_ceil(PAGE_FRAMES_PER_TICK).max(1);
    tick * u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// Where a first page of `limit` ends in `online` now.
fn first_page_end(online: &OnlineSet, limit: usize) -> Hi {
    match online.nth_key(limit) {
        Some(key) => Hi::Key(key.clone()),
        None => Hi::End,
    }
}

/// The changes one first page gathered in a tick, taken for the flush, once it slid:
/// its members, and person → online before the tick (with the people the slide moved
/// in or out), and where it ends now.
pub(super) struct FirstPageChanges {
    pub windows: Vec<WindowRef>,
    pub pending: HashMap<UserId, bool>,
    pub hi: Hi,
}

/// Every local window's view, and the indexes that find the windows a change concerns.
#[derive(Default)]
pub(super) struct Views {
    views: HashMap<WindowRef, View>,
    /// Windows on a first page, by page length: an arrival or departure is recorded
    /// once per page, whatever its number of windows.
    first_pages: BTreeMap<usize, FirstPage>,
    /// The ranged views (scrolled or searching: few), by where they start.
    ranged: BTreeMap<SortKey, HashSet<WindowRef>>,
    /// Person → the local users who have a direct conversation with them.
    watchers: BTreeMap<UserId, HashSet<UserId>>,
    /// Windows with changes of their own waiting for the tick.
    dirty: HashSet<WindowRef>,
    /// First pages (by length) with changes waiting for the tick.
    dirty_pages: BTreeSet<usize>,
}

impl Views {
    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn get(&self, window: &WindowRef) -> Option<&View> {
        self.views.get(window)
    }

    /// The first page of `limit` as it stands: from the start to where it ends (the
    /// page's windows' end, or the `limit`-th person online for a page nobody shows).
    pub fn first_page(&self, limit: usize, online: &OnlineSet) -> Range {
        let hi = match self.first_pages.get(&limit) {
            Some(page) => page.hi.clone(),
            None => first_page_end(online, limit),
        };
        Range { lo: None, hi }
    }

    /// Sets (or replaces) a window's view. A window joining a first page takes its end
    /// from `page` (what [`Views::first_page`] said when its page was built) if nobody
    /// is on it; mid-tick, it takes the page's pending people as its own, as `shown`
    /// says it shows them now (its page was built after those changes), so the tick
    /// does not tell it again. `cut` are people inside the page's range it was not sent
    /// (past its limit): it starts without them, and its next flush tells it of those
    /// the slid page holds.
    pub fn set(
        &mut self,
        window: WindowRef,
        mut view: View,
        page: Option<Range>,
        shown: impl Fn(UserId) -> bool,
        cut: &[UserId],
    ) {
        self.remove(window);
        match &view.tracks {
            Tracks::FirstPage => {
                let hi = page.map_or(Hi::End, |r| r.hi);
                if !self.first_pages.contains_key(&view.limit) {
                    // New, from a page that may be a tick old: the next tick slides it.
                    self.dirty_pages.insert(view.limit);
                }
                let group = self
                    .first_pages
                    .entry(view.limit)
                    .or_insert_with(|| FirstPage {
                        hi,
                        pending: HashMap::new(),
                        windows: HashSet::new(),
                        next_flush: Instant::now(),
                    });
                group.windows.insert(window);
                for person in group.pending.keys() {
                    view.pending.insert(*person, shown(*person));
                }
                view.pending
                    .extend(cut.iter().map(|person| (*person, false)));
                // Nothing to flush on its own: the page's flush (due within its
                // interval, as the page has pending people) takes this member's
                // baseline into account. Flushed alone at the next tick, it would be
                // told the cut people under the page's old end, then told again when
                // the page slides.
                if !group.pending.is_empty() {
                    self.dirty_pages.insert(view.limit);
                }
            }
            Tracks::Range(Range { lo, .. }) => {
                let start = lo.clone().unwrap_or_else(|| SortKey::first_with(""));
                self.ranged.entry(start).or_default().insert(window);
            }
            Tracks::Nothing => {}
        }
        self.views.insert(window, view);
    }

    /// Forgets a window's view (it closed, or is being replaced); its pending changes go.
    pub fn remove(&mut self, window: WindowRef) -> Option<View> {
        let view = self.views.remove(&window)?;
        self.dirty.remove(&window);
        match &view.tracks {
            Tracks::FirstPage => {
                if let Some(group) = self.first_pages.get_mut(&view.limit) {
                    group.windows.remove(&window);
                    if group.windows.is_empty() {
                        self.first_pages.remove(&view.limit);
                        self.dirty_pages.remove(&view.limit);
                    }
                }
            }
            Tracks::Range(Range { lo, .. }) => {
                let start = lo.clone().unwrap_or_else(|| SortKey::first_with(""));
                unindex(&mut self.ranged, &start, &window);
            }
            Tracks::Nothing => {}
        }
        Some(view)
    }

    /// `person` (at `key`) came online or went: recorded once for every first page that
    /// holds them. Returns the ranged windows that hold them (few), whose changes the
    /// caller records one by one ([`Views::record`]), as the viewer's blocks allow.
    pub fn record_in_ranges(
        &mut self,
        person: UserId,
        key: &SortKey,
        online: bool,
    ) -> Vec<WindowRef> {
        for (limit, group) in &mut self.first_pages {
            if group.hi.admits(key) {
                group.pending.entry(person).or_insert(!online);
                self.dirty_pages.insert(*limit);
            }
        }
        self.ranged
            .range(..=key.clone())
            .flat_map(|(_, windows)| windows.iter().copied())
            .filter(|w| self.admits(w, key))
            .collect()
    }

    /// Records a change of `person` for `window` alone: whether the window showed them
    /// before (what the tick compares the final state with, if this is the tick's first
    /// change of them) and whether it shows them now (for a stretch's size).
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
        if let Tracks::Range(range) = &view.tracks {
            if range.admits(key) && was_shown != now_shown {
                view.size = if now_shown {
                    view.size + 1
                } else {
                    view.size.saturating_sub(1)
                };
            }
        }
        view.pending.entry(person).or_insert(was_shown);
        self.dirty.insert(window);
    }

    /// Every window whose range holds `key` now: on a first page that reaches it, or
    /// a stretch around it. Costs those windows (and the ranged views, which are few).
    pub fn showing(&self, key: &SortKey) -> Vec<WindowRef> {
        let mut windows: Vec<WindowRef> = self
            .first_pages
            .values()
            .filter(|page| page.hi.admits(key))
            .flat_map(|page| page.windows.iter().copied())
            .collect();
        windows.extend(
            self.ranged
                .range(..=key.clone())
                .flat_map(|(_, windows)| windows.iter().copied())
                .filter(|w| self.admits(w, key)),
        );
        windows
    }

    /// Whether `window`'s range holds `key`.
    pub fn admits(&self, window: &WindowRef, key: &SortKey) -> bool {
        let Some(view) = self.views.get(window) else {
            return false;
        };
        match &view.tracks {
            Tracks::FirstPage => self
                .first_pages
                .get(&view.limit)
                .is_some_and(|page| page.hi.admits(key)),
            Tracks::Range(range) => range.admits(key),
            Tracks::Nothing => false,
        }
    }

    /// Whether `window`'s stretch needs asking again ([`needs_repage`]).
    pub fn needs_repage(&self, window: &WindowRef) -> bool {
        match self.views.get(window) {
            Some(View {
                tracks: Tracks::Range(range),
                size,
                limit,
                ..
            }) => needs_repage(range, *size, *limit),
            _ => false,
        }
    }

    /// The changes `window`'s first page (if it is on one) gathered since the tick.
    pub fn page_pending(&self, window: &WindowRef) -> Option<&HashMap<UserId, bool>> {
        let view = self.views.get(window)?;
        match view.tracks {
            Tracks::FirstPage => Some(&self.first_pages.get(&view.limit)?.pending),
            _ => None,
        }
    }

    /// Takes a window's own pending changes, and sets the count it has now heard.
    pub fn take_pending(&mut self, window: &WindowRef, count: usize) -> HashMap<UserId, bool> {
        match self.views.get_mut(window) {
            Some(view) => {
                view.count_sent = count;
                std::mem::take(&mut view.pending)
            }
            None => HashMap::new(),
        }
    }

    /// Sets what `window` shows of people its first page's pending changes name, after
    /// it was told of them ahead of the page (not marked dirty: nothing waits).
    pub fn set_baseline(&mut self, window: &WindowRef, baseline: Vec<(UserId, bool)>) {
        if let Some(view) = self.views.get_mut(window) {
            view.pending.extend(baseline);
        }
    }

    /// Keeps `window` for the next tick (its re-page waits).
    pub fn touch(&mut self, window: WindowRef) {
        if self.views.contains_key(&window) {
            self.dirty.insert(window);
        }
    }

    /// What waits for the tick (at `now`, ticking every `tick`), emptied for the next:
    /// each first page's changes with its members, once it slid to the first `limit` of
    /// `online` (a page not due yet, see [`flush_interval`], keeps gathering); and the
    /// windows with changes of their own.
    pub fn take_dirty(
        &mut self,
        online: &OnlineSet,
        now: Instant,
        tick: Duration,
    ) -> (Vec<FirstPageChanges>, HashSet<WindowRef>) {
        let (due, later): (BTreeSet<usize>, BTreeSet<usize>) =
            std::mem::take(&mut self.dirty_pages)
                .into_iter()
                .partition(|limit| {
                    self.first_pages
                        .get(limit)
                        .is_some_and(|page| page.next_flush <= now)
                });
        self.dirty_pages = later;
        let pages = due
            .into_iter()
            .filter_map(|limit| {
                let group = self.first_pages.get_mut(&limit)?;
                // Less a little, so a page due every tick is not pushed to every other.
                group.next_flush = now + flush_interval(group.windows.len(), tick) - tick / 2;
                let hi = first_page_end(online, limit);
                let mut pending = std::mem::take(&mut group.pending);
                slide(online, &group.hi, &hi, &mut pending);
                group.hi = hi.clone();
                Some(FirstPageChanges {
                    windows: group.windows.iter().copied().collect(),
                    pending,
                    hi,
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

/// A first page slid from ending at `old` to ending at `new`: the people online between
/// the two ends were pushed out (it shrank: they were shown) or pulled in (it grew: they
/// were not), and join `pending` unless a change of theirs is there already. Costs the
/// people between the ends: as many as the tick's arrivals or departures inside.
fn slide(online: &OnlineSet, old: &Hi, new: &Hi, pending: &mut HashMap<UserId, bool>) {
    let (from, to, was_shown) = match old.cmp(new) {
        std::cmp::Ordering::Equal => return,
        std::cmp::Ordering::Greater => (new, old, true),
        std::cmp::Ordering::Less => (old, new, false),
    };
    let Hi::Key(from) = from else {
        return;
    };
    let to = match to {
        Hi::Key(key) => Bound::Included(key),
        _ => Bound::Unbounded,
    };
    for user in online.in_range((Bound::Excluded(from), to)) {
        pending.entry(user.id).or_insert(was_shown);
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
/// with `prefix`, `offset` of them skipped, at most `limit`; and what it tracks. Costs
/// O(offset + limit) of the matches. (The first page is [`first_page_people`].)
pub(super) fn page(
    online: &OnlineSet,
    visible: impl Fn(&User) -> bool,
    prefix: &str,
    offset: usize,
    limit: usize,
) -> (Vec<User>, Tracks) {
    let people: Vec<User> = online
        .with_prefix(prefix)
        .filter(|u| visible(u))
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    let tracks = Tracks::of_page(&people, prefix, offset, limit);
    (people, tracks)
}

/// The first page as a viewer sees it: the people online up to where it ends now
/// ([`Views::first_page`]) that `visible` lets them see.
pub(super) fn first_page_people(
    online: &OnlineSet,
    visible: impl Fn(&User) -> bool,
    page: &Range,
) -> Vec<User> {
    let to = match &page.hi {
        Hi::Key(key) => Bound::Included(key),
        _ => Bound::Unbounded,
    };
    online
        .in_range((Bound::Unbounded, to))
        .filter(|u| visible(u))
        .cloned()
        .collect()
}

/// A stretch asked again from where it starts: (offset, people, what it tracks). The
/// offset costs O(matches before the stretch), paid only when a stretch is re-paged.
pub(super) fn repage(
    online: &OnlineSet,
    visible: impl Fn(&User) -> bool,
    view: &View,
) -> (usize, Vec<User>, Tracks) {
    let prefix = view.prefix.as_str();
    let offset = match view.starts_at() {
        Some(lo) => online
            .with_prefix(prefix)
            .take_while(|u| SortKey::of(u) < *lo)
            .filter(|u| visible(u))
            .count(),
        None => 0,
    };
    let (people, tracks) = page(online, visible, prefix, offset, view.limit);
    (offset, people, tracks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str) -> User {
        User {
            id: UserId::new(),
            email: email.into(),
            name: None,
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

    const TICK: Duration = Duration::from_millis(200);

    #[test]
    fn a_first_page_with_many_windows_is_flushed_less_often() {
        assert_eq!(flush_interval(1, TICK), TICK);
        assert_eq!(flush_interval(PAGE_FRAMES_PER_TICK, TICK), TICK);
        assert_eq!(flush_interval(PAGE_FRAMES_PER_TICK + 1, TICK), 2 * TICK);
        assert_eq!(flush_interval(17_000, TICK), 9 * TICK);
    }

    fn range_of(tracks: Tracks) -> Range {
        match tracks {
            Tracks::Range(range) => range,
            other => panic!("not a stretch: {other:?}"),
        }
    }

    #[test]
    fn a_full_page_tracks_its_keys_and_a_short_one_the_rest_of_the_list() {
        let (set, users) = set_of(&["a@x", "b@x", "c@x", "d@x", "e@x"]);
        let (people, tracks) = page(&set, |_| true, "", 1, 2);
        assert_eq!(people, users[1..3]);
        let range = range_of(tracks);
        assert!(!range.admits(&SortKey::of(&users[0])));
        assert!(range.admits(&SortKey::of(&users[1])) && range.admits(&SortKey::of(&users[2])));
        assert!(!range.admits(&SortKey::of(&users[3])));
        // Someone arriving between b and c is inside; after c, outside.
        assert!(range.admits(&SortKey::of(&user("bz@x"))));
        let (_, short) = page(&set, |_| true, "", 3, 10);
        assert!(range_of(short).admits(&SortKey::of(&user("zz@x"))));
        let (none, past) = page(&set, |_| true, "", 9, 10);
        assert!(none.is_empty() && past == Tracks::Nothing);
        let (_, first) = page(&set, |_| true, "", 0, 2);
        assert_eq!(first, Tracks::FirstPage);
    }

    #[test]
    fn a_search_tracks_its_prefix_whatever_arrives_inside_it() {
        let (set, users) = set_of(&["ann@x", "bob@x", "bobby@x", "carl@x"]);
        let (people, tracks) = page(&set, |_| true, "bo", 0, 10);
        assert_eq!(people, users[1..3]);
        let range = range_of(tracks);
        for inside in ["bo@x", "bob2@x", "boz@y"] {
            assert!(range.admits(&SortKey::of(&user(inside))), "{inside}");
        }
        for outside in ["ann@x", "bn@x", "bp@x", "carl@x"] {
            assert!(!range.admits(&SortKey::of(&user(outside))), "{outside}");
        }
    }

    fn first_page_view(limit: usize) -> View {
        View::new(Tracks::FirstPage, String::new(), limit, 0, 0)
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
        let (mut online, _) = set_of(&["m@x", "n@x"]);
        let mut views = Views::default();
        let (w1, w2) = ((UserId::new(), WindowId(1)), (UserId::new(), WindowId(2)));
        let first = views.first_page(100, &online);
        views.set(
            w1,
            first_page_view(100),
            Some(first.clone()),
            |_| false,
            &[],
        );
        views.set(w2, first_page_view(100), Some(first), |_| false, &[]);
        let (ann, bob) = (user("ann@x"), user("bob@x"));
        online.insert(&ann);
        assert!(views
            .record_in_ranges(ann.id, &SortKey::of(&ann), true)
            .is_empty());
        online.remove(ann.id);
        views.record_in_ranges(ann.id, &SortKey::of(&ann), false);
        online.insert(&bob);
        views.record_in_ranges(bob.id, &SortKey::of(&bob), true);
        // A window joining mid-tick takes the page's people as it shows them now.
        let late = (UserId::new(), WindowId(3));
        let first = views.first_page(100, &online);
        views.set(
            late,
            first_page_view(100),
            Some(first),
            |p| p == bob.id,
            &[],
        );
        assert!(views.get(&late).unwrap().pending()[&bob.id]);
        let (pages, windows) = views.take_dirty(&online, Instant::now(), TICK);
        assert!(
            windows.is_empty(),
            "the late window is flushed with its page"
        );
        assert_eq!(pages.len(), 1);
        let members: HashSet<WindowRef> = pages[0].windows.iter().copied().collect();
        assert_eq!(members, HashSet::from([w1, w2, late]));
        // Ann's first change found her offline; Bob's too.
        assert_eq!(
            pages[0].pending,
            HashMap::from([(ann.id, false), (bob.id, false)])
        );
        let (pages, _) = views.take_dirty(&online, Instant::now(), TICK);
        assert!(pages.is_empty(), "taken once");
        for w in [w1, w2, late] {
            views.remove(w);
        }
        assert!(views.first_pages.is_empty() && views.views.is_empty());
    }

    #[test]
    fn a_first_page_slides_an_arrival_pushes_its_last_out_and_a_departure_pulls_the_next_in() {
        let (mut online, users) = set_of(&["b@x", "d@x", "f@x", "h@x"]);
        let mut views = Views::default();
        let w = (UserId::new(), WindowId(1));
        let first = views.first_page(2, &online);
        assert_eq!(first_page_people(&online, |_| true, &first), users[..2]);
        views.set(w, first_page_view(2), Some(first), |_| false, &[]);
        // `a` arrives inside: `d` is pushed out.
        let a = user("a@x");
        online.insert(&a);
        views.record_in_ranges(a.id, &SortKey::of(&a), true);
        let (pages, _) = views.take_dirty(&online, Instant::now(), TICK);
        let changes = &pages[0];
        let (came, went) = final_changes(changes.pending.iter().map(|(p, w)| (*p, *w)), |p| {
            online.get(p).filter(|u| changes.hi.admits(&SortKey::of(u)))
        });
        assert_eq!((came, went), (vec![a.clone()], vec![users[1].id]));
        // `b` leaves: `d` is pulled back in; an arrival past the page is not recorded.
        online.remove(users[0].id);
        views.record_in_ranges(users[0].id, &SortKey::of(&users[0]), false);
        let z = user("z@x");
        online.insert(&z);
        views.record_in_ranges(z.id, &SortKey::of(&z), true);
        let (pages, _) = views.take_dirty(&online, Instant::now() + TICK * 2, TICK);
        let changes = &pages[0];
        let (came, went) = final_changes(changes.pending.iter().map(|(p, w)| (*p, *w)), |p| {
            online.get(p).filter(|u| changes.hi.admits(&SortKey::of(u)))
        });
        assert_eq!((came, went), (vec![users[1].clone()], vec![users[0].id]));
        assert!(!changes.pending.contains_key(&z.id));
    }

    #[test]
    fn a_window_joining_a_page_that_grew_past_its_limit_gets_the_limit_and_no_repeats() {
        let (mut online, users) = set_of(&["b@x", "d@x", "f@x"]);
        let mut views = Views::default();
        let w = (UserId::new(), WindowId(1));
        views.set(
            w,
            first_page_view(2),
            Some(views.first_page(2, &online)),
            |_| false,
            &[],
        );
        // `a` arrives inside the page (b, d) before it slides: its range now holds three.
        let a = user("a@x");
        online.insert(&a);
        views.record_in_ranges(a.id, &SortKey::of(&a), true);
        let first = views.first_page(2, &online);
        let mut people = first_page_people(&online, |_| true, &first);
        assert_eq!(people.len(), 3);
        // A window joining now is sent two (a, b); `d` is cut.
        let cut: Vec<UserId> = people.split_off(2).iter().map(|u| u.id).collect();
        let late = (UserId::new(), WindowId(2));
        let sent: HashSet<UserId> = people.iter().map(|u| u.id).collect();
        views.set(
            late,
            first_page_view(2),
            Some(first),
            |p| sent.contains(&p),
            &cut,
        );
        let (pages, windows) = views.take_dirty(&online, Instant::now(), TICK);
        assert!(windows.is_empty(), "both are flushed with the page");
        let changes = &pages[0];
        let shown_now = |p: UserId| online.get(p).filter(|u| changes.hi.admits(&SortKey::of(u)));
        // The first window: `a` came, `d` was pushed out.
        let (came, went) = final_changes(changes.pending.iter().map(|(p, w)| (*p, *w)), shown_now);
        assert_eq!((came, went), (vec![a.clone()], vec![users[1].id]));
        // The late one already shows the slid page: nothing to tell it.
        let own = views.get(&late).unwrap().pending();
        let merged = changes
            .pending
            .iter()
            .map(|(p, was)| (*p, *own.get(p).unwrap_or(was)));
        let (came, went) = final_changes(merged, shown_now);
        assert!(came.is_empty() && went.is_empty(), "{came:?} {went:?}");
    }

    #[test]
    fn a_change_concerns_the_windows_whose_range_holds_it_and_indexes_shrink() {
        let (set, _) = set_of(&["a@x", "c@x", "e@x", "g@x"]);
        let mut views = Views::default();
        let (first, scrolled, far) = (
            (UserId::new(), WindowId(1)),
            (UserId::new(), WindowId(2)),
            (UserId::new(), WindowId(3)),
        );
        for (w, offset) in [(first, 0), (scrolled, 1), (far, 3)] {
            let (people, tracks) = page(&set, |_| true, "", offset, 2);
            let page = views.first_page(2, &set);
            let view = View::new(tracks, String::new(), 2, people.len(), 4);
            views.set(w, view, Some(page), |_| false, &[]);
        }
        let mut at = |email: &str| -> (bool, HashSet<WindowRef>) {
            let arrival = user(email);
            let ranged = views.record_in_ranges(arrival.id, &SortKey::of(&arrival), true);
            let dirty = !views.dirty_pages.is_empty();
            views.dirty_pages.clear();
            (dirty, ranged.into_iter().collect())
        };
        assert_eq!(at("b@x"), (true, HashSet::new()));
        assert_eq!(at("d@x"), (false, HashSet::from([scrolled])));
        assert_eq!(at("h@x"), (false, HashSet::from([far])));
        assert_eq!(at("f@x"), (false, HashSet::new()));
        for w in [first, scrolled, far] {
            assert!(views.remove(w).is_some());
        }
        assert!(views.first_pages.is_empty() && views.ranged.is_empty());
        assert_eq!(views.len(), 0);
    }

    #[test]
    fn a_stretch_that_doubled_is_asked_again_from_where_it_starts() {
        let emails: Vec<String> = (0..10).map(|i| format!("p{i}@x")).collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let (set, users) = set_of(&refs);
        let (people, tracks) = page(&set, |_| true, "", 2, 2);
        let range = range_of(tracks.clone());
        assert!(!needs_repage(&range, people.len(), 2));
        assert!(needs_repage(&range, 5, 2));
        let view = View::new(tracks, String::new(), 2, 5, 10);
        let (offset, people, _) = repage(&set, |_| true, &view);
        assert_eq!((offset, people), (2, users[2..4].to_vec()));
        assert!(
            needs_repage(&range, 0, 2),
            "a full page that emptied is refilled"
        );
    }
}
