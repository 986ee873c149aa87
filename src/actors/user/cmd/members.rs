//! `members`: a room's members with their presence, answered to the asking window.

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use crate::protocol::{ServerEvent, ToFrame};
use actix::Context;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct Members {
    pub room: ConversationId,
}

impl Members {
    pub fn parse(room: ConversationId) -> Self {
        Members { room }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me, room) = (actor.chat.clone(), actor.user.id, self.room);
        let query = async move { chat.room_members(me, room).await };
        actor.answer(
            asked,
            query,
            move |reference, members| {
                let members = ServerEvent::Members {
                    reference: reference.map(Cow::Borrowed),
                    room_id: room,
                    members: Cow::Borrowed(&members),
                };
                Some(members.to_frame())
            },
            ctx,
        );
    }
}
