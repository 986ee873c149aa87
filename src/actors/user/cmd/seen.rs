//! `seen`: who of a conversation's other members has read up to a message ("seen by"),
//! answered to the asking window.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use crate::protocol::{ServerEvent, ToFrame};
use actix::Context;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct Seen {
    pub conversation: ConversationId,
    pub seq: i64,
}

impl Seen {
    pub fn parse(conversation: ConversationId, seq: i64) -> Result<Self, Refusal> {
        Ok(Seen {
            conversation,
            seq: super::message_seq(seq)?,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me) = (actor.chat.clone(), actor.user.id);
        let Seen { conversation, seq } = self;
        let query = async move { chat.seen(me, conversation, seq).await };
        actor.answer(
            asked,
            query,
            move |reference, (count, users)| {
                let seen = ServerEvent::Seen {
                    reference: reference.map(Cow::Borrowed),
                    conversation_id: conversation,
                    seq,
                    count,
                    users: Cow::Borrowed(&users),
                };
                Some(seen.to_frame())
            },
            ctx,
        );
    }
}
