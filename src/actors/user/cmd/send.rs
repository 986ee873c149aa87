//! `send`: a message to a conversation or a person, acknowledged once committed.

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
use crate::db::writes::WriteOp;
use crate::domain::{BodyError, ClientId, ConversationId, MessageBody, UserId};
use actix::Context;
use banter_protocol::Target;

#[derive(Debug, Clone)]
pub struct Send {
    pub target: Target,
    pub body: MessageBody,
    /// The sender's idempotency key.
    pub client_id: ClientId,
    pub reply_to: Option<i64>,
}

impl Send {
    pub fn parse(
        client_id: String,
        body: String,
        conversation_id: Option<ConversationId>,
        to: Option<UserId>,
        reply_to: Option<i64>,
        limits: &DecodeLimits,
    ) -> Result<Self, Refusal> {
        if reply_to.is_some_and(|s| s < 1) {
            return Err(Refusal::bad_request("reply_to must be a seq of 1 or more"));
        }
        let target = match (conversation_id, to) {
            (Some(c), None) => Target::Conversation(c),
            (None, Some(u)) => Target::Direct(u),
            _ => {
                return Err(Refusal::bad_request(
                    "send needs exactly one of conversation_id and to",
                ))
            }
        };
        let client_id = ClientId::parse(client_id).map_err(Refusal::bad_request)?;
        let body = MessageBody::parse(body, limits.max_body_chars).map_err(|e| match e {
            BodyError::Empty | BodyError::Nul => Refusal::bad_request(e.to_string()),
            BodyError::TooLong { .. } => Refusal::too_large(e.to_string()),
        })?;
        Ok(Send {
            target,
            body,
            client_id,
            reply_to,
        })
    }

    /// Queues the message, if the sender's rate allows it; the `ack` (or the refusal)
    /// comes back once the write is done.
    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        actor.admitted(Action::Send, asked, ctx, move |actor, asked, ctx| {
            let op = WriteOp::SendMessage {
                sender: actor.user.id,
                target: self.target,
                body: self.body,
                client_id: self.client_id,
                reply_to: self.reply_to,
            };
            actor.write(asked, op, ctx);
        });
    }
}
