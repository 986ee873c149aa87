//! The commands a window sends, one file each, as mini-redis has them: each file holds
//! the command's validated form, its `parse` (from the protocol's [`ClientFrame`],
//! checking what depends on the server's limits) and its `apply` (what the UserActor
//! does with it). This file decodes a text frame into a [`Command`] and dispatches.
//!
//! `banter-protocol` has already checked the frame's shape and ids; decoding here adds
//! the `ref` (echoed in the reply) and the limits. A frame that fails either is answered
//! with an `error` frame carrying its `ref`, and the socket stays open.

mod auth;
mod block;
mod changes;
mod create_room;
mod delete;
mod delete_room;
mod edit;
mod history;
mod join_room;
mod leave_room;
mod members;
mod online;
mod ping;
mod react;
mod read;
mod refusal;
mod rooms;
mod seen;
mod send;
mod set_name;
mod set_receipts;
mod typing;
mod ui;

pub use auth::Auth;
pub use block::Block;
pub use changes::Changes;
pub use create_room::CreateRoom;
pub use delete::Delete;
pub use delete_room::DeleteRoom;
pub use edit::Edit;
pub use history::History;
pub use join_room::JoinRoom;
pub use leave_room::LeaveRoom;
pub use members::Members;
pub use online::Online;
pub use ping::Ping;
pub use react::React;
pub use read::Read;
pub use refusal::{DecodeLimits, FrameError, Refusal};
pub use rooms::Rooms;
pub use seen::Seen;
pub use send::Send;
pub use set_name::SetName;
pub use set_receipts::SetReceipts;
pub use typing::Typing;
pub use ui::Ui;

use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::protocol::ErrorCode;
use actix::Context;
use banter_protocol::{ClientFrame, MAX_REF_CHARS};
use std::net::IpAddr;

/// A frame that passed decoding and validation, ready to apply.
#[derive(Debug, Clone)]
pub enum Command {
    Auth(Auth),
    Send(Send),
    History(History),
    Edit(Edit),
    Delete(Delete),
    React(React),
    Changes(Changes),
    Read(Read),
    Block(Block),
    Ui(Ui),
    SetName(SetName),
    SetReceipts(SetReceipts),
    Seen(Seen),
    Typing(Typing),
    CreateRoom(CreateRoom),
    JoinRoom(JoinRoom),
    LeaveRoom(LeaveRoom),
    DeleteRoom(DeleteRoom),
    Members(Members),
    Online(Online),
    Rooms(Rooms),
    Ping(Ping),
}

/// A command with the client's `ref`, echoed in the reply.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub reference: Option<String>,
    pub command: Command,
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
        // Too long, it is still echoed (the frame's size bounds it), so the client can
        // tell which frame was refused.
        Some(serde_json::Value::String(r)) => {
            return Err(FrameError {
                reference: Some(r.clone()),
                code: ErrorCode::BadRequest,
                message: format!("ref must be at most {MAX_REF_CHARS} characters"),
            })
        }
        Some(_) => {
            return Err(FrameError {
                reference: None,
                code: ErrorCode::BadRequest,
                message: "ref must be a string".into(),
            })
        }
    };
    let fail = |refusal: Refusal| FrameError {
        reference: reference.clone(),
        code: refusal.code,
        message: refusal.message,
    };
    if !value.is_object() {
        return Err(fail(Refusal::bad_request("a frame must be a JSON object")));
    }
    let frame: ClientFrame =
        serde_json::from_value(value).map_err(|e| fail(Refusal::bad_request(e.to_string())))?;
    let command = parse(frame, &limits).map_err(fail)?;
    Ok(Decoded { reference, command })
}

/// The `seq` a change names: a message's place, 1 or more.
fn message_seq(seq: i64) -> Result<i64, Refusal> {
    if seq < 1 {
        return Err(Refusal::bad_request("seq must be 1 or more"));
    }
    Ok(seq)
}

/// Each frame to its command's `parse`.
fn parse(frame: ClientFrame, limits: &DecodeLimits) -> Result<Command, Refusal> {
    Ok(match frame {
        ClientFrame::Auth { token } => Command::Auth(Auth::parse(token)),
        ClientFrame::Send {
            client_id,
            body,
            conversation_id,
            to,
            reply_to,
        } => Command::Send(Send::parse(
            client_id,
            body,
            conversation_id,
            to,
            reply_to,
            limits,
        )?),
        ClientFrame::History {
            conversation_id,
            after_seq,
            before_seq,
            limit,
        } => Command::History(History::parse(
            conversation_id,
            after_seq,
            before_seq,
            limit,
            limits,
        )?),
        ClientFrame::Edit {
            conversation_id,
            seq,
            body,
        } => Command::Edit(Edit::parse(conversation_id, seq, body, limits)?),
        ClientFrame::Delete {
            conversation_id,
            seq,
        } => Command::Delete(Delete::parse(conversation_id, seq)?),
        ClientFrame::React {
            conversation_id,
            seq,
            emoji,
            add,
        } => Command::React(React::parse(conversation_id, seq, &emoji, add)?),
        ClientFrame::Changes {
            conversation_id,
            after,
        } => Command::Changes(Changes::parse(conversation_id, after, limits)?),
        ClientFrame::Read {
            conversation_id,
            seq,
        } => Command::Read(Read::parse(conversation_id, seq)?),
        ClientFrame::Block { user_id } => Command::Block(Block::parse(user_id, true)),
        ClientFrame::Unblock { user_id } => Command::Block(Block::parse(user_id, false)),
        ClientFrame::Ui { state } => Command::Ui(Ui::parse(state, limits)?),
        ClientFrame::SetName { name } => Command::SetName(SetName::parse(name)?),
        ClientFrame::SetReceipts { share } => Command::SetReceipts(SetReceipts::parse(share)),
        ClientFrame::Seen {
            conversation_id,
            seq,
        } => Command::Seen(Seen::parse(conversation_id, seq)?),
        ClientFrame::Typing { conversation_id } => Command::Typing(Typing::parse(conversation_id)),
        ClientFrame::CreateRoom { name, password } => {
            Command::CreateRoom(CreateRoom::parse(name, password)?)
        }
        ClientFrame::JoinRoom { room_id, password } => {
            Command::JoinRoom(JoinRoom::parse(room_id, password)?)
        }
        ClientFrame::LeaveRoom { room_id } => Command::LeaveRoom(LeaveRoom::parse(room_id)),
        ClientFrame::DeleteRoom { room_id } => Command::DeleteRoom(DeleteRoom::parse(room_id)),
        ClientFrame::Members { room_id } => Command::Members(Members::parse(room_id)),
        ClientFrame::Online {
            prefix,
            offset,
            limit,
        } => Command::Online(Online::parse(prefix, offset, limit)?),
        ClientFrame::Rooms {
            query,
            after,
            limit,
        } => Command::Rooms(Rooms::parse(query, after, limit)?),
        ClientFrame::Ping => Command::Ping(Ping::parse()),
    })
}

impl Command {
    /// Runs the command for the window that `asked`: a write, a room action or a query.
    /// Writes reach the windows from the registry once committed; the asking window alone
    /// hears of a refusal, and gets the replies of queries and room actions.
    pub fn apply(
        self,
        actor: &mut UserActor,
        asked: Origin,
        address: Option<IpAddr>,
        ctx: &mut Context<UserActor>,
    ) {
        match self {
            // Applied by the socket session (it owns the session; it answers the
            // heartbeat at once); never forwarded.
            Command::Auth(_) | Command::Ping(_) => {}
            Command::Send(c) => c.apply(actor, asked, ctx),
            Command::History(c) => c.apply(actor, asked, ctx),
            Command::Edit(c) => c.apply(actor, asked, ctx),
            Command::Delete(c) => c.apply(actor, asked, ctx),
            Command::React(c) => c.apply(actor, asked, ctx),
            Command::Changes(c) => c.apply(actor, asked, ctx),
            Command::Read(c) => c.apply(actor, asked, ctx),
            Command::Block(c) => c.apply(actor, asked, ctx),
            Command::Ui(c) => c.apply(actor, asked, ctx),
            Command::SetName(c) => c.apply(actor, asked, ctx),
            Command::SetReceipts(c) => c.apply(actor, asked, ctx),
            Command::Seen(c) => c.apply(actor, asked, ctx),
            Command::Typing(c) => c.apply(actor, asked, ctx),
            Command::CreateRoom(c) => c.apply(actor, asked, ctx),
            Command::JoinRoom(c) => c.apply(actor, asked, address, ctx),
            Command::LeaveRoom(c) => c.apply(actor, asked, ctx),
            Command::DeleteRoom(c) => c.apply(actor, asked, ctx),
            Command::Members(c) => c.apply(actor, asked, ctx),
            Command::Online(c) => c.apply(actor, asked, ctx),
            Command::Rooms(c) => c.apply(actor, asked, ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_protocol::Target;

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
            Command::Send(Send {
                target: Target::Direct(_),
                ..
            })
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
            Command::CreateRoom(CreateRoom { name, password }) => {
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
    fn a_ping_decodes_with_or_without_its_ref() {
        let d = decode(r#"{"type":"ping","ref":"h1"}"#, LIMITS).unwrap();
        assert_eq!(d.reference.as_deref(), Some("h1"));
        assert!(matches!(d.command, Command::Ping(Ping)));
        let d = decode(r#"{"type":"ping"}"#, LIMITS).unwrap();
        assert_eq!(d.reference, None);
        assert!(matches!(d.command, Command::Ping(Ping)));
    }

    #[test]
    fn a_send_naming_both_targets_is_refused() {
        let e = error_of(&format!(
            r#"{{"type":"send","client_id":"c","body":"hi","to":"{ID}","conversation_id":"{ID}"}}"#
        ));
        assert!(e.message.contains("exactly one"));
    }
}
