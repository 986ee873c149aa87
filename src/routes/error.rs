//! The HTTP API's error type: `{"error":{"code","message"}}` with a matching status.
//! Infrastructure failures answer an opaque 503 and log the full cause chain, here at
//! the edge (when the error becomes a response) and nowhere before.

use crate::chat::ChatError;
use crate::db::writes::WriteOutcome;
use crate::db::DbError;
use crate::identity::{OidcError, SessionError};
use crate::protocol::{retry_after_ms, ErrorCode, BUSY_RETRY};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    /// The provider's token is good but does not vouch for the email (403
    /// `email_unverified`).
    #[error("{0}")]
    EmailUnverified(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    /// Session tokens cannot be checked right now (their pool is full): `rate_limited`.
    #[error("too many sessions are being checked right now; try again in a moment")]
    TokensBusy(#[source] crate::identity::VerifyError),
    /// Checking a session token failed inside (not the token's fault): `unavailable`.
    #[error("session tokens cannot be checked")]
    TokensFailed(#[source] crate::identity::VerifyError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// The provider could not be asked about a token (not the token's fault).
    #[error("identity provider unavailable")]
    ProviderUnavailable(#[source] OidcError),
    #[error("storage is unavailable")]
    Database(#[from] DbError),
    #[error("internal error")]
    Internal(#[from] Internal),
}

/// What failed inside behind an `internal error` (the client hears no more than that).
#[derive(Debug, thiserror::Error)]
pub enum Internal {
    /// An actor did not answer: it stopped, or its mailbox was closed.
    #[error("the {actor} did not answer")]
    Mailbox {
        actor: &'static str,
        #[source]
        source: actix::MailboxError,
    },
    #[error("minting a session token failed")]
    Mint(#[source] SessionError),
    /// The server was built without its `AppState` (a wiring bug).
    #[error("application state missing")]
    NoAppState,
    /// A write committed but answered with an outcome its route does not expect (a bug).
    #[error("unexpected outcome {0:?}")]
    UnexpectedOutcome(Box<WriteOutcome>),
}

impl ApiError {
    /// For a write that answered with an outcome its route does not expect.
    pub fn unexpected(outcome: WriteOutcome) -> ApiError {
        ApiError::Internal(Internal::UnexpectedOutcome(Box::new(outcome)))
    }

    fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::EmailUnverified(_) => ErrorCode::EmailUnverified,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::TokensBusy(_) => ErrorCode::RateLimited,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Chat(e) => e.code(),
            ApiError::ProviderUnavailable(_)
            | ApiError::TokensFailed(_)
            | ApiError::Database(_)
            | ApiError::Internal(_) => ErrorCode::Unavailable,
        }
    }

    /// For a 429: how long until trying again could pass.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Chat(e) => e.retry_after(),
            ApiError::TokensBusy(_) => Some(BUSY_RETRY),
            _ => None,
        }
    }
}

/// The HTTP status of each protocol error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Blocked | ErrorCode::Forbidden | ErrorCode::EmailUnverified => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Gone => StatusCode::GONE,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
    }
}

/// An error body outside `ApiError` (extractor failures, unknown routes).
pub fn error_response(code: ErrorCode, message: &str) -> HttpResponse {
    HttpResponse::build(status_of(code)).json(json!({
        "error": { "code": code.as_str(), "message": message }
    }))
}

/// A 429 that says when to come back: `Retry-After` in whole seconds (rounded up, as
/// RFC 9110 has only seconds) and `retry_after_ms` in the body, as the socket's
/// `rate_limited` error frames carry it.
pub fn rate_limited_response(message: &str, retry_after: Duration) -> HttpResponse {
    let ms = retry_after_ms(retry_after);
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, ms.div_ceil(1000).to_string()))
        .json(json!({
            "error": {
                "code": ErrorCode::RateLimited.as_str(),
                "message": message,
                "retry_after_ms": ms,
            }
        }))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        let code = self.code();
        if code == ErrorCode::Unavailable {
            // Ours, not the client's: the client gets the opaque message below, the log
            // the whole chain, once.
            log::error!("{}", crate::error_chain(self));
        }
        let message = match self {
            ApiError::Database(_) => "storage is unavailable; try again".to_owned(),
            _ => self.to_string(),
        };
        match (code, self.retry_after()) {
            (ErrorCode::RateLimited, Some(after)) => rate_limited_response(&message, after),
            _ => error_response(code, &message),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Internal as ChatInternal;

    async fn body_of(e: &ApiError) -> (StatusCode, String) {
        let response = e.error_response();
        let status = response.status();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[actix_web::test]
    async fn internal_failures_answer_the_same_opaque_bodies_and_keep_their_cause() {
        let mailbox = ApiError::Internal(Internal::Mailbox {
            actor: "PresenceRegistry",
            source: actix::MailboxError::Closed,
        });
        assert_eq!(
            body_of(&mailbox).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":{"code":"unavailable","message":"internal error"}}"#.to_owned()
            )
        );
        assert_eq!(
            crate::error_chain(&mailbox),
            "internal error: the PresenceRegistry did not answer: Mailbox has closed"
        );

        let chat = ApiError::Chat(ChatError::Unavailable(ChatInternal::Mailbox {
            actor: "PersistActor",
            source: actix::MailboxError::Timeout,
        }));
        assert_eq!(
            body_of(&chat).await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":{"code":"unavailable","message":"storage is unavailable"}}"#.to_owned()
            )
        );
        assert_eq!(
            crate::error_chain(&chat),
            "storage is unavailable: the PersistActor did not answer: Message delivery timed out"
        );
    }
}
