//! Hostile clients: what one ordinary account might try against a node, each attack as
//! its own test against the real server, asserting the node and everyone else stay well.

mod access;
mod allowances;
mod floods;
mod resources;
mod slow_readers;
mod watch;
mod writes;
