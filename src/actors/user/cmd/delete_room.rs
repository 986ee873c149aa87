//! `delete_room`: the creator deletes a room with its messages; its members' windows are told.

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct DeleteRoom {
    pub room: ConversationId,
}

impl DeleteRoom {
    pub fn parse(room: ConversationId) -> Self {
        DeleteRoom { room }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me, origin) = (actor.chat.clone(), actor.user.id, Some(asked.clone()));
        let room = self.room;
        let action = async move { chat.delete_room(me, room, origin).await };
        actor.room_action(asked, action, ctx);
    }
}
