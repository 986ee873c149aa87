//! Every frame the server sends a test is checked against the protocol's published JSON
//! Schema (`/api/protocol.schema.json`, from `banter_protocol::schema`): the suite's
//! traffic is the schema's test. (What tests send is not checked: many send malformed
//! frames on purpose.)

use serde_json::Value;
use std::sync::OnceLock;

/// The validator of server frames, compiled once per test run.
fn server_frames() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema = banter_protocol::schema::frames_of(banter_protocol::schema::SERVER_FRAME);
        jsonschema::validator_for(&schema).expect("the protocol's schema compiles")
    })
}

/// A text frame from the server, parsed; panics if it is not JSON or not a server frame
/// the schema describes.
pub fn server_frame(text: &str) -> Value {
    let frame: Value = serde_json::from_str(text).expect("a JSON frame");
    let problems: Vec<String> = server_frames()
        .iter_errors(&frame)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "a server frame outside the protocol's schema: {text}\n{}",
        problems.join("\n")
    );
    frame
}
