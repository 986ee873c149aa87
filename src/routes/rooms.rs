//! Rooms over HTTP (an addition to SPEC §5): the directory, creating, joining, leaving,
//! deleting, and members with their presence. Each change reaches the open windows it
//! concerns live (the room's members), as the socket frames do.

use super::auth::SessionUser;
use super::bodies::{
    CreateRoomBody, ErrorBody, JoinRoomBody, MembersBody, MembershipBody, RoomBody, RoomsBody,
    RoomsQuery,
};
use super::error::ApiError;
use super::AppState;
use crate::db::writes::WriteOutcome;
use crate::domain::{ConversationId, DirectoryPage};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};

fn room_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or(ApiError::NotFound("room"))
}

#[utoipa::path(
    tag = "rooms",
    params(RoomsQuery),
    responses((status = 200, description = "A page of the room directory, by name", body = RoomsBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists, searches or directory pages a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/rooms")]
pub async fn list(
    session: SessionUser,
    state: web::Data<AppState>,
    query: web::Query<RoomsQuery>,
) -> Result<HttpResponse, ApiError> {
    let RoomsQuery {
        query,
        after,
        limit,
    } = query.into_inner();
    let page = DirectoryPage::parse(query, after, limit).map_err(ApiError::BadRequest)?;
    let (rooms, more) = state.chat.room_directory(session.0.user.id, &page).await?;
    Ok(HttpResponse::Ok().json(RoomsBody { rooms, more }))
}

#[utoipa::path(
    tag = "rooms",
    request_body = CreateRoomBody,
    responses((status = 201, description = "Created; you are its first member", body = MembershipBody), (status = 400, description = "Bad name or password", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 409, description = "A room with that name exists", body = ErrorBody), (status = 429, description = "More than 10 rooms a minute, or too many room passwords being hashed at once", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/rooms")]
pub async fn create(
    session: SessionUser,
    state: web::Data<AppState>,
    body: web::Json<CreateRoomBody>,
) -> Result<HttpResponse, ApiError> {
    let (name, password) = body.into_inner().validate()?;
    match state
        .chat
        .create_room(session.0.user.id, name, password, None)
        .await?
    {
        WriteOutcome::RoomCreated {
            room, conversation, ..
        } => Ok(HttpResponse::Created().json(MembershipBody { room, conversation })),
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "rooms",
    params(("id" = String, Path, description = "A room id")),
    request_body = Option<JoinRoomBody>,
    responses((status = 200, description = "You are a member", body = MembershipBody), (status = 400, description = "Malformed request", body = ErrorBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "Password missing or wrong", body = ErrorBody), (status = 404, description = "No such room", body = ErrorBody), (status = 429, description = "Too many password attempts, or more than 30 joins and leaves a minute", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/rooms/{id}/join")]
pub async fn join(
    req: HttpRequest,
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    let password = JoinRoomBody::password_of(&body)?;
    let address = super::client_address(&req);
    match state
        .chat
        .join_room(session.0.user.id, room, password, address, None)
        .await?
    {
        WriteOutcome::RoomJoined {
            room, conversation, ..
        } => Ok(HttpResponse::Ok().json(MembershipBody { room, conversation })),
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "rooms",
    params(("id" = String, Path, description = "A room id")),
    responses((status = 200, description = "You are not a member (any more)", body = RoomBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 404, description = "No such room (a direct conversation's id included)", body = ErrorBody), (status = 429, description = "More than 30 joins and leaves a minute", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[post("/api/rooms/{id}/leave")]
pub async fn leave(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    match state.chat.leave_room(session.0.user.id, room, None).await? {
        WriteOutcome::RoomLeft { room, .. } => Ok(HttpResponse::Ok().json(RoomBody { room })),
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "rooms",
    params(("id" = String, Path, description = "A room id")),
    responses((status = 204, description = "Deleted, with its messages"), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "Only its creator may delete it", body = ErrorBody), (status = 404, description = "No such room", body = ErrorBody), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
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
        other => Err(ApiError::unexpected(other)),
    }
}

#[utoipa::path(
    tag = "rooms",
    params(("id" = String, Path, description = "A room id")),
    responses((status = 200, description = "Members by email, with presence", body = MembersBody), (status = 401, description = "No valid session token", body = ErrorBody), (status = 403, description = "A room with a password, and you are not a member", body = ErrorBody), (status = 404, description = "No such room", body = ErrorBody), (status = 429, description = "More than 20 history pages, member lists or searches a second (burst 40)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until a retry could pass (retry_after_ms of the body, rounded up)"))), (status = 503, description = "Storage unavailable; retry", body = ErrorBody)),
    security(("session" = []))
)]
#[get("/api/rooms/{id}/members")]
pub async fn members(
    session: SessionUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let room = room_id(&path)?;
    let members = state.chat.room_members(session.0.user.id, room).await?;
    Ok(HttpResponse::Ok().json(MembersBody { members }))
}
