//! Shorthands for what tests say and check: rooms made over a socket, fresh client ids,
//! the ids in a list of users.

use super::Ws;
use serde_json::{json, Value};

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
