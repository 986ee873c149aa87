//! What the generator reads of the server's frames, read in place.
//!
//! Most frames a window gets matter to the generator for one or two fields: a presence
//! frame for its count, a `ready` for its count, the length of its lists and where each
//! conversation stands. Parsed into `serde_json::Value`, each such frame built a map per
//! object in it (a `ready` lists up to a page of people); in a connect storm that was
//! most of the generator's CPU (`malloc` alone about a fifth of its samples), taken from
//! the two cores it shares with the server it measures. These views name what they read
//! and skip the rest without building it; frames whose content is checked (messages,
//! acks, history pages) are still parsed whole by their scenarios.

use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

/// A frame's type, and the count presence frames carry.
#[derive(Debug, Deserialize)]
pub struct Head<'a> {
    /// The frame's `type`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// `online_changes`' and `online_page`'s `count`.
    count: Option<u64>,
    /// `online_page`'s `prefix`: present (not null) for a search's page, whose count is
    /// of the matches, not of everyone.
    prefix: Option<IgnoredAny>,
}

impl<'a> Head<'a> {
    /// The head of the frame `text`; `None` if it is not a JSON object with a `type`.
    pub fn parse(text: &'a str) -> Option<Head<'a>> {
        serde_json::from_str(text).ok()
    }

    /// Whether it is a presence frame (`online_changes`, `online_page`): read for its
    /// count only.
    pub fn is_presence(&self) -> bool {
        matches!(&*self.kind, "online_changes" | "online_page")
    }

    /// The count of people online this frame carries: an `online_changes`'s `count`, or
    /// the `count` of an `online_page` without a prefix (the whole list's). `None` for
    /// other frames.
    pub fn online_count(&self) -> Option<usize> {
        match &*self.kind {
            "online_changes" => self.count,
            "online_page" if self.prefix.is_none() => self.count,
            _ => None,
        }
        .map(|c| c as usize)
    }
}

/// What the generator reads of a `ready`: the count of people online and how many
/// entries each list holds.
#[derive(Debug, Deserialize)]
pub struct ReadyView {
    pub online_count: Option<u64>,
    #[serde(default)]
    online: Len,
    #[serde(default)]
    partners: Len,
    #[serde(default)]
    blocked: Len,
    #[serde(default)]
    conversations: Len,
    #[serde(default)]
    rooms: Len,
}

impl ReadyView {
    pub fn parse(text: &str) -> serde_json::Result<ReadyView> {
        serde_json::from_str(text)
    }

    /// How many entries each list held, in [`crate::READY_LISTS`] order.
    pub fn lists(&self) -> [usize; crate::READY_LISTS.len()] {
        [
            self.online.0,
            self.partners.0,
            self.blocked.0,
            self.conversations.0,
            self.rooms.0,
        ]
    }
}

/// Each conversation a `ready` lists, with its `last_seq`.
pub fn positions(ready: &str) -> serde_json::Result<Vec<(String, i64)>> {
    #[derive(Deserialize)]
    struct Conversations<'a> {
        #[serde(borrow, default)]
        conversations: Vec<At<'a>>,
    }
    #[derive(Deserialize)]
    struct At<'a> {
        #[serde(borrow)]
        id: Cow<'a, str>,
        last_seq: Option<i64>,
    }
    let ready: Conversations = serde_json::from_str(ready)?;
    Ok(ready
        .conversations
        .into_iter()
        .filter_map(|c| Some((c.id.into_owned(), c.last_seq?)))
        .collect())
}

/// The length of a JSON array, counted without keeping its elements (null counts 0).
#[derive(Debug, Default)]
struct Len(usize);

impl<'de> Deserialize<'de> for Len {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Len, D::Error> {
        struct Counting;
        impl<'de> Visitor<'de> for Counting {
            type Value = Len;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array or null")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Len, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Len(n))
            }
            fn visit_unit<E>(self) -> Result<Len, E> {
                Ok(Len(0))
            }
        }
        deserializer.deserialize_any(Counting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_comes_from_online_changes_and_whole_list_pages_only() {
        let count = |text: &str| Head::parse(text).and_then(|h| h.online_count());
        assert_eq!(
            count(
                r#"{"type":"online_changes","came":[{"id":"b","email":"b"}],"went":[],"count":7}"#
            ),
            Some(7)
        );
        assert_eq!(
            count(r#"{"type":"online_page","offset":0,"count":9,"prefix":null,"people":[]}"#),
            Some(9)
        );
        assert_eq!(
            count(r#"{"type":"online_page","offset":0,"count":9,"people":[]}"#),
            Some(9)
        );
        assert_eq!(
            count(r#"{"type":"online_page","prefix":"b","offset":0,"count":1,"people":[]}"#),
            None
        );
        assert_eq!(count(r#"{"type":"presence","online":true}"#), None);
        assert_eq!(count(r#"{"type":"message","count":3}"#), None);
        assert_eq!(count(r#"{"count":3}"#), None);
        assert_eq!(count("[1,2]"), None);
        let presence = |text: &str| Head::parse(text).unwrap().is_presence();
        assert!(presence(r#"{"type":"online_changes","count":1}"#));
        assert!(presence(r#"{"type":"online_page","prefix":"b","count":1}"#));
        assert!(!presence(r#"{"type":"message","count":1}"#));
    }

    #[test]
    fn a_ready_is_read_for_its_count_its_lists_and_its_positions() {
        let ready = r#"{"type":"ready","online_count":4,"me":{"id":"a","email":"a@x"},
            "online":[{"id":"b","email":"b@x","name":"B \"q\""},{"id":"c","email":"c@x"}],
            "partners":[],"blocked":null,
            "conversations":[{"id":"k1","last_seq":12,"with":{"id":"b"}},{"id":"k2","last_seq":null}],
            "rooms":[{"id":"r","name":"general"}]}"#;
        let head = Head::parse(ready).unwrap();
        assert_eq!(head.kind, "ready");
        let view = ReadyView::parse(ready).unwrap();
        assert_eq!(view.online_count, Some(4));
        assert_eq!(view.lists(), [2, 0, 0, 2, 1]);
        assert_eq!(positions(ready).unwrap(), vec![("k1".to_string(), 12)]);
    }

    #[test]
    fn a_ready_without_a_list_counts_it_empty() {
        let view = ReadyView::parse(r#"{"type":"ready","online_count":1}"#).unwrap();
        assert_eq!(view.lists(), [0; 5]);
        assert!(positions(r#"{"type":"ready"}"#).unwrap().is_empty());
    }
}
