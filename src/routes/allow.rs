//! `405 Method Not Allowed` with an `Allow` header and the JSON error shape, for every API
//! path asked with a method it does not have. The paths and their methods come from the
//! OpenAPI document, so the two cannot drift apart.

use super::error::error_response;
use crate::protocol::ErrorCode;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, ALLOW};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

/// The API's path templates (`/api/rooms/{id}/join`) with the methods each accepts.
pub struct ApiRoutes(Vec<(Vec<String>, Vec<String>)>);

impl ApiRoutes {
    pub fn from_document() -> Self {
        let doc = <super::openapi::ApiDoc as utoipa::OpenApi>::openapi();
        let value = serde_json::to_value(&doc).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (template, item) in paths {
                let segments = template.split('/').map(str::to_owned).collect();
                let methods = item
                    .as_object()
                    .map(|m| m.keys().map(|k| k.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                routes.push((segments, methods));
            }
        }
        ApiRoutes(routes)
    }

    /// The methods of the API path `path` matches, if it matches one.
    pub fn allowed(&self, path: &str) -> Option<&[String]> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(template, methods)| {
            let matches = template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| {
                    t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty())
                });
            matches.then_some(methods.as_slice())
        })
    }
}

/// The 405 answer: which methods would do, in the header and in words.
pub fn method_not_allowed(method: &Method, methods: &[String]) -> HttpResponse {
    let allow = methods.join(", ");
    let mut response = error_response(
        ErrorCode::MethodNotAllowed,
        &format!("{method} is not allowed here; use {allow}"),
    );
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// Replaces actix's plain-text 405 (a route matched by path, not by method) with ours.
pub async fn with_allow_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(ALLOW)
    {
        // Only this rare answer looks anything up; other requests pass through untouched.
        let request = response.request();
        let routes = request.app_data::<web::Data<ApiRoutes>>();
        if let Some(methods) = routes.and_then(|r| r.allowed(request.path())) {
            let ours = method_not_allowed(request.method(), methods);
            let (req, _) = response.into_parts();
            return Ok(ServiceResponse::new(req, ours).map_into_right_body());
        }
    }
    Ok(response.map_into_left_body())
}
