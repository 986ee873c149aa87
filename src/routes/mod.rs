//! HTTP routes. Handlers are thin: they extract, call the chat service or a query, and
//! shape JSON.

pub mod allow;
pub mod api;
pub mod auth;
pub mod bodies;
pub mod error;
pub mod headers;
pub mod health;
pub mod openapi;
pub mod rooms;
pub mod search;
pub mod session;
pub mod spa;
pub mod ws;

use crate::actors::registry::PresenceRegistry;
use crate::chat::Chat;
use crate::configuration::{Limits, Settings};
use crate::identity::{OidcVerifier, SessionKeys};
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
    pub keys: Arc<SessionKeys>,
    pub oidc: Arc<OidcVerifier>,
    pub metrics: Metrics,
    /// Hands out window ids unique on this node.
    pub next_window: AtomicU64,
}

/// Mounts every route; the SPA fallback last.
/// The client's address: the first `X-Forwarded-For` entry (Heroku's router sets it),
/// else the connection's peer. Only limits use it (a forged header cannot lift the
/// per-person limit that applies alongside).
pub fn client_address(req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
    let text = req.connection_info().realip_remote_addr()?.to_owned();
    text.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

pub fn configure(cfg: &mut web::ServiceConfig, static_dir: &std::path::Path) {
    cfg.service(health::healthz)
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
        .service(rooms::list)
        .service(rooms::create)
        .service(rooms::join)
        .service(rooms::leave)
        .service(rooms::delete)
        .service(rooms::members)
        .service(search::search)
        .service(openapi::document)
        .service(ws::socket);
    cfg.app_data(web::Data::new(allow::ApiRoutes::from_document()));
    spa::configure(cfg, static_dir);
}
