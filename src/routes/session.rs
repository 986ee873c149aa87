//! Sign-in: `GET /api/config` tells the web client where to sign in; `POST /api/session`
//! trades a provider access token for a Banter session token.

use super::auth::bearer;
use super::bodies::{ConfigBody, ErrorBody, SessionBody};
use super::error::{ApiError, Internal};
use super::AppState;
use crate::db;
use crate::identity::OidcError;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

#[utoipa::path(
    tag = "session",
    responses((status = 200, description = "The identity provider the web client signs in with", body = ConfigBody))
)]
#[get("/api/config")]
pub async fn config(state: web::Data<AppState>) -> HttpResponse {
    let oidc = &state.settings.oidc;
    HttpResponse::Ok().json(ConfigBody {
        issuer: oidc.issuer.clone(),
        client_id: oidc.client_id.clone(),
        audience: oidc.audience.clone(),
    })
}

#[utoipa::path(
    tag = "session",
    description = "Trades the identity provider's access token (Bearer) for a Banter session token; signs the person up on first sight.",
    responses((status = 201, description = "A session token", body = SessionBody), (status = 401, description = "No, or a refused, provider token", body = ErrorBody), (status = 403, description = "The provider does not say the email is verified (`email_unverified`)", body = ErrorBody), (status = 503, description = "The provider or storage is unreachable", body = ErrorBody)),
    security(("provider" = []))
)]
#[post("/api/session")]
pub async fn create_session(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req).ok_or_else(|| {
        ApiError::Unauthorized("a Bearer provider access token is required".into())
    })?;
    let identity = state.oidc.verify(token).await.map_err(|e| {
        if matches!(e, OidcError::EmailNotVerified) {
            log::info!("refused sign-in: {e}");
            ApiError::EmailUnverified(e.to_string())
        } else if e.is_client_error() {
            log::info!("refused provider token: {}", crate::error_chain(&e));
            ApiError::Unauthorized(e.to_string())
        } else {
            ApiError::ProviderUnavailable(e)
        }
    })?;
    let pool = &state.chat.pool;
    let (issuer, subject) = (&identity.issuer, &identity.subject);
    let mut user = db::users::upsert(
        pool,
        issuer,
        subject,
        &identity.email,
        identity.name.as_ref(),
    )
    .await?;
    // Nobody has named them yet, nor has their token: the provider's userinfo may.
    if user.name.is_none() && identity.name.is_none() && !identity.asked_userinfo {
        if let Some(name) = state.oidc.userinfo_name(token).await {
            user = db::users::upsert(pool, issuer, subject, &identity.email, Some(&name)).await?;
        }
    }
    let (token, expires_at) = state
        .keys
        .mint(&user, state.settings.limits.session_ttl)
        .map_err(Internal::Mint)?;
    Ok(HttpResponse::Created().json(SessionBody {
        token,
        expires_at,
        user,
    }))
}
