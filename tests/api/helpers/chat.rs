//! Shorthands for what tests say and check: rooms made over a socket, fresh client ids,
//! the ids in a list of users, a Postgres lock held for a while.

use super::{TestApp, Ws};
use serde_json::{json, Value};
use std::time::Duration;

/// Creates a room over the socket and waits for its `joined` reply: the room's id, and
/// that reply.
pub async fn create_room(ws: &mut Ws, name: &str, password: Option<&str>) -> (String, Value) {
    ws.send(json!({"type": "create_room", "ref": "c1", "name": name, "password": password}))
        .await;
    let joined = ws.recv_type("joined").await;
    assert_eq!(joined["ref"], "c1", "{joined}");
    let room = joined["room"]["id"].as_str().expect("a room id").to_owned();
    (room, joined)
}

/// The ids of the users in a JSON list of users.
pub fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

pub fn new_client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Holds a Postgres lock (taken by `lock`, a statement run in an open transaction) for
/// `for_`: the write that needs it waits that long to commit, while reads go on.
pub async fn holding_lock(
    app: &TestApp,
    lock: String,
    for_: Duration,
) -> tokio::task::JoinHandle<()> {
    let db = app.db().await;
    db.batch_execute(&format!("BEGIN; {lock}")).await.unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(for_).await;
        db.batch_execute("COMMIT").await.unwrap();
    })
}

/// A room list without the room everyone shares (every account is in it, decision 0027).
pub fn own_rooms(list: &Value) -> Value {
    Value::Array(
        list.as_array()
            .expect("a list of rooms")
            .iter()
            .filter(|r| r["everyone"] != true)
            .cloned()
            .collect(),
    )
}

/// Sends `frame` with a `ref` and returns the reply that carries it (its result, `ok`
/// or `error`), skipping other frames.
pub async fn ask(ws: &mut Ws, mut frame: Value) -> Value {
    frame["ref"] = json!("q");
    ws.send(frame).await;
    reply_to(ws, "q").await
}

/// The next frame that carries `reference` as its `ref` (the reply to a frame sent with
/// it, or the error refusing it), skipping other frames.
pub async fn reply_to(ws: &mut Ws, reference: &str) -> Value {
    loop {
        let reply = ws.recv().await;
        if reply["ref"] == reference {
            return reply;
        }
    }
}
