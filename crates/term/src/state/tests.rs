//! The unit tests of the state, driving it as the client does: server events in,
//! commands in, lines and frames out.

use super::{Chat, Effects, Lookup};
use crate::commands::Command;
use banter_protocol::{
    ClientFrame, ClientId, ConversationId, ConversationKind, ConversationSummary, ErrorCode,
    Message, MessageId, Quote, Reaction, Request, Room, ServerEvent, Target, UiState, User, UserId,
};
use chrono::Utc;
use std::borrow::Cow;

fn user(n: u128, email: &str) -> User {
    User {
        id: UserId(uuid::Uuid::from_u128(n)),
        email: email.into(),
        name: None,
    }
}

fn alice() -> User {
    user(1, "alice@example.com")
}

fn bob() -> User {
    user(2, "bob@example.com")
}

fn conversation() -> ConversationId {
    ConversationId(uuid::Uuid::from_u128(99))
}

fn message(seq: i64, from: &User, body: &str, client_id: &str) -> Message {
    let json = serde_json::json!({
        "id": MessageId(uuid::Uuid::new_v4()), "conversation_id": conversation(), "seq": seq,
        "sender_id": from.id, "body": body, "client_id": ClientId::parse(client_id.into()).unwrap(),
        "created_at": Utc::now(),
    });
    serde_json::from_value(json).unwrap()
}

/// Alice's `ready`, with everyone online on its first page and no partners.
fn snapshot(
    online: Vec<User>,
    conversations: Vec<ConversationSummary>,
    rooms: Vec<Room>,
) -> ServerEvent<'static> {
    let count = online.len();
    ready_v2(online, count, vec![], conversations, rooms)
}

/// Alice's `ready`: the first page `online` of `count` people, and her partners online.
fn ready_v2(
    online: Vec<User>,
    count: usize,
    partners: Vec<User>,
    conversations: Vec<ConversationSummary>,
    rooms: Vec<Room>,
) -> ServerEvent<'static> {
    ServerEvent::Ready {
        reference: None,
        me: Cow::Owned(alice()),
        online: online.into(),
        online_count: count,
        partners: partners.into(),
        blocked: Vec::new().into(),
        conversations: conversations.into(),
        rooms: rooms.into(),
        ui: Cow::Owned(UiState::default()),
        receipts: true,
        expires_at: Utc::now(),
    }
}

/// Alice's `ready`, with her direct chat with bob if `last_seq` is given.
fn ready(online: Vec<User>, last_seq: Option<i64>) -> ServerEvent<'static> {
    let conversations = last_seq
        .map(|last_seq| ConversationSummary {
            id: conversation(),
            kind: ConversationKind::Direct,
            peer: Some(bob()),
            name: None,
            last_seq,
            read_seq: 0,
            unread: last_seq,
            mentions: vec![],
            last_change: 0,
            peer_read_seq: None,
        })
        .into_iter()
        .collect();
    snapshot(online, conversations, vec![])
}

fn texts(fx: &Effects) -> Vec<String> {
    fx.lines.iter().map(|l| l.to_string()).collect()
}

/// The `client_id` and target of a `send` frame.
fn sent(frame: &Request) -> (String, Target) {
    match &frame.frame {
        ClientFrame::Send {
            client_id,
            conversation_id: Some(c),
            to: None,
            ..
        } => (client_id.clone(), Target::Conversation(*c)),
        ClientFrame::Send {
            client_id,
            conversation_id: None,
            to: Some(u),
            ..
        } => (client_id.clone(), Target::Direct(*u)),
        other => panic!("not a send with one target: {other:?}"),
    }
}

#[test]
fn the_first_ready_prints_who_is_online_in_email_order() {
    let mut chat = Chat::default();
    let fx = chat.on_event(ready(vec![user(3, "zoe@example.com"), bob()], None));
    assert_eq!(
        texts(&fx),
        [
            "ready me=alice@example.com online=2",
            "online bob@example.com",
            "online zoe@example.com",
            "end online"
        ]
    );
    assert!(fx.frames.is_empty());
}

fn carol() -> User {
    user(3, "carol@example.com")
}

fn dave() -> User {
    user(4, "dave@example.com")
}

/// Alice's direct chat with dave, who is her conversation partner.
fn with_dave() -> ConversationSummary {
    ConversationSummary {
        id: room_id(50),
        kind: ConversationKind::Direct,
        peer: Some(dave()),
        name: None,
        last_seq: 1,
        read_seq: 1,
        unread: 0,
        mentions: vec![],
        last_change: 0,
        peer_read_seq: None,
    }
}

fn changes(came: Vec<User>, went: Vec<UserId>, count: usize) -> ServerEvent<'static> {
    ServerEvent::OnlineChanges {
        came: came.into(),
        went: went.into(),
        count,
    }
}

fn page(reference: Option<&str>, prefix: Option<&str>, people: Vec<User>) -> ServerEvent<'static> {
    ServerEvent::OnlinePage {
        reference: reference.map(|r| Cow::Owned(r.to_owned())),
        prefix: prefix.map(|p| Cow::Owned(p.to_owned())),
        offset: 0,
        count: people.len(),
        people: people.into(),
    }
}

/// The `ref` and prefix of an `online` request.
fn online_request(fx: &Effects) -> (String, Option<String>) {
    match &fx.frames[..] {
        [Request {
            reference: Some(r),
            frame: ClientFrame::Online { prefix, .. },
        }] => (r.clone(), prefix.clone()),
        other => panic!("one online request: {other:?}"),
    }
}

#[test]
fn ready_prints_the_whole_count_then_the_first_page_and_the_partners() {
    let mut chat = Chat::default();
    // 250 people online: the first page holds bob and zoe here; dave is a partner.
    let fx = chat.on_event(ready_v2(
        vec![user(9, "zoe@example.com"), bob()],
        250,
        vec![dave()],
        vec![with_dave()],
        vec![],
    ));
    assert_eq!(
        texts(&fx),
        [
            "ready me=alice@example.com online=250",
            "online bob@example.com",
            "online dave@example.com",
            "online zoe@example.com",
            "end online"
        ]
    );
}

#[test]
fn online_changes_print_who_came_and_went_of_those_tracked() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    let fx = chat.on_event(changes(vec![dave(), carol()], vec![bob().id], 2));
    assert_eq!(
        texts(&fx),
        [
            "presence online carol@example.com",
            "presence online dave@example.com",
            "presence offline bob@example.com"
        ]
    );
    // Someone never tracked going, someone tracked coming again, the count alone: nothing.
    let fx = chat.on_event(changes(vec![carol()], vec![user(7, "x@example.com").id], 9));
    assert!(fx.lines.is_empty(), "{fx:?}");
    let fx = chat.on_event(changes(vec![], vec![], 8));
    assert_eq!(fx, Effects::default());
    let fx = chat.on_command(Command::Online(None));
    assert_eq!(
        texts(&fx),
        [
            "online carol@example.com",
            "online dave@example.com",
            "end online"
        ]
    );
    assert!(fx.frames.is_empty(), "the first page is listed as tracked");
    // Someone who came is known by email.
    let fx = chat.on_command(Command::Open("carol@example.com".into()));
    assert_eq!(texts(&fx)[0], "opened carol@example.com new");
}

#[test]
fn a_page_replaces_the_tracked_range_but_partners_stay_tracked() {
    let mut chat = Chat::default();
    chat.on_event(ready_v2(
        vec![bob(), carol()],
        3,
        vec![dave()],
        vec![with_dave()],
        vec![],
    ));
    let fx = chat.on_command(Command::Online(Some("ca".into())));
    let (reference, prefix) = online_request(&fx);
    assert_eq!(prefix.as_deref(), Some("ca"));
    let fx = chat.on_event(page(Some(&reference), Some("ca"), vec![carol()]));
    assert_eq!(texts(&fx), ["online carol@example.com", "end online"]);
    assert!(chat.idle());
    // Bob is out of the range now: the server no longer tells of him.
    let fx = chat.on_event(changes(vec![], vec![bob().id], 2));
    assert!(fx.lines.is_empty(), "{fx:?}");
    // Dave, a partner, is still tracked.
    let fx = chat.on_event(changes(vec![], vec![dave().id], 1));
    assert_eq!(texts(&fx), ["presence offline dave@example.com"]);
    chat.on_event(changes(vec![dave()], vec![], 2));

    // `/online` asks for the first page again, and lists what is tracked then.
    let fx = chat.on_command(Command::Online(None));
    assert!(fx.lines.is_empty(), "{fx:?}");
    let (reference, prefix) = online_request(&fx);
    assert_eq!(prefix, None);
    let fx = chat.on_event(page(Some(&reference), None, vec![bob(), carol()]));
    assert_eq!(
        texts(&fx),
        [
            "online bob@example.com",
            "online carol@example.com",
            "online dave@example.com",
            "end online"
        ]
    );
    // Back on the first page, `/online` is answered at once.
    assert!(chat.on_command(Command::Online(None)).frames.is_empty());

    // A page the server sends by itself (a re-page) replaces the range silently.
    let fx = chat.on_event(page(None, None, vec![carol()]));
    assert_eq!(fx, Effects::default());
    let listed = texts(&chat.on_command(Command::Online(None)));
    assert_eq!(
        listed,
        [
            "online carol@example.com",
            "online dave@example.com",
            "end online"
        ]
    );
}

#[test]
fn an_online_request_the_socket_lost_is_asked_again_after_a_reconnect() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    let (reference, _) = online_request(&chat.on_command(Command::Online(Some("b".into()))));
    let fx = chat.on_event(ready(vec![bob(), carol()], None));
    assert_eq!(
        texts(&fx),
        ["reconnected", "presence online carol@example.com"]
    );
    assert_eq!(online_request(&fx).0, reference);
    let fx = chat.on_event(page(Some(&reference), Some("b"), vec![bob()]));
    assert_eq!(texts(&fx), ["online bob@example.com", "end online"]);
}

#[test]
fn a_first_message_goes_to_the_person_and_later_ones_to_the_conversation() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    let fx = chat.on_command(Command::Open("BOB@example.com".into()));
    assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
    let fx = chat.on_command(Command::Say("hi".into()));
    let (client_id, target) = sent(&fx.frames[0]);
    assert_eq!(target, Target::Direct(bob().id));
    assert!(!chat.idle());
    let fx = chat.on_event(ServerEvent::Ack {
        reference: Some("s1".into()),
        message: Cow::Owned(message(1, &alice(), "hi", &client_id)),
    });
    assert_eq!(texts(&fx), [format!("sent {} 1 hi", conversation())]);
    assert!(chat.idle());
    let fx = chat.on_command(Command::Say("again".into()));
    assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(conversation()));
}

#[test]
fn after_a_reconnect_gaps_are_filled_in_order_and_unacknowledged_sends_are_resolved_once() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], Some(2)));
    chat.on_command(Command::Open("bob@example.com".into()));
    let committed = sent(&chat.on_command(Command::Say("one".into())).frames[0]).0;
    let lost = sent(&chat.on_command(Command::Say("two".into())).frames[0]).0;

    // The socket drops; meanwhile "one" was committed as seq 3 and bob wrote seq 4.
    let fx = chat.on_event(ready(vec![], Some(4)));
    assert_eq!(
        texts(&fx),
        ["reconnected", "presence offline bob@example.com"]
    );
    assert!(!chat.synced());
    let gap = fx.frames.last().unwrap().clone();
    let Request {
        reference: Some(reference),
        frame: ClientFrame::History { after_seq, .. },
    } = gap
    else {
        panic!("a gap request: {gap:?}");
    };
    assert_eq!(after_seq, Some(2));
    // No send goes out before the gap is filled.
    assert!(!fx
        .frames
        .iter()
        .any(|f| matches!(f.frame, ClientFrame::Send { .. })));

    // A live message arrives before the gap's answer: it waits its turn.
    let fx = chat.on_event(ServerEvent::Message {
        message: Cow::Owned(message(5, &bob(), "five", "b5")),
    });
    assert!(fx.lines.is_empty());
    let fx = chat.on_event(ServerEvent::History {
        reference: Some(reference.into()),
        conversation_id: conversation(),
        messages: vec![
            message(3, &alice(), "one", &committed),
            message(4, &bob(), "four", "b4"),
        ]
        .into(),
    });
    let c = conversation();
    assert_eq!(
        texts(&fx),
        [
            format!("sent {c} 3 one"),
            format!("message {c} 4 bob@example.com four"),
            format!("message {c} 5 bob@example.com five"),
        ]
    );
    assert!(chat.synced());
    // Only the message that was not committed is sent again, with its client_id.
    let resent: Vec<String> = fx.frames.iter().map(|f| sent(f).0).collect();
    assert_eq!(resent, [lost]);
    assert_eq!(chat.unsent(), 1);
}

#[test]
fn a_room_is_never_taken_for_a_direct_chat_with_someone_writing_in_it() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    // A message in a conversation never heard of: it must be looked up first.
    let event = ServerEvent::Message {
        message: Cow::Owned(message(1, &bob(), "hello room", "b1")),
    };
    assert_eq!(
        chat.lookup(&event),
        Some(Lookup::Conversations(conversation()))
    );
    chat.looked_up(Lookup::Conversations(conversation()));
    chat.learn(vec![ConversationSummary {
        id: conversation(),
        kind: ConversationKind::Room,
        peer: None,
        name: Some("General".into()),
        last_seq: 1,
        read_seq: 0,
        unread: 1,
        mentions: vec![],
        last_change: 0,
        peer_read_seq: None,
    }]);
    assert_eq!(chat.lookup(&event), None);
    let fx = chat.on_event(event);
    assert_eq!(
        texts(&fx),
        [format!(
            "message {} 1 bob@example.com hello room",
            conversation()
        )]
    );
    let fx = chat.on_command(Command::Open("bob@example.com".into()));
    assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
    let fx = chat.on_command(Command::Say("hi".into()));
    assert_eq!(sent(&fx.frames[0]).1, Target::Direct(bob().id));
}

#[test]
fn a_refused_send_is_no_longer_pending() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], Some(1)));
    chat.on_command(Command::Open("bob@example.com".into()));
    chat.on_command(Command::Say("hi".into()));
    let fx = chat.on_event(ServerEvent::Error {
        reference: Some("s2".into()),
        code: ErrorCode::Blocked,
        message: "one of you has blocked the other".into(),
        retry_after_ms: None,
    });
    assert_eq!(
        texts(&fx),
        ["error blocked one of you has blocked the other"]
    );
    assert_eq!(chat.unsent(), 0);
}

#[test]
fn commands_needing_an_open_chat_or_a_known_person_say_so() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![], None));
    let fx = chat.on_command(Command::Say("hi".into()));
    assert_eq!(
        texts(&fx),
        ["error no_chat no chat is open; /open <email> first"]
    );
    let fx = chat.on_command(Command::Open("nobody@example.com".into()));
    assert!(texts(&fx)[0].starts_with("error unknown_user nobody@example.com"));
    let fx = chat.on_command(Command::Open("alice@example.com".into()));
    assert!(texts(&fx)[0].starts_with("error bad_request"));
}

fn room_id(n: u128) -> ConversationId {
    ConversationId(uuid::Uuid::from_u128(n))
}

fn room(n: u128, name: &str, members: i64, has_password: bool) -> Room {
    Room {
        id: room_id(n),
        name: name.into(),
        has_password,
        created_by: Some(bob().id),
        members,
        everyone: false,
    }
}

fn room_conversation(n: u128, name: &str, last_seq: i64) -> ConversationSummary {
    ConversationSummary {
        id: room_id(n),
        kind: ConversationKind::Room,
        peer: None,
        name: Some(name.into()),
        last_seq,
        read_seq: 0,
        unread: last_seq,
        mentions: vec![],
        last_change: 0,
        peer_read_seq: None,
    }
}

/// Alice, with bob online, in one room ("Book club") and no direct chat. (Others, such
/// as "General", are only in the directory.)
fn with_rooms() -> Chat {
    let mut chat = Chat::default();
    chat.on_event(snapshot(
        vec![bob()],
        vec![room_conversation(11, "Book club", 3)],
        vec![room(11, "Book club", 2, true)],
    ));
    chat
}

fn general() -> Room {
    room(10, "General", 1, false)
}

/// A `rooms` request, as sent: its `ref`, `query`, `after` and `limit`.
type DirectoryAsk = (String, Option<String>, Option<String>, Option<i64>);

/// The one `rooms` request among `fx`'s frames.
fn directory_request(fx: &Effects) -> DirectoryAsk {
    match &fx.frames[..] {
        [Request {
            reference: Some(r),
            frame:
                ClientFrame::Rooms {
                    query,
                    after,
                    limit,
                },
        }] => (r.clone(), query.clone(), after.clone(), *limit),
        other => panic!("one rooms request: {other:?}"),
    }
}

/// The server's answer to the `rooms` request `reference`.
fn directory(reference: &str, rooms: Vec<Room>, more: bool) -> ServerEvent<'static> {
    ServerEvent::Rooms {
        reference: Some(Cow::Owned(reference.to_owned())),
        query: None,
        rooms: rooms.into(),
        more,
    }
}

/// The one room request among `fx`'s frames (`join_room`, `members`...), with its `ref`.
fn room_request(fx: &Effects) -> (String, ClientFrame) {
    match &fx.frames[..] {
        [Request {
            reference: Some(r),
            frame,
        }] => (r.clone(), frame.clone()),
        other => panic!("one request: {other:?}"),
    }
}

#[test]
fn ready_holds_only_my_rooms_and_prints_none_of_them() {
    let mut chat = Chat::default();
    let fx = chat.on_event(snapshot(
        vec![],
        vec![room_conversation(11, "Book club", 3)],
        vec![room(11, "Book club", 2, true)],
    ));
    assert_eq!(
        texts(&fx),
        ["ready me=alice@example.com online=0", "end online"]
    );
    // My room opens by name at once; nothing is asked but its history.
    let fx = chat.on_command(Command::Open("book CLUB".into()));
    assert_eq!(
        texts(&fx),
        [format!("opened room {} Book club", room_id(11))]
    );
    assert!(matches!(
        &fx.frames[..],
        [Request {
            frame: ClientFrame::History { .. },
            ..
        }]
    ));
}

#[test]
fn rooms_asks_the_directory_and_more_continues_after_the_last_one_shown() {
    let mut chat = with_rooms();
    let (club, attic) = (room_id(11), room_id(12));
    let fx = chat.on_command(Command::Rooms(None));
    assert!(fx.lines.is_empty(), "{fx:?}");
    let (reference, query, after, limit) = directory_request(&fx);
    assert_eq!(
        (query, after, limit),
        (None, None, None),
        "the server's page"
    );
    let fx = chat.on_event(directory(
        &reference,
        vec![room(12, "Attic", 4, false), room(11, "Book club", 2, true)],
        true,
    ));
    assert_eq!(
        texts(&fx),
        [
            format!("room {attic} members=4 password=no joined=no Attic"),
            format!("room {club} members=2 password=yes joined=yes Book club"),
            "more rooms -- /more lists the next page".to_owned(),
            "end rooms".to_owned(),
        ]
    );
    assert!(chat.idle());

    let fx = chat.on_command(Command::More);
    let (reference, query, after, _) = directory_request(&fx);
    assert_eq!((query, after.as_deref()), (None, Some("Book club")));
    let fx = chat.on_event(directory(&reference, vec![general()], false));
    assert_eq!(
        texts(&fx),
        [
            format!(
                "room {} members=1 password=no joined=no General",
                room_id(10)
            ),
            "end rooms".to_owned(),
        ]
    );
    let fx = chat.on_command(Command::More);
    assert_eq!(
        texts(&fx),
        ["error no_more no more rooms to list; /rooms [query] lists rooms"]
    );
    assert!(fx.frames.is_empty());

    // A query is kept for the next page.
    let fx = chat.on_command(Command::Rooms(Some("t".into())));
    let (reference, query, _, _) = directory_request(&fx);
    assert_eq!(query.as_deref(), Some("t"));
    chat.on_event(directory(
        &reference,
        vec![room(12, "Attic", 4, false)],
        true,
    ));
    let (_, query, after, _) = directory_request(&chat.on_command(Command::More));
    assert_eq!(
        (query.as_deref(), after.as_deref()),
        (Some("t"), Some("Attic"))
    );
}

#[test]
fn join_by_a_name_not_among_my_rooms_finds_it_in_the_directory_first() {
    let mut chat = with_rooms();
    let general_id = room_id(10);
    let fx = chat.on_command(Command::Join {
        room: " general ".into(),
        password: None,
    });
    let (reference, query, after, limit) = directory_request(&fx);
    assert_eq!(
        (query.as_deref(), after, limit),
        (Some("general"), None, Some(100))
    );
    assert!(!chat.idle(), "the search waits for its answer");
    // Rooms that only contain the name are not it.
    let fx = chat.on_event(directory(
        &reference,
        vec![room(13, "General chat", 9, false), general()],
        false,
    ));
    assert!(fx.lines.is_empty(), "{fx:?}");
    let (reference, join) = room_request(&fx);
    assert_eq!(
        join,
        ClientFrame::JoinRoom {
            room_id: general_id,
            password: None
        }
    );
    let fx = chat.on_event(ServerEvent::Joined {
        reference: Some(reference.into()),
        room: Cow::Owned(room(10, "General", 2, false)),
        conversation: Cow::Owned(room_conversation(10, "General", 7)),
    });
    assert_eq!(texts(&fx), [format!("joined {general_id} General")]);
    assert!(
        matches!(&fx.frames[..], [Request { frame: ClientFrame::History { conversation_id, .. }, .. }] if *conversation_id == general_id),
        "{fx:?}"
    );
    let fx = chat.on_command(Command::Say("hello room".into()));
    assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(general_id));
    // One of my rooms now: by name at once.
    let fx = chat.on_command(Command::Members(Some("GENERAL".into())));
    assert_eq!(
        room_request(&fx).1,
        ClientFrame::Members {
            room_id: general_id
        }
    );
}

#[test]
fn a_name_the_directory_does_not_hold_exactly_is_an_unknown_room() {
    let mut chat = with_rooms();
    let fx = chat.on_command(Command::Join {
        room: "Gen".into(),
        password: None,
    });
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(directory(&reference, vec![general()], false));
    assert_eq!(
        texts(&fx),
        ["error unknown_room Gen is not a room (/rooms lists them)"]
    );
    assert!(fx.frames.is_empty());
    assert!(chat.idle());

    // `/join Book club` unquoted: "club" is the password of a room "Book", which there
    // is not; the directory's rooms containing "Book" tell what was meant.
    let fx = chat.on_command(Command::Join {
        room: "Attic".into(),
        password: Some("door".into()),
    });
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(directory(
        &reference,
        vec![room(12, "Attic door", 1, false)],
        false,
    ));
    assert_eq!(
        texts(&fx),
        [r#"error usage quote a name with spaces: /join "Attic door" [password]"#]
    );
}

#[test]
fn a_search_continues_while_its_page_ends_before_the_name() {
    let mut chat = with_rooms();
    let fx = chat.on_command(Command::Delete(Some("Book".into())));
    let (reference, ..) = directory_request(&fx);
    // "A book" sorts before "Book": the room may be on the next page.
    let fx = chat.on_event(directory(
        &reference,
        vec![room(20, "A book", 1, false)],
        true,
    ));
    let (reference, query, after, _) = directory_request(&fx);
    assert_eq!(
        (query.as_deref(), after.as_deref()),
        (Some("Book"), Some("A book"))
    );
    let fx = chat.on_event(directory(
        &reference,
        vec![room(21, "book", 1, false)],
        true,
    ));
    assert_eq!(
        room_request(&fx).1,
        ClientFrame::DeleteRoom {
            room_id: room_id(21)
        }
    );
    // A page that ends past the name without it: there is no such room.
    let fx = chat.on_command(Command::Leave(Some("Book".into())));
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(directory(
        &reference,
        vec![room(22, "Bookish", 1, false)],
        true,
    ));
    assert_eq!(
        texts(&fx),
        ["error unknown_room Book is not a room (/rooms lists them)"]
    );
}

#[test]
fn a_search_the_socket_lost_is_asked_again_and_then_carried_out() {
    let mut chat = with_rooms();
    let fx = chat.on_command(Command::Members(Some("General".into())));
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(snapshot(
        vec![bob()],
        vec![room_conversation(11, "Book club", 3)],
        vec![room(11, "Book club", 2, true)],
    ));
    assert_eq!(directory_request(&fx).0, reference);
    let fx = chat.on_event(directory(&reference, vec![general()], false));
    assert_eq!(
        room_request(&fx).1,
        ClientFrame::Members {
            room_id: room_id(10)
        }
    );
}

#[test]
fn left_and_deleted_rooms_are_no_longer_mine() {
    let mut chat = with_rooms();
    let (club, attic) = (room_id(11), room_id(12));
    chat.on_command(Command::Open("Book club".into()));
    let fx = chat.on_event(ServerEvent::Room {
        room: Cow::Owned(room(11, "Book club", 3, true)),
    });
    assert_eq!(
        texts(&fx),
        [format!(
            "room {club} members=3 password=yes joined=yes Book club"
        )]
    );
    let fx = chat.on_event(ServerEvent::Left {
        reference: None,
        room_id: club,
    });
    assert_eq!(texts(&fx), [format!("left {club}")]);
    let fx = chat.on_command(Command::Say("anyone?".into()));
    assert_eq!(
        texts(&fx),
        ["error no_chat no chat is open; /open <email> first"]
    );
    // Forgotten: its name is looked up in the directory now, and it is not mine.
    let fx = chat.on_command(Command::Open("Book club".into()));
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(directory(
        &reference,
        vec![room(11, "Book club", 2, true)],
        false,
    ));
    assert_eq!(
        texts(&fx),
        ["error not_member you are not a member of Book club; /join it first"]
    );
    // A `room` crossing the leave prints, but does not make the room mine again.
    let fx = chat.on_event(ServerEvent::Room {
        room: Cow::Owned(room(11, "Book club", 2, true)),
    });
    assert_eq!(
        texts(&fx),
        [format!(
            "room {club} members=2 password=yes joined=no Book club"
        )]
    );

    // A join made elsewhere is printed, opens nothing, and makes the room mine.
    let fx = chat.on_event(ServerEvent::Joined {
        reference: None,
        room: Cow::Owned(room(12, "Attic", 1, false)),
        conversation: Cow::Owned(room_conversation(12, "Attic", 0)),
    });
    assert_eq!(texts(&fx), [format!("joined {attic} Attic")]);
    assert!(fx.frames.is_empty());
    let fx = chat.on_command(Command::Open("attic".into()));
    assert_eq!(texts(&fx), [format!("opened room {attic} Attic")]);
    let fx = chat.on_event(ServerEvent::RoomDeleted {
        reference: None,
        room_id: attic,
    });
    assert_eq!(texts(&fx), [format!("room_deleted {attic}")]);
    assert_eq!(
        texts(&chat.on_command(Command::Say("hello?".into()))),
        ["error no_chat no chat is open; /open <email> first"]
    );
    let fx = chat.on_command(Command::Leave(Some("attic".into())));
    assert_eq!(directory_request(&fx).1.as_deref(), Some("attic"));
}

#[test]
fn after_a_reconnect_rooms_no_longer_mine_print_left_and_new_ones_joined() {
    let mut chat = Chat::default();
    chat.on_event(snapshot(
        vec![],
        vec![
            room_conversation(11, "Book club", 3),
            room_conversation(12, "Attic", 1),
        ],
        vec![room(11, "Book club", 2, true), room(12, "Attic", 1, false)],
    ));
    let (shown, _) = room_request(&chat.on_command(Command::Open("Attic".into())));
    chat.on_event(ServerEvent::History {
        reference: Some(shown.into()),
        conversation_id: room_id(12),
        messages: Vec::new().into(),
    });
    // Meanwhile: Attic was left (or deleted) elsewhere, General joined, and someone
    // joined Book club.
    let fx = chat.on_event(snapshot(
        vec![],
        vec![
            room_conversation(11, "Book club", 3),
            room_conversation(10, "General", 5),
        ],
        vec![room(11, "Book club", 3, true), general()],
    ));
    assert_eq!(
        texts(&fx),
        [
            "reconnected".to_owned(),
            format!("left {}", room_id(12)),
            format!(
                "room {} members=3 password=yes joined=yes Book club",
                room_id(11)
            ),
            format!("joined {} General", room_id(10)),
        ]
    );
    assert!(fx.frames.is_empty(), "{fx:?}");
    let fx = chat.on_command(Command::Say("still there?".into()));
    assert_eq!(
        texts(&fx),
        ["error no_chat no chat is open; /open <email> first"]
    );
    let fx = chat.on_command(Command::Open("general".into()));
    assert_eq!(texts(&fx), [format!("opened room {} General", room_id(10))]);
}

#[test]
fn open_tells_people_from_rooms_and_opens_only_rooms_of_ours() {
    let mut chat = with_rooms();
    let club = room_id(11);
    let fx = chat.on_command(Command::Open("Book club".into()));
    assert_eq!(texts(&fx), [format!("opened room {club} Book club")]);
    let fx = chat.on_command(Command::Open(club.to_string()));
    assert_eq!(texts(&fx), [format!("opened room {club} Book club")]);
    let fx = chat.on_command(Command::Open("General".into()));
    let (reference, query, ..) = directory_request(&fx);
    assert_eq!(query.as_deref(), Some("General"));
    let fx = chat.on_event(directory(&reference, vec![general()], false));
    assert_eq!(
        texts(&fx),
        ["error not_member you are not a member of General; /join it first"]
    );
    let fx = chat.on_command(Command::Open("Nowhere".into()));
    let (reference, ..) = directory_request(&fx);
    let fx = chat.on_event(directory(&reference, vec![], false));
    assert_eq!(
        texts(&fx),
        ["error unknown_room Nowhere is not a room (/rooms lists them)"]
    );
    let fx = chat.on_command(Command::Open("bob@example.com".into()));
    assert_eq!(texts(&fx), ["opened bob@example.com new", "end history"]);
    let fx = chat.on_command(Command::Leave(None));
    assert_eq!(
        texts(&fx),
        ["error not_room the open chat is not a room; /open <room> first, or name the room"]
    );
    // A room of mine named like a known person's email does not hide the person.
    chat.on_event(ServerEvent::Joined {
        reference: None,
        room: Cow::Owned(room(12, "bob@example.com", 1, false)),
        conversation: Cow::Owned(room_conversation(12, "bob@example.com", 0)),
    });
    let fx = chat.on_command(Command::Open("bob@example.com".into()));
    assert_eq!(texts(&fx)[0], "opened bob@example.com new");
}

#[test]
fn a_reply_carries_its_seq_and_an_incoming_reply_prints_what_it_quotes() {
    let mut chat = with_rooms();
    let club = room_id(11);
    chat.on_command(Command::Open("Book club".into()));
    let fx = chat.on_command(Command::Reply {
        seq: 2,
        body: "agreed".into(),
    });
    assert!(
        matches!(
            &fx.frames[..],
            [Request {
                frame: ClientFrame::Send {
                    reply_to: Some(2),
                    ..
                },
                ..
            }]
        ),
        "{fx:?}"
    );
    assert_eq!(sent(&fx.frames[0]).1, Target::Conversation(club));

    let mut reply = message(4, &bob(), "me too", "b4");
    reply.conversation_id = club;
    reply.reply_to = Some(Quote {
        seq: 2,
        sender_id: Some(alice().id),
        body: Some("shall we\nread it?".into()),
    });
    let fx = chat.on_event(ServerEvent::Message {
        message: Cow::Borrowed(&reply),
    });
    assert_eq!(
        texts(&fx),
        [
            format!("message {club} 4 bob@example.com me too"),
            format!("reply-to {club} 4 2 alice@example.com shall we\\nread it?"),
        ]
    );
    reply.seq = 5;
    reply.reply_to = Some(Quote {
        seq: 1,
        sender_id: None,
        body: None,
    });
    let fx = chat.on_event(ServerEvent::Message {
        message: Cow::Owned(reply),
    });
    assert_eq!(texts(&fx)[1], format!("reply-to {club} 5 1 unknown"));
}

#[test]
fn a_name_is_sent_as_set_name_and_each_new_name_prints_one_named_line() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    let fx = chat.on_command(Command::Name("Alice Liddell".into()));
    assert_eq!(fx.frames.len(), 1);
    let frame = serde_json::to_value(&fx.frames[0]).unwrap();
    assert_eq!(frame["type"], "set_name");
    assert_eq!(frame["name"], "Alice Liddell");
    assert!(frame["ref"].is_string());

    let renamed = |u: User, name: &str| ServerEvent::UserUpdated {
        user: Cow::Owned(User {
            name: Some(name.into()),
            ..u
        }),
    };
    let fx = chat.on_event(renamed(alice(), "Alice Liddell"));
    assert_eq!(texts(&fx), ["named alice@example.com Alice Liddell"]);
    let fx = chat.on_event(renamed(bob(), "Bob\nDylan"));
    assert_eq!(texts(&fx), ["named bob@example.com Bob\\nDylan"]);
}

/// Alice's `ready` with her direct chat with bob at `last_seq` and change `last_change`.
fn ready_changed(online: Vec<User>, last_seq: i64, last_change: i64) -> ServerEvent<'static> {
    let summary = ConversationSummary {
        id: conversation(),
        kind: ConversationKind::Direct,
        peer: Some(bob()),
        name: None,
        last_seq,
        read_seq: 0,
        unread: 0,
        mentions: vec![],
        last_change,
        peer_read_seq: None,
    };
    snapshot(online, vec![summary], vec![])
}

/// The request among `fx`'s frames with this `ref` prefix (`e`: a change, `c`: changes,
/// `h`: history, `g`: a gap): its `ref` and frame.
fn request(fx: &Effects, prefix: &str) -> (String, ClientFrame) {
    let found: Vec<_> = fx
        .frames
        .iter()
        .filter(|f| {
            f.reference
                .as_deref()
                .is_some_and(|r| r.starts_with(prefix))
        })
        .collect();
    match &found[..] {
        [Request {
            reference: Some(r),
            frame,
        }] => (r.clone(), frame.clone()),
        other => panic!("one {prefix} request: {other:?}"),
    }
}

/// The answer to the `history` request `reference`.
fn page_of(reference: &str, messages: Vec<Message>) -> ServerEvent<'static> {
    ServerEvent::History {
        reference: Some(Cow::Owned(reference.to_owned())),
        conversation_id: conversation(),
        messages: messages.into(),
    }
}

fn reacted(emoji: &str, users: &[&User]) -> Reaction {
    Reaction {
        emoji: emoji.into(),
        users: users.iter().map(|u| u.id).collect(),
    }
}

fn edited(reference: Option<&str>, seq: i64, body: &str, change: i64) -> ServerEvent<'static> {
    ServerEvent::MessageEdited {
        reference: reference.map(|r| Cow::Owned(r.to_owned())),
        conversation_id: conversation(),
        seq,
        body: Cow::Owned(body.to_owned()),
        edited_at: Utc::now(),
        change,
    }
}

fn deleted(reference: Option<&str>, seq: i64, change: i64) -> ServerEvent<'static> {
    ServerEvent::MessageDeleted {
        reference: reference.map(|r| Cow::Owned(r.to_owned())),
        conversation_id: conversation(),
        seq,
        deleted_at: Utc::now(),
        change,
    }
}

fn reaction(
    reference: Option<&str>,
    seq: i64,
    by: &User,
    emoji: &str,
    add: bool,
    change: i64,
) -> ServerEvent<'static> {
    ServerEvent::Reaction {
        reference: reference.map(|r| Cow::Owned(r.to_owned())),
        conversation_id: conversation(),
        seq,
        user_id: by.id,
        emoji: Cow::Owned(emoji.to_owned()),
        add,
        change,
    }
}

fn changes_frame(
    reference: Option<&str>,
    messages: Vec<Message>,
    through: i64,
    more: bool,
) -> ServerEvent<'static> {
    ServerEvent::Changes {
        reference: reference.map(|r| Cow::Owned(r.to_owned())),
        conversation_id: conversation(),
        messages: messages.into(),
        through,
        more,
    }
}

/// Alice with her direct chat with bob open, its three messages shown: 1 from bob
/// (with bob's 👍 and alice's ❤️), 2 from alice (edited), 3 from bob (deleted).
fn chat_with_history() -> (Chat, Effects) {
    let mut chat = Chat::default();
    chat.on_event(ready_changed(vec![bob()], 3, 4));
    let fx = chat.on_command(Command::Open("bob@example.com".into()));
    let (reference, _) = request(&fx, "h");
    let mut first = message(1, &bob(), "lunch?", "b1");
    first.reactions = vec![reacted("👍", &[&bob()]), reacted("❤️", &[&alice()])];
    first.version = 2;
    let mut second = message(2, &alice(), "sure, wehre?", "a2");
    second.body = "sure, where?".into();
    second.edited_at = Some(Utc::now());
    second.version = 3;
    let mut third = message(3, &bob(), "", "b3");
    third.deleted_at = Some(Utc::now());
    third.version = 4;
    let fx = chat.on_event(page_of(&reference, vec![first, second, third]));
    (chat, fx)
}

#[test]
fn history_marks_edited_and_deleted_messages_and_counts_reactions() {
    let (_, fx) = chat_with_history();
    let c = conversation();
    assert_eq!(
        texts(&fx),
        [
            format!("history {c} 1 bob@example.com lunch?"),
            format!("state {c} 1 👍 1 ❤️ 1"),
            format!("history {c} 2 alice@example.com sure, where?"),
            format!("state {c} 2 edited"),
            format!("history {c} 3 bob@example.com"),
            format!("state {c} 3 deleted"),
            "end history".to_owned(),
        ]
    );
}

#[test]
fn edit_delete_and_react_ask_for_the_open_chat_and_their_answers_print() {
    let (mut chat, _) = chat_with_history();
    let c = conversation();

    let fx = chat.on_command(Command::Edit {
        seq: 2,
        body: "sure, where? (noon)".into(),
    });
    assert!(fx.lines.is_empty(), "{fx:?}");
    let (reference, frame) = request(&fx, "e");
    assert_eq!(
        frame,
        ClientFrame::Edit {
            conversation_id: c,
            seq: 2,
            body: "sure, where? (noon)".into()
        }
    );
    assert!(!chat.idle(), "/quit waits for the answer");
    let fx = chat.on_event(edited(Some(&reference), 2, "sure, where? (noon)", 5));
    assert_eq!(texts(&fx), [format!("edited {c} 2 sure, where? (noon)")]);
    assert!(chat.idle());

    let fx = chat.on_command(Command::DeleteMessage(2));
    let (reference, frame) = request(&fx, "e");
    assert_eq!(
        frame,
        ClientFrame::Delete {
            conversation_id: c,
            seq: 2
        }
    );
    let fx = chat.on_event(deleted(Some(&reference), 2, 6));
    assert_eq!(texts(&fx), [format!("deleted {c} 2")]);

    // Someone else's changes print alike; bob's reaction names him.
    let fx = chat.on_event(edited(None, 1, "lunch? (or dinner)", 7));
    assert_eq!(texts(&fx), [format!("edited {c} 1 lunch? (or dinner)")]);
    let fx = chat.on_event(reaction(None, 1, &bob(), "🎉", true, 8));
    assert_eq!(
        texts(&fx),
        [format!("reaction added {c} 1 bob@example.com 🎉")]
    );
    let fx = chat.on_event(reaction(None, 1, &bob(), "👍", false, 9));
    assert_eq!(
        texts(&fx),
        [format!("reaction removed {c} 1 bob@example.com 👍")]
    );
    // A change number already printed is not printed again.
    assert_eq!(
        chat.on_event(reaction(None, 1, &bob(), "👍", false, 9)),
        Effects::default()
    );

    // A refusal is printed, and answers the request.
    let fx = chat.on_command(Command::Edit {
        seq: 1,
        body: "mine now".into(),
    });
    let (reference, _) = request(&fx, "e");
    let fx = chat.on_event(ServerEvent::Error {
        reference: Some(reference.into()),
        code: ErrorCode::Forbidden,
        message: "only its sender may edit a message".into(),
        retry_after_ms: None,
    });
    assert_eq!(
        texts(&fx),
        ["error forbidden only its sender may edit a message"]
    );
    assert!(chat.idle());
}

#[test]
fn react_takes_back_a_reaction_this_client_knows_is_mine_and_puts_on_any_other() {
    let (mut chat, _) = chat_with_history();
    let c = conversation();
    let react = |chat: &mut Chat, seq: i64, emoji: &str| {
        let fx = chat.on_command(Command::React {
            seq,
            emoji: emoji.into(),
        });
        match request(&fx, "e") {
            (reference, ClientFrame::React { add, emoji: e, .. }) => {
                assert_eq!(e, emoji);
                (reference, add)
            }
            other => panic!("a react: {other:?}"),
        }
    };
    // History said the ❤️ on 1 is mine (typed without its variation selector, the same
    // reaction); bob's 👍 is not.
    assert!(!react(&mut chat, 1, "\u{2764}").1);
    assert!(!react(&mut chat, 1, "❤️").1);
    let (reference, add) = react(&mut chat, 1, "👍");
    assert!(add);
    let fx = chat.on_event(reaction(Some(&reference), 1, &alice(), "👍", true, 5));
    assert_eq!(
        texts(&fx),
        [format!("reaction added {c} 1 alice@example.com 👍")]
    );
    // Mine now: the next one takes it back.
    let (reference, add) = react(&mut chat, 1, "👍");
    assert!(!add);
    chat.on_event(reaction(Some(&reference), 1, &alice(), "👍", false, 6));
    assert!(react(&mut chat, 1, "👍").1);

    // Taken back in another window: known here too.
    chat.on_event(reaction(None, 1, &alice(), "❤️", false, 7));
    assert!(react(&mut chat, 1, "❤️").1);

    // Put on elsewhere, unseen here: the server answers `ok`, which this client learns.
    let (reference, add) = react(&mut chat, 2, "🎉");
    assert!(add);
    let fx = chat.on_event(ServerEvent::Ok {
        reference: Cow::Owned(reference),
    });
    assert_eq!(texts(&fx), [format!("unchanged {c} 2")]);
    assert!(!react(&mut chat, 2, "🎉").1);

    // A deleted message's reactions are gone with it.
    chat.on_event(reaction(None, 4, &alice(), "🎉", true, 8));
    chat.on_event(deleted(None, 4, 9));
    assert!(react(&mut chat, 4, "🎉").1);
}

#[test]
fn change_commands_need_an_open_chat_with_messages_and_an_ok_is_unchanged() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob(), carol()], Some(2)));
    for command in [
        Command::Edit {
            seq: 1,
            body: "x".into(),
        },
        Command::DeleteMessage(1),
        Command::React {
            seq: 1,
            emoji: "👍".into(),
        },
    ] {
        let fx = chat.on_command(command.clone());
        assert_eq!(
            texts(&fx),
            ["error no_chat no chat is open; /open <email> first"]
        );
        assert!(fx.frames.is_empty());
    }
    chat.on_command(Command::Open("carol@example.com".into()));
    let fx = chat.on_command(Command::DeleteMessage(1));
    assert_eq!(
        texts(&fx),
        ["error no_messages the open chat has no messages yet"]
    );
    assert!(fx.frames.is_empty());

    chat.on_command(Command::Open("bob@example.com".into()));
    let fx = chat.on_command(Command::Edit {
        seq: 1,
        body: "same".into(),
    });
    let (reference, _) = request(&fx, "e");
    let fx = chat.on_event(ServerEvent::Ok {
        reference: Cow::Owned(reference),
    });
    assert_eq!(texts(&fx), [format!("unchanged {} 1", conversation())]);
    assert!(!chat.idle(), "the history of /open is still awaited");
}

#[test]
fn a_changes_frame_prints_each_changed_message_as_it_is_now_once() {
    let (mut chat, _) = chat_with_history();
    let c = conversation();
    // The server filled a gap in the changes it delivered (4 was the last printed).
    let mut first = message(1, &bob(), "lunch at noon?", "b1");
    first.edited_at = Some(Utc::now());
    first.reactions = vec![reacted("👍", &[&bob(), &alice()])];
    first.version = 6;
    let mut second = message(2, &alice(), "sure, where?", "a2");
    second.edited_at = Some(Utc::now());
    second.version = 3; // its last change was printed already
    let fx = chat.on_event(changes_frame(None, vec![second, first], 6, false));
    assert_eq!(
        texts(&fx),
        [
            format!("changed {c} 1 bob@example.com lunch at noon?"),
            format!("state {c} 1 edited 👍 2"),
        ]
    );
    assert!(fx.frames.is_empty());
    // Changes it covered are not printed again, later ones are.
    assert_eq!(
        chat.on_event(reaction(None, 1, &alice(), "👍", true, 6)),
        Effects::default()
    );
    let fx = chat.on_event(deleted(None, 1, 7));
    assert_eq!(texts(&fx), [format!("deleted {c} 1")]);
    // Learned from it: the 👍 on 1 is mine.
    let fx = chat.on_command(Command::React {
        seq: 1,
        emoji: "👍".into(),
    });
    assert!(
        matches!(request(&fx, "e").1, ClientFrame::React { add: true, .. }),
        "deleted since"
    );

    // With more to come, the client asks for the rest, holding live changes meanwhile.
    let mut third = message(3, &bob(), "", "b3");
    third.deleted_at = Some(Utc::now());
    third.version = 8;
    let fx = chat.on_event(changes_frame(None, vec![third.clone()], 8, true));
    assert_eq!(
        texts(&fx),
        [
            format!("changed {c} 3 bob@example.com"),
            format!("state {c} 3 deleted")
        ]
    );
    let (reference, frame) = request(&fx, "c");
    assert_eq!(
        frame,
        ClientFrame::Changes {
            conversation_id: c,
            after: 8
        }
    );
    assert!(chat.on_event(edited(None, 2, "held", 10)).lines.is_empty());
    let mut second = message(2, &alice(), "sure", "a2");
    second.edited_at = Some(Utc::now());
    second.version = 9;
    let fx = chat.on_event(changes_frame(Some(&reference), vec![second], 9, false));
    assert_eq!(
        texts(&fx),
        [
            format!("changed {c} 2 alice@example.com sure"),
            format!("state {c} 2 edited"),
            format!("edited {c} 2 held"),
        ]
    );
    // Caught up: live changes print at once again.
    let fx = chat.on_event(edited(None, 2, "live", 11));
    assert_eq!(texts(&fx), [format!("edited {c} 2 live")]);
}

#[test]
fn after_a_reconnect_changes_missed_are_caught_up_and_live_ones_wait_their_turn() {
    let (mut chat, _) = chat_with_history();
    let c = conversation();
    // Away: message 2 was edited again and bob wrote 4, which got a reaction (changes
    // 5 and 6); an edit typed here went unanswered.
    let fx = chat.on_command(Command::Edit {
        seq: 2,
        body: "the usual place".into(),
    });
    let (unanswered, _) = request(&fx, "e");
    let fx = chat.on_event(ready_changed(vec![bob()], 4, 6));
    assert_eq!(texts(&fx), ["reconnected"]);
    // The edit is asked again (it is idempotent); the gap and the changes are asked.
    assert_eq!(request(&fx, "e").0, unanswered);
    let (gap, frame) = request(&fx, "g");
    assert!(matches!(
        frame,
        ClientFrame::History {
            after_seq: Some(3),
            ..
        }
    ));
    let (catch_up, frame) = request(&fx, "c");
    assert_eq!(
        frame,
        ClientFrame::Changes {
            conversation_id: c,
            after: 4
        }
    );
    assert!(!chat.synced());

    // A live change arrives first: it waits for the message it changes and the catch-up.
    assert!(chat
        .on_event(reaction(None, 4, &alice(), "🎉", true, 7))
        .lines
        .is_empty());
    let mut fourth = message(4, &bob(), "see you there", "b4");
    fourth.reactions = vec![reacted("👀", &[&bob()])];
    fourth.version = 6;
    let fx = chat.on_event(page_of(&gap, vec![fourth.clone()]));
    assert_eq!(
        texts(&fx),
        [
            format!("message {c} 4 bob@example.com see you there"),
            format!("state {c} 4 👀 1"),
        ]
    );
    assert!(chat.synced());
    // The catch-up prints what changed of the messages shown before (4 printed as it is
    // now already); then the live change that waited.
    let mut second = message(2, &alice(), "the usual place", "a2");
    second.edited_at = Some(Utc::now());
    second.version = 5;
    let fx = chat.on_event(changes_frame(
        Some(&catch_up),
        vec![second, fourth],
        6,
        false,
    ));
    assert_eq!(
        texts(&fx),
        [
            format!("changed {c} 2 alice@example.com the usual place"),
            format!("state {c} 2 edited"),
            format!("reaction added {c} 4 alice@example.com 🎉"),
        ]
    );
    // The edit asked again found it done.
    let fx = chat.on_event(ServerEvent::Ok {
        reference: Cow::Owned(unanswered),
    });
    assert_eq!(texts(&fx), [format!("unchanged {c} 2")]);
    assert!(chat.idle());

    // Nothing moved: nothing is asked.
    let fx = chat.on_event(ready_changed(vec![bob()], 4, 7));
    assert!(fx.frames.is_empty(), "{fx:?}");
}

#[test]
fn a_refused_catch_up_lets_the_changes_that_waited_print() {
    let (mut chat, _) = chat_with_history();
    let fx = chat.on_event(ready_changed(vec![bob()], 3, 5));
    let (catch_up, _) = request(&fx, "c");
    assert!(chat.on_event(edited(None, 1, "later", 6)).lines.is_empty());
    let fx = chat.on_event(ServerEvent::Error {
        reference: Some(catch_up.into()),
        code: ErrorCode::RateLimited,
        message: "too many requests".into(),
        retry_after_ms: None,
    });
    assert_eq!(
        texts(&fx),
        [
            "error rate_limited too many requests".to_owned(),
            format!("edited {} 1 later", conversation()),
        ]
    );
    assert!(chat.idle());
}

#[test]
fn a_reaction_or_a_changed_message_from_someone_unknown_in_a_room_is_looked_up() {
    let mut chat = with_rooms();
    let club = room_id(11);
    let stranger = user(7, "zed@example.com");
    let event = ServerEvent::Reaction {
        reference: None,
        conversation_id: club,
        seq: 1,
        user_id: stranger.id,
        emoji: "👍".into(),
        add: true,
        change: 1,
    };
    let lookup = Lookup::Members {
        room: club,
        user: stranger.id,
    };
    assert_eq!(chat.lookup(&event), Some(lookup));
    let mut changed = message(1, &stranger, "hi", "z1");
    changed.conversation_id = club;
    let frame = ServerEvent::Changes {
        reference: None,
        conversation_id: club,
        messages: vec![changed].into(),
        through: 1,
        more: false,
    };
    assert_eq!(chat.lookup(&frame), Some(lookup));
    chat.looked_up(lookup);
    chat.learn_people(vec![stranger]);
    assert_eq!(chat.lookup(&event), None);
    assert_eq!(
        texts(&chat.on_event(event)),
        [format!("reaction added {club} 1 zed@example.com 👍")]
    );
}

#[test]
fn a_chat_begun_in_this_session_is_caught_up_from_its_first_change() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], None));
    chat.on_command(Command::Open("bob@example.com".into()));
    let (client_id, _) = sent(&chat.on_command(Command::Say("hi".into())).frames[0]);
    chat.on_event(ServerEvent::Ack {
        reference: Some("s1".into()),
        message: Cow::Owned(message(1, &alice(), "hi", &client_id)),
    });
    // Away, bob reacted to it.
    let fx = chat.on_event(ready_changed(vec![bob()], 1, 1));
    let (reference, frame) = request(&fx, "c");
    assert_eq!(
        frame,
        ClientFrame::Changes {
            conversation_id: conversation(),
            after: 0
        }
    );
    let mut first = message(1, &alice(), "hi", &client_id);
    first.reactions = vec![reacted("👋", &[&bob()])];
    first.version = 1;
    let fx = chat.on_event(changes_frame(Some(&reference), vec![first], 1, false));
    let c = conversation();
    assert_eq!(
        texts(&fx),
        [
            format!("changed {c} 1 alice@example.com hi"),
            format!("state {c} 1 👋 1"),
        ]
    );
}

#[test]
fn read_receipts_print_as_seen_lines_and_seen_asks_the_open_chat() {
    let mut chat = Chat::default();
    chat.on_event(ready(vec![bob()], Some(3)));
    // Bob read up to 3: a receipt; my own read elsewhere stays a `read` line.
    let fx = chat.on_event(ServerEvent::Read {
        conversation_id: conversation(),
        seq: 3,
        user_id: Some(bob().id),
    });
    assert_eq!(
        texts(&fx),
        [format!("seen {} 3 bob@example.com", conversation())]
    );
    let fx = chat.on_event(ServerEvent::Read {
        conversation_id: conversation(),
        seq: 2,
        user_id: None,
    });
    assert_eq!(texts(&fx), [format!("read {} 2", conversation())]);

    // `/seen` needs an open chat, then asks about it.
    let fx = chat.on_command(Command::Seen(3));
    assert_eq!(fx.lines[0].to_string().split(' ').nth(1), Some("no_chat"));
    chat.on_command(Command::Open("bob@example.com".into()));
    let fx = chat.on_command(Command::Seen(3));
    assert!(
        matches!(
            &fx.frames[..],
            [Request {
                frame: ClientFrame::Seen { seq: 3, conversation_id },
                reference: Some(_),
            }] if *conversation_id == conversation()
        ),
        "{:?}",
        fx.frames
    );
    let fx = chat.on_event(ServerEvent::Seen {
        reference: Some("w1".into()),
        conversation_id: conversation(),
        seq: 3,
        count: 1,
        users: Cow::Owned(vec![bob()]),
    });
    assert_eq!(
        texts(&fx),
        [format!("seen-by {} 3 1 bob@example.com", conversation())]
    );

    // The switch, and its echo from another window.
    let fx = chat.on_command(Command::Receipts(false));
    assert!(matches!(
        &fx.frames[..],
        [Request {
            frame: ClientFrame::SetReceipts { share: false },
            ..
        }]
    ));
    let fx = chat.on_event(ServerEvent::Receipts { share: false });
    assert_eq!(texts(&fx), ["receipts off"]);
}
