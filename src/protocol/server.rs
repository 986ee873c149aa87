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
    ServerEvent::Error {
        reference: reference.map(Cow::Borrowed),
        code,
        message: Cow::Borrowed(message),
    }
    .to_frame()
}
