//! Test harness: a throwaway database per test, an in-test OpenID Connect issuer (the one
//! outside party we stand in for), the app on port 0, and WebSocket clients whose every
//! wait has a timeout. Each concern has a file of its own; everything is re-exported
//! here, so tests `use crate::helpers::*`.

mod app;
mod balancer;
mod chat;
mod cluster;
mod database;
mod issuer;
mod process;
mod raw_socket;
mod redis;
mod schema;
mod socket;
mod tls;

// `self::`, so `redis` is this module and not the redis crate.
pub use self::app::*;
pub use self::balancer::*;
pub use self::chat::*;
pub use self::cluster::*;
pub use self::database::*;
pub use self::issuer::*;
pub use self::process::*;
pub use self::raw_socket::*;
pub use self::redis::*;
pub use self::socket::*;
pub use self::tls::*;

use std::time::Duration;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// The test fixtures: the issuer's keys, a static web client.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
