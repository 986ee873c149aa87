//! `create_room`: a named room, optionally behind a password; the creator joins it.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::{RoomName, RoomPassword};
use actix::Context;

#[derive(Debug, Clone)]
pub struct CreateRoom {
    pub name: RoomName,
    pub password: Option<RoomPassword>,
}

impl CreateRoom {
    pub fn parse(name: String, password: Option<String>) -> Result<Self, Refusal> {
        Ok(CreateRoom {
            name: RoomName::parse(&name).map_err(Refusal::bad_request)?,
            password: RoomPassword::parse(password).map_err(Refusal::bad_request)?,
        })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me, origin) = (actor.chat.clone(), actor.user.id, Some(asked.clone()));
        let CreateRoom { name, password } = self;
        let action = async move { chat.create_room(me, name, password, origin).await };
        actor.room_action(asked, action, ctx);
    }
}
