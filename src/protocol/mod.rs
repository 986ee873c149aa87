//! The server's side of the WebSocket protocol. The frames themselves, both ways, are
//! `banter-protocol`'s; this module decodes a client's text frame into a validated
//! [`client::Command`] (checking what depends on the server's limits) and turns
//! [`ServerEvent`]s into the shared text frames every window is sent.

pub mod client;
pub mod server;

pub use banter_protocol::{close, ErrorCode, ServerEvent};
pub use client::{decode, Command, Decoded, FrameError};
pub use server::{error_frame, ToFrame};
