//! `read`: the person read a conversation up to `seq`; their other windows mirror it.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
use crate::db::writes::WriteOp;
use crate::domain::ConversationId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct Read {
    pub conversation: ConversationId,
    pub seq: i64,
}

impl Read {
    pub fn parse(conversation: ConversationId, seq: i64) -> Result<Self, Refusal> {
        if seq < 0 {
            return Err(Refusal::bad_request("seq must not be negative"));
        }
        Ok(Read { conversation, seq })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        if let Err(e) = actor.chat.check_local(Action::Read, actor.user.id) {
            return actor.send_error(asked.window, asked.reference.as_deref(), &e);
        }
        let op = WriteOp::MarkRead {
            user: actor.user.id,
            conversation: self.conversation,
            seq: self.seq,
        };
        actor.write(asked, op, ctx);
    }
}
