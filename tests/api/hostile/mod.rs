//! Hostile clients: what one ordinary account might try against a node, each attack as
//! its own test against the real server, asserting the node and everyone else stay well;
//! and what a copy of the log or of the database would give away (`secrets`).

mod access;
mod allowances;
mod floods;
mod resources;
mod secrets;
mod slow_readers;
mod watch;
mod writes;
