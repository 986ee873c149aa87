//! # Banter
//!
//! A real-time chat server: block-aware presence, direct messages and rooms, windows that
//! mirror each other, search, and durable exactly-once delivery, on actix actors over
//! PostgreSQL. This is the server crate of a workspace: the wire types it shares with its
//! clients are `banter-protocol` (`crates/protocol`), and the clients it embeds in the
//! `banter` binary are `banter-term` (`banter chat`) and `banter-bench` (`banter bench`);
//! neither imports anything from here (they are handed a `MintTokens` for tokens).
//!
//! ```text
//!   banter-protocol ◀── banter-term ◀──┐
//!        ▲        ◀── banter-bench ◀──┤
//!        └──────────────────────────── banter (this crate: the server and the binary)
//! ```
//!
//! ## Architecture map
//!
//! ```text
//!            HTTP API (routes/)                 WebSocket /ws (routes/ws.rs; its connection
//!                  │                             leaves HTTP after the 101: routes/upgrade.rs)
//!                  │                                     │ one per window
//!                  │                              SocketSession (actors/socket.rs)
//!                  │            decode (actors/user/cmd/) ┘ │ AttachSocket / DetachSocket
//!                  │                                  ▼
//!                  │                          PresenceRegistry (actors/registry/)
//!                  │   ExecuteCommand          online set, block sets, UserActor directory
//!                  │  ┌──────────────────────────── spawns/stops ─┐      ▲
//!                  ▼  ▼                                           ▼      │ WritesCommitted
//!            chat::Chat ◀──────────────────────────────── UserActor      │ (in commit order)
//!             (chat/)      one per online user, owns its windows │       │
//!                  │ ApplyWrite                                  │       │
//!                  ▼                                             │       │
//!            PersistActor (actors/persist.rs) ── group commit ──▶ Postgres
//! ```
//!
//! Dependencies point one way: an actor that calls back up holds a `Recipient` for the
//! messages it sends (the PersistActor for `WritesCommitted`, the UserActor and `Chat` for
//! `DetachSocket`/`OpenOnlineView`/`UserTyped`, the ClusterMirror for what it reports), so
//! [`startup`] builds the actors in plain order.
//!
//! A message travels: window → SocketSession (decode) → UserActor (the sender's
//! allowance, `chat/allowance.rs`, shared across nodes in Redis) →
//! PersistActor (queued; committed with whatever else queued meanwhile) → after `COMMIT`,
//! `WritesCommitted` → PresenceRegistry → each member's UserActor → the sender's window
//! gets `ack`, every other window `message`. Nothing is acknowledged or delivered before
//! the commit, and deliveries leave the PersistActor in commit order, which keeps every
//! conversation in `seq` order on every window.
//!
//! Threads: the HTTP workers run the SocketSessions (and write sockets out in 4 KiB
//! slices, [`actors`]' `paced`, counting each socket's waiting bytes in
//! [`actors::outbound`], whose budget lets a UserActor cut a socket that stopped
//! reading); the main arbiter runs the registry and the UserActors;
//! the PersistActor has an arbiter of its own with its own Postgres connection, so a
//! commit's round trips never wait behind the delivery of the batch before (decision
//! 0009). CPU work that could pile up runs on [`bounded_pool`]s of its own, 2 threads each
//! with a bounded queue: session tokens (`identity/verifier.rs`) and room passwords
//! (`chat/passwords.rs`).
//!
//! A presence change travels: first window → `AttachSocket` → the registry spawns the
//! UserActor, loads the user's blocks, then tells every viewer allowed to see them; last
//! window → `DetachSocket` → the registry stops the UserActor and tells the same viewers.
//!
//! In a cluster (`REDIS_URL` set), the registry reports local socket counts to the
//! [`cluster::ClusterMirror`], whose Lua scripts decide presence atomically in Redis and
//! publish it to every node; committed changes are applied locally and published on one
//! channel for the other nodes, whose UserActors restore per-conversation `seq` order
//! (docs/architecture.md).
//!
//! Modules: [`configuration`] (environment), [`startup`] (wiring), [`bounded_pool`]
//! (threads of their own with a bounded queue), [`domain`] (typed
//! vocabulary: the protocol's types plus the server's validated forms), [`identity`]
//! (provider tokens in, session tokens out), [`minter`] (tokens minted with the root key),
//! [`protocol`] (events into text frames), [`actors`] (with each client command in
//! `actors/user/cmd/`), [`chat`] (the actions), [`db`] (queries and writes), [`cluster`]
//! (Redis: `presence_redis`, `broker_redis`, `heartbeat`, `allowance_redis`, the `mirror`
//! actor), [`routes`] (HTTP), [`logging`] (the log, with ceilings for crates that would
//! log secrets), [`metrics`], [`retention`] (optional deletion of old messages), [`cli`] (the
//! command line). Rooms are conversations with members (`chat/rooms.rs`, `db/rooms.rs`,
//! `db/writes/rooms.rs`); search is `db/search.rs`. A window's snapshot and a person's
//! block sets are read in batches (`db/batch.rs`, `db/snapshot.rs`), so a connect storm
//! shares queries instead of queueing on the pool, and every connection keeps its
//! prepared statements (`db/statements.rs`), so Postgres stops planning repeated reads.

pub mod actors;
pub mod bounded_pool;
pub mod chat;
pub mod cli;
pub mod cluster;
pub mod configuration;
pub mod db;
pub mod domain;
pub mod identity;
pub mod logging;
pub mod metrics;
pub mod minter;
pub mod protocol;
pub mod retention;
pub mod routes;
pub mod startup;

/// Formats an error with its whole `source()` chain, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
