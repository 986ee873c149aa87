//! `history`: a page of a conversation's messages, answered to the asking window.

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use crate::protocol::{ServerEvent, ToFrame};
use actix::Context;
use banter_protocol::Page;
use std::borrow::Cow;

/// How many messages a page holds when the client does not say.
const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Clone)]
pub struct History {
    pub conversation: ConversationId,
    pub page: Page,
    pub limit: i64,
}

impl History {
    pub fn parse(
        conversation: ConversationId,
        after_seq: Option<i64>,
        before_seq: Option<i64>,
        limit: Option<i64>,
        limits: &DecodeLimits,
    ) -> Result<Self, Refusal> {
        let page = Page::from_bounds(after_seq, before_seq).map_err(Refusal::bad_request)?;
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=limits.history_max).contains(&limit) {
            return Err(Refusal::bad_request(format!(
                "limit must be between 1 and {}",
                limits.history_max
            )));
        }
        Ok(History {
            conversation,
            page,
            limit,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me) = (actor.chat.clone(), actor.user.id);
        let History {
            conversation,
            page,
            limit,
        } = self;
        let query = async move { chat.history(me, conversation, page, limit).await };
        actor.answer(
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
}
