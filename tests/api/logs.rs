//! What an operator reads: one logfmt line per event, the request id on a request's line
//! and on its socket's lines, a socket's life (user, window, node, close code), and no
//! email, token or message body at `info`.

use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The value of `key` in a logfmt line (bare values only: ids, numbers, paths).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

#[actix_web::test]
async fn log_lines_are_logfmt_carry_request_ids_and_socket_lives_and_no_email_token_or_body() {
    let app = spawn_app().await;
    let log = std::env::temp_dir().join(format!("banter-log-{}.txt", uuid::Uuid::new_v4()));
    let mut env = app.peer_env("logged");
    env.push(("RUST_LOG", "info".to_owned()));
    // Behind a proxy (Heroku's router), whose X-Request-Id the node keeps.
    env.push(("TRUSTED_PROXIES", "1".to_owned()));
    let server =
        ServerProcess::start_logging_to(&app.database_url, free_port(), env, Some(&log)).await;
    let node = server.node();
    let alice = app.sign_in_at(&node.address, "alice@example.com").await;
    let bob = app.sign_in_at(&node.address, "bob@example.com").await;

    // An HTTP request with Heroku's request id: echoed, and on its line.
    let response = app
        .http
        .get(format!("{}/api/conversations?limit=5", node.address))
        .header("X-Request-Id", "router-id-7f3a9c")
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "router-id-7f3a9c");
    // Straight to a node that trusts no proxy, a client's own id is replaced.
    let direct = app
        .http
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    let replaced = direct.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");

    // A socket opened with a request id, a private message, and a normal close.
    let mut request = node.ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("x-request-id", "socket-id-51b2e0".parse().unwrap());
    let mut ws = Ws::connect_request(request).await;
    ws.send(json!({"type": "auth", "token": alice.token})).await;
    ws.recv_type("ready").await;
    let body = "the-distinctive-body-0c4e7d of a private message";
    ws.send(json!({"type": "send", "ref": "s", "client_id": new_client_id(), "body": body, "to": bob.id}))
        .await;
    ws.recv_type("ack").await;
    ws.send_raw(WsMessage::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })))
    .await;
    let _ = ws.next_within(Duration::from_secs(2)).await;

    // The socket's last line comes once the server has seen the close.
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("msg=\"socket closed\"") || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = std::fs::remove_file(&log);
    for line in text.lines() {
        assert!(
            line.starts_with("ts=")
                && line.contains(" level=")
                && line.contains(" target=")
                && line.contains(" msg="),
            "not logfmt: {line}"
        );
        for secret in [
            "alice@example.com",
            "bob@example.com",
            &alice.token,
            body,
            "limit=5",
        ] {
            assert!(!line.contains(secret), "{secret:?} in: {line}");
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let http_line = lines
        .iter()
        .find(|l| field(l, "request_id") == Some("router-id-7f3a9c"))
        .expect("the HTTP request's line");
    assert_eq!(field(http_line, "path"), Some("/api/conversations"));
    assert_eq!(field(http_line, "status"), Some("200"));
    let socket_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| field(l, "request_id") == Some("socket-id-51b2e0"))
        .collect();
    let closed = socket_lines
        .iter()
        .find(|l| l.contains("msg=\"socket closed\""))
        .unwrap_or_else(|| panic!("no socket closed line among {socket_lines:?}"));
    assert_eq!(field(closed, "user"), Some(alice.id.as_str()));
    assert_eq!(field(closed, "node"), Some("logged"));
    assert_eq!(field(closed, "code"), Some("1000"));
    assert!(field(closed, "window").is_some() && field(closed, "lived_ms").is_some());
    assert!(
        socket_lines
            .iter()
            .any(|l| l.contains("msg=\"socket ready\"")),
        "{socket_lines:?}"
    );
    drop(server);
}
