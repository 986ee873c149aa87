//! `--changes <percent>` of `dm` and `room`: that share of the messages is followed by a
//! change from its sender once the sender's first window has the message's `ack`,
//! alternately an edit and a 👍 reaction (see docs/protocol.md, "Changing messages").
//! Every change should reach every window of every member, the sender's first window
//! included (its copy is the reply): one window more than the message itself.

use serde_json::{json, Value};

/// Edits, deletions and reactions a person may make a second (the server's shared
/// allowance; bursts of 20 pass).
pub const ALLOWANCE_PER_S: f64 = 5.0;

/// The emoji of the reactions.
pub const EMOJI: &str = "👍";

/// What follows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Its body replaced by one that says which run, which message and when (see
    /// [`edit_body`]).
    Edit,
    /// A 👍 from its sender.
    React,
}

/// Which messages get a change: `percent` of each user's messages, spread evenly over
/// its own (so that every person's change rate is its message rate × `percent`, the
/// allowance being per person), the users out of step with one another (so the changes
/// are spread over the run), and alternately an edit and a reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub users: usize,
    pub percent: u8,
}

impl Plan {
    /// The change that follows message `k` (sent by user `k % users`, its `k / users`-th),
    /// if any.
    pub fn change_for(&self, k: u64) -> Option<Change> {
        let users = self.users.max(1) as u64;
        let percent = u64::from(self.percent.min(100));
        // The user's own message number, shifted by the user: `n` picks a change when
        // `n × percent / 100` crosses a whole number, the j-th such crossing of a user
        // being its j-th change.
        let n = k / users + k % users;
        let (before, after) = (n * percent / 100, (n + 1) * percent / 100);
        (after > before).then_some(if before.is_multiple_of(2) {
            Change::Edit
        } else {
            Change::React
        })
    }

    /// The changes a person makes a second when the run offers `rate` messages a second
    /// over all users.
    pub fn per_person_rate(&self, rate: u64) -> f64 {
        rate as f64 / self.users.max(1) as f64 * f64::from(self.percent) / 100.0
    }
}

/// `e<run>-<k>-<µs since the epoch when the edit was sent>`, padded with `y` to `len`
/// characters: what a receiver needs to account the edit and its latency.
pub fn edit_body(run: &str, k: u64, sent_us: u64, len: usize) -> String {
    let mut body = format!("e{run}-{k}-{sent_us}");
    if body.len() < len {
        body.push(' ');
        while body.len() < len {
            body.push('y');
        }
    }
    body
}

/// The message number and send time an edited body of this run carries; `None` for
/// another run's (or any other) body.
pub fn parse_edit_body(body: &str, run: &str) -> Option<(u64, u64)> {
    let head = body.split(' ').next()?;
    let mut parts = head.strip_prefix('e')?.splitn(3, '-');
    if parts.next()? != run {
        return None;
    }
    let (k, at) = (parts.next()?, parts.next()?);
    Some((k.parse().ok()?, at.parse().ok()?))
}

/// What the sender's first window tells its writer when message `k`, due a change, was
/// acknowledged: where the message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub k: u64,
    pub change: Change,
    pub conversation_id: String,
    pub seq: i64,
}

/// The `ref` of the frame of message `k`'s change: `c<k>` (a refusal carries it).
pub fn reference(k: u64) -> String {
    format!("c{k}")
}

/// Whether an `error` frame's `ref` is a change's.
pub fn is_change_reference(reference: &str) -> bool {
    reference
        .strip_prefix('c')
        .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}

/// The frame that makes the change, sent at `sent_us` (µs since the epoch); edits are
/// `body_len` characters long.
pub fn frame(order: &Order, run: &str, sent_us: u64, body_len: usize) -> Value {
    match order.change {
        Change::Edit => json!({
            "type": "edit",
            "ref": reference(order.k),
            "conversation_id": order.conversation_id,
            "seq": order.seq,
            "body": edit_body(run, order.k, sent_us, body_len),
        }),
        Change::React => json!({
            "type": "react",
            "ref": reference(order.k),
            "conversation_id": order.conversation_id,
            "seq": order.seq,
            "emoji": EMOJI,
            "add": true,
        }),
    }
}

/// Whether a message (as a `changes` frame lists it) carries its sender's 👍.
pub fn has_senders_reaction(message: &Value) -> bool {
    let sender = &message["sender_id"];
    message["reactions"].as_array().is_some_and(|reactions| {
        reactions.iter().any(|r| {
            r["emoji"] == EMOJI
                && r["users"]
                    .as_array()
                    .is_some_and(|users| users.iter().any(|u| u == sender))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_of_each_users_messages_gets_a_change_alternately_an_edit_and_a_reaction() {
        let plan = Plan {
            users: 7,
            percent: 20,
        };
        for user in 0..7u64 {
            let changes: Vec<Change> = (0..100)
                .map(|i| i * 7 + user)
                .filter_map(|k| plan.change_for(k))
                .collect();
            assert_eq!(changes.len(), 20, "user {user}");
            for pair in changes.windows(2) {
                assert_ne!(pair[0], pair[1], "user {user}: {changes:?}");
            }
        }
        // The users are out of step: not all of them change the same round of messages.
        let first_round: Vec<bool> = (0..7).map(|k| plan.change_for(k).is_some()).collect();
        assert!(first_round.contains(&true) && first_round.contains(&false));
    }

    #[test]
    fn no_changes_at_zero_and_every_message_at_a_hundred() {
        let none = Plan {
            users: 3,
            percent: 0,
        };
        assert!((0..1000).all(|k| none.change_for(k).is_none()));
        let all = Plan {
            users: 3,
            percent: 100,
        };
        assert!((0..1000).all(|k| all.change_for(k).is_some()));
        let edits = (0..1000)
            .filter(|&k| all.change_for(k) == Some(Change::Edit))
            .count();
        assert!((499..=501).contains(&edits), "{edits}");
    }

    #[test]
    fn a_persons_change_rate_is_its_message_rate_times_the_share() {
        let plan = Plan {
            users: 20,
            percent: 20,
        };
        assert_eq!(plan.per_person_rate(50), 0.5);
        let plan = Plan {
            users: 100,
            percent: 60,
        };
        assert!(plan.per_person_rate(1000) > ALLOWANCE_PER_S);
    }

    #[test]
    fn an_edited_body_of_this_run_gives_its_number_and_time_and_another_runs_is_ignored() {
        let body = edit_body("1a2b3c4d", 17, 250_000, 64);
        assert_eq!(body.chars().count(), 64);
        assert_eq!(parse_edit_body(&body, "1a2b3c4d"), Some((17, 250_000)));
        let short = edit_body("1a2b3c4d", 17, 250_000, 1);
        assert_eq!(short, "e1a2b3c4d-17-250000");
        assert_eq!(parse_edit_body(&short, "1a2b3c4d"), Some((17, 250_000)));
        assert_eq!(parse_edit_body(&body, "ffffffff"), None);
        assert_eq!(parse_edit_body("xxxx", "1a2b3c4d"), None);
        assert_eq!(parse_edit_body("e1a2b3c4d-x-1", "1a2b3c4d"), None);
    }

    #[test]
    fn the_frames_say_what_the_protocol_asks() {
        let order = Order {
            k: 5,
            change: Change::Edit,
            conversation_id: "c1".into(),
            seq: 3,
        };
        let edit = frame(&order, "run", 42, 1);
        assert_eq!(
            edit,
            json!({"type": "edit", "ref": "c5", "conversation_id": "c1", "seq": 3, "body": "erun-5-42"})
        );
        let react = frame(
            &Order {
                change: Change::React,
                ..order
            },
            "run",
            42,
            1,
        );
        assert_eq!(
            react,
            json!({"type": "react", "ref": "c5", "conversation_id": "c1", "seq": 3, "emoji": "👍", "add": true})
        );
        assert!(is_change_reference("c5"));
        assert!(!is_change_reference("c") && !is_change_reference("r5"));
    }

    #[test]
    fn a_caught_up_message_counts_as_reacted_to_with_its_senders_thumbs_up_only() {
        let reacted =
            json!({"sender_id": "u2", "reactions": [{"emoji": "👍", "users": ["u1", "u2"]}]});
        assert!(has_senders_reaction(&reacted));
        let others =
            json!({"sender_id": "u3", "reactions": [{"emoji": "👍", "users": ["u1", "u2"]}]});
        assert!(!has_senders_reaction(&others));
        let heart = json!({"sender_id": "u1", "reactions": [{"emoji": "❤️", "users": ["u1"]}]});
        assert!(!has_senders_reaction(&heart));
        assert!(!has_senders_reaction(
            &json!({"sender_id": "u1", "body": "x"})
        ));
    }
}
