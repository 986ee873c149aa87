//! `delete`: one of my messages (or, in a room I created, anyone's) deleted for everyone.
//! A write; once committed, every member's windows get `message_deleted`.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::db::writes::ChangeAsked;
use crate::domain::ConversationId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct Delete {
    pub conversation: ConversationId,
    pub seq: i64,
}

impl Delete {
    pub fn parse(conversation: ConversationId, seq: i64) -> Result<Self, Refusal> {
        Ok(Delete {
            conversation,
            seq: super::message_seq(seq)?,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        actor.change_message(self.conversation, self.seq, ChangeAsked::Delete, asked, ctx);
    }
}
