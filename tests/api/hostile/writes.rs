//! Attacks on the write path: races, malformed input reaching Postgres, slow queries.

use crate::helpers::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;

/// `POST /api/conversations/{room}/messages` at `node`: status and body.
async fn post_at(
    http: &reqwest::Client,
    node: &Node,
    token: &str,
    room: &str,
    body: &str,
) -> (u16, Value) {
    let r = http
        .post(format!(
            "{}/api/conversations/{room}/messages",
            node.address
        ))
        .bearer_auth(token)
        .json(&json!({"body": body, "client_id": new_client_id()}))
        .send()
        .await
        .expect("POST a message");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Item 4 of issue 13: a room deleted on node "a" while its member sends into it on node
/// "b" panicked b's PersistActor (`locked above`); every later write on b answered
/// `unavailable` while `/readyz` said 200. The sends racing the deletion must be stored
/// or refused `not_found`, and b must keep writing.
#[actix_web::test]
async fn a_room_deleted_on_one_node_while_another_sends_into_it_refuses_the_sends() {
    let (redis, prefix) = (test_redis_url(), test_prefix());
    let app = spawn_app_with(|s| {
        cluster(s, &redis, &prefix, "a");
        (s.limits.send_rate_per_second, s.limits.send_burst) = (1000, 1000);
    })
    .await;
    let a = app.node();
    a.wait_ready(&app.http).await;
    let b = app.spawn_peer("b").await;
    let sender = app.sign_in("sender@example.com").await;
    let http = &app.http;

    for round in 0..25 {
        // A creator per round: one person may create only 10 rooms a minute.
        let owner = app.sign_in(&format!("owner{round}@example.com")).await;
        let room = app.post_room(&owner.token, &format!("race {round}")).await;
        app.join_room(&sender.token, &room).await;
        let sends = join_all((0..6).map(|i| {
            let (token, room) = (sender.token.clone(), room.clone());
            let b = b.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(i * 2)).await;
                post_at(http, &b, &token, &room, "into a room being deleted").await
            }
        }));
        let delete = async {
            let r = http
                .delete(format!("{}/api/rooms/{room}", a.address))
                .bearer_auth(&owner.token)
                .send()
                .await
                .expect("DELETE the room");
            r.status().as_u16()
        };
        let (answers, deleted) = tokio::join!(sends, delete);
        assert_eq!(deleted, 204, "round {round}: the room is deleted");
        for (status, body) in answers {
            assert!(
                status == 201 || (status == 404 && body["error"]["code"] == "not_found"),
                "round {round}: a send racing the deletion answered {status} {body}"
            );
        }
    }

    // b still writes, and says it is ready.
    let owner = app.sign_in("last-owner@example.com").await;
    let room = app.post_room(&owner.token, "after the race").await;
    app.join_room(&sender.token, &room).await;
    let (status, body) = post_at(http, &b, &sender.token, &room, "still here").await;
    assert_eq!(status, 201, "a send on b after the race: {body}");
    assert_eq!(b.ready_status(http).await, 200);
}

/// Item 5 of issue 13, over the socket: a NUL reached Postgres, failed the whole group
/// commit and answered `unavailable` (retry forever). Each frame below must be refused
/// `bad_request` at once, the socket stay open and usable, and another person's send made
/// at the same moment be acknowledged.
#[actix_web::test]
async fn nul_characters_over_the_socket_are_refused_as_bad_requests() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    let (mut b, _) = app.window(&bob).await;
    let hostile = [
        json!({"type": "send", "ref": "h", "client_id": new_client_id(), "body": "a\u{0}b", "to": bob.id}),
        json!({"type": "send", "ref": "h", "client_id": "c\u{0}", "body": "hello", "to": bob.id}),
        json!({"type": "ui", "ref": "h", "state": {"draft": "x\u{0}y"}}),
        json!({"type": "ui", "ref": "h", "state": {"draft": "", "key\u{0}": 1}}),
        json!({"type": "ui", "ref": "h", "state": {"draft": "", "deep": [{"x": "\u{0}"}]}}),
        json!({"type": "create_room", "ref": "h", "name": "room\u{0}"}),
        json!({"type": "create_room", "ref": "h", "name": "room", "password": "p\u{0}w"}),
    ];
    for (i, frame) in hostile.into_iter().enumerate() {
        let ordinary = json!({"type": "send", "ref": "ok", "client_id": new_client_id(), "body": format!("ordinary {i}"), "to": alice.id});
        tokio::join!(a.send(frame.clone()), b.send(ordinary));
        let error = a.recv_type("error").await;
        assert_eq!(
            (error["ref"].as_str(), error["code"].as_str()),
            (Some("h"), Some("bad_request")),
            "{frame} answered {error}"
        );
        assert_eq!(
            b.recv_type("ack").await["ref"],
            "ok",
            "bob's send beside {frame}"
        );
        // Alice's socket still works.
        a.send(json!({"type": "send", "ref": "after", "client_id": new_client_id(), "body": "still here", "to": bob.id}))
            .await;
        assert_eq!(a.recv_type("ack").await["ref"], "after", "after {frame}");
    }
}

/// Item 5 of issue 13, over HTTP: NUL in a body, a client id, a room name or password, or
/// a search query, and search queries Postgres cannot parse ("tsquery stack too small"
/// for 33 `-`), answer 400 `bad_request`, never 503.
#[actix_web::test]
async fn nul_characters_and_over_complex_searches_over_http_are_bad_requests() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let room = app.post_room(&alice.token, "plain").await;
    let bad_request = |what: &str, (status, body): (u16, Value)| {
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{what}: {body}"
        );
    };
    let (c1, c2) = (new_client_id(), new_client_id());
    let (post, ordinary) = tokio::join!(
        app.post_message(&alice.token, &room, "a\u{0}b", &c1),
        app.post_message(&bob.token, &room, "ordinary", &c2),
    );
    bad_request("a NUL in a body", post);
    assert_ne!(ordinary.0, 503, "a send beside it: {}", ordinary.1);
    bad_request(
        "a NUL in a client id",
        app.post_message(&alice.token, &room, "hello", "c\u{0}")
            .await,
    );
    for body in [
        json!({"name": "r\u{0}"}),
        json!({"name": "r", "password": "p\u{0}"}),
    ] {
        let created = app
            .send_json(
                reqwest::Method::POST,
                "/api/rooms",
                &alice.token,
                Some(body.clone()),
            )
            .await;
        bad_request(&format!("a room {body}"), created);
    }
    let dashes = "-".repeat(33);
    let nested = "(-".repeat(40);
    for q in [
        "a\u{0}b",
        dashes.as_str(),
        nested.as_str(),
        "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
    ] {
        let r = app
            .http
            .get(format!("{}/api/search", app.address))
            .query(&[("q", q)])
            .bearer_auth(&alice.token)
            .send()
            .await
            .expect("GET /api/search");
        let answer = (r.status().as_u16(), r.json().await.unwrap_or(Value::Null));
        bad_request(&format!("search {q:?}"), answer);
    }
    // Ordinary searches with a few operators still work.
    let (status, body) = app
        .get(
            "/api/search?q=ordinary%20-nothing%20OR%20%22a%20phrase%22",
            &alice.token,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Holds `lock` (a `LOCK TABLE ...` statement) in a transaction of the test's own for
/// `hold`, then rolls back; answers once the lock is taken.
async fn hold_lock(
    app: &TestApp,
    lock: &str,
    hold: Duration,
) -> actix_web::rt::task::JoinHandle<()> {
    let db = app.db().await;
    db.batch_execute(&format!("BEGIN; {lock}"))
        .await
        .expect("take the lock");
    actix_web::rt::spawn(async move {
        tokio::time::sleep(hold).await;
        db.batch_execute("ROLLBACK")
            .await
            .expect("release the lock");
    })
}

/// Item 7 of issue 13: there was no `statement_timeout`, so a query held up (by a lock
/// here, by an expensive search in the attack) held its connection for as long as it
/// took. With limits of 300 ms, a search and a send held up behind a lock fail within a
/// second (`unavailable`, retry) instead of waiting for the lock's 4 s.
#[actix_web::test]
async fn queries_held_up_past_the_statement_timeout_fail_instead_of_waiting() {
    let app = spawn_app_with(|s| {
        s.statement_timeout = Duration::from_millis(300);
        s.write_statement_timeout = Duration::from_millis(300);
    })
    .await;
    let alice = app.sign_in("alice@example.com").await;
    let room = app.post_room(&alice.token, "slow").await;
    let (status, _) = app
        .post_message(&alice.token, &room, "findable words", &new_client_id())
        .await;
    assert_eq!(status, 201);
    let hold = Duration::from_secs(4);

    // A read on the pool: the search waits for `messages`.
    let held = hold_lock(&app, "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE", hold).await;
    let started = std::time::Instant::now();
    let (status, body) = app.get("/api/search?q=findable", &alice.token).await;
    let took = started.elapsed();
    held.await.expect("the lock holder");
    assert!(took < Duration::from_secs(2), "the search took {took:?}");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );

    // The write connection: `FOR UPDATE` on `conversations` waits (plain reads do not).
    let held = hold_lock(&app, "LOCK TABLE conversations IN EXCLUSIVE MODE", hold).await;
    let started = std::time::Instant::now();
    let (status, body) = app
        .post_message(&alice.token, &room, "held up", &new_client_id())
        .await;
    let took = started.elapsed();
    held.await.expect("the lock holder");
    assert!(took < Duration::from_secs(2), "the send took {took:?}");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );

    // Without the locks, both work again.
    let (status, body) = app.get("/api/search?q=findable", &alice.token).await;
    assert_eq!(
        (status, body["results"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{body}"
    );
    let (status, body) = app
        .post_message(&alice.token, &room, "after", &new_client_id())
        .await;
    assert_eq!(status, 201, "{body}");
}

/// A transaction runner that panics on any batch holding a message that says so: a stand-in
/// for a bug in the write path, the one thing the PersistActor must survive.
fn panics_on_request<'a>(
    connection: &'a mut banter::db::writes::WriteConnection,
    ops: &'a [banter::db::writes::WriteOp],
) -> futures_util::future::BoxFuture<'a, banter::actors::persist::TransactionResult> {
    let asks = ops.iter().any(|op| {
        matches!(op, banter::db::writes::WriteOp::SendMessage { body, .. } if body.as_str() == "panic")
    });
    if asks {
        Box::pin(async { panic!("a bug in the write path") })
    } else {
        Box::pin(banter::actors::persist::run_transaction(connection, ops))
    }
}

/// Counts the committed writes the PersistActor announces.
struct Announced(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl actix::Actor for Announced {
    type Context = actix::Context<Self>;
}

impl actix::Handler<banter::actors::persist::WritesCommitted> for Announced {
    type Result = ();

    fn handle(&mut self, msg: banter::actors::persist::WritesCommitted, _: &mut Self::Context) {
        self.0
            .fetch_add(msg.writes.len(), std::sync::atomic::Ordering::SeqCst);
    }
}

#[actix_web::test]
async fn a_panic_in_the_write_path_answers_its_write_and_the_actor_keeps_serving() {
    use actix::Actor;
    use banter::actors::persist::{ApplyWrite, Health, PersistActor, PersistError};
    use banter::db::writes::{Target, WriteOp};
    use banter::domain::{ClientId, ConversationId, MessageBody, UserId};

    let app = spawn_app().await;
    let (alice, bob) = (
        app.sign_in("alice@example.com").await,
        app.sign_in("bob@example.com").await,
    );
    let (_, direct) = app.open_direct(&alice.token, &bob.id).await;
    let conversation = ConversationId::parse(direct["id"].as_str().unwrap()).unwrap();
    let sender = UserId::parse(&alice.id).unwrap();
    let pool = banter::db::connect(&app.database_url, 2).await.unwrap();
    let announced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = Announced(announced.clone()).start();
    let persist = PersistActor::new(pool, sink.recipient(), 512, banter::metrics::Metrics::new())
        .transaction_runner(panics_on_request)
        .start();
    let write = |body: &str| {
        persist.send(ApplyWrite {
            op: WriteOp::SendMessage {
                sender,
                target: Target::Conversation(conversation),
                body: MessageBody::parse(body.to_owned(), 4000).unwrap(),
                client_id: ClientId::parse(new_client_id()).unwrap(),
                reply_to: None,
            },
            origin: None,
        })
    };
    // Three writes queued together: the batch panics, is retried one by one, and the
    // write that panics alone is answered `unavailable`; its neighbours are stored.
    let (before, bug, after) = tokio::join!(write("before"), write("panic"), write("after"));
    assert!(before.expect("answered").is_ok());
    assert!(matches!(
        bug.expect("answered"),
        Err(PersistError::Unavailable)
    ));
    assert!(after.expect("answered").is_ok());
    // The actor is still there and writing.
    tokio::time::timeout(Duration::from_secs(2), persist.send(Health))
        .await
        .expect("answers in time")
        .expect("alive");
    assert!(write("later").await.expect("answered").is_ok());
    assert_eq!(app.count_messages().await, 3);
    assert_eq!(announced.load(std::sync::atomic::Ordering::SeqCst), 3);
}
