//! Error codes of `error` frames and WebSocket close codes (docs/protocol.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The `code` of an `error` frame; JSON errors of the HTTP API use the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Blocked,
    BadRequest,
    NotFound,
    Forbidden,
    TooLarge,
    RateLimited,
    Unauthorized,
    Unavailable,
    /// (addition) the name is taken, e.g. by another room.
    Conflict,
    /// (addition) the message was deleted: it can no longer be edited or reacted to.
    Gone,
    /// (addition, HTTP only) the path exists but not with this method.
    MethodNotAllowed,
    /// (addition, HTTP only: `POST /api/session`) the identity provider does not say the
    /// person's email is verified, so it cannot be the name others see.
    EmailUnverified,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Blocked => "blocked",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Gone => "gone",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::EmailUnverified => "email_unverified",
        }
    }
}

/// WebSocket close codes Banter uses.
pub mod close {
    /// The token was bad, or expired without a fresh `auth`.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The user already has the most windows allowed (an addition).
    pub const TOO_MANY_WINDOWS: u16 = 4403;
    /// No `auth` frame within the allowed time after connecting.
    pub const AUTH_TIMEOUT: u16 = 4408;
    /// The socket fell too far behind reading (an addition): reconnect and resync.
    pub const SLOW_CONSUMER: u16 = 4409;
    /// (v4) Nothing came from the client (not even a pong) for the keepalive timeout: the
    /// connection is presumed dead. Before v4 the connection was dropped without a close
    /// frame.
    pub const SILENT: u16 = 4410;
    /// A frame over the size limit.
    pub const TOO_LARGE: u16 = 4413;
    /// Frames arrived faster than any client should send them.
    pub const FLOODING: u16 = 4429;
    /// The Origin is not allowed (standard "policy violation").
    pub const ORIGIN_REFUSED: u16 = 1008;
    /// The server is shutting down; reconnect (to another node).
    pub const RESTARTING: u16 = 1012;
    /// The server could not check the token right now (too many at once); reconnect in
    /// a moment (standard "try again later").
    pub const TRY_AGAIN_LATER: u16 = 1013;
}
