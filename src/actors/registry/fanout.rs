//! The fan-out: shows every committed change (and every change another node reports) to
//! the windows on this node it concerns, and publishes this node's changes for the others.
//!
//! [`delivered_as`] is the one place that decides whether a committed [`WriteOutcome`]
//! is shown at all, and as which [`ClusterEvent`]; [`PresenceRegistry::fan_out`] decides
//! who on this node receives what for each event, whichever node it came from.

use super::entry::{Held, Phase};
use super::{ClusterEventReceived, FinishPublishing, PresenceRegistry};
use crate::actors::messages::UserTyped;
use crate::actors::persist::{Origin, WritesCommitted};
use crate::actors::user::{
    DeliverChange, DeliverFrame, DeliverIfMember, DeliverMessage, ForgetConversation,
    TrackConversation,
};
use crate::cluster::{ClusterEvent, PublishEvent};
use crate::db::conversations::Audience;
use crate::db::writes::WriteOutcome;
use crate::domain::{
    hide_quote, ConversationId, ConversationSummary, Message, Room, User, UserId, WindowId,
};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use bytestring::ByteString;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// What a committed write shows to others, if anything: a retried message (already
/// shown), a direct conversation opened (nothing to show until a message), and a block,
/// join or leave that changed nothing are not delivered or published.
pub(super) fn delivered_as(outcome: WriteOutcome) -> Option<ClusterEvent> {
    Some(match outcome {
        WriteOutcome::MessageStored {
            message,
            recipients,
            hidden_from,
            direct,
            everyone,
        } => ClusterEvent::Message {
            message,
            recipients,
            hidden_from,
            direct,
            everyone,
        },
        WriteOutcome::MessageChanged {
            change,
            recipients,
            hidden_from,
            everyone,
        } => ClusterEvent::Changed {
            change,
            recipients,
            hidden_from,
            everyone,
        },
        WriteOutcome::ReadMoved {
            user,
            conversation,
            seq,
            moved: true,
            receipt_to,
        } => ClusterEvent::Read {
            user,
            conversation,
            seq,
            receipt_to,
        },
        WriteOutcome::ReceiptsSet { user, share } => ClusterEvent::Receipts { user, share },
        WriteOutcome::UiSaved { user, state } => ClusterEvent::Ui { user, state },
        WriteOutcome::BlockChanged {
            blocker,
            blocked,
            active,
            changed: true,
        } => ClusterEvent::Block {
            blocker,
            blocked,
            active,
        },
        WriteOutcome::RoomCreated {
            room,
            creator,
            conversation,
        } => ClusterEvent::RoomCreated {
            room,
            creator,
            conversation,
        },
        WriteOutcome::RoomJoined {
            user,
            room,
            conversation,
            members,
            changed: true,
        } => ClusterEvent::RoomJoined {
            user,
            room,
            conversation,
            members,
        },
        WriteOutcome::RoomLeft {
            user,
            room,
            members,
            changed: true,
        } => ClusterEvent::RoomLeft {
            user,
            room,
            members,
        },
        WriteOutcome::RoomDeleted { room, members } => ClusterEvent::RoomDeleted {
            room,
            members: Some(members),
        },
        WriteOutcome::Renamed { user } => ClusterEvent::Renamed { user },
        WriteOutcome::MessageExisted { .. }
        | WriteOutcome::Unchanged
        | WriteOutcome::DirectOpened { .. }
        | WriteOutcome::BlockChanged { changed: false, .. }
        | WriteOutcome::ReadMoved { moved: false, .. }
        | WriteOutcome::RoomJoined { changed: false, .. }
        | WriteOutcome::RoomLeft { changed: false, .. } => return None,
    })
}

impl PresenceRegistry {
    /// Hands a change of this node to the other nodes (in a cluster).
    fn publish(&self, event: ClusterEvent) {
        if let Some(cluster) = &self.cluster {
            cluster.events.do_send(PublishEvent { event });
        }
    }

    /// Sends `frame` to every window on this node, but `except`.
    fn to_everyone(&self, frame: &ByteString, except: Option<WindowId>) {
        for entry in self.users.values().filter(|e| e.is_online()) {
            entry.actor.do_send(DeliverFrame {
                frame: frame.clone(),
                except,
            });
        }
    }

    /// A room gained a member (its creator, or someone who joined): the member's windows
    /// but `except` get `joined`. (The other members hear of it in `room_changed`.)
    fn room_joined(
        &self,
        room: &Room,
        conversation: &ConversationSummary,
        member: UserId,
        except: Option<WindowId>,
    ) {
        let joined = ServerEvent::Joined {
            reference: None,
            room: Cow::Borrowed(room),
            conversation: Cow::Borrowed(conversation),
        };
        self.to_user(member, joined.to_frame(), except);
        // Its windows here start the room where that frame does, on whichever node the
        // join was made.
        if let Some(entry) = self.users.get(&member) {
            entry.actor.do_send(TrackConversation {
                conversation: conversation.id,
                last_seq: conversation.last_seq,
                last_change: conversation.last_change,
            });
        }
    }

    /// `member` is no longer in `room`: their UserActor here stops ordering it.
    fn room_gone_for(&self, member: UserId, room: ConversationId) {
        if let Some(entry) = self.users.get(&member) {
            entry
                .actor
                .do_send(ForgetConversation { conversation: room });
        }
    }

    /// Tells a room's other members here that `user` joined or left; members who blocked
    /// `user`, or whom `user` blocked, hear nothing of it.
    fn tell_members(&mut self, members: &[UserId], room: &Room, user: &User, joined: bool) {
        let frame = ServerEvent::Member {
            room_id: room.id,
            user: Cow::Borrowed(user),
            joined,
        }
        .to_frame();
        for member in members.iter().filter(|m| **m != user.id) {
            if let Some(entry) = self.users.get_mut(member) {
                if let Phase::Loading { held, .. } = &mut entry.phase {
                    held.push(Held::Member {
                        about: user.id,
                        frame: frame.clone(),
                    });
                } else if !entry.hides(user.id) {
                    entry.actor.do_send(DeliverFrame {
                        frame: frame.clone(),
                        except: None,
                    });
                }
            }
        }
    }

    /// A room's member count changed: its `members` here but `who` (who joined or left)
    /// get the room as it is now. Only members: the directory is asked, not pushed, so a
    /// room's changes cost O(members), not O(people online).
    fn room_changed(&self, members: &[UserId], room: &Room, who: UserId) {
        let frame = ServerEvent::Room {
            room: Cow::Borrowed(room),
        }
        .to_frame();
        for member in members.iter().filter(|m| **m != who) {
            self.to_user(*member, frame.clone(), None);
        }
    }

    /// Who here is handed a message or a change, and whether it is hidden from them
    /// (they only keep its order). For the room everyone shares (`everyone`): every
    /// user here, those who are not members dropping it; `hidden_from` then names
    /// anyone it is hidden from, members or not.
    fn handed_to(
        &self,
        everyone: bool,
        recipients: &[UserId],
        hidden_from: &[UserId],
    ) -> Vec<(UserId, bool)> {
        if everyone {
            let hidden: HashSet<&UserId> = hidden_from.iter().collect();
            return self
                .users
                .keys()
                .map(|u| (*u, hidden.contains(u)))
                .collect();
        }
        let shown = recipients.iter().map(|u| (*u, false));
        shown
            .chain(hidden_from.iter().map(|u| (*u, true)))
            .collect()
    }

    /// Sends `frame` to `user`'s windows here, but `except`.
    fn to_user(&self, user: UserId, frame: ByteString, except: Option<WindowId>) {
        if let Some(entry) = self.users.get(&user) {
            entry.actor.do_send(DeliverFrame { frame, except });
        }
    }

    /// Shows a change to this node's windows: who receives what, for each kind of event.
    /// `origin` is set when the change came from one of them.
    fn fan_out(
        &mut self,
        event: &ClusterEvent,
        origin: Option<&Origin>,
        received_at: Option<Instant>,
    ) {
        let except = origin.map(|o| o.window);
        match event {
            ClusterEvent::Presence { user, online } => self.set_online(user, *online),
            ClusterEvent::Renamed { user } => self.renamed(user),
            ClusterEvent::Message {
                message,
                recipients,
                hidden_from,
                direct,
                everyone,
            } => {
                if *direct {
                    self.partnered(recipients);
                }
                let frame = ServerEvent::Message {
                    message: Cow::Borrowed(message),
                }
                .to_frame();
                let shared = Arc::new(message.clone());
                // The same message quoting someone gone: for recipients who blocked the
                // quoted person or were blocked by them. Built once, if anyone needs it.
                let quoted = message.reply_to.as_ref().and_then(|q| q.sender_id);
                let mut without_quote: Option<(Arc<Message>, ByteString)> = None;
                let members_only = *everyone;
                for (recipient, hidden) in self.handed_to(*everyone, recipients, hidden_from) {
                    if let Some(entry) = self.users.get_mut(&recipient) {
                        let origin = (recipient == message.sender_id)
                            .then(|| origin.cloned())
                            .flatten();
                        if let Phase::Loading { held, .. } = &mut entry.phase {
                            // Whether its quote may be shown depends on the sets.
                            held.push(Held::Message {
                                message: shared.clone(),
                                frame: frame.clone(),
                                origin,
                                received_at,
                                hidden,
                                members_only,
                            });
                            continue;
                        }
                        let (message, frame) = match quoted {
                            Some(quoted) if entry.hides(quoted) => without_quote
                                .get_or_insert_with(|| {
                                    let mut m = message.clone();
                                    hide_quote(&mut m);
                                    let frame = ServerEvent::Message {
                                        message: Cow::Borrowed(&m),
                                    }
                                    .to_frame();
                                    (Arc::new(m), frame)
                                })
                                .clone(),
                            _ => (shared.clone(), frame.clone()),
                        };
                        entry.actor.do_send(DeliverMessage {
                            message,
                            frame,
                            origin,
                            received_at,
                            hidden,
                            members_only,
                        });
                    }
                }
            }
            ClusterEvent::Changed {
                change,
                recipients,
                hidden_from,
                everyone,
            } => {
                // The same frame for everyone who sees it: a change shows nothing that
                // depends on the viewer (its audience was settled in the transaction).
                let frame = change.event(None).to_frame();
                let shared = Arc::new(change.clone());
                for (member, hidden) in self.handed_to(*everyone, recipients, hidden_from) {
                    if let Some(entry) = self.users.get(&member) {
                        let origin = (member == change.by).then(|| origin.cloned()).flatten();
                        entry.actor.do_send(DeliverChange {
                            change: shared.clone(),
                            frame: frame.clone(),
                            origin,
                            hidden,
                            members_only: *everyone,
                        });
                    }
                }
            }
            ClusterEvent::Read {
                user,
                conversation,
                seq,
                receipt_to,
            } => {
                let read = |user_id| {
                    ServerEvent::Read {
                        conversation_id: *conversation,
                        seq: *seq,
                        user_id,
                    }
                    .to_frame()
                };
                self.to_user(*user, read(None), except);
                if let Some(peer) = receipt_to {
                    self.to_user(*peer, read(Some(*user)), None);
                }
            }
            ClusterEvent::Receipts { user, share } => self.to_user(
                *user,
                ServerEvent::Receipts { share: *share }.to_frame(),
                except,
            ),
            ClusterEvent::Ui { user, state } => self.to_user(
                *user,
                ServerEvent::Ui {
                    state: Cow::Borrowed(state),
                }
                .to_frame(),
                except,
            ),
            ClusterEvent::Block {
                blocker,
                blocked,
                active,
            } => self.block_changed(blocker, blocked, *active, origin),
            ClusterEvent::RoomCreated {
                room,
                creator,
                conversation,
            } => self.room_joined(room, conversation, creator.id, except),
            ClusterEvent::RoomJoined {
                user,
                room,
                conversation,
                members,
            } => {
                self.room_joined(room, conversation, user.id, except);
                self.tell_members(members, room, user, true);
                self.room_changed(members, room, user.id);
            }
            ClusterEvent::RoomLeft {
                user,
                room,
                members,
            } => {
                let left = ServerEvent::Left {
                    reference: None,
                    room_id: room.id,
                };
                self.to_user(user.id, left.to_frame(), except);
                self.room_gone_for(user.id, room.id);
                self.tell_members(members, room, user, false);
                self.room_changed(members, room, user.id);
            }
            ClusterEvent::RoomDeleted { room, members } => {
                let deleted = ServerEvent::RoomDeleted {
                    reference: None,
                    room_id: *room,
                }
                .to_frame();
                match members {
                    Some(members) => {
                        for member in members {
                            self.to_user(*member, deleted.clone(), except);
                            self.room_gone_for(*member, *room);
                        }
                    }
                    None => self.to_everyone(&deleted, except),
                }
            }
            ClusterEvent::Typing {
                sender,
                conversation,
                members,
                everyone,
            } => {
                let frame = ServerEvent::Typing {
                    conversation_id: *conversation,
                    user_id: *sender,
                }
                .to_frame();
                let here: Cow<[UserId]> = if *everyone {
                    Cow::Owned(self.users.keys().copied().collect())
                } else {
                    Cow::Borrowed(members)
                };
                for member in here.iter().filter(|m| *m != sender) {
                    if let Some(entry) = self.users.get(member) {
                        if !entry.is_online() || entry.hides(*sender) {
                            continue;
                        }
                        if *everyone {
                            entry.actor.do_send(DeliverIfMember {
                                conversation: *conversation,
                                frame: frame.clone(),
                            });
                        } else {
                            entry.actor.do_send(DeliverFrame {
                                frame: frame.clone(),
                                except: None,
                            });
                        }
                    }
                }
            }
        }
    }
}

impl Handler<UserTyped> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: UserTyped, _ctx: &mut Self::Context) {
        let (members, everyone) = match msg.audience {
            Audience::Members(members) => (members, false),
            Audience::Everyone => (Vec::new(), true),
        };
        let event = ClusterEvent::Typing {
            sender: msg.sender,
            conversation: msg.conversation,
            members,
            everyone,
        };
        self.fan_out(&event, None, None);
        self.publish(event);
    }
}

impl Handler<WritesCommitted> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: WritesCommitted, _ctx: &mut Self::Context) {
        for write in msg.writes {
            let Some(event) = delivered_as(write.outcome) else {
                continue;
            };
            self.fan_out(&event, write.origin.as_ref(), Some(write.received_at));
            self.publish(event);
        }
    }
}

impl Handler<FinishPublishing> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, _msg: FinishPublishing, _ctx: &mut Self::Context) {
        // Everything before it in the mailbox is handled, and so handed on.
    }
}

impl Handler<ClusterEventReceived> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: ClusterEventReceived, _ctx: &mut Self::Context) {
        let concerns_us = match msg.event.audience() {
            None => true,
            Some(people) => people.iter().any(|p| self.users.contains_key(p)),
        };
        if concerns_us {
            self.metrics.cluster_events_delivered.inc();
        }
        self.fan_out(&msg.event, None, None);
    }
}
