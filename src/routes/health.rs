//! Probes and metrics: `/healthz` (process up), `/readyz` (dependencies), `/metrics`.

use super::bodies::{ErrorDetail, HealthBody, ReadinessBody};
use super::AppState;
use crate::db;
use crate::protocol::ErrorCode;
use actix_web::{get, web, HttpResponse};
use std::sync::atomic::Ordering;

#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up", body = HealthBody)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody {
        status: "ok".into(),
    })
}

#[utoipa::path(tag = "operations", responses((status = 200, description = "Postgres (and Redis when set) reachable, the write path answering", body = ReadinessBody), (status = 503, description = "A dependency is unreachable", body = ReadinessBody)))]
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
    let writes = if state
        .chat
        .writes_alive(std::time::Duration::from_secs(2))
        .await
    {
        "ok"
    } else {
        log::warn!("not ready: the write path (PersistActor) does not answer");
        "down"
    };
    let ready = postgres == "ok" && writes == "ok" && redis.is_none_or(|r| r == "ok");
    let body = ReadinessBody {
        status: if ready { "ready" } else { "not_ready" }.into(),
        postgres: postgres.into(),
        writes: writes.into(),
        redis: redis.map(Into::into),
        error: (!ready).then(|| ErrorDetail {
            code: ErrorCode::Unavailable,
            message: "a dependency is unreachable".into(),
            retry_after_ms: None,
        }),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
