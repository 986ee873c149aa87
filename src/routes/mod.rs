//! HTTP routes. Handlers are thin: they extract, call the chat service or a query, and
//! shape JSON.

pub mod allow;
pub mod api;
pub mod asyncapi;
pub mod auth;
pub mod bodies;
pub mod changes;
pub mod error;
pub mod headers;
pub mod health;
pub mod openapi;
pub mod people;
pub mod request_log;
pub mod rooms;
pub mod search;
pub mod session;
pub mod spa;
pub mod upgrade;
pub mod ws;

use crate::actors::admission::ConnectGate;
use crate::actors::registry::PresenceRegistry;
use crate::chat::Chat;
use crate::configuration::{Limits, Settings};
use crate::identity::{OidcVerifier, SessionKeys, TokenVerifier};
use crate::metrics::Metrics;
use actix::Addr;
use actix_web::web;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What every handler may reach, built once in `startup`.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub limits: Arc<Limits>,
    pub chat: Chat,
    pub registry: Addr<PresenceRegistry>,
    /// In a cluster: is the Redis mirror in sync?
    pub cluster_health: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Mints session tokens.
    pub keys: Arc<SessionKeys>,
    /// Checks session tokens, on its own bounded pool.
    pub tokens: TokenVerifier,
    pub oidc: Arc<OidcVerifier>,
    pub metrics: Metrics,
    /// Hands out window ids unique on this node.
    pub next_window: AtomicU64,
    /// Admits new windows a bounded number at a time (`actors/admission.rs`).
    pub connect_gate: Arc<ConnectGate>,
    /// The clock every socket's frame limits share (see `SocketServices::clock`).
    pub clock: governor::clock::DefaultClock,
}

/// Mounts every route; the SPA fallback last.
/// The client's address, for per-address limits and logs: the connection's peer, or with
/// `TRUSTED_PROXIES` = n the `X-Forwarded-For` entry n places from the right, the one the
/// outermost trusted proxy appended (entries left of it are whatever the client sent).
pub fn client_address(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map_or(0, |state| state.settings.trusted_proxies);
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    address_behind_proxies(req.peer_addr().map(|a| a.ip()), &forwarded, trusted)
}

/// The address `trusted` proxies in from the peer: the peer itself with none, else the
/// `X-Forwarded-For` entries read from the right (`forwarded` in header order). A chain
/// shorter than `trusted` ends at its leftmost entry; an entry that is not an address
/// stops the walk at the last good one.
fn address_behind_proxies(
    peer: Option<std::net::IpAddr>,
    forwarded: &[&str],
    trusted: usize,
) -> Option<std::net::IpAddr> {
    let mut address = peer;
    for entry in forwarded.iter().rev().take(trusted) {
        match parse_address(entry) {
            Some(ip) => address = Some(ip),
            None => break,
        }
    }
    address
}

/// An address as proxies write it: `203.0.113.7`, `[2001:db8::1]:443`, `203.0.113.7:80`.
fn parse_address(text: &str) -> Option<std::net::IpAddr> {
    text.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

pub fn configure(cfg: &mut web::ServiceConfig, static_dir: &std::path::Path) {
    // The socket first: routes are tried in order, and every route with a `{segment}`
    // costs a regular expression per request. A connect storm is all `/ws`.
    cfg.service(ws::socket)
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(session::config)
        .service(session::create_session)
        .service(api::get_me)
        .service(api::online)
        .service(api::blocks)
        .service(api::block)
        .service(api::unblock)
        .service(api::conversations)
        .service(api::open_direct)
        .service(api::history)
        .service(api::send)
        .service(api::read)
        .service(changes::edit)
        .service(changes::delete_message)
        .service(changes::add_reaction)
        .service(changes::remove_reaction)
        .service(changes::changes)
        .service(changes::seen)
        .service(changes::set_receipts)
        .service(rooms::list)
        .service(rooms::create)
        .service(rooms::join)
        .service(rooms::leave)
        .service(rooms::delete)
        .service(rooms::members)
        .service(people::people)
        .service(search::search)
        .service(openapi::document)
        .service(asyncapi::protocol_schema)
        .service(asyncapi::asyncapi);
    cfg.app_data(web::Data::new(allow::ApiRoutes::from_document()));
    spa::configure(cfg, static_dir);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let peer = ip("10.0.0.9");
        assert_eq!(address_behind_proxies(peer, &["1.2.3.4"], 0), peer);
    }

    #[test]
    fn one_trusted_proxy_takes_the_rightmost_entry_whatever_the_client_claimed() {
        let peer = ip("10.0.0.9");
        let forwarded = ["6.6.6.6", "7.7.7.7", "203.0.113.7"];
        assert_eq!(
            address_behind_proxies(peer, &forwarded, 1),
            ip("203.0.113.7")
        );
        assert_eq!(address_behind_proxies(peer, &forwarded, 2), ip("7.7.7.7"));
    }

    #[test]
    fn a_short_chain_or_a_bad_entry_stops_at_the_last_good_address() {
        let peer = ip("10.0.0.9");
        assert_eq!(
            address_behind_proxies(peer, &["203.0.113.7"], 3),
            ip("203.0.113.7")
        );
        assert_eq!(address_behind_proxies(peer, &[], 1), peer);
        assert_eq!(
            address_behind_proxies(peer, &["1.1.1.1", "junk", "203.0.113.7"], 3),
            ip("203.0.113.7")
        );
        assert_eq!(
            address_behind_proxies(peer, &["[2001:db8::1]:443"], 1),
            ip("2001:db8::1")
        );
    }
}
