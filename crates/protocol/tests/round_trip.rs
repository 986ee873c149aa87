//! Every frame, both ways, survives serialize → deserialize unchanged, and looks on the
//! wire the way docs/protocol.md shows it.

use banter_protocol::*;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use std::borrow::Cow;

const ALICE: &str = "a1c0ffee-0000-4000-8000-000000000001";
const BOB: &str = "b2c0ffee-0000-4000-8000-000000000002";
const CONV: &str = "c3c0ffee-0000-4000-8000-000000000003";

fn alice() -> User {
    User {
        id: UserId::parse(ALICE).unwrap(),
        email: "alice@example.com".into(),
        name: Some("Alice Liddell".into()),
    }
}

fn conversation() -> ConversationId {
    ConversationId::parse(CONV).unwrap()
}

fn message(seq: i64) -> Message {
    Message {
        id: MessageId::parse("0e5fc0ff-0000-4000-8000-000000000009").unwrap(),
        conversation_id: conversation(),
        seq,
        sender_id: UserId::parse(BOB).unwrap(),
        body: "hello".into(),
        client_id: ClientId::parse("b-1".into()).unwrap(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 3).unwrap(),
        reply_to: (seq > 1).then(|| Quote {
            seq: seq - 1,
            sender_id: None,
            body: None,
        }),
        edited_at: (seq > 2).then(|| Utc.with_ymd_and_hms(2026, 11, 21, 10, 1, 0).unwrap()),
        deleted_at: None,
        reactions: if seq > 2 {
            vec![Reaction {
                emoji: "👍".into(),
                users: vec![UserId::parse(BOB).unwrap()],
            }]
        } else {
            Vec::new()
        },
        version: if seq > 2 { 7 } else { 0 },
    }
}

fn room() -> Room {
    Room {
        id: conversation(),
        name: "General".into(),
        has_password: true,
        created_by: Some(alice().id),
        members: 2,
        everyone: true,
    }
}

fn summary() -> ConversationSummary {
    ConversationSummary {
        id: conversation(),
        kind: ConversationKind::Room,
        peer: None,
        name: Some("General".into()),
        last_seq: 4,
        read_seq: 3,
        unread: 1,
        mentions: vec![4],
        peer_read_seq: None,
        last_change: 9,
    }
}

fn every_server_event() -> Vec<ServerEvent<'static>> {
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 10, 15, 0).unwrap();
    let mut ui = UiState {
        selected: Some(BOB.into()),
        draft: "hi".into(),
        ..UiState::default()
    };
    ui.extra.insert("drafts".into(), json!({BOB: "hi"}));
    let r = || Some(Cow::Borrowed("r1"));
    vec![
        ServerEvent::Ready {
            reference: r(),
            me: Cow::Owned(alice()),
            online: Cow::Owned(vec![alice()]),
            online_count: 1,
            partners: Cow::Owned(vec![alice()]),
            blocked: Cow::Owned(vec![]),
            conversations: Cow::Owned(vec![summary()]),
            rooms: Cow::Owned(vec![room()]),
            ui: Cow::Owned(ui.clone()),
            receipts: false,
            expires_at: at,
        },
        ServerEvent::OnlineChanges {
            came: Cow::Owned(vec![alice()]),
            went: Cow::Owned(vec![alice().id]),
            count: 7,
        },
        ServerEvent::Message {
            message: Cow::Owned(message(2)),
        },
        ServerEvent::Ack {
            reference: r(),
            message: Cow::Owned(message(1)),
        },
        ServerEvent::History {
            reference: None,
            conversation_id: conversation(),
            messages: Cow::Owned(vec![message(1), message(2)]),
        },
        ServerEvent::Blocked {
            reference: r(),
            user: Cow::Owned(alice()),
        },
        ServerEvent::Unblocked {
            reference: None,
            user: Cow::Owned(alice()),
        },
        ServerEvent::Read {
            user_id: Some(alice().id),
            conversation_id: conversation(),
            seq: 5,
        },
        ServerEvent::Ui {
            state: Cow::Owned(ui),
        },
        ServerEvent::UserUpdated {
            user: Cow::Owned(alice()),
        },
        ServerEvent::Typing {
            conversation_id: conversation(),
            user_id: alice().id,
        },
        ServerEvent::Error {
            reference: r(),
            code: ErrorCode::RateLimited,
            message: Cow::Borrowed("slow down"),
            retry_after_ms: Some(250),
        },
        ServerEvent::Session {
            reference: r(),
            expires_at: at,
        },
        ServerEvent::Ok {
            reference: Cow::Borrowed("r1"),
        },
        ServerEvent::Room {
            room: Cow::Owned(room()),
        },
        ServerEvent::RoomDeleted {
            reference: r(),
            room_id: conversation(),
        },
        ServerEvent::Joined {
            reference: r(),
            room: Cow::Owned(room()),
            conversation: Cow::Owned(summary()),
        },
        ServerEvent::Left {
            reference: None,
            room_id: conversation(),
        },
        ServerEvent::Member {
            room_id: conversation(),
            user: Cow::Owned(alice()),
            joined: true,
        },
        ServerEvent::Members {
            reference: r(),
            room_id: conversation(),
            members: Cow::Owned(vec![RoomMember {
                id: alice().id,
                email: "alice@example.com".into(),
                name: None,
                online: false,
            }]),
        },
        ServerEvent::Rooms {
            reference: r(),
            query: Some(Cow::Borrowed("book")),
            rooms: Cow::Owned(vec![room()]),
            more: false,
        },
        ServerEvent::MessageEdited {
            reference: None,
            conversation_id: conversation(),
            seq: 3,
            body: Cow::Borrowed("hello again"),
            edited_at: at,
            change: 8,
        },
        ServerEvent::MessageDeleted {
            reference: None,
            conversation_id: conversation(),
            seq: 2,
            deleted_at: at,
            change: 9,
        },
        ServerEvent::Reaction {
            reference: r(),
            conversation_id: conversation(),
            seq: 3,
            user_id: alice().id,
            emoji: Cow::Borrowed("🎉"),
            add: false,
            change: 10,
        },
        ServerEvent::Receipts { share: false },
        ServerEvent::Seen {
            reference: r(),
            conversation_id: conversation(),
            seq: 4,
            count: 1,
            users: Cow::Owned(vec![alice()]),
        },
        ServerEvent::Changes {
            reference: r(),
            conversation_id: conversation(),
            messages: Cow::Owned(vec![message(3)]),
            through: 10,
            more: true,
        },
    ]
}

#[test]
fn every_server_event_round_trips() {
    for event in every_server_event() {
        let text = event.to_text();
        let back = ServerEvent::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, event, "{text}");
    }
}

#[test]
fn server_events_carry_their_type_and_ref_on_the_wire() {
    let names = [
        "ready",
        "online_changes",
        "message",
        "ack",
        "history",
        "blocked",
        "unblocked",
        "read",
        "ui",
        "user_updated",
        "typing",
        "error",
        "session",
        "ok",
        "room",
        "room_deleted",
        "joined",
        "left",
        "member",
        "members",
        "rooms",
        "message_edited",
        "message_deleted",
        "reaction",
        "receipts",
        "seen",
        "changes",
    ];
    let events = every_server_event();
    assert_eq!(events.len(), names.len());
    for (event, name) in events.iter().zip(names) {
        let value: Value = serde_json::from_str(&event.to_text()).unwrap();
        assert_eq!(value["type"], name);
        assert_eq!(
            value.get("ref").and_then(Value::as_str),
            event.reference(),
            "{value}"
        );
    }
}

#[test]
fn a_message_looks_as_documented() {
    let value: Value = serde_json::from_str(
        &ServerEvent::Message {
            message: Cow::Owned(message(1)),
        }
        .to_text(),
    )
    .unwrap();
    assert_eq!(
        value,
        json!({"type": "message", "message": {
            "id": "0e5fc0ff-0000-4000-8000-000000000009", "conversation_id": CONV, "seq": 1,
            "sender_id": BOB, "body": "hello", "client_id": "b-1",
            "created_at": "2026-11-21T10:00:03Z"}})
    );
}

#[test]
fn an_unknown_server_frame_type_decodes_to_unknown() {
    let event = ServerEvent::decode(r#"{"type":"something_new","x":1}"#).unwrap();
    assert_eq!(event, ServerEvent::Unknown);
    assert!(ServerEvent::decode(r#"{"type":"message","message":{"seq":"x"}}"#).is_err());
}

fn every_request() -> Vec<Request> {
    let c = conversation();
    let bob = UserId::parse(BOB).unwrap();
    let mut ui = UiState::default();
    ui.extra.insert("drafts".into(), json!({}));
    vec![
        Request::new(ClientFrame::Auth { token: "t".into() }),
        Request::with_ref(
            "s1",
            ClientFrame::send(Target::Direct(bob), "c1", "hi", None),
        ),
        Request::with_ref(
            "s2",
            ClientFrame::send(Target::Conversation(c), "c2", "yes", Some(1)),
        ),
        Request::with_ref("h1", ClientFrame::history(c, Page::Between(3, 9), Some(50))),
        Request::new(ClientFrame::history(c, Page::Latest, None)),
        Request::new(ClientFrame::Read {
            conversation_id: c,
            seq: 4,
        }),
        Request::with_ref("b", ClientFrame::Block { user_id: bob }),
        Request::new(ClientFrame::Unblock { user_id: bob }),
        Request::new(ClientFrame::Ui { state: ui }),
        Request::with_ref(
            "n",
            ClientFrame::SetName {
                name: "Alice".into(),
            },
        ),
        Request::new(ClientFrame::Typing { conversation_id: c }),
        Request::with_ref(
            "c",
            ClientFrame::CreateRoom {
                name: "Book club".into(),
                password: Some("pw".into()),
            },
        ),
        Request::with_ref(
            "j",
            ClientFrame::JoinRoom {
                room_id: c,
                password: None,
            },
        ),
        Request::new(ClientFrame::LeaveRoom { room_id: c }),
        Request::new(ClientFrame::DeleteRoom { room_id: c }),
        Request::with_ref("m", ClientFrame::Members { room_id: c }),
        Request::with_ref(
            "d",
            ClientFrame::Rooms {
                query: Some("book".into()),
                after: Some("Art".into()),
                limit: Some(20),
            },
        ),
        Request::new(ClientFrame::Rooms {
            query: None,
            after: None,
            limit: None,
        }),
        Request::with_ref("h1", ClientFrame::Ping),
        Request::new(ClientFrame::Ping),
        Request::with_ref(
            "e",
            ClientFrame::Edit {
                conversation_id: c,
                seq: 3,
                body: "fixed".into(),
            },
        ),
        Request::new(ClientFrame::Delete {
            conversation_id: c,
            seq: 3,
        }),
        Request::with_ref(
            "x",
            ClientFrame::React {
                conversation_id: c,
                seq: 3,
                emoji: "👍".into(),
                add: false,
            },
        ),
        Request::with_ref("r", ClientFrame::SetReceipts { share: false }),
        Request::with_ref(
            "w",
            ClientFrame::Seen {
                conversation_id: c,
                seq: 2,
            },
        ),
        Request::with_ref(
            "g",
            ClientFrame::Changes {
                conversation_id: c,
                after: 4,
            },
        ),
    ]
}

#[test]
fn every_client_frame_round_trips() {
    for request in every_request() {
        let text = request.to_text();
        let back: Request = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, request, "{text}");
    }
}

#[test]
fn client_frames_serialize_as_documented() {
    let send = Request::with_ref(
        "s2",
        ClientFrame::send(Target::Conversation(conversation()), "d", "yes", Some(3)),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&send.to_text()).unwrap(),
        json!({"type": "send", "ref": "s2", "client_id": "d", "body": "yes",
               "conversation_id": CONV, "reply_to": 3})
    );
    let create = Request::with_ref(
        "c1",
        ClientFrame::CreateRoom {
            name: "Book club".into(),
            password: None,
        },
    );
    assert_eq!(
        serde_json::from_str::<Value>(&create.to_text()).unwrap(),
        json!({"type": "create_room", "ref": "c1", "name": "Book club"})
    );
    let history = Request::with_ref(
        "h1",
        ClientFrame::history(conversation(), Page::After(4), Some(200)),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&history.to_text()).unwrap(),
        json!({"type": "history", "ref": "h1", "conversation_id": CONV, "after_seq": 4,
               "limit": 200})
    );
    let ping = Request::with_ref("p1", ClientFrame::Ping);
    assert_eq!(
        serde_json::from_str::<Value>(&ping.to_text()).unwrap(),
        json!({"type": "ping", "ref": "p1"})
    );
    assert_eq!(
        serde_json::from_str::<Request>(r#"{"type":"ping"}"#).unwrap(),
        Request::new(ClientFrame::Ping)
    );
}

#[test]
fn a_malformed_id_is_refused_naming_its_field() {
    for (frame, field) in [
        (r#"{"type":"join_room","room_id":"nope"}"#, "room_id"),
        (
            r#"{"type":"history","conversation_id":"nope"}"#,
            "conversation_id",
        ),
        (r#"{"type":"block","user_id":"x"}"#, "user_id"),
        (
            r#"{"type":"send","client_id":"c","body":"b","to":"x"}"#,
            "to",
        ),
    ] {
        let e = serde_json::from_str::<Request>(frame).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{field} is not a valid id")),
            "{frame}: {e}"
        );
    }
}

#[test]
fn pages_map_to_bounds_and_back() {
    for page in [
        Page::Latest,
        Page::After(3),
        Page::Before(9),
        Page::Between(3, 9),
    ] {
        let (after, before) = page.bounds();
        assert_eq!(Page::from_bounds(after, before), Ok(page));
    }
    assert!(Page::from_bounds(Some(-1), None).is_err());
}

/// The UI state's own keys are mirrored as they are sent: a number too. serde_json's
/// default float parsing was off by one bit for many numbers (found by the frame_decode
/// fuzz target: `-30000000000.692234` read back as `-30000000000.69223`).
#[test]
fn numbers_in_a_ui_state_survive_the_round_trip_exactly() {
    for number in [
        "-30000000000.692234",
        "0.30000000000000004",
        "1.0715660391465826e-75",
        "-1.603964615428183e143",
        "5e-324",
        "1.7976931348623157e308",
    ] {
        let text = format!(r#"{{"type":"ui","state":{{"draft":"","n":{number}}}}}"#);
        let request: Request = serde_json::from_str(&text).unwrap();
        assert_eq!(request.to_text(), text, "{number}");
        let again: Request = serde_json::from_str(&request.to_text()).unwrap();
        assert_eq!(again, request, "{number}");
    }
}

#[test]
fn every_frame_both_ways_fits_the_published_schema_and_a_wrong_one_does_not() {
    let client = jsonschema::validator_for(&schema::frames_of(schema::CLIENT_FRAME)).unwrap();
    let server = jsonschema::validator_for(&schema::frames_of(schema::SERVER_FRAME)).unwrap();
    for request in every_request() {
        let value: Value = serde_json::from_str(&request.to_text()).unwrap();
        assert!(client.is_valid(&value), "{value}");
    }
    for event in every_server_event() {
        let value: Value = serde_json::from_str(&event.to_text()).unwrap();
        let problems: Vec<String> = server.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(problems.is_empty(), "{value}: {problems:?}");
    }
    for wrong in [
        json!({"type": "ack", "message": {"seq": "one"}}),
        json!({"type": "dance"}),
        json!({"type": "error", "code": "oops", "message": "x"}),
        json!({"type": "online_changes", "came": [], "went": []}),
    ] {
        assert!(!server.is_valid(&wrong), "{wrong}");
    }
    for wrong in [
        json!({"type": "send", "body": "no client id", "to": ALICE}),
        json!({"type": "read", "conversation_id": "c", "seq": "x"}),
    ] {
        assert!(!client.is_valid(&wrong), "{wrong}");
    }
}
