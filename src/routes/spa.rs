//! The built web client from STATIC_DIR, with the single-page-app fallback: any GET that
//! is not an API path and not a file gets `index.html`.

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
            let (req, _) = req.into_parts();
            let path = req.path();
            let is_api = path.starts_with("/api/") || path == "/ws";
            let response = if is_api || req.method() != actix_web::http::Method::GET {
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
