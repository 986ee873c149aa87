//! `react`: my reaction (one emoji) put on a message, or taken off. A write; once
//! committed, the windows of the members who may see it get `reaction`.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::db::writes::ChangeAsked;
use crate::domain::{ConversationId, Emoji};
use actix::Context;

#[derive(Debug, Clone)]
pub struct React {
    pub conversation: ConversationId,
    pub seq: i64,
    pub emoji: Emoji,
    /// Put on (`true`) or taken off.
    pub add: bool,
}

impl React {
    pub fn parse(
        conversation: ConversationId,
        seq: i64,
        emoji: &str,
        add: bool,
    ) -> Result<Self, Refusal> {
        Ok(React {
            conversation,
            seq: super::message_seq(seq)?,
            emoji: Emoji::parse(emoji).map_err(|e| Refusal::bad_request(e.to_string()))?,
            add,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let asked_for = ChangeAsked::React {
            emoji: self.emoji,
            add: self.add,
        };
        actor.change_message(self.conversation, self.seq, asked_for, asked, ctx);
    }
}
