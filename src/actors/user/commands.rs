//! Running what a window asked for: the message that carries a decoded command to the
//! UserActor, each window's commands in their order (`line`), and the three ways
//! commands (`cmd/`) end: a write (its success reaches the windows from the registry
//! once committed; the asking window gets its reply or refusal), a room action (the
//! asking window gets the reply), and a query (its answer goes to the asking window).
//! Each takes the command's [`Turn`] and gives it back when done, which lets the
//! window's next command start.

use super::cmd::{Command, Decoded};
use super::line::{Kind, LineFull, Waiting};
use super::UserActor;
use crate::actors::persist::Origin;
use crate::chat::{Action, Admission, ChatError};
use crate::db::writes::{ChangeAsked, WriteOp, WriteOutcome};
use crate::domain::{ConversationId, WindowId};
use crate::protocol::{error_frame, ErrorCode, ServerEvent, ToFrame};
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
                // The command goes on after the wait: its turn goes along, and the
                // window's next commands wait until it is queued (actix runs the newest
                // wait first: two writes waiting at once would be committed reversed).
                let turn = self.turn.take();
                let window = asked.window;
                if let Some(w) = self.windows.get_mut(&window) {
                    w.line.hold();
                }
                ctx.wait(deciding.into_actor(self).map(move |result, act, ctx| {
                    if let Some(w) = act.windows.get_mut(&window) {
                        w.line.release();
                    }
                    act.turn = turn;
                    match result {
                        Ok(()) => then(act, asked, ctx),
                        Err(e) => act.send_error(asked.window, asked.reference.as_deref(), &e),
                    }
                    match act.turn.take() {
                        Some(turn) => act.finish(turn, ctx),
                        None => act.run_line(window, ctx),
                    }
                }));
            }
        }
    }

    /// Queues a write for the window that asked and answers it once committed: a new
    /// message's `ack` (and a change's own frame, with the `ref`) comes through the
    /// registry with everyone's frames; a message sent before gets its `ack` here, a block
    /// `blocked` (or `unblocked`) with the `ref`, the rest `ok` with the `ref` (nothing
    /// without one), a refusal its `error`.
    pub(super) fn write(&mut self, asked: Origin, op: WriteOp, ctx: &mut Context<Self>) {
        let Origin { window, reference } = asked.clone();
        let turn = self.turn.take();
        let pending = self.chat.write(op, Some(asked));
        ctx.spawn(pending.into_actor(self).map(move |result, act, ctx| {
            let reference = reference.as_deref();
            let reply = match result {
                Ok(WriteOutcome::MessageExisted { message }) => Some(
                    ServerEvent::Ack {
                        reference: reference.map(Cow::Borrowed),
                        message: Cow::Borrowed(&message),
                    }
                    .to_frame(),
                ),
                // Their reply is the asking window's copy of what everyone is sent.
                Ok(WriteOutcome::MessageStored { .. } | WriteOutcome::MessageChanged { .. }) => {
                    None
                }
                Ok(WriteOutcome::BlockChanged {
                    blocked, active, ..
                }) => reference.map(|r| {
                    let (reference, user) = (Some(Cow::Borrowed(r)), Cow::Borrowed(&blocked));
                    match active {
                        true => ServerEvent::Blocked { reference, user },
                        false => ServerEvent::Unblocked { reference, user },
                    }
                    .to_frame()
                }),
                Ok(_) => reference.map(ok_frame),
                Err(e) => {
                    act.send_error(window, reference, &e);
                    None
                }
            };
            if let Some(frame) = reply {
                act.send_to(window, frame);
            }
            if let Some(turn) = turn {
                act.finish(turn, ctx);
            }
        }));
    }

    /// Queues an edit, a deletion or a reaction, if the person's allowance for changes
    /// allows it; answered `ok` once committed (the change frames come through the
    /// registry, to every window).
    pub(super) fn change_message(
        &mut self,
        conversation: ConversationId,
        seq: i64,
        asked_for: ChangeAsked,
        asked: Origin,
        ctx: &mut Context<Self>,
    ) {
        self.admitted(Action::Change, asked, ctx, move |actor, asked, ctx| {
            let op = WriteOp::ChangeMessage {
                actor: actor.user.id,
                conversation,
                seq,
                asked: asked_for,
            };
            actor.write(asked, op, ctx)
        });
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
        let turn = self.turn.take();
        ctx.spawn(action.into_actor(self).map(move |result, act, ctx| {
            match result {
                Ok(outcome) => act.reply_to_room_action(window, reference.as_deref(), &outcome),
                Err(e) => act.send_error(window, reference.as_deref(), &e),
            }
            if let Some(turn) = turn {
                act.finish(turn, ctx);
            }
        }));
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
                self.track(
                    conversation.id,
                    conversation.last_seq,
                    conversation.last_change,
                );
                ServerEvent::Joined {
                    reference: reference.map(Cow::Borrowed),
                    room: Cow::Borrowed(room),
                    conversation: Cow::Borrowed(conversation),
                }
                .to_frame()
            }
            WriteOutcome::RoomLeft { room, .. } => {
                self.forget(room.id);
                ServerEvent::Left {
                    reference: reference.map(Cow::Borrowed),
                    room_id: room.id,
                }
                .to_frame()
            }
            WriteOutcome::RoomDeleted { room, .. } => {
                self.forget(*room);
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
        let turn = self.turn.take();
        ctx.spawn(query.into_actor(self).map(move |result, act, ctx| {
            match result {
                Ok(answer) => {
                    if let Some(frame) = reply(reference.as_deref(), answer) {
                        act.send_to(window, frame);
                    }
                }
                Err(e) => act.send_error(window, reference.as_deref(), &e),
            }
            if let Some(turn) = turn {
                act.finish(turn, ctx);
            }
        }));
    }

    /// A window's command is done: the next ones that may start, start.
    pub(super) fn finish(&mut self, turn: Turn, ctx: &mut Context<Self>) {
        if let Some(window) = self.windows.get_mut(&turn.window) {
            window.line.finish();
        }
        self.run_line(turn.window, ctx);
    }

    /// Starts the window's waiting commands, in order, as far as they may start.
    fn run_line(&mut self, id: WindowId, ctx: &mut Context<Self>) {
        while let Some(next) = self.windows.get_mut(&id).and_then(|w| w.line.next()) {
            self.start(id, next, ctx);
        }
    }

    /// Applies a command its line let start, with its turn.
    fn start(&mut self, id: WindowId, waiting: Waiting, ctx: &mut Context<Self>) {
        let Waiting {
            decoded: Decoded { reference, command },
            address,
            ..
        } = waiting;
        let asked = Origin {
            window: id,
            reference,
        };
        self.turn = Some(Turn { window: id });
        command.apply(self, asked, address, ctx);
        if self.turn.take().is_some() {
            // Nothing took the turn: the command is done already.
            if let Some(window) = self.windows.get_mut(&id) {
                window.line.finish();
            }
        }
    }
}

/// A running command of `window`: handed back to [`UserActor::finish`] when it is done.
/// Dropped instead (the actor stopped, its futures with it), it needs no handing back.
#[derive(Debug)]
pub struct Turn {
    window: WindowId,
}

/// The reply to a frame with a `ref` that has no result of its own.
pub fn ok_frame(reference: &str) -> ByteString {
    ServerEvent::Ok {
        reference: Cow::Borrowed(reference),
    }
    .to_frame()
}

impl Command {
    /// How the command may overlap with the window's others (see `line`).
    fn kind(&self) -> Kind {
        match self {
            Command::Send(_)
            | Command::Edit(_)
            | Command::Delete(_)
            | Command::React(_)
            | Command::Read(_)
            | Command::Block(_)
            | Command::Ui(_) => Kind::Write,
            _ => Kind::Alone,
        }
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
        let Some(window) = self.windows.get_mut(&msg.window) else {
            return;
        };
        let waiting = Waiting {
            kind: msg.decoded.command.kind(),
            decoded: msg.decoded,
            address: msg.address,
        };
        match window.line.enter(waiting) {
            Ok(Some(now)) => self.start(msg.window, now, ctx),
            Ok(None) => {}
            Err(LineFull { reference }) => {
                let frame = error_frame(
                    reference.as_deref(),
                    ErrorCode::RateLimited,
                    "too many frames waiting for the ones before them; wait for replies",
                );
                self.send_to(msg.window, frame);
            }
        }
    }
}
