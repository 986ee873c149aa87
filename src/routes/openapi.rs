//! The HTTP API's OpenAPI 3.1 document, generated from the handlers' annotations and the
//! body types (`bodies.rs`), served at `/api/openapi.json`. The web build's API page
//! (`/api.html`) renders it.

use super::{api, asyncapi, changes, health, people, rooms, search, session, ws};
use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Banter HTTP API",
        description = "Everything done over HTTP reaches every open window live, as the WebSocket protocol's frames do (docs/protocol.md). Errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    paths(
        session::config,
        session::create_session,
        api::get_me,
        api::online,
        api::blocks,
        api::block,
        api::unblock,
        api::conversations,
        api::open_direct,
        api::history,
        api::send,
        api::read,
        changes::edit,
        changes::delete_message,
        changes::add_reaction,
        changes::remove_reaction,
        changes::changes,
        changes::seen,
        changes::set_receipts,
        rooms::list,
        rooms::create,
        rooms::join,
        rooms::leave,
        rooms::delete,
        rooms::members,
        people::people,
        search::search,
        document,
        ws::socket,
        asyncapi::protocol_schema,
        asyncapi::asyncapi,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "session", description = "Signing in"),
        (name = "people", description = "You, who is online, and the directory of everyone"),
        (name = "blocks", description = "Blocking people"),
        (name = "conversations", description = "Direct conversations"),
        (name = "messages", description = "History, sending, read positions, edits, deletions, reactions and read receipts"),
        (name = "rooms", description = "Rooms (an addition to SPEC §5)"),
        (name = "search", description = "Full-text search"),
        (name = "socket", description = "The WebSocket endpoint"),
        (name = "operations", description = "Probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The bearer tokens: Banter's session token, (for `POST /api/session` only) the identity
/// provider's access token, and (for `/metrics`) the operator's `METRICS_TOKEN`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut session = Http::new(HttpAuthScheme::Bearer);
        session.bearer_format = Some("biscuit".into());
        session.description =
            Some("A Banter session token from POST /api/session or `banter token`".into());
        components.add_security_scheme("session", SecurityScheme::Http(session));
        let mut provider = Http::new(HttpAuthScheme::Bearer);
        provider.bearer_format = Some("JWT".into());
        provider.description =
            Some("An access token of the identity provider (OIDC_ISSUER) for OIDC_AUDIENCE".into());
        components.add_security_scheme("provider", SecurityScheme::Http(provider));
        let mut metrics = Http::new(HttpAuthScheme::Bearer);
        metrics.description = Some("The operator's METRICS_TOKEN (a Prometheus scraper's)".into());
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
    }
}

#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
#[get("/api/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
