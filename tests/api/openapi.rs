//! The OpenAPI document covers every route the server has, its references resolve, and
//! its error responses have the error shape.

use crate::helpers::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every (method, path) declared with actix's route macros in src/routes.
fn declared_routes() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "delete", "patch"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap().to_owned();
                    routes.insert((method.to_owned(), path));
                }
            }
        }
    }
    routes
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_openapi_document_lists_every_route_and_its_references_resolve() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["info"]["title"], "Banter HTTP API");

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let declared = declared_routes();
    assert!(declared.len() >= 24, "found {} routes", declared.len());
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&declared).collect();
    assert!(
        extra.is_empty(),
        "documented routes that do not exist: {extra:?}"
    );

    // History pages: both bounds together are a window (the server answers one), which
    // the parameters must say rather than forbid.
    let history = &doc["paths"]["/api/conversations/{id}/messages"]["get"]["parameters"];
    for name in ["after_seq", "before_seq"] {
        let parameter = history
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is documented"));
        let description = parameter["description"].as_str().unwrap();
        let description = description.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            description.contains("between the two") && !description.contains("not with"),
            "{name}: {description}"
        );
    }

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for reference in all {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {reference}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{reference} does not resolve"
        );
    }

    for (method, path) in &documented {
        let operation = &doc["paths"][path][method];
        let responses = operation["responses"].as_object().unwrap();
        assert!(!responses.is_empty(), "{method} {path} has no responses");
        for (status, response) in responses {
            if status.starts_with('4') || (status.starts_with('5') && path != "/readyz") {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
        let public = [
            "/api/config",
            "/api/session",
            "/api/openapi.json",
            "/api/protocol.schema.json",
            "/api/asyncapi.json",
        ];
        if path.starts_with("/api/") && !public.contains(&path.as_str()) {
            assert_eq!(
                operation["security"][0]["session"],
                Value::Array(vec![]),
                "{method} {path} needs a session token"
            );
        }
    }
}

/// Every `$ref` of `doc` (local JSON pointers) resolves inside it.
fn assert_references_resolve(doc: &Value) -> usize {
    let mut all = Vec::new();
    refs(doc, &mut all);
    for reference in &all {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("a reference outside the document: {reference}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    all.len()
}

#[actix_web::test]
async fn the_socket_is_described_by_a_json_schema_and_an_asyncapi_document() {
    let app = spawn_app().await;
    let get = |path: &str| {
        let url = format!("{}{path}", app.address);
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let schema = get("/api/protocol.schema.json").await;
    assert!(assert_references_resolve(&schema) > 10);
    // Every frame type of both directions is in it, by its `type`.
    let text = schema.to_string();
    for kind in [
        "auth",
        "send",
        "history",
        "read",
        "block",
        "unblock",
        "ui",
        "typing",
        "create_room",
        "join_room",
        "leave_room",
        "delete_room",
        "members",
        "online",
        "rooms",
        "ready",
        "online_changes",
        "message",
        "ack",
        "blocked",
        "unblocked",
        "error",
        "session",
        "ok",
        "room",
        "room_deleted",
        "joined",
        "left",
        "member",
        "online_page",
    ] {
        assert!(
            text.contains(&format!("\"const\":\"{kind}\"")),
            "{kind} missing"
        );
    }
    for side in ["Request", "ServerEvent"] {
        assert!(schema["$defs"][side].is_object(), "{side}");
    }

    let asyncapi = get("/api/asyncapi.json").await;
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    assert_eq!(asyncapi["channels"]["socket"]["address"], "/ws");
    let host = app.address.trim_start_matches("http://");
    assert_eq!(asyncapi["servers"]["banter"]["host"], host);
    assert_eq!(asyncapi["servers"]["banter"]["protocol"], "ws");
    assert_eq!(
        asyncapi["info"]["version"],
        banter_protocol::PROTOCOL_VERSION.to_string()
    );
    assert!(assert_references_resolve(&asyncapi) > 10);
    let actions: BTreeSet<&str> = asyncapi["operations"]
        .as_object()
        .unwrap()
        .values()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, BTreeSet::from(["receive", "send"]));
}
