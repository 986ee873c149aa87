//! The validators of what clients write, over the socket and over HTTP. The first byte
//! picks one, the rest is its input:
//!
//! | byte | input | validator |
//! |---|---|---|
//! | `b` | a message body | `MessageBody::parse` and the `send` frame's codes |
//! | `c` | a `client_id` | `ClientId::parse` |
//! | `n` | a room name | `RoomName::parse` |
//! | `p` | a room password | `RoomPassword::parse` |
//! | `u` | a `ui` state (JSON) | `cmd::Ui::parse` |
//! | `s` | `POST /api/conversations/{id}/messages` body (JSON) | `SendBody::validate` |
//! | `r` | `POST /api/rooms` body (JSON) | `CreateRoomBody::validate` |
//! | `j` | `POST /api/rooms/{id}/join` raw body | `JoinRoomBody::password_of` |
//!
//! Holds: each validator accepts exactly what its documented rule allows (restated in
//! `banter_fuzz`) and refuses with the documented code; the HTTP and the socket paths
//! agree on every input; and whatever is accepted, Postgres stores (`text`, `jsonb`).

#![no_main]

use banter::actors::user::cmd::{CreateRoom, JoinRoom, Send, Ui};
use banter::domain::{BodyError, ClientId, ConversationId, MessageBody, RoomName, RoomPassword};
use banter::protocol::ErrorCode;
use banter::routes::bodies::{CreateRoomBody, JoinRoomBody, SendBody};
use banter::routes::error::ApiError;
use banter_fuzz::{
    assert_postgres_stores_jsonb, assert_postgres_stores_text, body_rule, client_id_ok,
    is_client_error, json_has_nul, production_limits, room_name_ok, room_password_ok, BodyRule,
    TIGHT,
};
use banter_protocol::UiState;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which {
        b'j' => join_body(rest),
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            match which {
                b'b' => body(text),
                b'c' => client_id(text),
                b'n' => room_name(text),
                b'p' => room_password(text),
                b'u' => ui_state(text),
                b's' => send_body(text),
                b'r' => create_room_body(text),
                _ => {}
            }
        }
    }
});

fn body(text: &str) {
    for limits in [production_limits(), TIGHT] {
        let max = limits.max_body_chars;
        let got = MessageBody::parse(text.to_owned(), max);
        let want = body_rule(text, max);
        match (&got, &want) {
            (Ok(b), None) => assert_eq!(b.as_str(), text),
            (Err(BodyError::Empty), Some(BodyRule::Empty))
            | (Err(BodyError::Nul), Some(BodyRule::Nul)) => {}
            (Err(BodyError::TooLong { len, max: m }), Some(BodyRule::TooLong)) => {
                assert_eq!((*len, *m), (text.chars().count(), max), "{text:?}");
            }
            _ => panic!("{text:?} (max {max}): got {got:?}, the rule says {want:?}"),
        }
        // The socket's `send` answers the documented code for each.
        let sent = Send::parse(
            "c".into(),
            text.to_owned(),
            Some(ConversationId::new()),
            None,
            None,
            &limits,
        );
        match (sent, want) {
            (Ok(_), None) => {}
            (Err(r), Some(BodyRule::TooLong)) => {
                assert_eq!(r.code, ErrorCode::TooLarge, "{text:?}")
            }
            (Err(r), Some(_)) => assert_eq!(r.code, ErrorCode::BadRequest, "{text:?}"),
            (other, want) => panic!("{text:?}: send answered {other:?}, the rule says {want:?}"),
        }
    }
    if body_rule(text, production_limits().max_body_chars).is_none() {
        assert_postgres_stores_text("the body", text);
    }
}

fn client_id(text: &str) {
    let got = ClientId::parse(text.to_owned());
    assert_eq!(got.is_ok(), client_id_ok(text), "{text:?}: {got:?}");
    if let Ok(id) = got {
        assert_eq!(id.as_str(), text);
        assert_postgres_stores_text("the client_id", text);
    }
}

fn room_name(text: &str) {
    let got = RoomName::parse(text);
    assert_eq!(got.is_ok(), room_name_ok(text.trim()), "{text:?}: {got:?}");
    if let Ok(name) = got {
        assert_eq!(name.as_str(), text.trim());
        assert_postgres_stores_text("the room name", name.as_str());
    }
}

fn room_password(text: &str) {
    let got = RoomPassword::parse(Some(text.to_owned()));
    match &got {
        Ok(None) => assert!(text.is_empty(), "{text:?} read as no password"),
        Ok(Some(p)) => {
            assert_eq!(p.expose(), text);
            assert!(!text.is_empty() && room_password_ok(text), "{text:?}");
        }
        Err(_) => assert!(!room_password_ok(text), "{text:?} refused"),
    }
    if let Ok(Some(p)) = &got {
        assert_eq!(
            format!("{p:?}"),
            "RoomPassword(<hidden>)",
            "a password shows in logs"
        );
    }
}

fn ui_state(text: &str) {
    let Ok(state) = serde_json::from_str::<UiState>(text) else {
        return;
    };
    let stored = serde_json::to_value(&state).expect("a UI state serializes");
    let size = serde_json::to_vec(&stored).unwrap().len();
    let nul = json_has_nul(&stored);
    for limits in [production_limits(), TIGHT] {
        match Ui::parse(state.clone(), &limits) {
            Ok(ui) => {
                assert!(
                    size <= limits.max_ui_state_bytes && !nul,
                    "{text:?} accepted"
                );
                assert_eq!(ui.state, state);
            }
            Err(r) if r.code == ErrorCode::TooLarge => {
                assert!(size > limits.max_ui_state_bytes, "{text:?}: {r:?}")
            }
            Err(r) if r.code == ErrorCode::BadRequest => {
                assert!(nul && size <= limits.max_ui_state_bytes, "{text:?}: {r:?}")
            }
            Err(r) => panic!("{text:?}: refused with {r:?}"),
        }
    }
    if size <= production_limits().max_ui_state_bytes && !nul {
        assert_postgres_stores_jsonb("the ui state", &stored);
        // What the other windows are sent back reads as the same state.
        let back: UiState =
            serde_json::from_value(stored.clone()).expect("a stored state reads back");
        assert_eq!(back, state, "{text:?}");
    }
}

fn send_body(text: &str) {
    let Ok(body) = serde_json::from_str::<SendBody>(text) else {
        return;
    };
    let (client, words, reply_to) = (body.client_id.clone(), body.body.clone(), body.reply_to);
    for limits in [production_limits(), TIGHT] {
        let http = SendBody {
            body: words.clone(),
            client_id: client.clone(),
            reply_to,
        }
        .validate(limits.max_body_chars);
        let socket = Send::parse(
            client.clone(),
            words.clone(),
            Some(ConversationId::new()),
            None,
            reply_to,
            &limits,
        );
        match (&http, &socket) {
            (Ok(h), Ok(s)) => {
                assert_eq!(
                    (h.body.as_str(), h.client_id.as_str(), h.reply_to),
                    (s.body.as_str(), s.client_id.as_str(), s.reply_to)
                );
                assert!(reply_to.is_none_or(|r| r >= 1));
                assert!(
                    client_id_ok(&client) && body_rule(&words, limits.max_body_chars).is_none()
                );
            }
            (Err(h), Err(s)) => {
                assert!(is_client_error(h), "{text:?}: {h:?}");
                let code = match h {
                    ApiError::TooLarge(_) => ErrorCode::TooLarge,
                    _ => ErrorCode::BadRequest,
                };
                assert_eq!(code, s.code, "{text:?}: HTTP {h:?}, socket {s:?}");
            }
            _ => panic!("{text:?}: HTTP answered {http:?}, the socket {socket:?}"),
        }
    }
}

fn create_room_body(text: &str) {
    let Ok(body) = serde_json::from_str::<CreateRoomBody>(text) else {
        return;
    };
    let (name, password) = (body.name.clone(), body.password.clone());
    let http = body.validate();
    let socket = CreateRoom::parse(name.clone(), password.clone());
    match (&http, &socket) {
        (Ok((n, p)), Ok(s)) => {
            assert_eq!(n.as_str(), s.name.as_str());
            assert_eq!(
                p.as_ref().map(|p| p.expose()),
                s.password.as_ref().map(|p| p.expose())
            );
            assert!(room_name_ok(n.as_str()), "{text:?}");
            assert_postgres_stores_text("the room name", n.as_str());
        }
        (Err(h), Err(s)) => {
            assert!(
                matches!(h, ApiError::BadRequest(_)) && is_client_error(h),
                "{text:?}: {h:?}"
            );
            assert_eq!(s.code, ErrorCode::BadRequest, "{text:?}");
            assert!(
                !room_name_ok(name.trim()) || password.is_some_and(|p| !room_password_ok(&p)),
                "{text:?}"
            );
        }
        _ => panic!("{text:?}: HTTP answered {http:?}, the socket {socket:?}"),
    }
}

fn join_body(raw: &[u8]) {
    let http = JoinRoomBody::password_of(raw);
    if let Err(e) = &http {
        assert!(
            matches!(e, ApiError::BadRequest(_)) && is_client_error(e),
            "{raw:?}: {e:?}"
        );
    }
    // The socket's `join_room` with the same password (when the body names one) agrees.
    let blank = raw.iter().all(u8::is_ascii_whitespace);
    let password = match serde_json::from_slice::<Option<JoinRoomBody>>(raw) {
        Ok(body) => body.and_then(|b| b.password),
        Err(_) if blank => None,
        Err(_) => {
            assert!(http.is_err(), "{raw:?}: malformed JSON accepted");
            return;
        }
    };
    let socket = JoinRoom::parse(ConversationId::new(), password);
    match (&http, &socket) {
        (Ok(h), Ok(s)) => assert_eq!(
            h.as_ref().map(|p| p.expose()),
            s.password.as_ref().map(|p| p.expose())
        ),
        (Err(_), Err(s)) => assert_eq!(s.code, ErrorCode::BadRequest),
        _ => panic!("{raw:?}: HTTP answered {http:?}, the socket {socket:?}"),
    }
}
