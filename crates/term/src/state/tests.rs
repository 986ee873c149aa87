//! The unit tests of the state, driving it as the client does: server events in,
//! commands in, lines and frames out.

use super::{Chat, Effects, Lookup};
use crate::commands::Command;
use banter_protocol::{
    ClientFrame, ClientId, ConversationId, ConversationKind, ConversationSummary, ErrorCode,
    Message, MessageId, Quote, Request, Room, ServerEvent, Target, UiState, User, UserId,
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
