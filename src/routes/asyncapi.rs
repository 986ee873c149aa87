//! The socket's machine-readable contract: the JSON Schema of every frame, both ways
//! (`/api/protocol.schema.json`), and the AsyncAPI 3.0 document of `/ws`
//! (`/api/asyncapi.json`), both generated from `banter-protocol`'s types, beside the HTTP
//! API's OpenAPI document.

use actix_web::{get, HttpRequest, HttpResponse};
use std::sync::OnceLock;

#[utoipa::path(
    tag = "socket",
    responses((status = 200, description = "The JSON Schema (draft 2020-12) of every WebSocket frame: `$defs/Request` (client to server) and `$defs/ServerEvent` (server to client)", content_type = "application/json"))
)]
#[get("/api/protocol.schema.json")]
pub async fn protocol_schema() -> HttpResponse {
    // The same for the process's whole life.
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    HttpResponse::Ok().json(DOCUMENT.get_or_init(banter_protocol::schema::document))
}

#[utoipa::path(
    tag = "socket",
    responses((status = 200, description = "The AsyncAPI 3.0 document of the WebSocket endpoint, its server the host this was asked of", content_type = "application/json"))
)]
#[get("/api/asyncapi.json")]
pub async fn asyncapi(req: HttpRequest) -> HttpResponse {
    // Built once; each answer only names the host it was asked of.
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    let mut document = DOCUMENT
        .get_or_init(|| banter_protocol::schema::asyncapi("", false))
        .clone();
    let info = req.connection_info();
    let server = &mut document["servers"]["banter"];
    server["host"] = info.host().into();
    server["protocol"] = if info.scheme() == "https" {
        "wss"
    } else {
        "ws"
    }
    .into();
    HttpResponse::Ok().json(document)
}
