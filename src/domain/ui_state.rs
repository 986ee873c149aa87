//! The mirrored UI state of a person's windows.

use serde::{Deserialize, Serialize};

/// What every window of a person shows alike: the selected conversation and the draft.
/// Extra keys a client adds are kept and mirrored as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UiState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
    #[serde(default)]
    pub draft: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
