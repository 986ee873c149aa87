//! `GET /api/search`: full-text search over the messages the caller may read.

use super::auth::SessionUser;
use super::bodies::{page_limit, ErrorBody, SearchBody, SearchQuery};
use super::error::ApiError;
use super::AppState;
use crate::chat::Action;
use crate::db;
use crate::domain::hide_quotes;
use actix_web::{get, web, HttpResponse};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most `-` (NOT) a query may hold. `websearch_to_tsquery` stacks a NOT for each `-`
/// not yet followed by a word, on a stack 32 deep: 33 in a row fail with "tsquery stack
/// too small" (an internal error, SQLSTATE XX000). 20 leaves room below that.
pub const MAX_QUERY_NOTS: usize = 20;
const MAX_LIMIT: i64 = 50;
/// Deep pages cost a scan of everything before them; nobody reads that far.
const MAX_OFFSET: i64 = 10_000;

/// The text of a search (`q`, trimmed) that Postgres' `websearch_to_tsquery` is given,
/// or why it is refused (`bad_request`): empty, longer than [`MAX_QUERY_CHARS`], a NUL,
/// more than [`MAX_QUERY_NOTS`] `-`. Whatever passes parses without error (the
/// `search_query` fuzz target holds Postgres to that).
pub fn query_text(q: Option<&str>) -> Result<&str, ApiError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(ApiError::BadRequest("give a search query: ?q=words".into()));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a search query is at most {MAX_QUERY_CHARS} characters"
        )));
    }
    if q.contains('\0') {
        return Err(ApiError::BadRequest(
            "a search query must not contain the NUL character (U+0000)".into(),
        ));
    }
    if q.matches('-').count() > MAX_QUERY_NOTS {
        return Err(ApiError::BadRequest(format!(
            "a search query holds at most {MAX_QUERY_NOTS} '-'"
        )));
    }
    Ok(q)
}

#[utoipa::path(
    tag = "search",
    params(SearchQuery),
    responses((status = 200, description = "Best match first, then newest", body = SearchBody), (status = 400, description = "Empty, over-long or over-complex query (NUL, more than 20 `-`), bad limit or offset", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/search")]
pub async fn search(
    session: SessionUser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query_text(query.q.as_deref())?;
    let limit = page_limit(query.limit, 20, MAX_LIMIT)?;
    let offset = query.offset.unwrap_or(0);
    if !(0..=MAX_OFFSET).contains(&offset) {
        return Err(ApiError::BadRequest(format!(
            "offset must be between 0 and {MAX_OFFSET}"
        )));
    }
    state.chat.check_local(Action::Query, session.0.user.id)?;
    // One more than asked tells whether another page exists.
    let mut hits =
        db::search::messages(&state.chat.pool, session.0.user.id, q, limit + 1, offset).await?;
    let next_offset = (hits.len() as i64 > limit).then_some(offset + limit);
    hits.truncate(limit as usize);
    // Quotes of people the reader blocked (or who blocked the reader) read as gone.
    let blocks = db::blocks::block_sets(&state.chat.pool, session.0.user.id).await?;
    if !blocks.outgoing.is_empty() || !blocks.incoming.is_empty() {
        hide_quotes(hits.iter_mut().map(|h| &mut h.message), |u| {
            blocks.outgoing.contains(&u) || blocks.incoming.contains(&u)
        });
    }
    Ok(HttpResponse::Ok().json(SearchBody {
        results: hits,
        next_offset,
    }))
}
