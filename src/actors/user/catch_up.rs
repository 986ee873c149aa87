//! Catching up: reads from Postgres the messages and the changes (edits, deletions,
//! reactions) the windows have not seen, when a conversation's gap stays open too long
//! (another node's event arrived out of order or was lost) or after a Redis outage
//! (`Resync`). Missed changes come as the changed messages' state now (a `changes`
//! frame), however many changes each had.

use super::change_order::ChangeFrame;
use super::{sequencer, DeliverMessage, Resync, UserActor};
use crate::db;
use crate::db::messages::Page;
use crate::domain::{ConversationId, Message};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A conversation to read past a position (a `seq`, or a change number).
type ReadFrom = (ConversationId, i64);

/// The longest a catch-up waits for its turn to read (then it is tried again).
const TURN_WAIT: Duration = Duration::from_secs(30);

/// Why a catch-up read nothing.
#[derive(Debug, thiserror::Error)]
enum CatchUpFailed {
    #[error("no turn to read within {0:?}")]
    NoTurn(Duration),
    #[error("reading the store failed")]
    Store(#[from] crate::db::DbError),
}

/// Notification: messages the windows had not seen were read from the store; the actor
/// sends it to itself, since the read runs off its mailbox.
#[derive(Message)]
#[rtype(result = "()")]
struct StoreCaughtUp {
    /// Each with whether the user blocked its sender.
    missed: Vec<(Message, bool)>,
    /// Per conversation, the messages changed past what was delivered (as they are
    /// now), and the change number that covers (`None`: no longer a member).
    changed: Vec<(ConversationId, Vec<Message>, Option<i64>)>,
}

impl UserActor {
    /// Reads from the store what the windows have not seen: every conversation past what
    /// was delivered (`resync`), or only the ones with a gap open too long.
    pub(super) fn catch_up(&mut self, resync: bool, ctx: &mut Context<Self>) {
        if self.catching_up {
            // One read at a time: a gap stays stale until the read in flight fills it,
            // and a resync asked meanwhile runs at the next tick after it.
            self.resync_owed |= resync;
            return;
        }
        let patience = self.chat.limits().gap_timeout;
        let mut gaps = self.sequencer.stale_gaps(patience);
        // Changes waiting for a message that has not come: read the messages too.
        for (conversation, after) in self.stale_parks(patience) {
            if !gaps.iter().any(|(c, _)| *c == conversation) {
                gaps.push((conversation, after));
            }
        }
        let change_gaps = self.change_order.stale_gaps(patience);
        if !resync && gaps.is_empty() && change_gaps.is_empty() {
            return; // the usual case, checked on every tick: nothing to read
        }
        if resync {
            self.resync_owed = false;
        }
        self.catching_up = true;
        let pool = self.chat.pool.clone();
        let turns = self.chat.catch_up_turns();
        let user = self.user.id;
        let delivered = self.sequencer.delivered();
        let changes_delivered = self.change_order.delivered();
        let page = self.chat.limits().history_max;
        let read = async move {
            let _turn = tokio::time::timeout(TURN_WAIT, turns.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(CatchUpFailed::NoTurn(TURN_WAIT))?;
            let (from, changes_from): (Vec<ReadFrom>, Vec<ReadFrom>) = if resync {
                let lasts = db::conversations::last_seqs(&pool, user).await?;
                let past = |known: &HashMap<ConversationId, i64>, c: &ConversationId| {
                    known.get(c).copied().unwrap_or(0)
                };
                (
                    lasts
                        .iter()
                        .filter(|(c, last, _)| *last > past(&delivered, c))
                        .map(|(c, _, _)| (*c, past(&delivered, c)))
                        .collect(),
                    lasts
                        .iter()
                        .filter(|(c, _, last)| *last > past(&changes_delivered, c))
                        .map(|(c, _, _)| (*c, past(&changes_delivered, c)))
                        .collect(),
                )
            } else {
                (gaps, change_gaps)
            };
            let mut missed = Vec::new();
            for (conversation, mut after) in from {
                loop {
                    let batch = db::messages::history_marked(
                        &pool,
                        conversation,
                        user,
                        Page::After(after),
                        page,
                    )
                    .await?;
                    let full = batch.len() as i64 == page;
                    after = batch.last().map_or(after, |(m, _)| m.seq);
                    missed.extend(batch);
                    if !full {
                        break;
                    }
                }
            }
            // Read after the messages: a change read here whose message was not (it
            // came after) waits for it in `change_order`.
            let mut changed = Vec::new();
            for (conversation, mut after) in changes_from {
                let mut messages = Vec::new();
                let through = loop {
                    let Some(page_read) =
                        db::messages::changes_since(&pool, conversation, user, after, page).await?
                    else {
                        break None; // no longer a member
                    };
                    after = page_read.through;
                    messages.extend(page_read.messages);
                    if !page_read.more {
                        break Some(after);
                    }
                };
                changed.push((conversation, messages, through));
            }
            Ok::<_, CatchUpFailed>((missed, changed))
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, act, ctx| match result {
                    // Its handler ends the read (`catching_up`), once the gaps are filled.
                    Ok((missed, changed)) => ctx.notify(StoreCaughtUp { missed, changed }),
                    Err(e) => {
                        // A resync that failed is owed: the next tick tries again (a gap's
                        // catch-up is retried by the gap itself).
                        act.catching_up = false;
                        act.resync_owed |= resync;
                        act.watch_soon();
                        log::warn!(
                            "catching up {} failed, trying again: {}",
                            act.user.id,
                            crate::error_chain(&e)
                        );
                    }
                }),
        );
    }
}

impl Handler<Resync> for UserActor {
    type Result = ();

    fn handle(&mut self, _msg: Resync, ctx: &mut Self::Context) {
        self.catch_up(true, ctx);
        self.watch_soon();
        let (pool, user) = (self.chat.pool.clone(), self.user.id);
        let turns = self.chat.catch_up_turns();
        ctx.spawn(
            async move {
                // Without a turn the windows keep the state they have: skipped, not forced.
                let Ok(Ok(_turn)) = tokio::time::timeout(TURN_WAIT, turns.acquire_owned()).await
                else {
                    return None;
                };
                db::users::ui_state(&pool, user).await.ok()
            }
            .into_actor(self)
            .map(|result, act, _ctx| {
                if let Some(state) = result {
                    act.broadcast(
                        &ServerEvent::Ui {
                            state: Cow::Borrowed(&state),
                        }
                        .to_frame(),
                        None,
                    );
                }
            }),
        );
    }
}

impl Handler<StoreCaughtUp> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: StoreCaughtUp, _ctx: &mut Self::Context) {
        self.catching_up = false;
        let ready = sequencer::fill(&mut self.sequencer, msg.missed, |m, hidden| {
            DeliverMessage {
                frame: ServerEvent::Message {
                    message: Cow::Borrowed(&m),
                }
                .to_frame(),
                message: Arc::new(m),
                origin: None,
                received_at: None,
                hidden,
                // Read from the store for conversations the sequencer already tracks.
                members_only: false,
            }
        });
        self.release(ready);
        for (conversation, messages, through) in msg.changed {
            let Some(through) = through else {
                // Left on another node: nothing more of it comes here.
                self.forget_changes(conversation);
                continue;
            };
            // Changes that arrived live while the store was read may already have
            // carried everything up to `through`: then the state read is no newer than
            // what the windows were shown, and is not sent.
            let behind = self
                .change_order
                .delivered_of(conversation)
                .is_none_or(|delivered| delivered < through);
            let filled = (behind && !messages.is_empty()).then(|| ChangeFrame {
                conversation,
                seq: messages.iter().map(|m| m.seq).max().unwrap_or(0),
                number: None,
                frame: Some(
                    ServerEvent::Changes {
                        reference: None,
                        conversation_id: conversation,
                        messages: Cow::Borrowed(&messages),
                        through,
                        more: false,
                    }
                    .to_frame(),
                ),
                reply: None,
                hidden: false,
            });
            self.changes_known_up_to(conversation, through, filled);
        }
    }
}
