//! Frames the server sends, serialized once and shared by every window.

use banter_protocol::{ErrorCode, ServerEvent};
use bytestring::ByteString;
use std::borrow::Cow;

/// The text frame of an event, ready to hand to any number of sockets.
pub trait ToFrame {
    fn to_frame(&self) -> ByteString;
}

impl ToFrame for ServerEvent<'_> {
    fn to_frame(&self) -> ByteString {
        ByteString::from(self.to_text())
    }
}

/// An `error` frame.
pub fn error_frame(reference: Option<&str>, code: ErrorCode, message: &str) -> ByteString {
    error_frame_retry(reference, code, message, None)
}

/// An `error` frame that says when to retry (`retry_after_ms`, for `rate_limited`).
pub fn error_frame_retry(
    reference: Option<&str>,
    code: ErrorCode,
    message: &str,
    retry_after: Option<std::time::Duration>,
) -> ByteString {
    ServerEvent::Error {
        reference: reference.map(Cow::Borrowed),
        code,
        message: Cow::Borrowed(message),
        retry_after_ms: retry_after.map(retry_after_ms),
    }
    .to_frame()
}

/// When to retry a request refused because the server was busy (not the person's own
/// allowance): a moment.
pub const BUSY_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A wait in whole milliseconds, rounded up (and at least 1: "now" is not a wait).
pub fn retry_after_ms(wait: std::time::Duration) -> u64 {
    u64::try_from(wait.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}
