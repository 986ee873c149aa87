//! The authenticated HTTP API (SPEC §5). Writes go through the same chat service as
//! socket frames, so every open window sees them live.

use super::auth::SessionUser;
use super::error::ApiError;
use super::AppState;
use crate::actors::registry::GetOnlineUsers;
use crate::db::messages::Page;
use crate::db::writes::{Target, WriteOp, WriteOutcome};
use crate::db::{self};
use crate::domain::{BodyError, ClientId, ConversationId, MessageBody, UserId};
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).ok_or(ApiError::NotFound("user"))
}

fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or(ApiError::NotFound("conversation"))
}

#[get("/api/me")]
pub async fn get_me(session: SessionUser) -> HttpResponse {
    HttpResponse::Ok().json(&session.0.user)
}

#[get("/api/users/online")]
pub async fn online(
    session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let sets = db::blocks::block_sets(&state.chat.pool, me).await?;
    let hidden: HashSet<UserId> = sets.outgoing.into_iter().chain(sets.incoming).collect();
    let everyone = state
        .registry
        .send(GetOnlineUsers)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let users: Vec<_> = everyone
        .into_iter()
        .filter(|u| u.id != me && !hidden.contains(&u.id))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "users": users })))
}

#[get("/api/blocks")]
pub async fn blocks(
    session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let blocked = db::blocks::blocked_by(&state.chat.pool, session.0.user.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "blocked": blocked })))
}

async fn set_block(
    session: SessionUser,
    state: web::Data<AppState>,
    raw: &str,
    active: bool,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let other = user_id(raw)?;
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
            Ok(HttpResponse::Ok().json(json!({ "user": blocked })))
        }
        other => Err(ApiError::Internal(format!("unexpected outcome {other:?}"))),
    }
}

#[put("/api/blocks/{user_id}")]
pub async fn block(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_block(session, state, &path, true).await
}

#[delete("/api/blocks/{user_id}")]
pub async fn unblock(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_block(session, state, &path, false).await
}

#[get("/api/conversations")]
pub async fn conversations(
    session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = db::conversations::list_for(&state.chat.pool, session.0.user.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "conversations": list })))
}

#[post("/api/direct/{user_id}")]
pub async fn open_direct(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let peer = user_id(&path)?;
    let WriteOutcome::DirectOpened { conversation } = state
        .chat
        .write(WriteOp::OpenDirect { user: me, peer }, None)
        .await?
    else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    let summary = db::conversations::summary_for(&state.chat.pool, me, conversation)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Deserialize)]
struct HistoryQuery {
    after_seq: Option<i64>,
    before_seq: Option<i64>,
    limit: Option<i64>,
}

#[get("/api/conversations/{id}/messages")]
pub async fn history(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = conversation_id(&path)?;
    let page = match (query.after_seq, query.before_seq) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give after_seq or before_seq, not both".into(),
            ))
        }
        (Some(a), None) if a >= 0 => Page::After(a),
        (None, Some(b)) if b >= 0 => Page::Before(b),
        (None, None) => Page::Latest,
        _ => {
            return Err(ApiError::BadRequest(
                "seq bounds must not be negative".into(),
            ))
        }
    };
    let max = state.settings.limits.history_max;
    let limit = query.limit.unwrap_or(50);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {max}"
        )));
    }
    let messages = state
        .chat
        .history(session.0.user.id, conversation, page, limit)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}

#[derive(Deserialize)]
struct SendBody {
    body: String,
    client_id: String,
    /// The `seq` of the message this one answers.
    reply_to: Option<i64>,
}

#[post("/api/conversations/{id}/messages")]
pub async fn send(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, ApiError> {
    let me = session.0.user.id;
    let conversation = conversation_id(&path)?;
    let SendBody {
        body,
        client_id,
        reply_to,
    } = body.into_inner();
    if reply_to.is_some_and(|s| s < 1) {
        return Err(ApiError::BadRequest(
            "reply_to must be a seq of 1 or more".into(),
        ));
    }
    let client_id = ClientId::parse(client_id).map_err(|m| ApiError::BadRequest(m.into()))?;
    let body =
        MessageBody::parse(body, state.settings.limits.max_body_chars).map_err(|e| match e {
            BodyError::TooLong { .. } => ApiError::TooLarge(e.to_string()),
            BodyError::Empty => ApiError::BadRequest(e.to_string()),
        })?;
    state.chat.check_send_rate(me)?;
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
        other => Err(ApiError::Internal(format!("unexpected outcome {other:?}"))),
    }
}

#[derive(Deserialize)]
struct ReadBody {
    seq: i64,
}

#[post("/api/conversations/{id}/read")]
pub async fn read(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReadBody>,
) -> Result<HttpResponse, ApiError> {
    let conversation = conversation_id(&path)?;
    let op = WriteOp::MarkRead {
        user: session.0.user.id,
        conversation,
        seq: body.seq,
    };
    match state.chat.write(op, None).await? {
        WriteOutcome::ReadMoved {
            conversation, seq, ..
        } => Ok(HttpResponse::Ok().json(json!({ "conversation_id": conversation, "seq": seq }))),
        other => Err(ApiError::Internal(format!("unexpected outcome {other:?}"))),
    }
}
