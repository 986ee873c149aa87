//! The snapshot: a new window's `ready` frame (who is online for the user, blocks,
//! conversations, rooms, the mirrored UI state), then whatever queued behind it.

use super::UserActor;
use crate::actors::messages::GetOnlineFor;
use crate::actors::ToSocket;
use crate::db::{self, DbError};
use crate::domain::{ConversationId, WindowId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::HashMap;

/// Why a window's snapshot could not be built (it is closed to reconnect).
#[derive(Debug, thiserror::Error)]
enum SnapshotError {
    #[error("the registry did not answer")]
    Registry(#[from] MailboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl UserActor {
    /// Builds and sends the `ready` snapshot of a new window, then what queued behind it.
    pub(super) fn sync_window(
        &mut self,
        window: WindowId,
        expires_at: DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) {
        let online = self.registry.online.clone();
        let pool = self.chat.pool.clone();
        let user = self.user.clone();
        let snapshot = async move {
            let online = online.send(GetOnlineFor { viewer: user.id }).await?;
            let blocked = db::blocks::blocked_by(&pool, user.id).await?;
            let conversations = db::conversations::list_for(&pool, user.id).await?;
            let rooms = db::rooms::list(&pool).await?;
            let ui = db::users::ui_state(&pool, user.id).await?;
            let known: HashMap<ConversationId, i64> =
                conversations.iter().map(|c| (c.id, c.last_seq)).collect();
            let ready = ServerEvent::Ready {
                me: Cow::Borrowed(&user),
                online: Cow::Borrowed(&online),
                blocked: Cow::Borrowed(&blocked),
                conversations: Cow::Borrowed(&conversations),
                rooms: Cow::Borrowed(&rooms),
                ui: Cow::Borrowed(&ui),
                expires_at,
            }
            .to_frame();
            Ok::<_, SnapshotError>((ready, known))
        };
        ctx.spawn(snapshot.into_actor(self).map(move |result, act, _ctx| {
            let Some(entry) = act.windows.get_mut(&window) else {
                return;
            };
            match result {
                Ok((ready, known)) => {
                    let queued = entry.synced(known.clone());
                    act.send_to(window, ready);
                    for (key, frame) in queued {
                        act.send_keyed(window, key, frame);
                    }
                    if let Some(early) = act.early.take() {
                        // The first snapshot says where each conversation starts.
                        let mut ready = Vec::new();
                        for (conversation, last_seq) in known {
                            ready.extend(act.sequencer.known_up_to(conversation, last_seq));
                        }
                        for msg in early {
                            let (conversation, seq) =
                                (msg.message.conversation_id, msg.message.seq);
                            ready.extend(act.sequencer.offer(conversation, seq, msg));
                        }
                        act.release(ready);
                    }
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
