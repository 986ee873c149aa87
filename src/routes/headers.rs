//! Security headers on every response: a Content-Security-Policy that lets the page talk
//! to the configured identity provider and nothing else, no sniffing, no framing, a
//! short referrer, and HSTS when the client came over HTTPS (Heroku's router says so in
//! `X-Forwarded-Proto`).

use crate::configuration::Settings;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};

/// The origin (scheme://host[:port]) of a URL, for the CSP.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    Some(parsed.origin().ascii_serialization())
}

/// The Content-Security-Policy for the web client.
pub fn content_security_policy(settings: &Settings) -> String {
    let provider = origin(&settings.oidc.issuer).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self' ws: wss: {provider}; frame-src {provider}; \
         form-action 'self' {provider}; base-uri 'self'; object-src 'none'; frame-ancestors 'none'"
    )
}

/// The fixed headers (made per worker: the middleware is not `Send`).
pub fn defaults(csp: &str) -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", csp.to_owned()))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
}

/// Adds `Strict-Transport-Security` to responses of requests that arrived over HTTPS.
pub async fn hsts(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req.connection_info().scheme() == "https";
    let mut response = next.call(req).await?;
    if https {
        response.headers_mut().insert(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    Ok(response)
}
