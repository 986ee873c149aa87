//! `leave_room`: stop being a member.

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct LeaveRoom {
    pub room: ConversationId,
}

impl LeaveRoom {
    pub fn parse(room: ConversationId) -> Self {
        LeaveRoom { room }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me, origin) = (actor.chat.clone(), actor.user.id, Some(asked.clone()));
        let room = self.room;
        let action = async move { chat.leave_room(me, room, origin).await };
        actor.room_action(asked, action, ctx);
    }
}
