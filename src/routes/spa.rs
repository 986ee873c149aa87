//! The built web client from STATIC_DIR, with the single-page-app fallback: any GET that
//! is not an API path and not a file gets `index.html`. A request to an API path with a
//! method it does not have gets 405 with `Allow` (the paths come from the OpenAPI
//! document, so the two cannot drift apart).

use super::allow::{method_not_allowed, ApiRoutes};
use super::error::error_response;
use crate::protocol::ErrorCode;
use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::{web, HttpResponse};
use std::path::{Path, PathBuf};
pub fn configure(cfg: &mut web::ServiceConfig, static_dir: &Path) {
    let index: PathBuf = static_dir.join("index.html");
    let fallback = fn_service(move |req: ServiceRequest| {
        let index = index.clone();
        async move {
            let routes = req.app_data::<web::Data<ApiRoutes>>().cloned();
            let (req, _) = req.into_parts();
            let path = req.path();
            let is_api = path.starts_with("/api/") || path == "/ws";
            let allowed = routes.as_ref().and_then(|r| r.allowed(path));
            let response = if let Some(methods) = allowed {
                method_not_allowed(req.method(), methods)
            } else if is_api || req.method() != actix_web::http::Method::GET {
                error_response(ErrorCode::NotFound, "no such endpoint")
            } else {
                match NamedFile::open_async(&index).await {
                    Ok(file) => file.into_response(&req),
                    Err(_) => HttpResponse::NotFound()
                        .content_type("text/plain")
                        .body("The web client is not built (STATIC_DIR has no index.html)."),
                }
            };
            Ok(ServiceResponse::new(req, response))
        }
    });
    cfg.service(
        Files::new("/", static_dir)
            .index_file("index.html")
            .default_handler(fallback),
    );
}
