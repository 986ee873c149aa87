//! What decoding a frame can answer instead of a command, and the limits it checks.

use crate::protocol::ErrorCode;

/// A frame that could not be decoded: answered with an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub reference: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

/// Why one command's fields were refused; [`super::decode`] adds the frame's `ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Refusal {
            code: ErrorCode::BadRequest,
            message: message.into(),
        }
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Refusal {
            code: ErrorCode::TooLarge,
            message: message.into(),
        }
    }
}

/// Limits decoding enforces; a subset of [`crate::configuration::Limits`].
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_body_chars: usize,
    pub history_max: i64,
    pub max_ui_state_bytes: usize,
}
