//! `set_receipts`: whether I share how far I have read (read receipts). A write; once
//! committed, every other window of mine gets `receipts`, the asking one `ok`.

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
use crate::db::writes::WriteOp;
use actix::Context;

#[derive(Debug, Clone)]
pub struct SetReceipts {
    pub share: bool,
}

impl SetReceipts {
    pub fn parse(share: bool) -> Self {
        SetReceipts { share }
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let op = WriteOp::SetReceipts {
            user: actor.user.id,
            share: self.share,
        };
        actor.admitted(Action::Rename, asked, ctx, move |actor, asked, ctx| {
            actor.write(asked, op, ctx)
        });
    }
}
