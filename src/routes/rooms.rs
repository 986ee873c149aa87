//! Rooms over HTTP (an addition to SPEC §5): the list, creating, joining, leaving,
//! deleting, and members with their presence. Each reaches every open window live, as
//! the socket frames do.

use super::auth::SessionUser;
use super::error::ApiError;
use super::AppState;
use crate::db::writes::WriteOutcome;
use crate::db::{self};
use crate::domain::{ConversationId, RoomName, RoomPassword};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

fn room_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or(ApiError::NotFound("room"))
}

fn unexpected(outcome: WriteOutcome) -> ApiError {
    ApiError::Internal(format!("unexpected outcome {outcome:?}"))
}

#[get("/api/rooms")]
pub async fn list(
    _session: SessionUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rooms = db::rooms::list(&state.chat.pool).await?;
    Ok(HttpResponse::Ok().json(json!({ "rooms": rooms })))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    password: Option<String>,
}

#[post("/api/rooms")]
pub async fn create(
    session: SessionUser,
    state: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let CreateBody { name, password } = body.into_inner();
    let name = RoomName::parse(&name).map_err(|m| ApiError::BadRequest(m.into()))?;
    let password = RoomPassword::parse(password).map_err(|m| ApiError::BadRequest(m.into()))?;
    match state
        .chat
        .create_room(session.0.user.id, name, password, None)
        .await?
    {
        WriteOutcome::RoomCreated {
            room, conversation, ..
        } => {
            Ok(HttpResponse::Created().json(json!({ "room": room, "conversation": conversation })))
        }
        other => Err(unexpected(other)),
    }
}

#[derive(Deserialize, Default)]
struct JoinBody {
    password: Option<String>,
}

#[post("/api/rooms/{id}/join")]
pub async fn join(
    req: HttpRequest,
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<JoinBody>>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    let password = RoomPassword::parse(body.map(|b| b.into_inner()).unwrap_or_default().password)
        .map_err(|m| ApiError::BadRequest(m.into()))?;
    let address = super::client_address(&req);
    match state
        .chat
        .join_room(session.0.user.id, room, password, address, None)
        .await?
    {
        WriteOutcome::RoomJoined {
            room, conversation, ..
        } => Ok(HttpResponse::Ok().json(json!({ "room": room, "conversation": conversation }))),
        other => Err(unexpected(other)),
    }
}

#[post("/api/rooms/{id}/leave")]
pub async fn leave(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    match state.chat.leave_room(session.0.user.id, room, None).await? {
        WriteOutcome::RoomLeft { room, .. } => Ok(HttpResponse::Ok().json(json!({ "room": room }))),
        other => Err(unexpected(other)),
    }
}

#[delete("/api/rooms/{id}")]
pub async fn delete(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    match state
        .chat
        .delete_room(session.0.user.id, room, None)
        .await?
    {
        WriteOutcome::RoomDeleted { .. } => Ok(HttpResponse::NoContent().finish()),
        other => Err(unexpected(other)),
    }
}

#[get("/api/rooms/{id}/members")]
pub async fn members(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    let members = state.chat.room_members(session.0.user.id, room).await?;
    Ok(HttpResponse::Ok().json(json!({ "members": members })))
}
