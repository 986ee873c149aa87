//! `edit`: a new text for one of my messages. A write; once committed, every member's
//! windows (the asking one too) get `message_edited`, and the asking window `ok`.

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::db::writes::ChangeAsked;
use crate::domain::{BodyError, ConversationId, MessageBody};
use actix::Context;

#[derive(Debug, Clone)]
pub struct Edit {
    pub conversation: ConversationId,
    pub seq: i64,
    pub body: MessageBody,
}

impl Edit {
    pub fn parse(
        conversation: ConversationId,
        seq: i64,
        body: String,
        limits: &DecodeLimits,
    ) -> Result<Self, Refusal> {
        let seq = super::message_seq(seq)?;
        // The rules of a `send` body.
        let body = MessageBody::parse(body, limits.max_body_chars).map_err(|e| match e {
            BodyError::Empty | BodyError::Nul => Refusal::bad_request(e.to_string()),
            BodyError::TooLong { .. } => Refusal::too_large(e.to_string()),
        })?;
        Ok(Edit {
            conversation,
            seq,
            body,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let asked_for = ChangeAsked::Edit(self.body);
        actor.change_message(self.conversation, self.seq, asked_for, asked, ctx);
    }
}
