//! Reacting to the server's events: [`Chat::on_event`], one arm per event. The bigger
//! reactions are the other parts': a `ready` (`ready`), messages and acks (`messages`),
//! `history` answers and refused requests (`history`), room answers (`rooms`),
//! directory pages (`directory`), changes to messages and their answers (`changes`).

use super::ready::Ready;
use super::{Change, Chat, Effects, Purpose};
use crate::output::Line;
use banter_protocol::ServerEvent;
use std::borrow::Cow;

impl Chat {
    /// A frame from the server.
    pub fn on_event(&mut self, event: ServerEvent<'_>) -> Effects {
        let mut fx = Effects::default();
        match event {
            ServerEvent::Ready {
                me,
                online,
                online_count,
                partners,
                blocked,
                conversations,
                rooms,
                ..
            } => {
                return self.on_ready(Ready {
                    me: me.into_owned(),
                    online: online.into_owned(),
                    online_count,
                    partners: partners.into_owned(),
                    blocked: blocked.into_owned(),
                    conversations: conversations.into_owned(),
                    rooms: rooms.into_owned(),
                })
            }
            ServerEvent::OnlineChanges { came, went, .. } => {
                self.online_changes(came.into_owned(), &went, &mut fx)
            }
            ServerEvent::Message { message } => {
                let message = message.into_owned();
                match self.gaps.get_mut(&message.conversation_id) {
                    Some(gap) => gap.buffered.push(message),
                    None => self.show_new(message, &mut fx),
                }
            }
            ServerEvent::Ack { reference, message } => {
                self.acked(owned(reference), message.into_owned(), &mut fx)
            }
            ServerEvent::History {
                reference,
                conversation_id,
                messages,
            } => self.history(
                owned(reference),
                conversation_id,
                messages.into_owned(),
                &mut fx,
            ),
            // Lines go on showing emails, which are unique; the new name is said once.
            ServerEvent::UserUpdated { user } => {
                let user = user.into_owned();
                if let Some(name) = &user.name {
                    fx.lines.push(Line::Named {
                        email: user.email.clone(),
                        name: name.clone(),
                    });
                }
                if let Some(me) = self.me.as_mut().filter(|me| me.id == user.id) {
                    *me = user.clone();
                }
                if let Some(known) = self.people.get_mut(&user.id) {
                    *known = user;
                }
            }
            ServerEvent::MessageEdited {
                reference,
                conversation_id,
                seq,
                body,
                change,
                ..
            } => {
                let change = Change::Edited {
                    reference: owned(reference),
                    seq,
                    body: body.into_owned(),
                    change,
                };
                self.on_change(conversation_id, change, &mut fx)
            }
            ServerEvent::MessageDeleted {
                reference,
                conversation_id,
                seq,
                change,
                ..
            } => {
                let change = Change::Deleted {
                    reference: owned(reference),
                    seq,
                    change,
                };
                self.on_change(conversation_id, change, &mut fx)
            }
            ServerEvent::Reaction {
                reference,
                conversation_id,
                seq,
                user_id,
                emoji,
                add,
                change,
            } => {
                let change = Change::Reaction {
                    reference: owned(reference),
                    seq,
                    user: user_id,
                    emoji: emoji.into_owned(),
                    add,
                    change,
                };
                self.on_change(conversation_id, change, &mut fx)
            }
            ServerEvent::Changes {
                reference,
                conversation_id,
                messages,
                through,
                more,
            } => {
                let change = Change::State {
                    reference: owned(reference),
                    messages: messages.into_owned(),
                    through,
                    more,
                };
                self.on_change(conversation_id, change, &mut fx)
            }
            // An edit, deletion or reaction asked here that was so already.
            ServerEvent::Ok { reference } => self.unchanged(&reference, &mut fx),
            ServerEvent::Receipts { share } => fx.lines.push(Line::Receipts(share)),
            ServerEvent::Seen {
                conversation_id,
                seq,
                count,
                users,
                ..
            } => fx.lines.push(Line::SeenBy {
                conversation: conversation_id,
                seq,
                count,
                emails: users.iter().map(|u| u.email.clone()).collect(),
            }),
            ServerEvent::Blocked { user, .. } => {
                let user = user.into_owned();
                fx.lines.push(Line::Blocked(user.email.clone()));
                self.people.insert(user.id, user.clone());
                self.blocked.insert(user.id, user);
            }
            ServerEvent::Unblocked { user, .. } => {
                let user = user.into_owned();
                fx.lines.push(Line::Unblocked(user.email.clone()));
                self.blocked.remove(&user.id);
                self.people.insert(user.id, user);
            }
            // With `user_id`: the other person of a direct chat read it (a receipt).
            ServerEvent::Read {
                conversation_id,
                seq,
                user_id: Some(reader),
            } => fx.lines.push(Line::Seen {
                conversation: conversation_id,
                seq,
                email: self.email_of(reader),
            }),
            ServerEvent::Read {
                conversation_id,
                seq,
                user_id: None,
            } => fx.lines.push(Line::Read {
                conversation: conversation_id,
                seq,
            }),
            ServerEvent::Typing {
                conversation_id,
                user_id,
            } => fx.lines.push(Line::Typing {
                conversation: conversation_id,
                email: self.email_of(user_id),
            }),
            ServerEvent::Error {
                reference,
                code,
                message,
                ..
            } => {
                fx.lines
                    .push(Line::error(code.as_str(), message.into_owned()));
                if let Some(reference) = owned(reference) {
                    self.pending.retain(|p| p.reference != reference);
                    self.refused(&reference, &mut fx);
                }
            }
            ServerEvent::Joined {
                reference,
                room,
                conversation,
            } => {
                let (room, conversation) = (room.into_owned(), conversation.into_owned());
                // A room's messages reach a new member from the one after the join on.
                self.seen
                    .entry(conversation.id)
                    .or_insert(conversation.last_seq);
                self.changed
                    .entry(conversation.id)
                    .or_insert(conversation.last_change);
                self.know(conversation);
                fx.lines.push(Line::Joined {
                    room: room.id,
                    name: room.name.clone(),
                });
                // Joined here (`/join`, `/create`): the room opens, as `/open` would.
                if self.answered(reference.as_deref()) {
                    self.open_chat_room(room.id, room.name.clone(), &mut fx);
                }
                self.rooms.insert(room.id, room);
            }
            ServerEvent::Room { room } => {
                let room = room.into_owned();
                fx.lines.push(self.room_line(&room));
                // Sent to members only: a `room` that crossed a leave prints but is not kept.
                if let Some(mine) = self.rooms.get_mut(&room.id) {
                    *mine = room;
                }
            }
            ServerEvent::RoomDeleted { reference, room_id } => {
                self.answered(reference.as_deref());
                // A gap being filled will not be: what arrived meanwhile prints first.
                self.gap_filled(room_id, &mut fx);
                self.not_a_member(room_id);
                fx.lines.push(Line::RoomDeleted(room_id));
            }
            ServerEvent::Left { reference, room_id } => {
                self.answered(reference.as_deref());
                self.gap_filled(room_id, &mut fx);
                self.not_a_member(room_id);
                fx.lines.push(Line::Left(room_id));
            }
            ServerEvent::Member {
                room_id,
                user,
                joined,
            } => {
                let user = user.into_owned();
                fx.lines.push(Line::MemberChanged {
                    joined,
                    room: room_id,
                    email: user.email.clone(),
                });
                self.people.entry(user.id).or_insert(user);
            }
            ServerEvent::Members {
                reference, members, ..
            } => {
                if self.answered(reference.as_deref()) {
                    self.members(members.into_owned(), &mut fx);
                }
            }
            ServerEvent::OnlinePage {
                reference,
                prefix,
                offset,
                people,
                ..
            } => {
                // Every page sent to this window replaces what it tracks, asked for or not.
                self.track_page(&people, prefix.is_none() && offset == 0);
                let asked = reference.and_then(|r| self.outstanding.remove(r.as_ref()));
                match asked.map(|o| o.purpose) {
                    Some(Purpose::Online) => {
                        fx.lines
                            .extend(people.iter().map(|u| Line::Online(u.email.clone())));
                        fx.lines.push(Line::End("online"));
                    }
                    Some(Purpose::OnlineFirst) => self.list_online(&mut fx),
                    _ => {}
                }
            }
            ServerEvent::Rooms {
                reference,
                rooms,
                more,
                ..
            } => {
                if let Some(asked) = reference.and_then(|r| self.outstanding.remove(r.as_ref())) {
                    self.directory(asked.purpose, rooms.into_owned(), more, &mut fx);
                }
            }
            ServerEvent::Session { .. } | ServerEvent::Ui { .. } | ServerEvent::Unknown => {}
        }
        fx
    }
}

/// The `ref` of a server frame, owned.
fn owned(reference: Option<Cow<'_, str>>) -> Option<String> {
    reference.map(Cow::into_owned)
}
