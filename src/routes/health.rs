//! Probes and metrics: `/healthz` (process up), `/readyz` (dependencies), `/metrics`.

use super::AppState;
use crate::db;
use actix_web::{get, web, HttpResponse};
use serde_json::json;
use std::sync::atomic::Ordering;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let postgres = match db::ping(&state.chat.pool).await {
        Ok(()) => "ok",
        Err(e) => {
            log::warn!("not ready: {}", crate::error_chain(&e));
            "unreachable"
        }
    };
    let redis = state.cluster_health.as_ref().map(|h| {
        if h.load(Ordering::SeqCst) {
            "ok"
        } else {
            "out of sync"
        }
    });
    let ready = postgres == "ok" && redis.is_none_or(|r| r == "ok");
    let mut body =
        json!({ "status": if ready { "ready" } else { "not_ready" }, "postgres": postgres });
    if let Some(redis) = redis {
        body["redis"] = json!(redis);
    }
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        body["error"] = json!({ "code": "unavailable", "message": "a dependency is unreachable" });
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
