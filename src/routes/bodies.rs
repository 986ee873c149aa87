//! The JSON bodies of the HTTP API, typed so the OpenAPI document (`/api/openapi.json`)
//! is generated from the same types the handlers send and receive.

use super::error::ApiError;
use crate::db::search::Hit;
use crate::domain::{
    BodyError, ClientId, ConversationId, ConversationSummary, Message, MessageBody, Room,
    RoomMember, RoomName, RoomPassword, User,
};
use crate::protocol::ErrorCode;
use chrono::{DateTime, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A query's `limit`: `default` when left out, else between 1 and `max`.
pub fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {max}"
        )));
    }
    Ok(limit)
}

/// A whole number, also when written `12.0` (JSON Schema's `integer` allows that).
fn whole(n: serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    whole(n.clone()).ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))
}

fn optional_whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole(n.clone())
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number"))),
    }
}

/// Every error: `{"error":{"code","message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What went wrong, in words.
    pub message: String,
    /// With `rate_limited` (429): milliseconds until a retry could pass; the response's
    /// `Retry-After` header says the same in whole seconds, rounded up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// `GET /api/config`: where the web client signs in.
#[derive(Serialize, ToSchema)]
pub struct ConfigBody {
    pub issuer: String,
    pub client_id: Option<String>,
    pub audience: String,
}

/// `POST /api/session`: a Banter session token.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    /// A biscuit; send it as `Authorization: Bearer` or in the socket's `auth` frame.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct UsersBody {
    pub users: Vec<User>,
    /// How many people (matching `prefix`, if one was asked) you may see online in all.
    pub count: usize,
    /// Where `users` starts in the list.
    pub offset: usize,
}

#[derive(Deserialize, IntoParams)]
pub struct OnlineQuery {
    /// Only emails that start with this, without case (at most 254 characters).
    #[param(max_length = 254)]
    pub prefix: Option<String>,
    /// Skip this many (default 0).
    #[param(minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<i64>,
    /// 1 to 200 (default 100).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct BlockedBody {
    pub blocked: Vec<User>,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationsBody {
    pub conversations: Vec<ConversationSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesBody {
    /// Ascending `seq`.
    pub messages: Vec<Message>,
}

#[derive(Deserialize, ToSchema)]
pub struct SendBody {
    /// 1 to 4000 characters, not only white space, no NUL (U+0000).
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub body: String,
    /// Yours to choose (1 to 100 characters, no NUL); a repeat returns the original message.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub client_id: String,
    /// The `seq` of an earlier message of this conversation that this one answers.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(minimum = 1)]
    pub reply_to: Option<i64>,
}

/// A [`SendBody`] that passed [`SendBody::validate`]: what a send over HTTP writes.
#[derive(Debug, Clone)]
pub struct ValidSend {
    pub body: MessageBody,
    pub client_id: ClientId,
    pub reply_to: Option<i64>,
}

impl SendBody {
    /// Checks the fields as a `send` frame's are checked, in the same order and with the
    /// same codes: `reply_to` of 1 or more, the client id, then the body (`too_large`
    /// past `max_body_chars`, else `bad_request`).
    pub fn validate(self, max_body_chars: usize) -> Result<ValidSend, ApiError> {
        let SendBody {
            body,
            client_id,
            reply_to,
        } = self;
        if reply_to.is_some_and(|s| s < 1) {
            return Err(ApiError::BadRequest(
                "reply_to must be a seq of 1 or more".into(),
            ));
        }
        let client_id = ClientId::parse(client_id).map_err(|m| ApiError::BadRequest(m.into()))?;
        let body = MessageBody::parse(body, max_body_chars).map_err(|e| match e {
            BodyError::TooLong { .. } => ApiError::TooLarge(e.to_string()),
            BodyError::Empty | BodyError::Nul => ApiError::BadRequest(e.to_string()),
        })?;
        Ok(ValidSend {
            body,
            client_id,
            reply_to,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReadBody {
    /// Read up to here (never moves backwards; stops at the last message).
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 0)]
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadPositionBody {
    pub conversation_id: ConversationId,
    pub seq: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// Messages after this seq, oldest first. With before_seq: the messages between the
    /// two, oldest first (a window of history).
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// The newest messages before this seq. With after_seq: the messages between the two,
    /// oldest first.
    #[param(minimum = 0)]
    pub before_seq: Option<i64>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// A page of the room directory (by name without case).
#[derive(Serialize, ToSchema)]
pub struct RoomsBody {
    pub rooms: Vec<Room>,
    /// Whether more rooms follow: ask again with `after` = the last room's name.
    pub more: bool,
}

#[derive(Deserialize, IntoParams)]
pub struct RoomsQuery {
    /// Only rooms whose name contains this, without case (at most 80 characters, no NUL).
    #[param(max_length = 80, pattern = r"^[^\u0000]*$")]
    pub query: Option<String>,
    /// Only rooms after this name, without case: the last room of the previous page (at
    /// most 80 characters, no NUL).
    #[param(max_length = 80, pattern = r"^[^\u0000]*$")]
    pub after: Option<String>,
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateRoomBody {
    /// 1 to 80 characters, unique whatever the case.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Empty or absent: an open room. No NUL (U+0000).
    #[schema(max_length = 200, pattern = r"^[^\u0000]*$")]
    pub password: Option<String>,
}

impl CreateRoomBody {
    /// The room's name (trimmed) and password (`None` for an open room), or `bad_request`.
    pub fn validate(self) -> Result<(RoomName, Option<RoomPassword>), ApiError> {
        let name = RoomName::parse(&self.name).map_err(|m| ApiError::BadRequest(m.into()))?;
        let password =
            RoomPassword::parse(self.password).map_err(|m| ApiError::BadRequest(m.into()))?;
        Ok((name, password))
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct JoinRoomBody {
    /// Needed when the room has one and you are not a member yet. No NUL (U+0000).
    #[schema(max_length = 200, pattern = r"^[^\u0000]*$")]
    pub password: Option<String>,
}

impl JoinRoomBody {
    /// The password of a join's raw body, which is optional: no body (or only white
    /// space), `null` and `{}` ask to join an open room; anything else must be a valid
    /// [`JoinRoomBody`], or the answer is `bad_request`.
    pub fn password_of(raw: &[u8]) -> Result<Option<RoomPassword>, ApiError> {
        let body = if raw.iter().all(u8::is_ascii_whitespace) {
            JoinRoomBody::default()
        } else {
            serde_json::from_slice::<Option<JoinRoomBody>>(raw)
                .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?
                .unwrap_or_default()
        };
        RoomPassword::parse(body.password).map_err(|m| ApiError::BadRequest(m.into()))
    }
}

/// A room and your conversation in it.
#[derive(Serialize, ToSchema)]
pub struct MembershipBody {
    pub room: Room,
    pub conversation: ConversationSummary,
}

#[derive(Serialize, ToSchema)]
pub struct RoomBody {
    pub room: Room,
}

#[derive(Serialize, ToSchema)]
pub struct MembersBody {
    pub members: Vec<RoomMember>,
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// The start of an email or display name, without case (at most 254 characters, no
    /// NUL; leave it out for everyone).
    #[param(max_length = 254, pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// 1 to 50 (default 20). Type more of `q` to narrow the list: there are no further pages.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PeopleBody {
    /// By name without case (the email where there is none), then email.
    pub people: Vec<User>,
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words, "quoted phrases", -excluded words, OR (at most 200 characters, at most 20
    /// `-`, no NUL).
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub q: Option<String>,
    /// 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    /// 0 to 10000 (default 0).
    #[param(minimum = 0, maximum = 10000)]
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchBody {
    pub results: Vec<Hit>,
    /// The `offset` of the next page; null on the last one.
    pub next_offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthBody {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessBody {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub postgres: String,
    /// The write path (the PersistActor): `ok`, or `down` when it does not answer.
    pub writes: String,
    /// With REDIS_URL: `ok` or `out of sync`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// A message's new text.
#[derive(Deserialize, ToSchema)]
pub struct EditBody {
    /// 1 to 4000 characters, not only white space, no NUL (U+0000): a send's rules.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub body: String,
}

#[derive(Deserialize, IntoParams)]
pub struct ChangesQuery {
    /// The change number you have seen up to (0: none).
    #[param(minimum = 0)]
    pub after: i64,
}

/// The messages changed after a change number, as they are now.
#[derive(Serialize, ToSchema)]
pub struct ChangesBody {
    /// In change order; each once, however often it changed.
    pub messages: Vec<Message>,
    /// Every change up to this number is in `messages` (or not yours to see).
    pub through: i64,
    /// More follow: ask again with `after` = `through`.
    pub more: bool,
}

/// Who has read up to a message.
#[derive(Serialize, ToSchema)]
pub struct SeenBody {
    /// How many of the other members (who share their receipts, with no block between
    /// you) have read up to it.
    pub count: i64,
    /// The first 100 of them, by email.
    pub users: Vec<User>,
}

/// Whether you share your read positions (read receipts).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReceiptsBody {
    pub share: bool,
}
