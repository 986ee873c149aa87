//! What the registry knows of one local user.

use super::super::messages::{FirstView, ShowOnlinePage};
use super::super::persist::Origin;
use super::super::user::{DeliverFrame, DeliverMessage, UserActor};
use crate::actors::user::Routed;
use crate::domain::{hide_quote, Message, User, UserId, WindowId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::Addr;
use bytestring::ByteString;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// A block change, seen from one party.
#[derive(Debug, Clone, Copy)]
pub(super) enum BlockChange {
    /// This user blocked (`active`) or unblocked `other`.
    Outgoing { other: UserId, active: bool },
    /// `other` blocked or unblocked this user.
    Incoming { other: UserId, active: bool },
}

pub(super) enum Phase {
    /// Block sets are loading; the user is not announced yet. Changes that arrive
    /// meanwhile are replayed over the loaded sets; snapshot requests wait; deliveries
    /// whose form depends on the sets wait too (`held`).
    Loading {
        changes: Vec<BlockChange>,
        waiting: Vec<Waiting>,
        held: Vec<Held>,
        /// A rename arrived meanwhile: it is newer than the name the load read.
        renamed: bool,
    },
    /// Announceable: others may see the user (block permitting).
    Online,
}

/// A question about a user's view of the online list, asked while their block sets
/// load: answered once they are in, so no answer is unfiltered.
pub(super) enum Waiting {
    /// A new window's first page ([`OpenOnlineView`]).
    View {
        window: WindowId,
        reply: oneshot::Sender<FirstView>,
    },
    /// A window's page request.
    Page(ShowOnlinePage),
    /// Which of some people are online for the user.
    Among {
        people: Vec<UserId>,
        reply: oneshot::Sender<Vec<UserId>>,
    },
}

/// A delivery to a user whose block sets are still loading: what they may see of it
/// depends on the sets, so it is decided once they are in ([`Entry::release`]).
pub(super) enum Held {
    /// A message, as everyone sees it; a quote of someone this user is apart from is
    /// hidden on release.
    Message {
        message: Arc<Message>,
        frame: ByteString,
        origin: Option<Origin>,
        received_at: Option<Instant>,
        hidden: bool,
        members_only: bool,
    },
    /// A `member` frame about `about`, dropped on release if this user is apart from them.
    Member { about: UserId, frame: ByteString },
}

impl BlockChange {
    /// The other party of the change.
    pub fn other(&self) -> &UserId {
        match self {
            BlockChange::Outgoing { other, .. } | BlockChange::Incoming { other, .. } => other,
        }
    }
}

impl Phase {
    /// A new user's: block sets not loaded yet.
    pub fn loading() -> Phase {
        Phase::Loading {
            changes: Vec::new(),
            waiting: Vec::new(),
            held: Vec::new(),
            renamed: false,
        }
    }
}

pub(super) struct Entry {
    pub user: User,
    pub actor: Addr<UserActor>,
    pub windows: HashSet<WindowId>,
    pub phase: Phase,
    /// Whom this user blocked.
    pub blocks_out: HashSet<UserId>,
    /// Who blocked this user.
    pub blocks_in: HashSet<UserId>,
    /// Tells a late load result apart from the current incarnation's.
    pub generation: u64,
    /// The people this user has a direct conversation with (loaded with the block sets,
    /// grown by a first direct message): every window tracks those online.
    pub partners: HashSet<UserId>,
    /// `Some` while an online user's block sets are re-read (after a Redis outage, when
    /// block events may have been missed): changes to replay over the fresh read.
    pub reloading: Option<Vec<BlockChange>>,
    /// Resolves once this node's route for the user is in Redis: their block sets and
    /// partners are read after it, as their snapshot rows are, so no block or first
    /// direct message committed meanwhile is routed elsewhere and missed.
    pub routed: Routed,
}

impl Entry {
    /// Either of the two has blocked the other: they do not see each other.
    pub fn hides(&self, other: UserId) -> bool {
        self.blocks_out.contains(&other) || self.blocks_in.contains(&other)
    }

    /// Everyone hidden from this user (either of them blocked the other); someone in both
    /// sets comes twice.
    pub fn hidden(&self) -> impl Iterator<Item = UserId> + '_ {
        self.blocks_out.iter().chain(&self.blocks_in).copied()
    }

    /// Applies a change, and remembers it if a re-read is under way.
    pub fn record(&mut self, change: BlockChange) {
        self.apply(change);
        if let Some(pending) = &mut self.reloading {
            pending.push(change);
        }
    }

    pub fn apply(&mut self, change: BlockChange) {
        let (set, other, active) = match change {
            BlockChange::Outgoing { other, active } => (&mut self.blocks_out, other, active),
            BlockChange::Incoming { other, active } => (&mut self.blocks_in, other, active),
        };
        if active {
            set.insert(other);
        } else {
            set.remove(&other);
        }
    }

    /// Hands a held delivery over, now that the block sets are in: a message with its
    /// quote hidden if this user and the quoted person are apart, a `member` frame only
    /// if they are not apart from its subject.
    pub fn release(&self, held: Held) {
        match held {
            Held::Message {
                message,
                frame,
                origin,
                received_at,
                hidden,
                members_only,
            } => {
                let (message, frame) = match seen_as(&message, |u| self.hides(u)) {
                    Some(shown) => {
                        let frame = ServerEvent::Message {
                            message: Cow::Borrowed(&shown),
                        }
                        .to_frame();
                        (Arc::new(shown), frame)
                    }
                    None => (message, frame),
                };
                self.actor.do_send(DeliverMessage {
                    message,
                    frame,
                    origin,
                    received_at,
                    hidden,
                    members_only,
                });
            }
            Held::Member { about, frame } => {
                if !self.hides(about) {
                    self.actor.do_send(DeliverFrame {
                        frame,
                        except: None,
                    });
                }
            }
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self.phase, Phase::Online)
    }
}

/// `message` as a viewer apart (by `hides`) from the person it quotes must see it (the
/// quote gone), or `None` when they may see it as it is.
pub(super) fn seen_as(message: &Message, hides: impl Fn(UserId) -> bool) -> Option<Message> {
    let quoted = message.reply_to.as_ref().and_then(|q| q.sender_id)?;
    hides(quoted).then(|| {
        let mut shown = message.clone();
        hide_quote(&mut shown);
        shown
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConversationId;

    fn quoting(quoted: UserId) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::new_v4(), "conversation_id": ConversationId::new(), "seq": 2,
            "sender_id": UserId::new(), "body": "replying", "client_id": "c",
            "created_at": "2026-11-29T08:00:00Z",
            "reply_to": {"seq": 1, "sender_id": quoted, "body": "the quoted words"}
        }))
        .expect("a message")
    }

    #[test]
    fn a_viewer_apart_from_the_quoted_person_sees_the_quote_gone() {
        let quoted = UserId::new();
        let message = quoting(quoted);
        let shown = seen_as(&message, |u| u == quoted).expect("changed");
        let quote = shown.reply_to.expect("still a reply");
        assert_eq!((quote.sender_id, quote.body), (None, None));
        assert!(
            seen_as(&message, |_| false).is_none(),
            "others see it as it is"
        );
    }
}
