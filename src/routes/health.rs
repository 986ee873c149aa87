//! Probes and metrics: `/healthz` (process up), `/readyz` (dependencies), `/metrics`.

use super::bodies::{ErrorBody, ErrorDetail, HealthBody, ReadinessBody};
use super::error::error_response;
use super::AppState;
use crate::db;
use crate::protocol::ErrorCode;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
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

#[utoipa::path(tag = "operations", security(("metrics_token" = [])), responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"), (status = 401, description = "Without the bearer token METRICS_TOKEN names", body = ErrorBody), (status = 404, description = "Metrics are off (METRICS_TOKEN unset)", body = ErrorBody)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let Some(expected) = state.settings.metrics_token.as_deref() else {
        return error_response(ErrorCode::NotFound, "metrics are off: set METRICS_TOKEN");
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests compared, so the time taken says nothing of how much of the token matched.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return error_response(
            ErrorCode::Unauthorized,
            "metrics need the METRICS_TOKEN bearer token",
        );
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
