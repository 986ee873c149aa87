//! Catching up: reads from Postgres the messages the windows have not seen, when a
//! conversation's gap stays open too long (another node's event arrived out of order or
//! was lost) or after a Redis outage (`Resync`).

use super::{sequencer, DeliverMessage, Resync, UserActor};
use crate::db;
use crate::db::messages::Page;
use crate::domain::{ConversationId, Message};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

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
        let gaps = self.sequencer.stale_gaps(self.chat.limits().gap_timeout);
        if !resync && gaps.is_empty() {
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
        let page = self.chat.limits().history_max;
        let read = async move {
            let _turn = tokio::time::timeout(TURN_WAIT, turns.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(CatchUpFailed::NoTurn(TURN_WAIT))?;
            let from: Vec<(ConversationId, i64)> = if resync {
                db::conversations::last_seqs(&pool, user)
                    .await?
                    .into_iter()
                    .filter(|(c, last)| *last > delivered.get(c).copied().unwrap_or(0))
                    .map(|(c, _)| (c, delivered.get(&c).copied().unwrap_or(0)))
                    .collect()
            } else {
                gaps
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
            Ok::<_, CatchUpFailed>(missed)
        };
        ctx.spawn(
            read.into_actor(self)
                .map(move |result, act, ctx| match result {
                    // Its handler ends the read (`catching_up`), once the gaps are filled.
                    Ok(missed) => ctx.notify(StoreCaughtUp { missed }),
                    Err(e) => {
                        // A resync that failed is owed: the next tick tries again (a gap's
                        // catch-up is retried by the gap itself).
                        act.catching_up = false;
                        act.resync_owed |= resync;
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
            }
        });
        self.release(ready);
    }
}
