//! Running what a window asked for: the message that carries a decoded command to the
//! UserActor, and the three ways commands (`cmd/`) end: a write (its success reaches the
//! windows from the registry once committed; a refusal goes to the asking window), a
//! room action (the asking window gets the reply), and a query (its answer goes to the
//! asking window).

use super::cmd::Decoded;
use super::UserActor;
use crate::actors::persist::Origin;
use crate::chat::{Action, Admission, ChatError};
use crate::db::writes::{WriteOp, WriteOutcome};
use crate::domain::WindowId;
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use bytestring::ByteString;
use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;

impl UserActor {
    /// Runs `then` once `action` fits this user's allowance. Decided on this node, it
    /// runs at once; kept across the deployment, the actor waits for the shared store
    /// (handling nothing else meanwhile) so the user's commands keep their order. A
    /// refusal goes to the asking window.
    pub(super) fn admitted(
        &mut self,
        action: Action,
        asked: Origin,
        ctx: &mut Context<Self>,
        then: impl FnOnce(&mut Self, Origin, &mut Context<Self>) + 'static,
    ) {
        match self.chat.admit(action, self.user.id) {
            Admission::Decided(Ok(())) => then(self, asked, ctx),
            Admission::Decided(Err(e)) => {
                self.send_error(asked.window, asked.reference.as_deref(), &e)
            }
            Admission::Pending(deciding) => {
                ctx.wait(
                    deciding
                        .into_actor(self)
                        .map(move |result, act, ctx| match result {
                            Ok(()) => then(act, asked, ctx),
                            Err(e) => act.send_error(asked.window, asked.reference.as_deref(), &e),
                        }),
                );
            }
        }
    }

    /// Queues a write for the window that asked and reports a refusal to it. Successes
    /// reach the windows through the registry once committed.
    pub(super) fn write(&mut self, asked: Origin, op: WriteOp, ctx: &mut Context<Self>) {
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

    /// Runs a room action; its window gets the reply (with `ref`), the user's other
    /// windows and everyone else hear of it through the registry once committed.
    pub(super) fn room_action(
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
            WriteOutcome::RoomDeleted { room, .. } => {
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

    /// Runs `query`; the window that asked gets the frame `reply` makes of its answer (if
    /// any), or the error.
    pub(super) fn answer<T: 'static>(
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

/// Command: run what a window asked for (its SocketSession decoded it). Commands run
/// here, one user's from all windows in one mailbox, so they keep their order and share
/// the user's limits.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ExecuteCommand {
    pub window: WindowId,
    /// The client's address (per-address limits).
    pub address: Option<IpAddr>,
    pub decoded: Decoded,
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
            command.apply(self, asked, msg.address, ctx);
        }
    }
}
