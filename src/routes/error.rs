//! The HTTP API's error type: `{"error":{"code","message"}}` with a matching status.
//! Infrastructure failures answer an opaque 500/503 and log the full cause chain.

use crate::chat::ChatError;
use crate::db::DbError;
use crate::protocol::ErrorCode;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error("identity provider unavailable")]
    ProviderUnavailable(String),
    #[error("storage is unavailable")]
    Database(#[from] DbError),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Chat(e) => e.code(),
            ApiError::ProviderUnavailable(_) | ApiError::Database(_) | ApiError::Internal(_) => {
                ErrorCode::Unavailable
            }
        }
    }
}

/// The HTTP status of each protocol error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Blocked | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
    }
}

/// An error body outside `ApiError` (extractor failures, unknown routes).
pub fn error_response(code: ErrorCode, message: &str) -> HttpResponse {
    HttpResponse::build(status_of(code)).json(json!({
        "error": { "code": code.as_str(), "message": message }
    }))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Database(e) => {
                log::error!("{}", crate::error_chain(e));
                "storage is unavailable; try again".to_owned()
            }
            ApiError::ProviderUnavailable(cause) | ApiError::Internal(cause) => {
                log::error!("{self}: {cause}");
                self.to_string()
            }
            _ => self.to_string(),
        };
        error_response(self.code(), &message)
    }
}

/// Turns an extractor's complaint (malformed JSON body, bad query string) into our JSON
/// `bad_request` error.
pub fn bad_request(err: impl ResponseError + 'static) -> actix_web::Error {
    let message = err.to_string();
    actix_web::error::InternalError::from_response(
        err,
        error_response(ErrorCode::BadRequest, &message),
    )
    .into()
}
