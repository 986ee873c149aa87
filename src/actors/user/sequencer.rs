//! Per-conversation ordering of a UserActor's deliveries (messages by `seq`, changes by
//! change number).
//!
//! On one node, deliveries arrive in commit order. Across nodes they may not: two nodes
//! commit seq 5 and 6 of one conversation and publish independently, so 6 can arrive
//! first, and an event published during a Redis outage never arrives at all. The
//! sequencer releases messages strictly in `seq` order, each once: early ones wait, and a
//! gap that persists is filled from Postgres by the UserActor.

use crate::domain::{ConversationId, Message};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

struct Cursor<T> {
    /// The highest `seq` delivered (or known to the windows from their snapshot).
    delivered: i64,
    /// Messages that arrived ahead of a gap.
    waiting: BTreeMap<i64, T>,
    /// Since when the oldest gap has been open.
    gap_since: Option<Instant>,
}

pub struct Sequencer<T> {
    cursors: HashMap<ConversationId, Cursor<T>>,
}

impl<T> Default for Sequencer<T> {
    fn default() -> Self {
        Sequencer {
            cursors: HashMap::new(),
        }
    }
}

impl<T> Sequencer<T> {
    /// Everything up to `last_seq` is already known to the windows (snapshot or store).
    pub fn known_up_to(&mut self, conversation: ConversationId, last_seq: i64) -> Vec<T> {
        self.known_up_to_keeping(conversation, last_seq).0
    }

    /// As [`Self::known_up_to`]; also hands back what was waiting and is now covered
    /// (their state is known, but they may owe someone a reply).
    pub fn known_up_to_keeping(
        &mut self,
        conversation: ConversationId,
        last_seq: i64,
    ) -> (Vec<T>, Vec<T>) {
        let cursor = self.cursors.entry(conversation).or_insert(Cursor {
            delivered: last_seq,
            waiting: BTreeMap::new(),
            gap_since: None,
        });
        cursor.delivered = cursor.delivered.max(last_seq);
        let mut covered = Vec::new();
        while let Some(entry) = cursor.waiting.first_entry() {
            if *entry.key() > cursor.delivered {
                break;
            }
            covered.push(entry.remove());
        }
        (Self::release(cursor), covered)
    }

    /// Offers message `seq`; returns what may be delivered now, in order. A conversation
    /// seen for the first time starts at this message.
    pub fn offer(&mut self, conversation: ConversationId, seq: i64, payload: T) -> Vec<T> {
        let cursor = self.cursors.entry(conversation).or_insert(Cursor {
            delivered: seq - 1,
            waiting: BTreeMap::new(),
            gap_since: None,
        });
        if seq <= cursor.delivered {
            return Vec::new(); // already delivered, or covered by a snapshot
        }
        cursor.waiting.entry(seq).or_insert(payload);
        Self::release(cursor)
    }

    fn release(cursor: &mut Cursor<T>) -> Vec<T> {
        let mut ready = Vec::new();
        while let Some(entry) = cursor.waiting.first_entry() {
            let seq = *entry.key();
            if seq <= cursor.delivered {
                entry.remove();
            } else if seq == cursor.delivered + 1 {
                ready.push(entry.remove());
                cursor.delivered = seq;
            } else {
                break;
            }
        }
        cursor.gap_since = match (cursor.waiting.is_empty(), cursor.gap_since) {
            (true, _) => None,
            (false, None) => Some(Instant::now()),
            (false, since) => since,
        };
        ready
    }

    /// Stops tracking a conversation (the user left it, or it was deleted).
    pub fn forget(&mut self, conversation: ConversationId) {
        self.cursors.remove(&conversation);
    }

    /// Conversations whose gap has been open for `patience`: (conversation, last
    /// delivered seq) to read onwards from.
    pub fn stale_gaps(&self, patience: Duration) -> Vec<(ConversationId, i64)> {
        self.cursors
            .iter()
            .filter(|(_, c)| c.gap_since.is_some_and(|t| t.elapsed() >= patience))
            .map(|(id, c)| (*id, c.delivered))
            .collect()
    }

    /// Whether any conversation has a gap open (messages wait behind a missing one).
    pub fn has_gaps(&self) -> bool {
        self.cursors.values().any(|c| c.gap_since.is_some())
    }

    /// Whether `conversation` has a gap open.
    pub fn has_gap_in(&self, conversation: ConversationId) -> bool {
        self.cursors
            .get(&conversation)
            .is_some_and(|c| c.gap_since.is_some())
    }

    /// The highest delivered seq of `conversation`, if it was seen.
    pub fn delivered_of(&self, conversation: ConversationId) -> Option<i64> {
        self.cursors.get(&conversation).map(|c| c.delivered)
    }

    /// The highest delivered seq of every conversation seen.
    pub fn delivered(&self) -> HashMap<ConversationId, i64> {
        self.cursors
            .iter()
            .map(|(id, c)| (*id, c.delivered))
            .collect()
    }
}

/// Feeds messages read from the store: each fills its slot unless already delivered.
/// Each message comes with a flag passed on to `wrap` (whether it is hidden).
pub fn fill<T>(
    sequencer: &mut Sequencer<T>,
    messages: Vec<(Message, bool)>,
    wrap: impl Fn(Message, bool) -> T,
) -> Vec<T> {
    let mut ready = Vec::new();
    for (m, flag) in messages {
        let (conversation, seq) = (m.conversation_id, m.seq);
        if let Some(cursor) = sequencer.cursors.get_mut(&conversation) {
            if seq > cursor.delivered {
                cursor.waiting.entry(seq).or_insert_with(|| wrap(m, flag));
            }
            ready.extend(Sequencer::release(cursor));
        } else {
            ready.extend(sequencer.offer(conversation, seq, wrap(m, flag)));
        }
    }
    ready
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_released_in_order_each_once() {
        let c = ConversationId::new();
        let mut s = Sequencer::default();
        assert_eq!(s.known_up_to(c, 4), Vec::<i64>::new());
        assert_eq!(s.offer(c, 6, 6), Vec::<i64>::new(), "6 waits for 5");
        assert_eq!(s.stale_gaps(Duration::ZERO), vec![(c, 4)]);
        assert_eq!(s.offer(c, 5, 5), vec![5, 6]);
        assert_eq!(s.offer(c, 6, 66), Vec::<i64>::new(), "no second delivery");
        assert_eq!(
            s.offer(c, 3, 3),
            Vec::<i64>::new(),
            "covered by the snapshot"
        );
        assert!(s.stale_gaps(Duration::ZERO).is_empty());
    }

    #[test]
    fn what_a_store_read_covers_comes_back_apart_from_what_it_releases() {
        let c = ConversationId::new();
        let mut s = Sequencer::default();
        s.known_up_to(c, 1);
        assert!(s.offer(c, 3, 3).is_empty());
        assert!(s.offer(c, 5, 5).is_empty());
        // Read through 3: 3 is covered (its reply may be owed), 5 still waits for 4.
        assert_eq!(s.known_up_to_keeping(c, 3), (vec![], vec![3]));
        assert_eq!(s.offer(c, 4, 4), vec![4, 5]);
        assert_eq!(s.delivered_of(c), Some(5));
        assert_eq!(s.delivered_of(ConversationId::new()), None);
    }

    #[test]
    fn a_gap_is_filled_from_the_store() {
        let c = ConversationId::new();
        let mut s: Sequencer<i64> = Sequencer::default();
        s.known_up_to(c, 1);
        assert!(s.offer(c, 4, 4).is_empty());
        let stored = (2..=4)
            .map(|seq| Message {
                id: crate::domain::MessageId::new(),
                conversation_id: c,
                seq,
                sender_id: crate::domain::UserId::new(),
                body: "b".into(),
                client_id: crate::domain::ClientId::parse("c".into()).unwrap(),
                created_at: chrono::Utc::now(),
                reply_to: None,
                edited_at: None,
                deleted_at: None,
                reactions: Vec::new(),
                version: 0,
            })
            .map(|m| (m, false))
            .collect();
        assert_eq!(
            fill(&mut s, stored, |m, _| m.seq * 10),
            vec![20, 30, 4],
            "the live copy of 4 wins"
        );
    }
}
