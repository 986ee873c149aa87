//! Probes and metrics: `/healthz` (process up), `/readyz` (dependencies), `/metrics`.

use super::AppState;
use crate::db;
use actix_web::{get, web, HttpResponse};
use serde_json::json;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match db::ping(&state.chat.pool).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "postgres": "ok" })),
        Err(e) => {
            log::warn!("not ready: {}", crate::error_chain(&e));
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "not_ready",
                "postgres": "unreachable",
                "error": { "code": "unavailable", "message": "Postgres is unreachable" }
            }))
        }
    }
}

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
