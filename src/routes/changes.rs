//! Changing messages over HTTP: edits, deletions, reactions, the changes since a number,
//! and read receipts. Each goes through the chat service as the socket's frames do, so
//! every open window sees it live.

use super::auth::SessionUser;
use super::bodies::{ChangesBody, ChangesQuery, EditBody, ErrorBody, ReceiptsBody, SeenBody};
use super::error::ApiError;
use super::AppState;
use crate::chat::Action;
use crate::db::messages::Page;
use crate::db::writes::{ChangeAsked, WriteOp, WriteOutcome};
use crate::domain::{BodyError, ConversationId, Emoji, Message, MessageBody, UserId};
use actix_web::{delete, get, patch, put, web, HttpResponse};

/// A conversation id and a message's `seq`, from the path (`not_found` / `bad_request`).
fn message_path(path: &(String, String)) -> Result<(ConversationId, i64), ApiError> {
    let conversation = ConversationId::parse(&path.0).ok_or(ApiError::NotFound("conversation"))?;
    let seq: i64 = path
        .1
        .parse()
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| ApiError::BadRequest("seq must be a whole number, 1 or more".into()))?;
    Ok((conversation, seq))
}

/// Applies a change as `me`, within the person's allowance for changes.
async fn change(
    state: &AppState,
    me: UserId,
    conversation: ConversationId,
    seq: i64,
    asked: ChangeAsked,
) -> Result<(), ApiError> {
    state.chat.admit(Action::Change, me).wait().await?;
    let op = WriteOp::ChangeMessage {
        actor: me,
        conversation,
        seq,
        asked,
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::MessageChanged { .. } | WriteOutcome::Unchanged => Ok(()),
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ("seq" = i64, Path, description = "The message's seq", minimum = 1)),
    request_body = EditBody,
    responses((status = 200, description = "Edited (or it already said this): the message as it is now", body = Message), (status = 400, description = "Empty body or bad seq", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "Not your message, or one of you blocked the other (a direct chat)", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 410, description = "The message was deleted", body = ErrorBody), (status = 413, description = "Body over 4000 characters", body = ErrorBody), (status = 429, description = "More than 5 edits, deletions and reactions a second (burst 20)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[patch("/api/conversations/{id}/messages/{seq}")]
pub async fn edit(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let (conversation, seq) = message_path(&path)?;
    let max = state.settings.limits.max_body_chars;
    let body = MessageBody::parse(body.into_inner().body, max).map_err(|e| match e {
        BodyError::TooLong { .. } => ApiError::TooLarge(e.to_string()),
        _ => ApiError::BadRequest(e.to_string()),
    })?;
    change(&state, me, conversation, seq, ChangeAsked::Edit(body)).await?;
    // The edit is committed (and membership checked by it): its row as it is now, read
    // without a query allowance, which must not turn a done edit into a 429.
    let page = Page::Between(seq - 1, seq + 1);
    let now = crate::db::messages::history(&state.chat.pool, conversation, me, page, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("message"))?;
    Ok(HttpResponse::Ok().json(now))
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ("seq" = i64, Path, description = "The message's seq", minimum = 1)),
    responses((status = 204, description = "Deleted for everyone (or it already was): its text, earlier versions and reactions are gone"), (status = 400, description = "Bad seq", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "Not yours (nor a message of a room you created), or one of you blocked the other (a direct chat)", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 429, description = "More than 5 edits, deletions and reactions a second (burst 20)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[delete("/api/conversations/{id}/messages/{seq}")]
pub async fn delete_message(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, seq) = message_path(&path)?;
    change(
        &state,
        session.0.user.id,
        conversation,
        seq,
        ChangeAsked::Delete,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Puts on (`add`) or takes off the person's reaction `emoji`.
async fn react(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    add: bool,
) -> Result<HttpResponse, ApiError> {
    let (conversation, seq) = message_path(&(path.0.clone(), path.1.clone()))?;
    let emoji = Emoji::parse(&path.2).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let asked = ChangeAsked::React { emoji, add };
    change(&state, session.0.user.id, conversation, seq, asked).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ("seq" = i64, Path, description = "The message's seq", minimum = 1), ("emoji" = String, Path, description = "One emoji, percent-encoded")),
    responses((status = 204, description = "Your reaction is on it (or already was)"), (status = 400, description = "Not exactly one emoji, or bad seq", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "One of you blocked the other (a direct chat)", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 409, description = "The message has 20 different reactions, or 10 of yours", body = ErrorBody), (status = 410, description = "The message was deleted", body = ErrorBody), (status = 429, description = "More than 5 edits, deletions and reactions a second (burst 20)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[put("/api/conversations/{id}/messages/{seq}/reactions/{emoji}")]
pub async fn add_reaction(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    react(session, state, path, true).await
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ("seq" = i64, Path, description = "The message's seq", minimum = 1), ("emoji" = String, Path, description = "One emoji, percent-encoded")),
    responses((status = 204, description = "Your reaction is off it (or was not on it)"), (status = 400, description = "Not exactly one emoji, or bad seq", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "One of you blocked the other (a direct chat)", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 410, description = "The message was deleted", body = ErrorBody), (status = 429, description = "More than 5 edits, deletions and reactions a second (burst 20)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[delete("/api/conversations/{id}/messages/{seq}/reactions/{emoji}")]
pub async fn remove_reaction(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    react(session, state, path, false).await
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ChangesQuery),
    responses((status = 200, description = "The messages changed after `after`, as they are now", body = ChangesBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/conversations/{id}/changes")]
pub async fn changes(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = ConversationId::parse(&path).ok_or(ApiError::NotFound("conversation"))?;
    if query.after < 0 {
        return Err(ApiError::BadRequest("after must not be negative".into()));
    }
    let limit = state.settings.limits.history_max;
    let page = state
        .chat
        .changes(session.0.user.id, conversation, query.after, limit)
        .await?;
    Ok(HttpResponse::Ok().json(ChangesBody {
        messages: page.messages,
        through: page.through,
        more: page.more,
    }))
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), ("seq" = i64, Path, description = "The message's seq", minimum = 1)),
    responses((status = 200, description = "Who of the other members has read up to it", body = SeenBody), (status = 400, description = "Bad seq", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "You do not share your read receipts, so you are shown no one's", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/conversations/{id}/messages/{seq}/seen")]
pub async fn seen(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, seq) = message_path(&path)?;
    let (count, users) = state
        .chat
        .seen(session.0.user.id, conversation, seq)
        .await?;
    Ok(HttpResponse::Ok().json(SeenBody { count, users }))
}

#[utoipa::path(
    tag = "people",
    request_body = ReceiptsBody,
    responses((status = 200, description = "Whether you share your read receipts now", body = ReceiptsBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 429, description = "More than 10 name or receipt changes a minute", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[put("/api/me/receipts")]
pub async fn set_receipts(
    session: SessionUser,
    state: web::Data<AppState>,
    body: web::Json<ReceiptsBody>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    state.chat.admit(Action::Rename, me).wait().await?;
    let op = WriteOp::SetReceipts {
        user: me,
        share: body.share,
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::ReceiptsSet { share, .. } => {
            Ok(HttpResponse::Ok().json(ReceiptsBody { share }))
        }
        other => Err(ApiError::unexpected(other)),
    }
}
