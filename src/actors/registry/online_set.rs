//! The online set: everyone announced online, kept in the order the online list shows
//! them (email, case-folded, then id), so a list is one ordered walk and a person is
//! placed in O(log n).

use crate::domain::{User, UserId};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

/// Where a person sorts: by email without case, then by id (emails are unique, the id
/// only makes the order total).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct SortKey {
    pub email: String,
    pub id: UserId,
}

impl SortKey {
    pub fn of(user: &User) -> SortKey {
        SortKey {
            email: user.email.to_lowercase(),
            id: user.id,
        }
    }

    /// The first key of everyone whose email starts with `prefix` (lower case).
    pub fn first_with(prefix: &str) -> SortKey {
        SortKey {
            email: prefix.to_owned(),
            id: UserId(uuid::Uuid::nil()),
        }
    }
}

#[derive(Default)]
pub(super) struct OnlineSet {
    /// Who is online, by id.
    by_id: HashMap<UserId, User>,
    /// The same people in list order.
    order: BTreeSet<SortKey>,
}

impl OnlineSet {
    /// Adds `user`; false if they were online already.
    pub fn insert(&mut self, user: &User) -> bool {
        if self.by_id.contains_key(&user.id) {
            return false;
        }
        self.order.insert(SortKey::of(user));
        self.by_id.insert(user.id, user.clone());
        true
    }

    /// Removes the person with `id`; false if they were not online.
    pub fn remove(&mut self, id: UserId) -> bool {
        match self.by_id.remove(&id) {
            Some(user) => {
                self.order.remove(&SortKey::of(&user));
                true
            }
            None => false,
        }
    }

    /// Takes `user`'s new display name if they are online, and answers where they sort
    /// (their place, by email, stays: views hold keys of it); `None` if they are not.
    pub fn rename(&mut self, user: &User) -> Option<SortKey> {
        let online = self.by_id.get_mut(&user.id)?;
        online.name = user.name.clone();
        Some(SortKey::of(online))
    }

    pub fn contains(&self, id: UserId) -> bool {
        self.by_id.contains_key(&id)
    }

    pub fn get(&self, id: UserId) -> Option<&User> {
        self.by_id.get(&id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Everyone online, in list order.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.order.iter().filter_map(|k| self.by_id.get(&k.id))
    }

    /// Where a first page of `limit` ends: the key of the `limit`-th person online, or
    /// `None` while fewer are online. O(limit).
    pub fn nth_key(&self, limit: usize) -> Option<&SortKey> {
        self.order.iter().nth(limit.checked_sub(1)?)
    }

    /// Everyone online in `range` of the order, in list order.
    pub fn in_range(
        &self,
        range: (Bound<&SortKey>, Bound<&SortKey>),
    ) -> impl Iterator<Item = &User> {
        self.order
            .range::<SortKey, _>(range)
            .filter_map(|k| self.by_id.get(&k.id))
    }

    /// Everyone online whose email starts with `prefix` (lower case), in list order: one
    /// contiguous run of the order, found in O(log n).
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a User> + 'a {
        self.order
            .range(SortKey::first_with(prefix)..)
            .take_while(move |k| k.email.starts_with(prefix))
            .filter_map(|k| self.by_id.get(&k.id))
    }
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

    fn emails(set: &OnlineSet) -> Vec<&str> {
        set.iter().map(|u| u.email.as_str()).collect()
    }

    #[test]
    fn people_are_listed_by_email_whatever_its_case_and_each_once() {
        let mut set = OnlineSet::default();
        let (carol, alice, bob) = (user("carol@x"), user("Alice@x"), user("bob@x"));
        for u in [&carol, &alice, &bob] {
            assert!(set.insert(u));
        }
        assert!(!set.insert(&bob), "already online");
        assert_eq!(emails(&set), ["Alice@x", "bob@x", "carol@x"]);
        assert!(set.remove(alice.id));
        assert!(!set.remove(alice.id), "already gone");
        assert_eq!(emails(&set), ["bob@x", "carol@x"]);
        assert!(set.contains(bob.id) && !set.contains(alice.id));
        assert_eq!(set.get(carol.id), Some(&carol));
    }

    #[test]
    fn a_prefix_finds_its_run_of_the_order_and_nothing_else() {
        let mut set = OnlineSet::default();
        for email in ["ann@x", "Bob@x", "bobby@x", "bo@y", "carl@x", "b@x"] {
            set.insert(&user(email));
        }
        let found =
            |p: &str| -> Vec<String> { set.with_prefix(p).map(|u| u.email.clone()).collect() };
        assert_eq!(found("bo"), ["bo@y", "Bob@x", "bobby@x"]);
        assert_eq!(found("b"), ["b@x", "bo@y", "Bob@x", "bobby@x"]);
        assert_eq!(found("bobby@x"), ["bobby@x"]);
        assert!(found("z").is_empty());
        assert_eq!(found("").len(), 6);
        assert_eq!(set.len(), 6);
    }
}
