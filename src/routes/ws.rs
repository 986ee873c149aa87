//! `GET /ws`: checks the Origin and an optional `Authorization` header, then hands the
//! connection to a SocketSession.

use super::auth::bearer;
use super::bodies::ErrorBody;
use super::error::{error_response, rate_limited_response};
use super::AppState;
use crate::actors::outbound::ConnectionFd;
use crate::actors::socket::{Opening, Peer, SocketServices, SocketSession};
use crate::domain::WindowId;
use crate::identity::VerifyError;
use crate::protocol::{close, ErrorCode, BUSY_RETRY};
use actix_web::{get, web, HttpRequest, HttpResponse};
use std::sync::atomic::Ordering;

/// Is this Origin allowed to open a socket? No Origin (a non-browser client) is; with
/// ALLOWED_ORIGINS unset, only the server's own origin is.
fn origin_allowed(req: &HttpRequest, allowed: Option<&[String]>) -> bool {
    let Some(origin) = req.headers().get("origin") else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    match allowed {
        Some(list) => list.iter().any(|o| o == origin),
        None => {
            // Behind Heroku's router the scheme comes from X-Forwarded-Proto.
            let info = req.connection_info();
            let own = format!("{}://{}", info.scheme(), info.host());
            origin.eq_ignore_ascii_case(&own)
        }
    }
}

#[utoipa::path(
    tag = "socket",
    description = "Upgrades to the WebSocket protocol v1 (JSON text frames; see docs/protocol.md). Authenticate with an `auth` frame, or a Bearer session token on the upgrade.",
    responses(
        (status = 101, description = "Switching protocols"),
        (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody),
        (status = 401, description = "A Bearer header with a bad token", body = ErrorBody),
        (status = 429, description = "Too many session tokens being checked at once; try again in a moment", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)")))
    )
)]
#[get("/ws")]
pub async fn socket(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let address = super::client_address(&req);
    let peer = format!(
        "{} origin={}",
        address.map_or_else(|| "?".to_owned(), |a| a.to_string()),
        req.headers()
            .get("origin")
            .and_then(|o| o.to_str().ok())
            .unwrap_or("-")
    );
    let opening = if !origin_allowed(&req, state.settings.allowed_origins.as_deref()) {
        log::warn!("refused socket from foreign origin, peer={peer}");
        Opening::Refuse {
            code: close::ORIGIN_REFUSED,
            reason: "origin not allowed",
        }
    } else if let Some(token) = bearer(&req) {
        match state.tokens.verify(token).await {
            Ok(claims) => Opening::Authenticated(claims),
            Err(VerifyError::Refused(_)) => {
                return Ok(error_response(
                    ErrorCode::Unauthorized,
                    "session token is invalid or expired",
                ))
            }
            Err(VerifyError::Busy(_)) => {
                return Ok(rate_limited_response(
                    "too many sessions are being checked right now; try again in a moment",
                    BUSY_RETRY,
                ));
            }
            Err(failed @ VerifyError::Failed(_)) => {
                log::error!("{}", crate::error_chain(&failed));
                return Ok(error_response(
                    ErrorCode::Unavailable,
                    "session tokens cannot be checked; try again",
                ));
            }
        }
    } else {
        Opening::AwaitAuth
    };
    let window = WindowId(state.next_window.fetch_add(1, Ordering::Relaxed));
    SocketSession::new(
        window,
        opening,
        SocketServices {
            registry: state.registry.clone(),
            tokens: state.tokens.clone(),
            gate: state.connect_gate.clone(),
            limits: state.limits.clone(),
            metrics: state.metrics.clone(),
            node: state.settings.node_id.as_str().into(),
            clock: state.clock.clone(),
        },
        Peer {
            address,
            label: peer,
            connection: req.conn_data::<ConnectionFd>().copied(),
            request_id: super::request_log::request_id(&req),
        },
    )
    .start(&req, stream)
}
