//! `changes`: the messages of a conversation changed after a change number, as they are
//! now; answered to the asking window (how a window that was away catches up on edits,
//! deletions and reactions).

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use crate::protocol::{ServerEvent, ToFrame};
use actix::Context;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct Changes {
    pub conversation: ConversationId,
    pub after: i64,
    /// A page's most messages: the history page's limit.
    pub limit: i64,
}

impl Changes {
    pub fn parse(
        conversation: ConversationId,
        after: i64,
        limits: &DecodeLimits,
    ) -> Result<Self, Refusal> {
        if after < 0 {
            return Err(Refusal::bad_request("after must not be negative"));
        }
        Ok(Changes {
            conversation,
            after,
            limit: limits.history_max,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me) = (actor.chat.clone(), actor.user.id);
        let Changes {
            conversation,
            after,
            limit,
        } = self;
        let query = async move { chat.changes(me, conversation, after, limit).await };
        actor.answer(
            asked,
            query,
            move |reference, page| {
                let changes = ServerEvent::Changes {
                    reference: reference.map(Cow::Borrowed),
                    conversation_id: conversation,
                    messages: Cow::Borrowed(&page.messages),
                    through: page.through,
                    more: page.more,
                };
                Some(changes.to_frame())
            },
            ctx,
        );
    }
}
