//! Shorthands for what tests say and check: fresh client ids, the ids in a list of users.

use serde_json::Value;

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
