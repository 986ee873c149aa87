//! The authenticated HTTP API (SPEC §5). Writes go through the same chat service as
//! socket frames, so every open window sees them live.

use super::auth::SessionUser;
use super::bodies::{
    page_limit, BlockedBody, ConversationsBody, ErrorBody, HistoryQuery, MessagesBody, OnlineQuery,
    ReadBody, ReadPositionBody, SendBody, UserBody, UsersBody, ValidSend,
};
use super::error::{ApiError, Internal};
use super::AppState;
use crate::actors::registry::GetOnlinePage;
use crate::actors::user::cmd::Online;
use crate::chat::Action;
use crate::db::messages::Page;
use crate::db::writes::{Target, WriteOp, WriteOutcome};
use crate::db::{self};
use crate::domain::{ConversationId, ConversationSummary, Message, User, UserId};
use actix_web::{delete, get, post, put, web, HttpResponse};
use std::collections::HashSet;

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).ok_or(ApiError::NotFound("user"))
}

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or(ApiError::NotFound("conversation"))
}

#[utoipa::path(
    tag = "people",
    responses((status = 200, description = "You", body = User), (status = 401, description = "No valid session token", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/me")]
pub async fn get_me(session: SessionUser) -> HttpResponse {
    HttpResponse::Ok().json(&session.0.user)
}

#[utoipa::path(
    tag = "people",
    params(OnlineQuery),
    responses((status = 200, description = "A page of who is online now that you may see, in list order (email without case, then id), with the count", body = UsersBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists, online or directory pages, or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/users/online")]
pub async fn online(
    session: SessionUser,
    state: web::Data<AppState>,
    query: web::Query<OnlineQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let OnlineQuery {
        prefix,
        offset,
        limit,
    } = query.into_inner();
    // The socket's `online` rules, word for word.
    let page = Online::parse(prefix, offset, limit).map_err(|r| ApiError::BadRequest(r.message))?;
    state.chat.check_local(Action::Query, me)?;
    let sets = db::blocks::block_sets(&state.chat.pool, me).await?;
    let hidden: HashSet<UserId> = sets.outgoing.into_iter().chain(sets.incoming).collect();
    let (users, count) = state
        .registry
        .send(GetOnlinePage {
            viewer: me,
            hidden,
            prefix: page.folded_prefix(),
            offset: page.offset,
            limit: page.limit,
        })
        .await
        .map_err(|source| Internal::Mailbox {
            actor: "PresenceRegistry",
            source,
        })?;
    Ok(HttpResponse::Ok().json(UsersBody {
        users,
        count,
        offset: page.offset,
    }))
}

#[utoipa::path(
    tag = "blocks",
    responses((status = 200, description = "Whom you blocked, newest first", body = BlockedBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/blocks")]
pub async fn blocks(
    session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let blocked = db::blocks::blocked_by(&state.chat.pool, session.0.user.id).await?;
    Ok(HttpResponse::Ok().json(BlockedBody { blocked }))
}

async fn set_block(
    session: SessionUser,
    state: web::Data<AppState>,
    raw: &str,
    active: bool,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let other = user_id(raw)?;
    state.chat.admit(Action::Block, me).wait().await?;
    let op = if active {
        WriteOp::Block {
            blocker: me,
            blocked: other,
        }
    } else {
        WriteOp::Unblock {
            blocker: me,
            blocked: other,
        }
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::BlockChanged { blocked, .. } => {
            Ok(HttpResponse::Ok().json(UserBody { user: blocked }))
        }
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "blocks",
    params(("user_id" = String, Path, description = "A user id")),
    responses((status = 200, description = "Blocked (or already was)", body = UserBody), (status = 400, description = "Blocking yourself", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "No such user", body = ErrorBody), (status = 429, description = "More than 30 blocks and unblocks a minute", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[put("/api/blocks/{user_id}")]
pub async fn block(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_block(session, state, &path, true).await
}

#[utoipa::path(
    tag = "blocks",
    params(("user_id" = String, Path, description = "A user id")),
    responses((status = 200, description = "Unblocked (or was not blocked)", body = UserBody), (status = 400, description = "Unblocking yourself", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "No such user", body = ErrorBody), (status = 429, description = "More than 30 blocks and unblocks a minute", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[delete("/api/blocks/{user_id}")]
pub async fn unblock(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_block(session, state, &path, false).await
}

#[utoipa::path(
    tag = "conversations",
    responses((status = 200, description = "Your conversations, most recently active first", body = ConversationsBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/conversations")]
pub async fn conversations(
    session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = db::conversations::list_for(&state.chat.pool, session.0.user.id).await?;
    Ok(HttpResponse::Ok().json(ConversationsBody {
        conversations: list,
    }))
}

#[utoipa::path(
    tag = "conversations",
    params(("user_id" = String, Path, description = "A user id")),
    responses((status = 200, description = "The direct conversation with that person (created if new)", body = ConversationSummary), (status = 400, description = "Yourself", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "One of you has blocked the other (and there is no conversation yet)", body = ErrorBody), (status = 404, description = "No such user", body = ErrorBody), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/direct/{user_id}")]
pub async fn open_direct(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let peer = user_id(&path)?;
    let conversation = match state
        .chat
        .write(WriteOp::OpenDirect { user: me, peer }, None)
        .await?
    {
        WriteOutcome::DirectOpened { conversation } => conversation,
        other => return Err(ApiError::unexpected(other)),
    };
    let summary = db::conversations::summary_for(&state.chat.pool, me, conversation)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    Ok(HttpResponse::Ok().json(summary))
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id"), HistoryQuery),
    responses((status = 200, description = "A page of history", body = MessagesBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/conversations/{id}/messages")]
pub async fn history(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = conversation_id(&path)?;
    let page = Page::from_bounds(query.after_seq, query.before_seq)
        .map_err(|m| ApiError::BadRequest(m.into()))?;
    let limit = page_limit(query.limit, 50, state.settings.limits.history_max)?;
    let messages = state
        .chat
        .history(session.0.user.id, conversation, page, limit)
        .await?;
    Ok(HttpResponse::Ok().json(MessagesBody { messages }))
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id")),
    request_body = SendBody,
    responses((status = 201, description = "Stored", body = Message), (status = 200, description = "This client_id was sent before: the original", body = Message), (status = 400, description = "Empty body, bad client_id or reply_to", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "One of you blocked the other", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 409, description = "This client_id was used for another message (another conversation or body)", body = ErrorBody), (status = 413, description = "Body over 4000 characters", body = ErrorBody), (status = 429, description = "Over 20 messages a second", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/conversations/{id}/messages")]
pub async fn send(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let conversation = conversation_id(&path)?;
    let ValidSend {
        body,
        client_id,
        reply_to,
    } = body
        .into_inner()
        .validate(state.settings.limits.max_body_chars)?;
    state.chat.admit(Action::Send, me).wait().await?;
    let op = WriteOp::SendMessage {
        sender: me,
        target: Target::Conversation(conversation),
        body,
        client_id,
        reply_to,
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::MessageStored { message, .. } => Ok(HttpResponse::Created().json(message)),
        WriteOutcome::MessageExisted { message } => Ok(HttpResponse::Ok().json(message)),
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "A conversation id")),
    request_body = ReadBody,
    responses((status = 200, description = "Your read position now", body = ReadPositionBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "Not found (or not yours to see)", body = ErrorBody), (status = 429, description = "More than 20 read positions a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/conversations/{id}/read")]
pub async fn read(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReadBody>,
) -> Result<HttpResponse, ApiError> {
    let conversation = conversation_id(&path)?;
    state.chat.check_local(Action::Read, session.0.user.id)?;
    let op = WriteOp::MarkRead {
        user: session.0.user.id,
        conversation,
        seq: body.seq,
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::ReadMoved {
            conversation, seq, ..
        } => Ok(HttpResponse::Ok().json(ReadPositionBody {
            conversation_id: conversation,
            seq,
        })),
        other => Err(ApiError::unexpected(other)),
    }
}
