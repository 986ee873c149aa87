//! `typing`: told to the conversation's other members; the window hears `ok` (with a
//! `ref`) or its refusal.

use crate::actors::persist::Origin;
use crate::actors::user::commands::ok_frame;
use crate::actors::user::UserActor;
use crate::domain::ConversationId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct Typing {
    pub conversation: ConversationId,
}

impl Typing {
    pub fn parse(conversation: ConversationId) -> Self {
        Typing { conversation }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me, conversation) = (actor.chat.clone(), actor.user.id, self.conversation);
        let action = async move { chat.typing(me, conversation).await };
        actor.answer(asked, action, |reference, ()| reference.map(ok_frame), ctx);
    }
}
