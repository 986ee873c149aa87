//! `GET /api/people`: the people directory. Anyone can be reached, online or not: the
//! page's "New message" finds them by the start of their email or display name. Blocks
//! hide people both ways, as in the online list.

use super::auth::SessionUser;
use super::bodies::{page_limit, ErrorBody, PeopleBody, PeopleQuery};
use super::error::ApiError;
use super::AppState;
use crate::chat::Action;
use crate::db;
use actix_web::{get, web, HttpResponse};

/// Longest prefix accepted, in characters (an email's longest).
pub const MAX_PREFIX_CHARS: usize = 254;
const MAX_LIMIT: i64 = 50;

/// The prefix looked for (`q`, trimmed; empty for everyone), or why it is refused.
fn prefix(q: Option<&str>) -> Result<&str, ApiError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.chars().count() > MAX_PREFIX_CHARS {
        return Err(ApiError::BadRequest(format!(
            "q is at most {MAX_PREFIX_CHARS} characters"
        )));
    }
    if q.contains('\0') {
        return Err(ApiError::BadRequest(
            "q must not contain the NUL character (U+0000)".into(),
        ));
    }
    Ok(q)
}

#[utoipa::path(
    tag = "people",
    params(PeopleQuery),
    responses((status = 200, description = "People whose email or display name starts with `q` (without case), by name, leaving out you and anyone a block stands between, either way", body = PeopleBody), (status = 400, description = "Over-long `q`, a NUL, or a bad limit", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists, online or directory pages, or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/people")]
pub async fn people(
    session: SessionUser,
    state: web::Data<AppState>,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = prefix(query.q.as_deref())?;
    let limit = page_limit(query.limit, 20, MAX_LIMIT)?;
    let me = session.0.user.id;
    state.chat.check_local(Action::Query, me)?;
    let people = db::users::directory(&state.chat.pool, me, q, limit).await?;
    Ok(HttpResponse::Ok().json(PeopleBody { people }))
}
