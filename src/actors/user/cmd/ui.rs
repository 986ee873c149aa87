//! `ui`: the state every window of the person mirrors (selection, drafts).

use super::refusal::{DecodeLimits, Refusal};
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::chat::Action;
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
        if has_nul(&state) {
            return Err(Refusal::bad_request(
                "ui state must not contain the NUL character (U+0000)",
            ));
        }
        Ok(Ui { state })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        if let Err(e) = actor.chat.check_local(Action::Ui, actor.user.id) {
            return actor.send_error(asked.window, asked.reference.as_deref(), &e);
        }
        let op = WriteOp::SaveUi {
            user: actor.user.id,
            state: self.state,
        };
        actor.write(asked, op, ctx);
    }
}

/// Does any string of the state (keys included, at any depth) hold U+0000? Postgres's
/// `jsonb` cannot store it, so such a state would fail the whole group commit.
fn has_nul(state: &UiState) -> bool {
    fn any(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(any),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || any(v)),
            _ => false,
        }
    }
    state.selected.as_deref().is_some_and(|s| s.contains('\0'))
        || state.draft.contains('\0')
        || state.extra.iter().any(|(k, v)| k.contains('\0') || any(v))
}
