//! `block` and `unblock`: the two directions of one write; presence and delivery follow
//! once it is committed.

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
use crate::db::writes::WriteOp;
use crate::domain::UserId;
use actix::Context;

#[derive(Debug, Clone)]
pub struct Block {
    pub user: UserId,
    /// `true` for `block`, `false` for `unblock`.
    pub active: bool,
}

impl Block {
    pub fn parse(user: UserId, active: bool) -> Self {
        Block { user, active }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (blocker, blocked) = (actor.user.id, self.user);
        let op = if self.active {
            WriteOp::Block { blocker, blocked }
        } else {
            WriteOp::Unblock { blocker, blocked }
        };
        actor.admitted(Action::Block, asked, ctx, move |actor, asked, ctx| {
            actor.write(asked, op, ctx)
        });
    }
}
