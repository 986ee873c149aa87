//! `ui`: the state every window of the person mirrors (selection, drafts).

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::db::writes::WriteOp;
use crate::domain::UiState;
use actix::Context;

#[derive(Debug, Clone)]
pub struct Ui {
    pub state: UiState,
}

impl Ui {
    pub fn parse(state: UiState, limits: &DecodeLimits) -> Result<Self, Refusal> {
        let size = serde_json::to_vec(&state)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > limits.max_ui_state_bytes {
            return Err(Refusal::too_large(format!(
                "ui state is {size} bytes; the limit is {}",
                limits.max_ui_state_bytes
            )));
        }
        Ok(Ui { state })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let op = WriteOp::SaveUi {
            user: actor.user.id,
            state: self.state,
        };
        actor.write(asked, op, ctx);
    }
}
