//! `join_room`: become a member (with the password, if the room has one; attempts are
//! limited per person and per client address).

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::{ConversationId, RoomPassword};
use actix::Context;
use std::net::IpAddr;

#[derive(Debug, Clone)]
pub struct JoinRoom {
    pub room: ConversationId,
    pub password: Option<RoomPassword>,
}

impl JoinRoom {
    pub fn parse(room: ConversationId, password: Option<String>) -> Result<Self, Refusal> {
        Ok(JoinRoom {
            room,
            password: RoomPassword::parse(password).map_err(Refusal::bad_request)?,
        })
    }

    pub fn apply(
        self,
        actor: &mut UserActor,
        asked: Origin,
        address: Option<IpAddr>,
        ctx: &mut Context<UserActor>,
    ) {
        let (chat, me, origin) = (actor.chat.clone(), actor.user.id, Some(asked.clone()));
        let JoinRoom { room, password } = self;
        let action = async move { chat.join_room(me, room, password, address, origin).await };
        actor.room_action(asked, action, ctx);
    }
}
