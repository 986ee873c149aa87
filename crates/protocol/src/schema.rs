//! The frames as JSON Schema, generated from these types (schemars), and the AsyncAPI 3
//! document of the socket built from it. The server serves both
//! (`/api/protocol.schema.json`, `/api/asyncapi.json`); the test suite checks every frame
//! it sends and receives against the schema, so the schema is what the server does.
//!
//! - [`document`]: one JSON Schema (draft 2020-12) whose `$defs` hold `Request` (what a
//!   client sends: a [`ClientFrame`](crate::ClientFrame) with its `ref`) and `ServerEvent` (what the server
//!   sends), and whose root accepts either.
//! - [`asyncapi`]: the socket as an AsyncAPI 3.0 channel (`/ws`) with a `send` and a
//!   `receive` operation, its payloads the same types (as draft-07 schemas, the AsyncAPI
//!   schema format).

use crate::client::Request;
use crate::server::ServerEvent;
use crate::PROTOCOL_VERSION;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

/// The name of a client frame's definition in [`document`]'s `$defs`.
pub const CLIENT_FRAME: &str = "Request";
/// The name of a server frame's definition in [`document`]'s `$defs`.
pub const SERVER_FRAME: &str = "ServerEvent";

/// The definitions of both directions' frames (and every type they carry), by name.
fn definitions(settings: SchemaSettings) -> Map<String, Value> {
    let mut generator = settings.into_generator();
    // Referenced, so both land in the definitions under their names.
    generator.subschema_for::<Request>();
    generator.subschema_for::<ServerEvent<'static>>();
    let defs = generator.take_definitions(true);
    debug_assert!(defs.contains_key(CLIENT_FRAME) && defs.contains_key(SERVER_FRAME));
    defs
}

/// The JSON Schema of every frame, both ways.
pub fn document() -> Value {
    let defs = definitions(SchemaSettings::draft2020_12());
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Banter WebSocket frames, protocol v{PROTOCOL_VERSION}"),
        "description": "Every frame is one JSON object in one text frame. `$defs/Request` is what a client sends, `$defs/ServerEvent` what the server sends (clients should ignore frame types they do not know: servers may add some). docs/protocol.md says what each means.",
        "anyOf": [
            {"$ref": format!("#/$defs/{CLIENT_FRAME}")},
            {"$ref": format!("#/$defs/{SERVER_FRAME}")}
        ],
        "$defs": defs,
    })
}

/// A schema that validates one direction's frames: `which` is [`CLIENT_FRAME`] or
/// [`SERVER_FRAME`] (the document, with that definition as its root).
pub fn frames_of(which: &str) -> Value {
    let mut doc = document();
    doc["anyOf"] = json!([{ "$ref": format!("#/$defs/{which}") }]);
    doc
}

/// The AsyncAPI 3.0 document of the socket. `host` is where the server is reached
/// (`example.com`, `localhost:8080`), `secure` whether through TLS (`wss`).
pub fn asyncapi(host: &str, secure: bool) -> Value {
    let defs = definitions(SchemaSettings::draft07());
    // Draft-07 definitions refer to `#/definitions/X`; here they live in the components.
    let schemas: Value = serde_json::from_str(
        &Value::Object(defs)
            .to_string()
            .replace("\"#/definitions/", "\"#/components/schemas/"),
    )
    .unwrap_or(Value::Null);
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Banter WebSocket protocol",
            "version": PROTOCOL_VERSION.to_string(),
            "description": "One socket per window at /ws. Authenticate with an `auth` frame (or `Authorization: Bearer` on the upgrade), then exchange JSON text frames. A frame with a `ref` gets exactly one reply carrying it; one socket's frames take effect in the order sent. docs/protocol.md is the guide; /api/protocol.schema.json is the same frames as one JSON Schema; /api/openapi.json the HTTP API."
        },
        "servers": {
            "banter": {
                "host": host,
                "protocol": if secure { "wss" } else { "ws" },
                "description": "The node (or the load balancer in front of the nodes)."
            }
        },
        "channels": {
            "socket": {
                "address": "/ws",
                "description": "A window's socket.",
                "messages": {
                    "clientFrame": {"$ref": "#/components/messages/clientFrame"},
                    "serverFrame": {"$ref": "#/components/messages/serverFrame"}
                }
            }
        },
        "operations": {
            "sendFrame": {
                "action": "send",
                "summary": "A frame the client sends (`type` says which).",
                "channel": {"$ref": "#/channels/socket"},
                "messages": [{"$ref": "#/channels/socket/messages/clientFrame"}]
            },
            "receiveFrame": {
                "action": "receive",
                "summary": "A frame the server sends: a reply (with the asking frame's `ref`) or an event.",
                "channel": {"$ref": "#/channels/socket"},
                "messages": [{"$ref": "#/channels/socket/messages/serverFrame"}]
            }
        },
        "components": {
            "messages": {
                "clientFrame": {
                    "name": "clientFrame",
                    "contentType": "application/json",
                    "payload": {"$ref": format!("#/components/schemas/{CLIENT_FRAME}")}
                },
                "serverFrame": {
                    "name": "serverFrame",
                    "contentType": "application/json",
                    "payload": {"$ref": format!("#/components/schemas/{SERVER_FRAME}")}
                }
            },
            "schemas": schemas
        }
    })
}
