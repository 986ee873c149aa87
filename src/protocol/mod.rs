//! The server's side of the WebSocket protocol's output: the frames themselves, both
//! ways, are `banter-protocol`'s; this module turns [`ServerEvent`]s into the shared text
//! frames every window is sent. Decoding client frames into commands is the UserActor's
//! `cmd` module, beside what each command does.

pub mod server;

pub use banter_protocol::{close, ErrorCode, ServerEvent, ONLINE_PAGE};
pub use server::{error_frame, error_frame_retry, retry_after_ms, ToFrame, BUSY_RETRY};
