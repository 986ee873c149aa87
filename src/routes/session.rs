//! Sign-in: `GET /api/config` tells the web client where to sign in; `POST /api/session`
//! trades a provider access token for a Banter session token.

use super::auth::bearer;
use super::error::ApiError;
use super::AppState;
use crate::db;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde_json::json;

#[get("/api/config")]
pub async fn config(state: web::Data<AppState>) -> HttpResponse {
    let oidc = &state.settings.oidc;
    HttpResponse::Ok().json(json!({
        "issuer": oidc.issuer,
        "client_id": oidc.client_id,
        "audience": oidc.audience,
    }))
}

#[post("/api/session")]
pub async fn create_session(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req).ok_or_else(|| {
        ApiError::Unauthorized("a Bearer provider access token is required".into())
    })?;
    let identity = state.oidc.verify(token).await.map_err(|e| {
        if e.is_client_error() {
            log::info!("refused provider token: {}", crate::error_chain(&e));
            ApiError::Unauthorized(e.to_string())
        } else {
            ApiError::ProviderUnavailable(crate::error_chain(&e))
        }
    })?;
    let user = db::users::upsert(
        &state.chat.pool,
        &identity.issuer,
        &identity.subject,
        &identity.email,
    )
    .await?;
    let (token, expires_at) = state
        .keys
        .mint(&user, state.settings.limits.session_ttl)
        .map_err(|e| ApiError::Internal(crate::error_chain(&e)))?;
    Ok(HttpResponse::Created().json(json!({
        "token": token,
        "expires_at": expires_at,
        "user": user,
    })))
}
