//! The snapshot: a new window's `ready` frame (the first page of who is online for the
//! user, the count and the online partners, blocks,
//! conversations, rooms, the mirrored UI state), then whatever queued behind it.
//!
//! The rows come from the chat's batched [`SnapshotReader`](crate::db::snapshot): under
//! a connect storm the windows waiting share queries instead of each checking out a
//! connection, and a window that cannot be read soon enough is closed with 1013 (try
//! again later) and a `retry_after` in its reason, not left to time out on the pool.

use super::window::Known;
use super::UserActor;
use crate::actors::admission::Admitted;
use crate::actors::messages::OpenOnlineView;
use crate::actors::ToSocket;
use crate::db::batch::ReadError;
use crate::domain::{User, WindowId};
use crate::protocol::close;
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// Why a window's snapshot could not be built (it is closed to reconnect).
#[derive(Debug, thiserror::Error)]
enum SnapshotError {
    #[error("the registry did not answer")]
    Registry(#[from] MailboxError),
    #[error("the snapshot rows could not be read")]
    Rows(#[from] ReadError),
    #[error("the snapshot was not ready within {SNAPSHOT_DEADLINE:?}")]
    TimedOut,
}

/// The longest a window waits for its snapshot (past the rows' own 30 s queue): the
/// person's block sets may be failing to load, and the window holds a turn at the
/// connect gate meanwhile.
pub const SNAPSHOT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(40);

/// The close reason of a window shed under a connect storm: when to come back.
pub const BUSY_REASON: &str = "server busy; retry_after=5";

impl UserActor {
    /// Builds and sends the `ready` snapshot of a new window, then what queued behind it.
    pub(super) fn sync_window(
        &mut self,
        window: WindowId,
        expires_at: DateTime<Utc>,
        admitted: Admitted,
        reference: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let views = self.registry.views.clone();
        let reader = self.chat.snapshots.clone();
        let routed = self.routed.clone();
        let started = std::time::Instant::now();
        let user = self.user.clone();
        let snapshot = async move {
            // Either part failing ends the wait at once (and frees the window's turn).
            let both = async {
                tokio::try_join!(
                    async {
                        views
                            .send(OpenOnlineView {
                                viewer: user.id,
                                window,
                            })
                            .await
                            .map_err(SnapshotError::from)
                    },
                    async {
                        // Rows read before the route is in could miss an event committed
                        // meanwhile. It always resolves: answered once Redis has the
                        // route, or once it was dropped (within the publishing
                        // connection's timeouts; the rebuild that follows has every
                        // UserActor catch up). SNAPSHOT_DEADLINE bounds it all.
                        routed.await;
                        reader.read(user.id).await.map_err(SnapshotError::from)
                    }
                )
            };
            let (online, rows) = tokio::time::timeout(SNAPSHOT_DEADLINE, both)
                .await
                .map_err(|_| SnapshotError::TimedOut)??;
            let known: Known = rows
                .conversations
                .iter()
                .map(|c| (c.id, (c.last_seq, c.last_change)))
                .collect();
            // The session token says who, Postgres what they are called now.
            let me = User {
                name: rows.name.clone(),
                ..user
            };
            let ready = ServerEvent::Ready {
                reference: reference.as_deref().map(Cow::Borrowed),
                me: Cow::Borrowed(&me),
                online: Cow::Borrowed(&online.online),
                online_count: online.count,
                partners: Cow::Borrowed(&online.partners),
                blocked: Cow::Borrowed(&rows.blocked),
                conversations: Cow::Borrowed(&rows.conversations),
                rooms: Cow::Borrowed(rows.rooms.as_slice()),
                ui: Cow::Borrowed(&rows.ui),
                receipts: rows.receipts,
                expires_at,
            }
            .to_frame();
            Ok::<_, SnapshotError>((ready, known))
        };
        ctx.spawn(snapshot.into_actor(self).map(move |result, act, _ctx| {
            // The next window's turn: this one's `ready` is out, or it failed.
            drop(admitted);
            let Some(entry) = act.windows.get_mut(&window) else {
                return;
            };
            match result {
                Ok((ready, known)) => {
                    act.metrics
                        .snapshot_seconds
                        .observe(started.elapsed().as_secs_f64());
                    let queued = entry.synced(known.clone());
                    act.send_to(window, ready);
                    for (key, frame) in queued {
                        act.send_keyed(window, key, frame);
                    }
                    if let Some(early) = act.early.take() {
                        // The first snapshot says where each conversation starts.
                        let mut ready = Vec::new();
                        for (conversation, (last_seq, _)) in &known {
                            ready.extend(act.sequencer.known_up_to(*conversation, *last_seq));
                        }
                        act.release(ready);
                        for msg in early {
                            act.offer_message(msg);
                        }
                        for (conversation, (_, last_change)) in known {
                            act.changes_known_up_to(conversation, last_change, None);
                        }
                        for change in std::mem::take(&mut act.early_changes) {
                            act.offer_change(change);
                        }
                    }
                }
                Err(SnapshotError::Rows(ReadError::Busy) | SnapshotError::TimedOut) => {
                    act.metrics.snapshots_shed.inc();
                    entry.socket.do_send(ToSocket::Close {
                        code: close::TRY_AGAIN_LATER,
                        reason: BUSY_REASON,
                    });
                    act.drop_window(window);
                }
                Err(e) => {
                    log::error!(
                        "snapshot for {} failed: {}",
                        act.user.id,
                        crate::error_chain(&e)
                    );
                    entry.socket.do_send(ToSocket::Close {
                        code: 1011,
                        reason: "snapshot unavailable; reconnect",
                    });
                    act.drop_window(window);
                }
            }
        }));
    }
}
