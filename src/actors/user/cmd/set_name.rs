//! `set_name`: the person's display name. A write; once committed, the registry tells
//! each of their windows and everyone who sees them (`user_updated`), on every node.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
use crate::db::writes::WriteOp;
use crate::domain::DisplayName;
use actix::Context;

#[derive(Debug, Clone)]
pub struct SetName {
    pub name: DisplayName,
}

impl SetName {
    pub fn parse(name: String) -> Result<Self, Refusal> {
        let name = DisplayName::parse(&name).map_err(Refusal::bad_request)?;
        Ok(SetName { name })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let op = WriteOp::SetName {
            user: actor.user.id,
            name: self.name,
        };
        actor.admitted(Action::Rename, asked, ctx, move |actor, asked, ctx| {
            actor.write(asked, op, ctx)
        });
    }
}
