//! The WebSocket protocol v1 (SPEC §6, docs/protocol.md): typed frames both ways.
//!
//! Decoding ([`client::decode`]) turns a text frame into a validated [`client::Command`]
//! or a [`client::FrameError`]; executing commands is the UserActor's job.

pub mod client;
pub mod codes;
pub mod server;

pub use client::{decode, Command, Decoded, FrameError};
pub use codes::{close, ErrorCode};
pub use server::{error_frame, ServerEvent};
