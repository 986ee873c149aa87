//! The `Authorization: Bearer <session token>` extractor of the HTTP API.

use super::error::{ApiError, Internal};
use super::AppState;
use crate::identity::SessionClaims;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

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
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Internal(Internal::NoAppState)));
        };
        let result =
            match bearer(req) {
                None => Err(ApiError::Unauthorized(
                    "a Bearer session token is required".into(),
                )),
                Some(token) => state.keys.verify(token).map(SessionUser).map_err(|_| {
                    ApiError::Unauthorized("session token is invalid or expired".into())
                }),
            };
        ready(result)
    }
}
