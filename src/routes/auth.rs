//! The `Authorization: Bearer <session token>` extractor of the HTTP API.

use super::error::{ApiError, Internal};
use super::AppState;
use crate::identity::{SessionClaims, VerifyError};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use std::future::ready;

/// The bearer token of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A request made with a valid Banter session token.
pub struct SessionUser(pub SessionClaims);

impl FromRequest for SessionUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Box::pin(ready(Err(ApiError::Internal(Internal::NoAppState))));
        };
        let Some(token) = bearer(req).map(str::to_owned) else {
            return Box::pin(ready(Err(ApiError::Unauthorized(
                "a Bearer session token is required".into(),
            ))));
        };
        Box::pin(async move {
            match state.tokens.verify(&token).await {
                Ok(claims) => Ok(SessionUser(claims)),
                Err(VerifyError::Refused(_)) => Err(ApiError::Unauthorized(
                    "session token is invalid or expired".into(),
                )),
                Err(busy @ VerifyError::Busy(_)) => Err(ApiError::TokensBusy(busy)),
                Err(failed @ VerifyError::Failed(_)) => Err(ApiError::TokensFailed(failed)),
            }
        })
    }
}
