//! What the terminal client adds to the protocol: its types (`banter-protocol`) are used
//! both ways, [`banter_protocol::Request`] out and [`banter_protocol::ServerEvent`] in;
//! here are the bodies of the HTTP calls the client makes and its `history` requests.
//!
//! Server frames are decoded by serde's tag dispatch (never by looking for substrings),
//! so a frame the server changes shape of fails loudly in one place. Frame types this
//! client does not know yet decode to [`banter_protocol::ServerEvent::Unknown`] and are
//! ignored, as docs/protocol.md allows servers to add frames.

use banter_protocol::{ClientFrame, ConversationId, ConversationSummary, Page, Request, User};
use serde::Deserialize;

/// The most messages one `history` request may ask for (docs/protocol.md).
pub const HISTORY_MAX: i64 = 200;

/// People asked for by `/online <prefix>` (the most a page holds).
pub const SEARCH_PAGE: i64 = 200;

/// The body of `GET /api/conversations`.
#[derive(Debug, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

/// The body of `GET /api/rooms/{id}/members` (each member's `online` is not needed).
#[derive(Debug, Deserialize)]
pub struct MemberList {
    pub members: Vec<User>,
}

/// A `history` request for `page` whose answer carries `reference`, for at most `limit`
/// messages (kept within 1..=[`HISTORY_MAX`]).
pub fn history(
    reference: String,
    conversation_id: ConversationId,
    page: Page,
    limit: i64,
) -> Request {
    Request::with_ref(
        reference,
        ClientFrame::history(conversation_id, page, Some(limit.clamp(1, HISTORY_MAX))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_protocol::{ServerEvent, Target, UserId};
    use serde_json::{json, Value};

    const ALICE: &str = "a1c0ffee-0000-4000-8000-000000000001";
    const BOB: &str = "b2c0ffee-0000-4000-8000-000000000002";
    const CONV: &str = "c3c0ffee-0000-4000-8000-000000000003";

    fn room() -> Value {
        json!({"id": CONV, "name": "General", "has_password": true, "created_by": ALICE,
               "members": 2})
    }

    fn message(seq: i64) -> Value {
        json!({"id": "0e5fc0ff-0000-4000-8000-000000000009", "conversation_id": CONV,
               "seq": seq, "sender_id": BOB, "body": "hello", "client_id": "b-1",
               "created_at": "2026-11-21T10:00:03.5Z"})
    }

    #[test]
    fn every_documented_server_frame_decodes_to_its_variant() {
        let ready = json!({"type": "ready", "me": {"id": ALICE, "email": "alice@example.com"},
            "online": [{"id": BOB, "email": "bob@example.com"}], "online_count": 1,
            "partners": [{"id": BOB, "email": "bob@example.com"}], "blocked": [],
            "conversations": [{"id": CONV, "kind": "direct", "peer": {"id": BOB, "email": "bob@example.com"},
                               "last_seq": 3, "read_seq": 1, "unread": 2}],
            "rooms": [room()], "ui": {"draft": ""}, "expires_at": "2026-11-21T10:15:00Z"});
        let Ok(ServerEvent::Ready {
            me,
            online_count,
            partners,
            conversations,
            ..
        }) = ServerEvent::decode(&ready.to_string())
        else {
            panic!("ready")
        };
        assert_eq!(me.email, "alice@example.com");
        assert_eq!((online_count, partners.len()), (1, 1));
        assert_eq!(conversations[0].last_seq, 3);

        let cases = [
            (
                json!({"type": "online_changes", "came": [{"id": BOB, "email": "b"}],
                       "went": [ALICE], "count": 4}),
                "online_changes",
            ),
            (json!({"type": "message", "message": message(2)}), "message"),
            (
                json!({"type": "ack", "ref": "s1", "message": message(2)}),
                "ack",
            ),
            (
                json!({"type": "history", "ref": "h1", "conversation_id": CONV, "messages": [message(1)]}),
                "history",
            ),
            (
                json!({"type": "blocked", "user": {"id": BOB, "email": "b"}}),
                "blocked",
            ),
            (
                json!({"type": "unblocked", "user": {"id": BOB, "email": "b"}}),
                "unblocked",
            ),
            (
                json!({"type": "read", "conversation_id": CONV, "seq": 2}),
                "read",
            ),
            (
                json!({"type": "typing", "conversation_id": CONV, "user_id": BOB}),
                "typing",
            ),
            (
                json!({"type": "error", "code": "blocked", "message": "no"}),
                "error",
            ),
            (
                json!({"type": "session", "expires_at": "2026-11-21T10:29:00Z"}),
                "session",
            ),
            (
                json!({"type": "joined", "ref": "j1", "room": room(),
                    "conversation": {"id": CONV, "kind": "room", "name": "General", "last_seq": 4,
                                     "read_seq": 4, "unread": 0}}),
                "joined",
            ),
            (json!({"type": "room", "room": room()}), "room"),
            (
                json!({"type": "room_deleted", "ref": "d1", "room_id": CONV}),
                "room_deleted",
            ),
            (json!({"type": "left", "room_id": CONV}), "left"),
            (
                json!({"type": "member", "room_id": CONV, "user": {"id": BOB, "email": "b"},
                       "joined": true}),
                "member",
            ),
            (
                json!({"type": "members", "ref": "m1", "room_id": CONV,
                       "members": [{"id": BOB, "email": "b", "online": false}]}),
                "members",
            ),
            (json!({"type": "ui", "state": {"draft": "x"}}), "ui"),
            (
                json!({"type": "user_updated", "user": {"id": BOB, "email": "b", "name": "Bob"}}),
                "user_updated",
            ),
            (
                json!({"type": "online_page", "ref": "o1", "prefix": "b", "offset": 0, "count": 1,
                       "people": [{"id": BOB, "email": "b"}]}),
                "online_page",
            ),
            (
                json!({"type": "rooms", "ref": "d1", "query": "gen", "rooms": [room()],
                       "more": false}),
                "rooms",
            ),
            (
                json!({"type": "message_edited", "ref": "e1", "conversation_id": CONV, "seq": 2,
                       "body": "fixed", "edited_at": "2026-11-21T10:00:04Z", "change": 3}),
                "message_edited",
            ),
            (
                json!({"type": "message_deleted", "conversation_id": CONV, "seq": 2,
                       "deleted_at": "2026-11-21T10:00:05Z", "change": 4}),
                "message_deleted",
            ),
            (
                json!({"type": "reaction", "conversation_id": CONV, "seq": 2, "user_id": BOB,
                       "emoji": "👍", "add": false, "change": 5}),
                "reaction",
            ),
            (
                json!({"type": "changes", "ref": "c1", "conversation_id": CONV,
                       "messages": [message(2)], "through": 5, "more": false}),
                "changes",
            ),
            (json!({"type": "ok", "ref": "e2"}), "ok"),
            (json!({"type": "something_new", "x": 1}), "unknown"),
        ];
        for (frame, kind) in cases {
            let event =
                ServerEvent::decode(&frame.to_string()).unwrap_or_else(|e| panic!("{frame}: {e}"));
            let got = match event {
                ServerEvent::OnlineChanges { .. } => "online_changes",
                ServerEvent::Message { .. } => "message",
                ServerEvent::Ack { .. } => "ack",
                ServerEvent::History { .. } => "history",
                ServerEvent::Blocked { .. } => "blocked",
                ServerEvent::Unblocked { .. } => "unblocked",
                ServerEvent::Read { .. } => "read",
                ServerEvent::Typing { .. } => "typing",
                ServerEvent::Error { .. } => "error",
                ServerEvent::Session { .. } => "session",
                ServerEvent::Ok { .. } => "ok",
                ServerEvent::Joined { .. } => "joined",
                ServerEvent::Room { .. } => "room",
                ServerEvent::RoomDeleted { .. } => "room_deleted",
                ServerEvent::Left { .. } => "left",
                ServerEvent::Member { .. } => "member",
                ServerEvent::Members { .. } => "members",
                ServerEvent::OnlinePage { .. } => "online_page",
                ServerEvent::Rooms { .. } => "rooms",
                ServerEvent::Ui { .. } => "ui",
                ServerEvent::UserUpdated { .. } => "user_updated",
                ServerEvent::MessageEdited { .. } => "message_edited",
                ServerEvent::MessageDeleted { .. } => "message_deleted",
                ServerEvent::Reaction { .. } => "reaction",
                ServerEvent::Changes { .. } => "changes",
                ServerEvent::Receipts { .. } => "receipts",
                ServerEvent::Seen { .. } => "seen",
                ServerEvent::Unknown => "unknown",
                ServerEvent::Ready { .. } => "ready",
            };
            assert_eq!(got, kind, "{frame}");
        }
    }

    #[test]
    fn a_message_carries_what_became_of_it() {
        let mut changed = message(2);
        changed["edited_at"] = json!("2026-11-21T10:00:04Z");
        changed["reactions"] = json!([{"emoji": "👍", "users": [ALICE, BOB]}]);
        changed["version"] = json!(5);
        let frame = json!({"type": "changes", "conversation_id": CONV, "messages": [changed],
                           "through": 5, "more": true});
        let Ok(ServerEvent::Changes {
            messages,
            through,
            more,
            ..
        }) = ServerEvent::decode(&frame.to_string())
        else {
            panic!("changes")
        };
        assert_eq!((through, more), (5, true));
        let m = &messages[0];
        assert!(m.edited_at.is_some() && m.deleted_at.is_none());
        assert_eq!((m.reactions[0].users.len(), m.version), (2, 5));
        // A message never changed has none of it.
        let Ok(ServerEvent::Message { message: plain }) =
            ServerEvent::decode(&json!({"type": "message", "message": message(1)}).to_string())
        else {
            panic!("message")
        };
        assert!(plain.edited_at.is_none() && plain.reactions.is_empty() && plain.version == 0);
    }

    #[test]
    fn a_frame_of_a_known_type_with_a_wrong_shape_is_an_error() {
        assert!(ServerEvent::decode(r#"{"type":"message","message":{"seq":"x"}}"#).is_err());
        assert!(ServerEvent::decode("not json").is_err());
    }

    #[test]
    fn requests_serialize_as_the_protocol_documents_them() {
        let conversation = ConversationId::parse(CONV).unwrap();
        let peer = UserId::parse(BOB).unwrap();
        let send = Request::with_ref(
            "s1",
            ClientFrame::send(Target::Direct(peer), "c", "hi", None),
        );
        let sent: Value = serde_json::from_str(&send.to_text()).unwrap();
        assert_eq!(
            sent,
            json!({"type": "send", "ref": "s1", "client_id": "c", "body": "hi", "to": BOB})
        );
        let reply = Request::with_ref(
            "s2",
            ClientFrame::send(Target::Conversation(conversation), "d", "yes", Some(3)),
        );
        let reply: Value = serde_json::from_str(&reply.to_text()).unwrap();
        assert_eq!(
            reply,
            json!({"type": "send", "ref": "s2", "client_id": "d", "body": "yes",
                   "conversation_id": CONV, "reply_to": 3})
        );
        let join = Request::with_ref(
            "j1",
            ClientFrame::JoinRoom {
                room_id: conversation,
                password: Some("pw".into()),
            },
        );
        let join: Value = serde_json::from_str(&join.to_text()).unwrap();
        assert_eq!(
            join,
            json!({"type": "join_room", "ref": "j1", "room_id": CONV, "password": "pw"})
        );
        let create = Request::with_ref(
            "c1",
            ClientFrame::CreateRoom {
                name: "Book club".into(),
                password: None,
            },
        );
        let create: Value = serde_json::from_str(&create.to_text()).unwrap();
        assert_eq!(
            create,
            json!({"type": "create_room", "ref": "c1", "name": "Book club"})
        );
        let rooms = Request::with_ref(
            "d1",
            ClientFrame::Rooms {
                query: Some("book".into()),
                after: Some("Art".into()),
                limit: Some(100),
            },
        );
        let rooms: Value = serde_json::from_str(&rooms.to_text()).unwrap();
        assert_eq!(
            rooms,
            json!({"type": "rooms", "ref": "d1", "query": "book", "after": "Art", "limit": 100})
        );
        for (frame, wire) in [
            (
                ClientFrame::Edit {
                    conversation_id: conversation,
                    seq: 2,
                    body: "fixed".into(),
                },
                json!({"type": "edit", "ref": "e1", "conversation_id": CONV, "seq": 2, "body": "fixed"}),
            ),
            (
                ClientFrame::Delete {
                    conversation_id: conversation,
                    seq: 2,
                },
                json!({"type": "delete", "ref": "e1", "conversation_id": CONV, "seq": 2}),
            ),
            (
                ClientFrame::React {
                    conversation_id: conversation,
                    seq: 2,
                    emoji: "👍".into(),
                    add: false,
                },
                json!({"type": "react", "ref": "e1", "conversation_id": CONV, "seq": 2,
                       "emoji": "👍", "add": false}),
            ),
            (
                ClientFrame::Changes {
                    conversation_id: conversation,
                    after: 4,
                },
                json!({"type": "changes", "ref": "e1", "conversation_id": CONV, "after": 4}),
            ),
        ] {
            let text = Request::with_ref("e1", frame).to_text();
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), wire);
        }
        let history = history("h1".into(), conversation, Page::After(4), 500);
        let history: Value = serde_json::from_str(&history.to_text()).unwrap();
        assert_eq!(
            history,
            json!({"type": "history", "ref": "h1", "conversation_id": CONV, "after_seq": 4, "limit": 200})
        );
    }
}
