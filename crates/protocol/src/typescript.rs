//! The TypeScript declarations of the protocol, generated from these types with ts-rs,
//! for the TypeScript client package (`clients/typescript/src/protocol.gen.ts`, which the
//! web client uses). A test in this crate fails when the committed file differs from what
//! the types generate; `UPDATE_TYPESCRIPT=1 cargo test -p banter-protocol` rewrites it.

use crate::client::{ClientFrame, Request};
use crate::codes::ErrorCode;
use crate::ids::{ClientId, ConversationId, MessageId, UserId};
use crate::model::{
    ConversationKind, ConversationSummary, Message, Quote, Reaction, Room, RoomMember, UiState,
    User,
};
use crate::server::ServerEvent;
use ts_rs::{Config, TS};

/// Where the generated file lives, relative to the repository root.
pub const GENERATED_PATH: &str = "clients/typescript/src/protocol.gen.ts";

fn declaration<T: TS + ?Sized>(cfg: &Config) -> String {
    let docs = T::docs().map(|d| format!("{d}\n")).unwrap_or_default();
    format!("{docs}export {}", T::decl(cfg))
}

/// The whole generated file: every type a frame carries, in dependency order.
pub fn declarations() -> String {
    // Seqs are i64 in Rust and plain numbers in JSON (exact up to 2^53).
    let cfg = Config::new().with_large_int("number");
    let parts = [
        declaration::<UserId>(&cfg),
        declaration::<ConversationId>(&cfg),
        declaration::<MessageId>(&cfg),
        declaration::<ClientId>(&cfg),
        declaration::<User>(&cfg),
        declaration::<Quote>(&cfg),
        declaration::<Reaction>(&cfg),
        declaration::<Message>(&cfg),
        declaration::<ConversationKind>(&cfg),
        declaration::<ConversationSummary>(&cfg),
        declaration::<Room>(&cfg),
        declaration::<RoomMember>(&cfg),
        declaration::<UiState>(&cfg),
        declaration::<ErrorCode>(&cfg),
        declaration::<ClientFrame>(&cfg),
        declaration::<Request>(&cfg),
        declaration::<ServerEvent>(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/protocol by ts-rs: do not edit. Regenerate with\n\
         // `UPDATE_TYPESCRIPT=1 cargo test -p banter-protocol`.\n",
    );
    for part in parts {
        out.push('\n');
        out.push_str(part.trim_end());
        out.push('\n');
    }
    out
}
