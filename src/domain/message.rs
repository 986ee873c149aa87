//! Messages and their validated body.

use super::ids::{ClientId, ConversationId, MessageId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message body that passed SPEC §7: 1..=max characters, not only white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

/// Why a body was refused; mapped to `bad_request` or `too_large`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body must not be empty or only white space")]
    Empty,
    #[error("body is {len} characters; the limit is {max}")]
    TooLong { len: usize, max: usize },
}

impl MessageBody {
    pub fn parse(body: String, max_chars: usize) -> Result<Self, BodyError> {
        if body.trim().is_empty() {
            return Err(BodyError::Empty);
        }
        let len = body.chars().count();
        if len > max_chars {
            return Err(BodyError::TooLong {
                len,
                max: max_chars,
            });
        }
        Ok(MessageBody(body))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A committed message, exactly as clients see it (SPEC §5, plus `reply_to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub sender_id: UserId,
    pub body: String,
    pub client_id: ClientId,
    pub created_at: DateTime<Utc>,
    /// The earlier message this one answers, quoted (absent for most messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Quote>,
}

/// Longest quote of a replied-to message, in characters.
pub const QUOTE_CHARS: usize = 200;

/// `{"seq","sender_id","body"}`: what a reply shows of the message it answers. `body` is
/// its first 200 characters; `null` when that message is gone (retention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quote {
    pub seq: i64,
    pub sender_id: Option<UserId>,
    pub body: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_only_white_space_are_refused() {
        assert_eq!(
            MessageBody::parse(" \n\t".into(), 10),
            Err(BodyError::Empty)
        );
        assert_eq!(MessageBody::parse(String::new(), 10), Err(BodyError::Empty));
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(MessageBody::parse("é".repeat(4000), 4000).is_ok());
        assert_eq!(
            MessageBody::parse("é".repeat(4001), 4000),
            Err(BodyError::TooLong {
                len: 4001,
                max: 4000
            })
        );
    }
}
