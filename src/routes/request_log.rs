//! One log line per HTTP request (the access log), and the request id that ties it to
//! everything else logged about the request: `X-Request-Id` as Heroku's router sets it
//! (behind `TRUSTED_PROXIES`), else a fresh one, echoed on the response.
//!
//! The line holds the path without its query (a search's query is someone's words), the
//! status, the time taken and the client's address as the per-address limits see it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use std::time::Instant;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (in the request's extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The id a request carries, if it is one worth keeping: 1–200 characters of letters,
/// digits and `-_.:` (Heroku's are UUIDs; anything else is replaced, so a client cannot
/// write into the log through it).
fn incoming(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(&REQUEST_ID)?.to_str().ok()?;
    let fits = (1..=200).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    fits.then(|| id.to_owned())
}

/// The request id of `req` ("-" outside the middleware, as in unit tests).
pub fn request_id(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map_or_else(|| "-".to_owned(), |id| id.0.clone())
}

pub async fn with_request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    // A proxy's id (Heroku's router sets one) only behind a trusted proxy: a client's own
    // could collide with others' on purpose.
    let behind_proxy = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .is_some_and(|state| state.settings.trusted_proxies > 0);
    let id = behind_proxy
        .then(|| incoming(req.headers()))
        .flatten()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let client =
        super::client_address(req.request()).map_or_else(|| "-".to_owned(), |a| a.to_string());
    let (method, path) = (req.method().to_string(), req.path().to_owned());
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    log::info!(
        request_id = id.as_str(),
        client = client.as_str(),
        method = method.as_str(),
        path = path.as_str(),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64;
        "request"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_kept_only_when_it_is_a_plain_token() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(REQUEST_ID, HeaderValue::from_str(value).unwrap());
            incoming(&headers)
        };
        let heroku = "f4d2a2f0-6a9b-4b1e-9d0e-3c2d1b0a9e8f";
        assert_eq!(with(heroku).as_deref(), Some(heroku));
        assert_eq!(with("a b"), None);
        assert_eq!(with("x\"=y"), None);
        assert_eq!(with(&"a".repeat(201)), None);
        assert_eq!(incoming(&HeaderMap::new()), None);
    }
}
