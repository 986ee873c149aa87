//! Rooms: creating (with and without a password), the directory, joining, leaving,
//! members with presence, fan-out to members only, blocks inside a room, and deleting a
//! room while its members are online.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn join(ws: &mut Ws, room: &str, password: Option<&str>) -> Value {
    ws.send(json!({"type": "join_room", "ref": "j1", "room_id": room, "password": password}))
        .await;
    loop {
        let frame = ws.recv().await;
        if frame["type"] == "joined" || frame["type"] == "error" {
            return frame;
        }
    }
}

#[actix_web::test]
async fn a_new_room_is_in_the_directory_at_once_and_only_its_members_are_told() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (mut a2, _) = app.window(&alice).await;
    let (mut b1, ready) = app.window(&bob).await;
    assert_eq!(own_rooms(&ready["rooms"]), json!([]));

    let (room_id, joined) = create_room(&mut a1, "Lobby", None).await;
    assert_eq!(joined["room"]["name"], "Lobby");
    assert_eq!(joined["room"]["has_password"], false);
    assert_eq!(joined["conversation"]["kind"], "room");
    assert_eq!(joined["conversation"]["name"], "Lobby");

    let mirrored = a2.recv_type("joined").await;
    assert_eq!(mirrored["room"]["id"], room_id.as_str());
    assert!(mirrored.get("ref").is_none());
    // Bob is not a member: he is not told, and his `ready` does not carry it...
    b1.assert_no("room", Duration::from_millis(300)).await;
    let (_, ready) = app.window(&bob).await;
    assert_eq!(own_rooms(&ready["rooms"]), json!([]));
    // ...but the directory has it at once, over HTTP and the socket.
    let (status, rooms) = app.get("/api/rooms", &bob.token).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            own_rooms(&rooms["rooms"])[0]["name"].clone(),
            rooms["more"].clone()
        ),
        (json!("Lobby"), json!(false))
    );
    b1.send(json!({"type": "rooms", "ref": "d"})).await;
    let page = b1.recv_type("rooms").await;
    assert_eq!(page["ref"], "d");
    assert_eq!(page["rooms"], rooms["rooms"]);
    // Bob joins over HTTP: both `ready`s carry it, counted once per room.
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/rooms/{room_id}/join"),
            &bob.token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    for person in [&alice, &bob] {
        let (_, ready) = app.window(person).await;
        let rooms = own_rooms(&ready["rooms"]);
        assert_eq!(rooms[0]["id"], room_id.as_str());
        assert_eq!(rooms[0]["members"], 2);
    }
    let (_, ready) = app.window(&alice).await;
    let conversations = ready["conversations"].as_array().unwrap();
    assert!(conversations.iter().any(|c| c["id"] == room_id.as_str()));

    // Names are unique whatever their case.
    a1.send(json!({"type": "create_room", "ref": "c2", "name": "lobby"}))
        .await;
    let error = a1.recv_type("error").await;
    assert_eq!(
        (error["ref"].clone(), error["code"].clone()),
        (json!("c2"), json!("conflict"))
    );
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/rooms",
            &bob.token,
            Some(json!({"name": "GENERAL"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("conflict"))
    );
}

#[actix_web::test]
async fn a_room_with_a_password_admits_only_the_right_password_and_stores_only_a_slow_hash() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/rooms",
            &alice.token,
            Some(json!({"name": "secret club", "password": "open sesame"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["room"]["has_password"], true);
    let room_id = created["room"]["id"].as_str().unwrap().to_owned();
    let hash: String = app
        .db()
        .await
        .query_one(
            "SELECT password_hash FROM conversations WHERE name = 'secret club'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("open sesame"));

    let (mut b1, _) = app.window(&bob).await;
    let refused = join(&mut b1, &room_id, None).await;
    assert_eq!(refused["code"], "forbidden");
    let refused = join(&mut b1, &room_id, Some("open barley")).await;
    assert_eq!(
        (refused["code"].clone(), refused["message"].clone()),
        (json!("forbidden"), json!("wrong password"))
    );

    let joined = join(&mut b1, &room_id, Some("open sesame")).await;
    assert_eq!(joined["type"], "joined");
    assert_eq!(joined["ref"], "j1");
    let member = a1.recv_type("member").await;
    assert_eq!(member["user"]["id"], bob.id.as_str());
    assert_eq!(member["joined"], true);

    // Members with presence, over the socket and over HTTP.
    b1.send(json!({"type": "members", "ref": "m1", "room_id": room_id}))
        .await;
    let members = b1.recv_type("members").await;
    let listed: Vec<(Value, Value)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].clone(), m["online"].clone()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (json!("alice@example.com"), json!(true)),
            (json!("bob@example.com"), json!(true))
        ]
    );
    a1.close().await;
    let (_, members) = app
        .get(&format!("/api/rooms/{room_id}/members"), &bob.token)
        .await;
    let alice_entry = &members["members"][0];
    assert_eq!(alice_entry["email"], "alice@example.com");
    // Presence follows the socket closing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, members) = app
            .get(&format!("/api/rooms/{room_id}/members"), &bob.token)
            .await;
        if members["members"][0]["online"] == false {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "alice still online");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn wrong_room_passwords_are_rate_limited_per_person() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (room_id, _) = create_room(&mut a1, "vault", Some("right")).await;

    let (mut b1, _) = app.window(&bob).await;
    for _ in 0..5 {
        assert_eq!(
            join(&mut b1, &room_id, Some("wrong")).await["code"],
            "forbidden"
        );
    }
    // Even the right password waits now: guessing cannot go faster than 5 a minute.
    assert_eq!(
        join(&mut b1, &room_id, Some("right")).await["code"],
        "rate_limited"
    );
    let path = format!("/api/rooms/{room_id}/join");
    let (status, body) = app
        .send_json(
            Method::POST,
            &path,
            &bob.token,
            Some(json!({"password": "right"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );
    // Someone else is not held back by bob's guesses.
    let carol = app.sign_in("carol@example.com").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &path,
            &carol.token,
            Some(json!({"password": "right"})),
        )
        .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn room_messages_reach_the_members_online_but_not_those_who_blocked_the_sender() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let dave = app.sign_in("dave@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut a1, "lobby", None).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut c1, _) = app.window(&carol).await;
    let (mut d1, _) = app.window(&dave).await; // not a member
    assert_eq!(join(&mut b1, &room, None).await["type"], "joined");
    assert_eq!(join(&mut c1, &room, None).await["type"], "joined");
    c1.send(json!({"type": "block", "user_id": bob.id})).await;
    c1.recv_presence().await; // bob vanishes from carol's list: the block is in

    for i in 1..=3 {
        b1.send(
            json!({"type": "send", "ref": format!("s{i}"), "client_id": new_client_id(),
                       "body": format!("from bob {i}"), "conversation_id": room}),
        )
        .await;
        b1.recv_type("ack").await;
    }
    for i in 1..=3 {
        assert_eq!(
            a1.recv_type("message").await["message"]["body"],
            format!("from bob {i}")
        );
    }
    a1.send(
        json!({"type": "send", "ref": "a", "client_id": new_client_id(),
                   "body": "from alice", "conversation_id": room}),
    )
    .await;
    a1.recv_type("ack").await;
    // Carol gets alice's message (seq 4) and nothing of bob's.
    let to_carol = c1.recv_type("message").await;
    assert_eq!(to_carol["message"]["body"], "from alice");
    assert_eq!(to_carol["message"]["seq"], 4);
    c1.assert_no("message", Duration::from_millis(300)).await;
    assert_eq!(
        b1.recv_type("message").await["message"]["body"],
        "from alice"
    );
    d1.assert_no("message", Duration::from_millis(100)).await;

    // Her history leaves bob out too, and still fills its page.
    let (_, history) = app
        .get(
            &format!("/api/conversations/{room}/messages?limit=1"),
            &carol.token,
        )
        .await;
    assert_eq!(history["messages"][0]["body"], "from alice");
    let (_, history) = app
        .get(&format!("/api/conversations/{room}/messages"), &carol.token)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    let (_, history) = app
        .get(&format!("/api/conversations/{room}/messages"), &alice.token)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 4);

    // Unread counts: a new window of bob's sees the one message he has not read (alice's),
    // and reading moves it to zero on every window.
    let (mut b2, ready) = app.window(&bob).await;
    let in_room = ready["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == room.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (in_room["kind"].clone(), in_room["unread"].clone()),
        (json!("room"), json!(1))
    );
    b2.send(json!({"type": "read", "conversation_id": room, "seq": 4}))
        .await;
    assert_eq!(b1.recv_type("read").await["seq"], 4);
    let (_, conversations) = app.get("/api/conversations", &bob.token).await;
    let in_room = conversations["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == room.as_str())
        .cloned()
        .unwrap();
    assert_eq!(in_room["unread"], 0);

    // Someone who is not a member cannot write to or read the room.
    d1.send(
        json!({"type": "send", "ref": "d", "client_id": new_client_id(),
                   "body": "let me in", "conversation_id": room}),
    )
    .await;
    assert_eq!(d1.recv_type("error").await["code"], "not_found");
}

#[actix_web::test]
async fn leaving_a_room_stops_its_messages_and_tells_the_other_members() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut a1, "book club", None).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut b2, _) = app.window(&bob).await;
    assert_eq!(join(&mut b1, &room, None).await["type"], "joined");
    b2.recv_type("joined").await;
    a1.recv_type("member").await;

    b1.send(json!({"type": "leave_room", "ref": "l1", "room_id": room}))
        .await;
    assert_eq!(b1.recv_type("left").await["ref"], "l1");
    assert_eq!(b2.recv_type("left").await["room_id"], room.as_str());
    let member = a1.recv_type("member").await;
    assert_eq!(
        (member["user"]["id"].clone(), member["joined"].clone()),
        (json!(bob.id), json!(false))
    );
    // The member who stays follows the count; the directory has it too.
    assert_eq!(a1.recv_type("room").await["room"]["members"], 1);
    let (_, rooms) = app.get("/api/rooms", &alice.token).await;
    assert_eq!(own_rooms(&rooms["rooms"])[0]["members"], 1);

    a1.send(
        json!({"type": "send", "ref": "a", "client_id": new_client_id(),
                   "body": "anyone?", "conversation_id": room}),
    )
    .await;
    a1.recv_type("ack").await;
    b1.assert_no("message", Duration::from_millis(300)).await;
    let (status, _) = app
        .get(&format!("/api/conversations/{room}/messages"), &bob.token)
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_creator_deletes_a_room_with_its_messages_while_members_are_online() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut a1, "temporary", None).await;
    let (mut b1, _) = app.window(&bob).await;
    let (mut c1, _) = app.window(&carol).await; // not a member: not told
    assert_eq!(join(&mut b1, &room, None).await["type"], "joined");
    b1.send(
        json!({"type": "send", "ref": "b", "client_id": new_client_id(),
                   "body": "hello", "conversation_id": room}),
    )
    .await;
    b1.recv_type("ack").await;

    // Only the creator may delete it.
    b1.send(json!({"type": "delete_room", "ref": "d0", "room_id": room}))
        .await;
    assert_eq!(b1.recv_type("error").await["code"], "forbidden");

    a1.send(json!({"type": "delete_room", "ref": "d1", "room_id": room}))
        .await;
    assert_eq!(a1.recv_type("room_deleted").await["ref"], "d1");
    assert_eq!(b1.recv_type("room_deleted").await["room_id"], room.as_str());
    c1.assert_no("room_deleted", Duration::from_millis(300))
        .await;
    let client = app.db().await;
    let left: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM members m JOIN conversations c ON c.id = m.conversation_id WHERE c.kind = 'room' AND NOT c.everyone)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    let (_, rooms) = app.get("/api/rooms", &bob.token).await;
    assert_eq!(own_rooms(&rooms["rooms"]), json!([]));
    b1.send(
        json!({"type": "send", "ref": "b2", "client_id": new_client_id(),
                   "body": "still here?", "conversation_id": room}),
    )
    .await;
    assert_eq!(b1.recv_type("error").await["code"], "not_found");
}

#[actix_web::test]
async fn bad_room_requests_get_clear_errors() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    a1.send(json!({"type": "create_room", "ref": "x", "name": " "}))
        .await;
    assert_eq!(a1.recv_type("error").await["code"], "bad_request");
    a1.send(
        json!({"type": "join_room", "ref": "y", "room_id": "5b0a4e0e-6a3b-4a53-9b7f-0b1f9b2f2a11"}),
    )
    .await;
    assert_eq!(a1.recv_type("error").await["code"], "not_found");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/rooms",
            &alice.token,
            Some(json!({"name": "x".repeat(81)})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("bad_request"))
    );
    let (status, _) = app
        .send_json(Method::DELETE, "/api/rooms/not-an-id", &alice.token, None)
        .await;
    assert_eq!(status, 404);
    // The socket is still usable.
    let (_, joined) = create_room(&mut a1, "fine", None).await;
    assert_eq!(joined["room"]["name"], "fine");
}

/// Adds rooms named `names` (created by `creator`) straight to the database: more than
/// one person may create in a minute, and the directory is what is tested.
async fn rooms_named(app: &TestApp, creator: &Person, names: &[String]) {
    let client = app.db().await;
    for name in names {
        client
            .execute(
                "INSERT INTO conversations (id, kind, name, created_by)
                 VALUES (gen_random_uuid(), 'room', $1, $2::text::uuid)",
                &[name, &creator.id],
            )
            .await
            .expect("room inserted");
    }
}

/// The names of a directory page (HTTP or socket).
fn names_of(page: &Value) -> Vec<String> {
    page["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

#[actix_web::test]
async fn the_directory_pages_every_room_by_name_and_finds_them_by_any_part_of_it() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    // 120 rooms, named in mixed case; and two whose names hold LIKE's wildcards.
    let mut names: Vec<String> = (0..120)
        .map(|i| format!("{} {i:03}", if i % 2 == 0 { "Team" } else { "team" }))
        .collect();
    names.push("100% fun".into());
    names.push("a_b".into());
    rooms_named(&app, &alice, &names).await;
    let mut expected = names.clone();
    expected.push("general".into()); // the room everyone shares
    expected.sort_by_key(|n| n.to_lowercase());

    // Paged by name without case, 50 by default, each page after the last one's name.
    let (mut b1, _) = app.window(&bob).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut ask = json!({"type": "rooms", "ref": "p"});
        if let Some(after) = &after {
            ask["after"] = json!(after);
        }
        b1.send(ask).await;
        let page = b1.recv_type("rooms").await;
        let names = names_of(&page);
        assert!(names.len() <= 50);
        seen.extend(names.clone());
        if page["more"] == false {
            break;
        }
        after = names.last().cloned();
    }
    assert_eq!(seen, expected);

    // Found by any part of the name, whatever the case; wildcards are literal.
    let (status, found) = app.get("/api/rooms?query=EAM%2011", &bob.token).await;
    assert_eq!(status, 200);
    assert_eq!(
        names_of(&found),
        [
            "Team 110", "team 111", "Team 112", "team 113", "Team 114", "team 115", "Team 116",
            "team 117", "Team 118", "team 119"
        ]
    );
    let (_, found) = app.get("/api/rooms?query=%25", &bob.token).await;
    assert_eq!(names_of(&found), ["100% fun"]);
    let (_, found) = app.get("/api/rooms?query=_", &bob.token).await;
    assert_eq!(names_of(&found), ["a_b"]);
    let (_, found) = app
        .get("/api/rooms?query=team&limit=3&after=team%20116", &bob.token)
        .await;
    assert_eq!(
        (names_of(&found), found["more"].clone()),
        (
            vec!["team 117".to_owned(), "Team 118".into(), "team 119".into()],
            json!(false)
        )
    );
    b1.send(json!({"type": "rooms", "ref": "q", "query": "  fun ", "limit": 1}))
        .await;
    let page = b1.recv_type("rooms").await;
    assert_eq!(
        (page["query"].clone(), names_of(&page), page["more"].clone()),
        (json!("fun"), vec!["100% fun".to_owned()], json!(false))
    );

    // Bad pages are refused clearly, and the socket stays usable.
    for bad in [
        json!({"type": "rooms", "ref": "b1", "limit": 0}),
        json!({"type": "rooms", "ref": "b2", "limit": 101}),
        json!({"type": "rooms", "ref": "b3", "query": "x".repeat(81)}),
        json!({"type": "rooms", "ref": "b4", "after": "a\u{0}b"}),
        json!({"type": "rooms", "ref": "b5", "query": 7}),
    ] {
        b1.send(bad.clone()).await;
        let error = b1.recv_type("error").await;
        assert_eq!(
            (error["ref"].clone(), error["code"].clone()),
            (bad["ref"].clone(), json!("bad_request")),
            "{bad}"
        );
    }
    for bad in ["limit=0", "limit=x", "query=%00"] {
        let (status, body) = app.get(&format!("/api/rooms?{bad}"), &bob.token).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!("bad_request")),
            "{bad}"
        );
    }
    b1.send(json!({"type": "rooms", "ref": "ok", "limit": 1}))
        .await;
    assert_eq!(names_of(&b1.recv_type("rooms").await), ["100% fun"]);
}

#[actix_web::test]
async fn deleting_rooms_is_held_to_an_allowance() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let (mut a1, _) = app.window(&alice).await;
    // Deleting rooms that do not exist still costs a write: 30 a minute, then refused.
    for i in 0..30 {
        a1.send(json!({"type": "delete_room", "ref": format!("d{i}"),
                       "room_id": uuid::Uuid::new_v4().to_string()}))
            .await;
        assert_eq!(a1.recv_type("error").await["code"], "not_found");
    }
    a1.send(json!({"type": "delete_room", "ref": "over",
                   "room_id": uuid::Uuid::new_v4().to_string()}))
        .await;
    let refused = a1.recv_type("error").await;
    assert_eq!(
        (refused["ref"].clone(), refused["code"].clone()),
        (json!("over"), json!("rate_limited"))
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("deleting rooms"),
        "{refused}"
    );
}

#[actix_web::test]
async fn someone_who_joins_a_room_has_read_what_was_said_before_and_not_what_comes_after() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (room, _) = create_room(&mut a, "Busy", None).await;
    for i in 0..3 {
        let (status, _) = app
            .post_message(
                &alice.token,
                &room,
                &format!("before {i}"),
                &new_client_id(),
            )
            .await;
        assert_eq!(status, 201);
    }

    app.join_room(&bob.token, &room).await;
    let unread = |conversations: &Value| {
        conversations
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == room.as_str())
            .map(|c| (c["read_seq"].clone(), c["unread"].clone()))
            .unwrap()
    };
    let (_, listed) = app.get("/api/conversations", &bob.token).await;
    assert_eq!(unread(&listed["conversations"]), (json!(3), json!(0)));
    // The history is still there to read.
    let (_, history) = app
        .get(&format!("/api/conversations/{room}/messages"), &bob.token)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 3);

    let (status, _) = app
        .post_message(&alice.token, &room, "after", &new_client_id())
        .await;
    assert_eq!(status, 201);
    let (_, ready) = app.window(&bob).await;
    assert_eq!(unread(&ready["conversations"]), (json!(3), json!(1)));
}
