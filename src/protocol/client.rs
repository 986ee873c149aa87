//! Client frames decoded into validated commands: `banter-protocol` checks the shape and
//! the ids, this module what depends on the server's limits.

use crate::domain::{
    BodyError, ClientId, ConversationId, MessageBody, RoomName, RoomPassword, UiState, UserId,
};
use banter_protocol::{ClientFrame, ErrorCode, Page, Target, MAX_REF_CHARS};

/// A frame that passed decoding and validation, ready to execute.
#[derive(Debug, Clone)]
pub enum Command {
    Auth {
        token: String,
    },
    Send {
        target: Target,
        body: MessageBody,
        client_id: ClientId,
        reply_to: Option<i64>,
    },
    History {
        conversation: ConversationId,
        page: Page,
        limit: i64,
    },
    Read {
        conversation: ConversationId,
        seq: i64,
    },
    Block {
        user: UserId,
    },
    Unblock {
        user: UserId,
    },
    Ui {
        state: UiState,
    },
    Typing {
        conversation: ConversationId,
    },
    CreateRoom {
        name: RoomName,
        password: Option<RoomPassword>,
    },
    JoinRoom {
        room: ConversationId,
        password: Option<RoomPassword>,
    },
    LeaveRoom {
        room: ConversationId,
    },
    DeleteRoom {
        room: ConversationId,
    },
    Members {
        room: ConversationId,
    },
}

/// A command with the client's `ref`, echoed in the reply.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub reference: Option<String>,
    pub command: Command,
}

/// A frame that could not be decoded: answered with an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub reference: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

/// Limits decoding enforces; a subset of [`crate::configuration::Limits`].
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_body_chars: usize,
    pub history_max: i64,
    pub max_ui_state_bytes: usize,
}

/// Decodes one text frame.
pub fn decode(text: &str, limits: DecodeLimits) -> Result<Decoded, FrameError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| FrameError {
        reference: None,
        code: ErrorCode::BadRequest,
        message: format!("frame is not valid JSON: {e}"),
    })?;
    let reference = match value.get("ref") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(r)) if r.chars().count() <= MAX_REF_CHARS => Some(r.clone()),
        Some(_) => {
            return Err(FrameError {
                reference: None,
                code: ErrorCode::BadRequest,
                message: "ref must be a string of at most 100 characters".into(),
            })
        }
    };
    let fail = |code, message: String| FrameError {
        reference: reference.clone(),
        code,
        message,
    };
    if !value.is_object() {
        return Err(fail(
            ErrorCode::BadRequest,
            "a frame must be a JSON object".into(),
        ));
    }
    let frame: ClientFrame =
        serde_json::from_value(value).map_err(|e| fail(ErrorCode::BadRequest, e.to_string()))?;
    let command = match frame {
        ClientFrame::Auth { token } => Command::Auth { token },
        ClientFrame::Send {
            client_id,
            body,
            conversation_id,
            to,
            reply_to,
        } => {
            if reply_to.is_some_and(|s| s < 1) {
                return Err(fail(
                    ErrorCode::BadRequest,
                    "reply_to must be a seq of 1 or more".into(),
                ));
            }
            let target = match (conversation_id, to) {
                (Some(c), None) => Target::Conversation(c),
                (None, Some(u)) => Target::Direct(u),
                _ => {
                    return Err(fail(
                        ErrorCode::BadRequest,
                        "send needs exactly one of conversation_id and to".into(),
                    ))
                }
            };
            let client_id =
                ClientId::parse(client_id).map_err(|m| fail(ErrorCode::BadRequest, m.into()))?;
            let body = MessageBody::parse(body, limits.max_body_chars).map_err(|e| {
                let code = match e {
                    BodyError::Empty | BodyError::Nul => ErrorCode::BadRequest,
                    BodyError::TooLong { .. } => ErrorCode::TooLarge,
                };
                fail(code, e.to_string())
            })?;
            Command::Send {
                target,
                body,
                client_id,
                reply_to,
            }
        }
        ClientFrame::History {
            conversation_id,
            after_seq,
            before_seq,
            limit,
        } => {
            let page = Page::from_bounds(after_seq, before_seq)
                .map_err(|m| fail(ErrorCode::BadRequest, m.into()))?;
            let limit = limit.unwrap_or(50);
            if !(1..=limits.history_max).contains(&limit) {
                return Err(fail(
                    ErrorCode::BadRequest,
                    format!("limit must be between 1 and {}", limits.history_max),
                ));
            }
            Command::History {
                conversation: conversation_id,
                page,
                limit,
            }
        }
        ClientFrame::Read {
            conversation_id,
            seq,
        } => {
            if seq < 0 {
                return Err(fail(
                    ErrorCode::BadRequest,
                    "seq must not be negative".into(),
                ));
            }
            Command::Read {
                conversation: conversation_id,
                seq,
            }
        }
        ClientFrame::Block { user_id } => Command::Block { user: user_id },
        ClientFrame::Unblock { user_id } => Command::Unblock { user: user_id },
        ClientFrame::Ui { state } => {
            let size = serde_json::to_vec(&state)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > limits.max_ui_state_bytes {
                return Err(fail(
                    ErrorCode::TooLarge,
                    format!(
                        "ui state is {size} bytes; the limit is {}",
                        limits.max_ui_state_bytes
                    ),
                ));
            }
            if ui_has_nul(&state) {
                return Err(fail(
                    ErrorCode::BadRequest,
                    "ui state must not contain the NUL character (U+0000)".into(),
                ));
            }
            Command::Ui { state }
        }
        ClientFrame::Typing { conversation_id } => Command::Typing {
            conversation: conversation_id,
        },
        ClientFrame::CreateRoom { name, password } => Command::CreateRoom {
            name: RoomName::parse(&name).map_err(|m| fail(ErrorCode::BadRequest, m.into()))?,
            password: RoomPassword::parse(password)
                .map_err(|m| fail(ErrorCode::BadRequest, m.into()))?,
        },
        ClientFrame::JoinRoom { room_id, password } => Command::JoinRoom {
            room: room_id,
            password: RoomPassword::parse(password)
                .map_err(|m| fail(ErrorCode::BadRequest, m.into()))?,
        },
        ClientFrame::LeaveRoom { room_id } => Command::LeaveRoom { room: room_id },
        ClientFrame::DeleteRoom { room_id } => Command::DeleteRoom { room: room_id },
        ClientFrame::Members { room_id } => Command::Members { room: room_id },
    };
    Ok(Decoded { reference, command })
}

/// Does any string of the state (keys included, at any depth) hold U+0000? Postgres's
/// `jsonb` cannot store it, so such a state would fail the whole group commit.
fn ui_has_nul(state: &UiState) -> bool {
    fn any(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(any),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || any(v)),
            _ => false,
        }
    }
    state.selected.as_deref().is_some_and(|s| s.contains('\0'))
        || state.draft.contains('\0')
        || state.extra.iter().any(|(k, v)| k.contains('\0') || any(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_body_chars: 10,
        history_max: 200,
        max_ui_state_bytes: 100,
    };
    const ID: &str = "5b0a4e0e-6a3b-4a53-9b7f-0b1f9b2f2a11";

    fn error_of(text: &str) -> FrameError {
        decode(text, LIMITS).expect_err(text)
    }

    #[test]
    fn a_direct_send_decodes_with_its_ref() {
        let d = decode(
            &format!(r#"{{"type":"send","ref":"r1","client_id":"c1","body":"hi","to":"{ID}"}}"#),
            LIMITS,
        )
        .unwrap();
        assert_eq!(d.reference.as_deref(), Some("r1"));
        assert!(matches!(
            d.command,
            Command::Send {
                target: Target::Direct(_),
                ..
            }
        ));
    }

    #[test]
    fn bad_frames_get_codes_and_keep_their_ref() {
        let cases = [
            ("not json", ErrorCode::BadRequest, None),
            ("[1,2]", ErrorCode::BadRequest, None),
            (
                r#"{"type":"dance","ref":"a"}"#,
                ErrorCode::BadRequest,
                Some("a"),
            ),
            (
                r#"{"type":"send","ref":"b","client_id":"c","body":"hi"}"#,
                ErrorCode::BadRequest,
                Some("b"),
            ),
            (
                r#"{"type":"send","ref":"c","client_id":"c","body":"  ","to":"x"}"#,
                ErrorCode::BadRequest,
                Some("c"),
            ),
            (
                &format!(
                    r#"{{"type":"send","ref":"d","client_id":"c","body":"hello world!","to":"{ID}"}}"#
                ),
                ErrorCode::TooLarge,
                Some("d"),
            ),
            (
                r#"{"type":"history","ref":"e","conversation_id":"nope"}"#,
                ErrorCode::BadRequest,
                Some("e"),
            ),
            (
                &format!(r#"{{"type":"history","conversation_id":"{ID}","limit":201}}"#),
                ErrorCode::BadRequest,
                None,
            ),
            (
                &format!(r#"{{"type":"read","conversation_id":"{ID}","seq":-1}}"#),
                ErrorCode::BadRequest,
                None,
            ),
            (
                &format!(
                    r#"{{"type":"ui","state":{{"draft":"{}"}}}}"#,
                    "x".repeat(200)
                ),
                ErrorCode::TooLarge,
                None,
            ),
        ];
        for (text, code, reference) in cases {
            let e = error_of(text);
            assert_eq!(e.code, code, "{text}");
            assert_eq!(e.reference.as_deref(), reference, "{text}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn room_frames_decode_and_refuse_bad_names() {
        let d = decode(
            r#"{"type":"create_room","ref":"r","name":" general ","password":"pw"}"#,
            LIMITS,
        )
        .unwrap();
        match d.command {
            Command::CreateRoom { name, password } => {
                assert_eq!(name.as_str(), "general");
                assert_eq!(password.map(|p| p.expose().to_owned()), Some("pw".into()));
            }
            other => panic!("decoded {other:?}"),
        }
        let e = error_of(r#"{"type":"create_room","ref":"r","name":"  "}"#);
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = error_of(r#"{"type":"join_room","room_id":"nope"}"#);
        assert!(e.message.contains("room_id"));
    }

    #[test]
    fn a_send_naming_both_targets_is_refused() {
        let e = error_of(&format!(
            r#"{{"type":"send","client_id":"c","body":"hi","to":"{ID}","conversation_id":"{ID}"}}"#
        ));
        assert!(e.message.contains("exactly one"));
    }
}
