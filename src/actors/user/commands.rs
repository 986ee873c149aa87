//! Commands: runs what a window asked for. Writes go to the PersistActor through the
//! chat service and reach the windows from the registry once committed; the asking
//! window alone hears of a refusal, and gets the replies of queries and room actions.

use super::{ExecuteCommand, UserActor};
use crate::actors::persist::Origin;
use crate::chat::ChatError;
use crate::db::messages::Page;
use crate::db::writes::{WriteOp, WriteOutcome};
use crate::domain::{ConversationId, RoomName, RoomPassword, WindowId};
use crate::protocol::{Command, Decoded, ServerEvent, ToFrame};
use actix::prelude::*;
use bytestring::ByteString;
use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;

impl UserActor {
    /// Runs one command of a window: a write, a room action or a query. `asked` is who
    /// asked (the window and the frame's `ref`), for the reply and the `ack`.
    fn execute(
        &mut self,
        asked: Origin,
        address: Option<IpAddr>,
        command: Command,
        ctx: &mut Context<Self>,
    ) {
        let me = self.user.id;
        match command {
            // Handled by the socket session; never forwarded.
            Command::Auth { .. } => {}
            Command::Send {
                target,
                body,
                client_id,
                reply_to,
            } => {
                let op = WriteOp::SendMessage {
                    sender: me,
                    target,
                    body,
                    client_id,
                    reply_to,
                };
                self.send_message(asked, op, ctx)
            }
            Command::Read { conversation, seq } => self.write(
                asked,
                WriteOp::MarkRead {
                    user: me,
                    conversation,
                    seq,
                },
                ctx,
            ),
            Command::Block { user } => self.write(
                asked,
                WriteOp::Block {
                    blocker: me,
                    blocked: user,
                },
                ctx,
            ),
            Command::Unblock { user } => self.write(
                asked,
                WriteOp::Unblock {
                    blocker: me,
                    blocked: user,
                },
                ctx,
            ),
            Command::Ui { state } => self.write(asked, WriteOp::SaveUi { user: me, state }, ctx),
            Command::History {
                conversation,
                page,
                limit,
            } => self.history(asked, conversation, page, limit, ctx),
            Command::CreateRoom { name, password } => self.create_room(asked, name, password, ctx),
            Command::JoinRoom { room, password } => {
                self.join_room(asked, room, password, address, ctx)
            }
            Command::LeaveRoom { room } => self.leave_room(asked, room, ctx),
            Command::DeleteRoom { room } => self.delete_room(asked, room, ctx),
            Command::Members { room } => self.members(asked, room, ctx),
            Command::Typing { conversation } => self.typing(asked, conversation, ctx),
        }
    }

    /// Sends a message, if the user's send rate allows it.
    fn send_message(&mut self, asked: Origin, op: WriteOp, ctx: &mut Context<Self>) {
        if let Err(e) = self.chat.check_send_rate(self.user.id) {
            return self.send_error(asked.window, asked.reference.as_deref(), &e);
        }
        self.write(asked, op, ctx);
    }

    /// Queues a write for the window that asked and reports a refusal to it. Successes
    /// reach the windows through the registry once committed.
    fn write(&mut self, asked: Origin, op: WriteOp, ctx: &mut Context<Self>) {
        let Origin { window, reference } = asked.clone();
        let pending = self.chat.write(op, Some(asked));
        ctx.spawn(
            pending
                .into_actor(self)
                .map(move |result, act, _ctx| match result {
                    Ok(WriteOutcome::MessageExisted { message }) => {
                        let ack = ServerEvent::Ack {
                            reference: reference.as_deref().map(Cow::Borrowed),
                            message: Cow::Borrowed(&message),
                        }
                        .to_frame();
                        act.send_to(window, ack);
                    }
                    Ok(_) => {}
                    Err(e) => act.send_error(window, reference.as_deref(), &e),
                }),
        );
    }

    fn create_room(
        &mut self,
        asked: Origin,
        name: RoomName,
        password: Option<RoomPassword>,
        ctx: &mut Context<Self>,
    ) {
        let (chat, me, origin) = (self.chat.clone(), self.user.id, Some(asked.clone()));
        let action = async move { chat.create_room(me, name, password, origin).await };
        self.room_action(asked, action, ctx);
    }

    fn join_room(
        &mut self,
        asked: Origin,
        room: ConversationId,
        password: Option<RoomPassword>,
        address: Option<IpAddr>,
        ctx: &mut Context<Self>,
    ) {
        let (chat, me, origin) = (self.chat.clone(), self.user.id, Some(asked.clone()));
        let action = async move { chat.join_room(me, room, password, address, origin).await };
        self.room_action(asked, action, ctx);
    }

    fn leave_room(&mut self, asked: Origin, room: ConversationId, ctx: &mut Context<Self>) {
        let (chat, me, origin) = (self.chat.clone(), self.user.id, Some(asked.clone()));
        let action = async move { chat.leave_room(me, room, origin).await };
        self.room_action(asked, action, ctx);
    }

    fn delete_room(&mut self, asked: Origin, room: ConversationId, ctx: &mut Context<Self>) {
        let (chat, me, origin) = (self.chat.clone(), self.user.id, Some(asked.clone()));
        let action = async move { chat.delete_room(me, room, origin).await };
        self.room_action(asked, action, ctx);
    }

    /// Runs a room action; its window gets the reply (with `ref`), the user's other
    /// windows and everyone else hear of it through the registry once committed.
    fn room_action(
        &mut self,
        asked: Origin,
        action: impl Future<Output = Result<WriteOutcome, ChatError>> + 'static,
        ctx: &mut Context<Self>,
    ) {
        let Origin { window, reference } = asked;
        ctx.spawn(
            action
                .into_actor(self)
                .map(move |result, act, _ctx| match result {
                    Ok(outcome) => act.reply_to_room_action(window, reference.as_deref(), &outcome),
                    Err(e) => act.send_error(window, reference.as_deref(), &e),
                }),
        );
    }

    fn reply_to_room_action(
        &mut self,
        window: WindowId,
        reference: Option<&str>,
        outcome: &WriteOutcome,
    ) {
        let frame = match outcome {
            WriteOutcome::RoomCreated {
                room, conversation, ..
            }
            | WriteOutcome::RoomJoined {
                room, conversation, ..
            } => {
                // The room's messages reach this user from the one after the join on.
                let ready = self
                    .sequencer
                    .known_up_to(conversation.id, conversation.last_seq);
                self.release(ready);
                ServerEvent::Joined {
                    reference: reference.map(Cow::Borrowed),
                    room: Cow::Borrowed(room),
                    conversation: Cow::Borrowed(conversation),
                }
                .to_frame()
            }
            WriteOutcome::RoomLeft { room, .. } => {
                self.sequencer.forget(room.id);
                ServerEvent::Left {
                    reference: reference.map(Cow::Borrowed),
                    room_id: room.id,
                }
                .to_frame()
            }
            WriteOutcome::RoomDeleted { room } => {
                self.sequencer.forget(*room);
                ServerEvent::RoomDeleted {
                    reference: reference.map(Cow::Borrowed),
                    room_id: *room,
                }
                .to_frame()
            }
            _ => return,
        };
        self.send_to(window, frame);
    }

    fn history(
        &mut self,
        asked: Origin,
        conversation: ConversationId,
        page: Page,
        limit: i64,
        ctx: &mut Context<Self>,
    ) {
        let (chat, me) = (self.chat.clone(), self.user.id);
        let query = async move { chat.history(me, conversation, page, limit).await };
        self.answer(
            asked,
            query,
            move |reference, messages| {
                let history = ServerEvent::History {
                    reference: reference.map(Cow::Borrowed),
                    conversation_id: conversation,
                    messages: Cow::Borrowed(&messages),
                };
                Some(history.to_frame())
            },
            ctx,
        );
    }

    fn members(&mut self, asked: Origin, room: ConversationId, ctx: &mut Context<Self>) {
        let (chat, me) = (self.chat.clone(), self.user.id);
        let query = async move { chat.room_members(me, room).await };
        self.answer(
            asked,
            query,
            move |reference, members| {
                let members = ServerEvent::Members {
                    reference: reference.map(Cow::Borrowed),
                    room_id: room,
                    members: Cow::Borrowed(&members),
                };
                Some(members.to_frame())
            },
            ctx,
        );
    }

    /// Tells the other members; only a refusal comes back to the window.
    fn typing(&mut self, asked: Origin, conversation: ConversationId, ctx: &mut Context<Self>) {
        let (chat, me) = (self.chat.clone(), self.user.id);
        let action = async move { chat.typing(me, conversation).await };
        self.answer(asked, action, |_, ()| None, ctx);
    }

    /// Runs `query`; the window that asked gets the frame `reply` makes of its answer (if
    /// any), or the error.
    fn answer<T: 'static>(
        &mut self,
        asked: Origin,
        query: impl Future<Output = Result<T, ChatError>> + 'static,
        reply: impl FnOnce(Option<&str>, T) -> Option<ByteString> + 'static,
        ctx: &mut Context<Self>,
    ) {
        let Origin { window, reference } = asked;
        ctx.spawn(
            query
                .into_actor(self)
                .map(move |result, act, _ctx| match result {
                    Ok(answer) => {
                        if let Some(frame) = reply(reference.as_deref(), answer) {
                            act.send_to(window, frame);
                        }
                    }
                    Err(e) => act.send_error(window, reference.as_deref(), &e),
                }),
        );
    }
}

impl Handler<ExecuteCommand> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: ExecuteCommand, ctx: &mut Self::Context) {
        if self.windows.contains_key(&msg.window) {
            let Decoded { reference, command } = msg.decoded;
            let asked = Origin {
                window: msg.window,
                reference,
            };
            self.execute(asked, msg.address, command, ctx);
        }
    }
}
