//! Storing a run of messages with a fixed number of statements, whatever its length.
//!
//! Each step is one set-based statement over the whole run: find retried `client_id`s,
//! resolve direct targets, check membership and blocks, hand out `seq` numbers per
//! conversation (under the conversations' row locks), insert, move the senders' read
//! positions, and find the recipients. Messages keep their order within the run, so a
//! conversation's `seq` follows arrival order. The last four (insert, read positions,
//! members, blocks) need nothing of each other and go to Postgres together, in one round
//! trip.

use super::Tx;
use super::{open_direct, Applied, Target, WriteOutcome, WriteRejection};
use crate::db::messages::{MESSAGE_COLUMNS, REPLY_JOIN};
use crate::domain::{
    ClientId, ConversationId, Message, MessageBody, MessageId, Quote, UserId, QUOTE_CHARS,
};
use std::collections::{HashMap, HashSet};
use tokio_postgres::Error;
use uuid::Uuid;

/// One message of the run.
pub struct SendRequest<'a> {
    pub sender: UserId,
    pub target: Target,
    pub body: &'a MessageBody,
    pub client_id: &'a ClientId,
    /// The `seq` of the earlier message (same conversation) this one answers.
    pub reply_to: Option<i64>,
}

/// The direct conversation of each (lower, higher) pair asked: one probe of the pair
/// index per pair, whatever the table holds. Joined plainly, Postgres's generic plan
/// hashed a run's pairs against a scan of every pair (0.56 ms a run at 2,000 pairs
/// against 0.04 ms, the dearest read of a send, and growing with the number of
/// conversations, not of messages); the `LIMIT 1` keeps the `LATERAL` subquery from
/// being flattened back into that join.
pub const PAIR_CONVERSATIONS: &str = "SELECT d.user_lo, d.user_hi, d.conversation_id
     FROM unnest($1::uuid[], $2::uuid[]) AS k(lo, hi),
     LATERAL (SELECT * FROM direct_pairs p WHERE p.user_lo = k.lo AND p.user_hi = k.hi LIMIT 1) d";

/// A `client_id` the sender used for another message (another conversation or body).
const REUSED_CLIENT_ID: WriteRejection =
    WriteRejection::Conflict("client_id was used for another message; use a new one");

/// Is `request` a retry of `stored` (the sender's message with the same `client_id`):
/// the same conversation and the same body? A `client_id` is the sender's key for one
/// message, across all conversations: reused for another, the send is refused rather
/// than answered with the other message (docs/decisions/0019).
fn is_retry_of(
    request: &SendRequest<'_>,
    stored: &Message,
    pairs: &HashMap<(UserId, UserId), ConversationId>,
) -> bool {
    let same_conversation = match request.target {
        Target::Conversation(c) => stored.conversation_id == c,
        Target::Direct(peer) => {
            pairs.get(&ordered(request.sender, peer)) == Some(&stored.conversation_id)
        }
    };
    // An edited or deleted message no longer has the body it was sent with: a resend of
    // it (the same id, to the same place) is still a retry, answered with it as it is.
    let changed = stored.edited_at.is_some() || stored.deleted_at.is_some();
    same_conversation && (changed || stored.body == request.body.as_str())
}

fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

pub async fn send_batch(tx: &Tx<'_>, requests: &[SendRequest<'_>]) -> Result<Vec<Applied>, Error> {
    let n = requests.len();
    let mut results: Vec<Option<Applied>> = vec![None; n];
    // Later copies of the same (sender, client_id) within the run answer like the first.
    let mut copy_of: Vec<Option<usize>> = vec![None; n];

    // 1. Retries of messages stored earlier.
    let senders: Vec<Uuid> = requests.iter().map(|r| r.sender.0).collect();
    let client_ids: Vec<&str> = requests.iter().map(|r| r.client_id.as_str()).collect();
    let rows = tx
        .query(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m {REPLY_JOIN}
                 JOIN unnest($1::uuid[], $2::text[]) AS k(sender, client) ON m.sender_id = k.sender AND m.client_id = k.client"
            ),
            &[&senders, &client_ids],
        )
        .await?;
    let mut existing: HashMap<(UserId, String), Message> = rows
        .iter()
        .map(crate::db::messages::message)
        .map(|m| ((m.sender_id, m.client_id.as_str().to_owned()), m))
        .collect();
    let mut first: HashMap<(UserId, &str), usize> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        let key = (r.sender, r.client_id.as_str());
        if let Some(m) = existing.remove(&(r.sender, r.client_id.as_str().to_owned())) {
            results[i] = Some(Ok(WriteOutcome::MessageExisted { message: m }));
            first.insert(key, i);
        } else if let Some(&j) = first.get(&key) {
            copy_of[i] = Some(j);
        } else {
            first.insert(key, i);
        }
    }
    let pending = |results: &Vec<Option<Applied>>, copy_of: &Vec<Option<usize>>, i: usize| {
        results[i].is_none() && copy_of[i].is_none()
    };

    // 2. Conversations: direct targets resolve through their pair, created on first use
    // (retries' pairs are looked up too, to check they went to the same person).
    let mut conversation: Vec<Option<ConversationId>> = vec![None; n];
    let mut pairs: Vec<(UserId, UserId)> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        if !pending(&results, &copy_of, i) {
            // A retry (or a copy within the run) checks it went to the same person.
            let retried = matches!(&results[i], Some(Ok(WriteOutcome::MessageExisted { .. })))
                || copy_of[i].is_some();
            if let (true, Target::Direct(peer)) = (retried, r.target) {
                pairs.push(ordered(r.sender, peer));
            }
            continue;
        }
        match r.target {
            Target::Conversation(c) => conversation[i] = Some(c),
            Target::Direct(peer) if peer == r.sender => {
                results[i] = Some(Err(WriteRejection::BadRequest(
                    "a direct conversation needs another person",
                )))
            }
            Target::Direct(peer) => pairs.push(ordered(r.sender, peer)),
        }
    }
    let mut pair_conversation: HashMap<(UserId, UserId), ConversationId> = HashMap::new();
    if !pairs.is_empty() {
        let (lo, hi): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().map(|(a, b)| (a.0, b.0)).unzip();
        for row in tx.query(PAIR_CONVERSATIONS, &[&lo, &hi]).await? {
            pair_conversation.insert(
                (UserId(row.get(0)), UserId(row.get(1))),
                ConversationId(row.get(2)),
            );
        }
    }
    for (i, r) in requests.iter().enumerate() {
        if let Some(Ok(WriteOutcome::MessageExisted { message })) = &results[i] {
            if !is_retry_of(r, message, &pair_conversation) {
                results[i] = Some(Err(REUSED_CLIENT_ID));
            }
        }
    }
    for (i, r) in requests.iter().enumerate() {
        let Target::Direct(peer) = r.target else {
            continue;
        };
        if !pending(&results, &copy_of, i) {
            continue;
        }
        let pair = ordered(r.sender, peer);
        match pair_conversation.get(&pair) {
            Some(c) => conversation[i] = Some(*c),
            None => match open_direct(tx, r.sender, peer).await? {
                Ok(c) => {
                    pair_conversation.insert(pair, c);
                    conversation[i] = Some(c);
                }
                Err(rejection) => results[i] = Some(Err(rejection)),
            },
        }
    }

    // 3. Membership, and each direct conversation's other person.
    let mut asked: Vec<(ConversationId, UserId)> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        if let (true, Some(c)) = (pending(&results, &copy_of, i), conversation[i]) {
            asked.push((c, r.sender));
        }
    }
    asked.sort();
    asked.dedup();
    let (conv_ids, member_ids): (Vec<Uuid>, Vec<Uuid>) =
        asked.iter().map(|(c, u)| (c.0, u.0)).unzip();
    let mut membership: HashMap<(ConversationId, UserId), Option<UserId>> = HashMap::new();
    for row in tx
        .query(
            "SELECT m.conversation_id, m.user_id, CASE WHEN d.user_lo = m.user_id THEN d.user_hi ELSE d.user_lo END
             FROM unnest($1::uuid[], $2::uuid[]) AS k(c, u)
             JOIN members m ON m.conversation_id = k.c AND m.user_id = k.u
             LEFT JOIN direct_pairs d ON d.conversation_id = m.conversation_id",
            &[&conv_ids, &member_ids],
        )
        .await?
    {
        let peer: Option<Uuid> = row.get(2);
        membership.insert((ConversationId(row.get(0)), UserId(row.get(1))), peer.map(UserId));
    }

    // 4. Blocks between direct partners, either way.
    let mut direct_pairs: Vec<(UserId, UserId)> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        if !pending(&results, &copy_of, i) {
            continue;
        }
        match conversation[i].and_then(|c| membership.get(&(c, r.sender))) {
            None => results[i] = Some(Err(WriteRejection::NotFound("conversation"))),
            Some(Some(peer)) => direct_pairs.push((r.sender, *peer)),
            Some(None) => {}
        }
    }
    let mut blocked_pairs: HashSet<(UserId, UserId)> = HashSet::new();
    if !direct_pairs.is_empty() {
        let (a, b): (Vec<Uuid>, Vec<Uuid>) = direct_pairs.iter().map(|(x, y)| (x.0, y.0)).unzip();
        for row in tx
            .query(
                "SELECT b.blocker_id, b.blocked_id FROM blocks b
                 JOIN unnest($1::uuid[], $2::uuid[]) AS k(x, y)
                   ON (b.blocker_id = k.x AND b.blocked_id = k.y) OR (b.blocker_id = k.y AND b.blocked_id = k.x)",
                &[&a, &b],
            )
            .await?
        {
            blocked_pairs.insert(ordered(UserId(row.get(0)), UserId(row.get(1))));
        }
    }
    for (i, r) in requests.iter().enumerate() {
        if !pending(&results, &copy_of, i) {
            continue;
        }
        let Some(c) = conversation[i] else {
            results[i] = Some(Err(WriteRejection::NotFound("conversation")));
            continue;
        };
        if let Some(Some(peer)) = membership.get(&(c, r.sender)) {
            if blocked_pairs.contains(&ordered(r.sender, *peer)) {
                results[i] = Some(Err(WriteRejection::Blocked));
            }
        }
    }

    // 4b. Replies name an existing message of the same conversation (checked before any
    //     seq is taken, so a refusal leaves no gap).
    let mut quotes: HashMap<(ConversationId, i64), Quote> = HashMap::new();
    let asked: Vec<(ConversationId, i64)> = requests
        .iter()
        .enumerate()
        .filter(|(i, _)| pending(&results, &copy_of, *i))
        .filter_map(|(i, r)| Some((conversation[i]?, r.reply_to?)))
        .collect();
    if !asked.is_empty() {
        let (cs, ss): (Vec<Uuid>, Vec<i64>) = asked.iter().map(|(c, s)| (c.0, *s)).unzip();
        for row in tx
            .query(
                "SELECT m.conversation_id, m.seq, m.sender_id, left(m.body, $3) FROM messages m
                 JOIN unnest($1::uuid[], $2::int8[]) AS k(c, s) ON m.conversation_id = k.c AND m.seq = k.s",
                &[&cs, &ss, &(QUOTE_CHARS as i32)],
            )
            .await?
        {
            let seq: i64 = row.get(1);
            quotes.insert(
                (ConversationId(row.get(0)), seq),
                Quote {
                    seq,
                    sender_id: Some(UserId(row.get(2))),
                    body: Some(row.get(3)),
                },
            );
        }
    }
    for (i, r) in requests.iter().enumerate() {
        if let (true, Some(c), Some(seq)) =
            (pending(&results, &copy_of, i), conversation[i], r.reply_to)
        {
            if !quotes.contains_key(&(c, seq)) {
                results[i] = Some(Err(WriteRejection::NotFound(
                    "the message to reply to (reply_to) in this conversation",
                )));
            }
        }
    }

    // 5. Sequence numbers: lock the conversations in id order, then take a range each.
    //    A conversation deleted since the membership check (a room deleted by another
    //    node's transaction, which held the row until it committed) is no longer there to
    //    lock: its messages are refused `not_found` like any other send into a deleted room.
    let mut wanted: Vec<Uuid> = (0..n)
        .filter(|&i| pending(&results, &copy_of, i))
        .filter_map(|i| conversation[i].map(|c| c.0))
        .collect();
    wanted.sort();
    wanted.dedup();
    // The conversations locked, and which of them is the room everyone shares.
    let mut locked: HashSet<ConversationId> = HashSet::new();
    let mut everyone: HashSet<ConversationId> = HashSet::new();
    if !wanted.is_empty() {
        for row in tx
            .query(
                "SELECT id, everyone FROM conversations WHERE id = ANY($1)
                 ORDER BY id FOR NO KEY UPDATE",
                &[&wanted],
            )
            .await?
        {
            let id = ConversationId(row.get(0));
            locked.insert(id);
            if row.get::<_, bool>(1) {
                everyone.insert(id);
            }
        }
    }
    for i in 0..n {
        if pending(&results, &copy_of, i) && !conversation[i].is_some_and(|c| locked.contains(&c)) {
            results[i] = Some(Err(WriteRejection::NotFound("conversation")));
        }
    }
    let accepted: Vec<(usize, ConversationId)> = (0..n)
        .filter(|&i| pending(&results, &copy_of, i))
        .filter_map(|i| Some((i, conversation[i]?)))
        .collect();
    if !accepted.is_empty() {
        let mut counts: HashMap<ConversationId, i64> = HashMap::new();
        for (_, c) in &accepted {
            *counts.entry(*c).or_default() += 1;
        }
        let mut ids: Vec<ConversationId> = counts.keys().copied().collect();
        ids.sort();
        let id_uuids: Vec<Uuid> = ids.iter().map(|c| c.0).collect();
        let n_per: Vec<i64> = ids.iter().map(|c| counts[c]).collect();
        let mut next_seq: HashMap<ConversationId, i64> = HashMap::new();
        for row in tx
            .query(
                "UPDATE conversations c SET last_seq = c.last_seq + v.n
                 FROM unnest($1::uuid[], $2::int8[]) AS v(id, n) WHERE c.id = v.id
                 RETURNING c.id, c.last_seq",
                &[&id_uuids, &n_per],
            )
            .await?
        {
            let id = ConversationId(row.get(0));
            let last: i64 = row.get(1);
            next_seq.insert(id, last - counts[&id] + 1);
        }

        // 6. Insert, in arrival order.
        let mut messages: Vec<(usize, Message)> = Vec::with_capacity(accepted.len());
        for &(i, c) in &accepted {
            let r = &requests[i];
            // Locked above, so the UPDATE returned it; refused rather than trusted.
            let Some(seq) = next_seq.get_mut(&c) else {
                results[i] = Some(Err(WriteRejection::NotFound("conversation")));
                continue;
            };
            messages.push((
                i,
                Message {
                    id: MessageId::new(),
                    conversation_id: c,
                    seq: *seq,
                    sender_id: r.sender,
                    body: r.body.as_str().to_owned(),
                    client_id: r.client_id.clone(),
                    created_at: chrono::Utc::now(),
                    reply_to: r.reply_to.and_then(|s| quotes.get(&(c, s)).cloned()),
                    edited_at: None,
                    deleted_at: None,
                    reactions: Vec::new(),
                    version: 0,
                },
            ));
            *seq += 1;
        }
        let col =
            |f: fn(&Message) -> Uuid| messages.iter().map(|(_, m)| f(m)).collect::<Vec<Uuid>>();
        let (ids, convs, senders) = (
            col(|m| m.id.0),
            col(|m| m.conversation_id.0),
            col(|m| m.sender_id.0),
        );
        let seqs: Vec<i64> = messages.iter().map(|(_, m)| m.seq).collect();
        let bodies: Vec<&str> = messages.iter().map(|(_, m)| m.body.as_str()).collect();
        let cids: Vec<&str> = messages.iter().map(|(_, m)| m.client_id.as_str()).collect();
        let replies: Vec<Option<i64>> = messages
            .iter()
            .map(|(_, m)| m.reply_to.as_ref().map(|q| q.seq))
            .collect();
        // 7. Senders have read what they wrote.
        let mut read: HashMap<(ConversationId, UserId), i64> = HashMap::new();
        for (_, m) in &messages {
            let e = read.entry((m.conversation_id, m.sender_id)).or_default();
            *e = (*e).max(m.seq);
        }
        let (rc, ru, rs): (Vec<Uuid>, Vec<Uuid>, Vec<i64>) = read.iter().fold(
            (vec![], vec![], vec![]),
            |(mut c, mut u, mut s), ((ci, ui), seq)| {
                c.push(ci.0);
                u.push(ui.0);
                s.push(*seq);
                (c, u, s)
            },
        );
        // 8. Recipients: the members, less those who blocked the sender. The room
        // everyone shares lists none: its members are about everyone, so a message there
        // would cost a row per account; each node's UserActors that track it deliver it.
        let listed: Vec<Uuid> = id_uuids
            .iter()
            .copied()
            .filter(|c| !everyone.contains(&ConversationId(*c)))
            .collect();
        let distinct_senders: Vec<Uuid> = {
            let s: HashSet<Uuid> = senders.iter().copied().collect();
            s.into_iter().collect()
        };
        // Steps 6, 7 and 8 need nothing of each other: sent together they cost one round
        // trip, not four. Under load each round trip waits for the scheduler twice (this
        // thread and Postgres's backend), which is what a commit's latency grows with.
        let (inserted, _, member_rows, blocked_rows) = futures_util::future::try_join4(
            tx.query(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, body, client_id, created_at, reply_to)
                 SELECT id, c, s, u, b, cl, clock_timestamp(), rt
                 FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::int8[])
                      AS t(id, c, s, u, b, cl, rt)
                 RETURNING id, created_at",
                &[&ids, &convs, &seqs, &senders, &bodies, &cids, &replies],
            ),
            tx.execute(
                "UPDATE members m SET read_seq = GREATEST(m.read_seq, v.s)
                 FROM unnest($1::uuid[], $2::uuid[], $3::int8[]) AS v(c, u, s)
                 WHERE m.conversation_id = v.c AND m.user_id = v.u",
                &[&rc, &ru, &rs],
            ),
            async {
                if listed.is_empty() {
                    return Ok(Vec::new());
                }
                tx.query(
                    "SELECT conversation_id, user_id FROM members WHERE conversation_id = ANY($1)",
                    &[&listed],
                )
                .await
            },
            tx.query(
                "SELECT blocker_id, blocked_id FROM blocks WHERE blocked_id = ANY($1)",
                &[&distinct_senders],
            ),
        )
        .await?;
        let created: HashMap<Uuid, chrono::DateTime<chrono::Utc>> = inserted
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let mut members: HashMap<ConversationId, Vec<UserId>> = HashMap::new();
        for row in member_rows {
            members
                .entry(ConversationId(row.get(0)))
                .or_default()
                .push(UserId(row.get(1)));
        }
        let blocked_by: HashSet<(UserId, UserId)> = blocked_rows
            .iter()
            .map(|row| (UserId(row.get(0)), UserId(row.get(1))))
            .collect();

        // 6b. Whom each message mentions: members of its room, not its sender, by email
        // (after the insert: a mention names a stored message).
        let written = messages
            .iter()
            .map(|(_, m)| (m.conversation_id, m.seq, m.sender_id, m.body.as_str()));
        record_mentions(tx, written).await?;
        for (i, mut message) in messages {
            if let Some(at) = created.get(&message.id.0) {
                message.created_at = *at;
            }
            let to_everyone = everyone.contains(&message.conversation_id);
            let (recipients, hidden_from) = if to_everyone {
                let blockers = blocked_by
                    .iter()
                    .filter(|(_, blocked)| *blocked == message.sender_id);
                (Vec::new(), blockers.map(|(blocker, _)| *blocker).collect())
            } else {
                members
                    .get(&message.conversation_id)
                    .map(|all| {
                        all.iter().copied().partition(|u| {
                            *u == message.sender_id
                                || !blocked_by.contains(&(*u, message.sender_id))
                        })
                    })
                    .unwrap_or_default()
            };
            let direct = conversation[i]
                .and_then(|c| membership.get(&(c, message.sender_id)))
                .is_some_and(Option::is_some);
            results[i] = Some(Ok(WriteOutcome::MessageStored {
                message,
                recipients,
                hidden_from,
                direct,
                everyone: to_everyone,
            }));
        }
    }

    // Copies within the run answer as their first did (if they are the same message).
    for i in 0..n {
        if let Some(j) = copy_of[i] {
            results[i] = Some(match &results[j] {
                Some(Ok(WriteOutcome::MessageStored { message, .. }))
                | Some(Ok(WriteOutcome::MessageExisted { message })) => {
                    if is_retry_of(&requests[i], message, &pair_conversation) {
                        Ok(WriteOutcome::MessageExisted {
                            message: message.clone(),
                        })
                    } else {
                        Err(REUSED_CLIENT_ID)
                    }
                }
                Some(other) => other.clone(),
                None => Err(WriteRejection::BadRequest("unresolved duplicate")),
            });
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(WriteRejection::BadRequest("unresolved message"))))
        .collect())
}

/// Records whom each of `messages` mentions: members of its room, not its sender, by
/// email (a message's mentions are rewritten this way when it is edited).
/// Each message is its conversation, `seq`, sender and body.
pub(super) async fn record_mentions<'m>(
    tx: &Tx<'_>,
    messages: impl Iterator<Item = (ConversationId, i64, UserId, &'m str)>,
) -> Result<(), Error> {
    let mut mentioned: (Vec<Uuid>, Vec<i64>, Vec<Uuid>, Vec<String>) = Default::default();
    for (conversation, seq, sender, body) in messages {
        for email in crate::domain::mentioned_emails(body) {
            mentioned.0.push(conversation.0);
            mentioned.1.push(seq);
            mentioned.2.push(sender.0);
            mentioned.3.push(email);
        }
    }
    if !mentioned.0.is_empty() {
        tx.execute(
            "INSERT INTO mentions (user_id, conversation_id, seq)
             SELECT DISTINCT u.id, t.c, t.s
             FROM unnest($1::uuid[], $2::int8[], $3::uuid[], $4::text[]) AS t(c, s, sender, email)
             JOIN users u ON lower(u.email) = t.email
             JOIN members mb ON mb.conversation_id = t.c AND mb.user_id = u.id
             JOIN conversations cv ON cv.id = t.c AND cv.kind = 'room'
             WHERE u.id <> t.sender
             ON CONFLICT DO NOTHING",
            &[&mentioned.0, &mentioned.1, &mentioned.2, &mentioned.3],
        )
        .await?;
    }
    Ok(())
}
