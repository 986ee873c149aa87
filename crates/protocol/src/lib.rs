//! # Banter's wire protocol
//!
//! The WebSocket protocol v4 (docs/protocol.md) as Rust types, both ways, shared by the
//! server (`banter serve`), the terminal client (`banter chat`), the load generator
//! (`banter bench`) and — through generated TypeScript — the web client:
//!
//! ```text
//!   client ── Request { ref, ClientFrame } ──▶ server      (client.rs)
//!   client ◀──────────── ServerEvent ───────── server      (server.rs)
//! ```
//!
//! - [`ids`]: the typed ids frames carry ([`UserId`], [`ConversationId`], [`MessageId`],
//!   [`ClientId`]);
//! - [`model`]: what frames describe (people, messages, conversations, rooms, UI state);
//! - [`client`]: frames clients send ([`ClientFrame`], wrapped in a [`Request`] with its
//!   `ref`), plus [`Target`] and [`Page`], the two choices a send and a history request
//!   make;
//! - [`server`]: frames the server sends ([`ServerEvent`]), borrowing when the server
//!   serializes and owning when a client deserializes;
//! - [`codes`]: `error` frame codes and WebSocket close codes;
//! - [`mint`]: how clients that hold the root key are handed session tokens;
//! - [`schema`]: the JSON Schema of every frame and the AsyncAPI document of the socket,
//!   generated from these types;
//! - [`typescript`]: the TypeScript declarations generated from these types.
//!
//! This crate knows nothing of actix, Postgres or Redis: it is the contract, and whatever
//! validation needs the server's configuration (body length, history page size, UI state
//! size) is the server's.

pub mod client;
pub mod codes;
pub mod ids;
pub mod mint;
pub mod model;
pub mod schema;
pub mod server;
pub mod typescript;

pub use client::{ClientFrame, Page, Request, Target, MAX_REF_CHARS};
pub use codes::{close, ErrorCode};
pub use ids::{ClientId, ConversationId, MessageId, UserId};
pub use mint::{MintTokens, MintedToken};
pub use model::{
    ConversationKind, ConversationSummary, Message, Quote, Reaction, Room, RoomMember, UiState,
    User, NAME_CHARS, QUOTE_CHARS, REACTIONS_PER_MESSAGE, REACTIONS_PER_PERSON,
};
pub use server::ServerEvent;

/// The protocol's version. v2 replaced v1's `presence` frame (every arrival to every
/// window) with the online list as a window onto a sorted set: `ready` carries the first
/// page, the count and the conversation partners, and `online_changes` the coalesced
/// changes to what each window tracks (docs/decisions/0015). v3 did the same for rooms:
/// `ready.rooms` holds only the rooms one is in, `room` and `room_deleted` go to members
/// only, and the other rooms are found in a paged, searchable directory (`rooms`).
/// v4 made every frame with a `ref` answerable: `ok` for frames without a result of
/// their own, `ref` on `ready`, `session`, `blocked` and `unblocked`.
pub const PROTOCOL_VERSION: u32 = 4;

/// A `rooms` request's default page.
pub const ROOMS_PAGE: usize = 50;
/// The most rooms one `rooms` page holds.
pub const ROOMS_PAGE_MAX: usize = 100;

/// How many people `ready` lists online, and an `online` request's default page.
pub const ONLINE_PAGE: usize = 100;
