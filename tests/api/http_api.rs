use crate::helpers::*;
use serde_json::{json, Value};

#[actix_web::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let (mut a, _) = app.window(&alice).await;
    a.send(json!({"type": "send", "client_id": new_client_id(), "body": "count me", "to": bob.id}))
        .await;
    a.recv_type("ack").await;

    let r = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["postgres"], "ok");
    let text = app.metrics().await;
    for series in [
        "banter_sockets_open 1",
        "banter_users_online 1",
        "banter_messages_committed_total 1",
        "banter_commit_batch_size_count",
        "banter_delivery_latency_seconds_bucket",
    ] {
        assert!(text.contains(series), "metrics lack {series}:\n{text}");
    }
}

#[actix_web::test]
async fn api_errors_are_json_with_a_code() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            app.http.get(format!("{}/api/me", app.address)),
            401,
            "unauthorized",
        ),
        (
            app.http
                .get(format!("{}/api/me", app.address))
                .bearer_auth("nonsense"),
            401,
            "unauthorized",
        ),
        (
            app.http.post(format!("{}/api/session", app.address)),
            401,
            "unauthorized",
        ),
        (
            app.http.get(format!("{}/api/nothing-here", app.address)),
            404,
            "not_found",
        ),
        (
            app.http
                .get(format!(
                    "{}/api/conversations/{}/messages?limit=201",
                    app.address,
                    uuid::Uuid::new_v4()
                ))
                .bearer_auth(&alice.token),
            400,
            "bad_request",
        ),
        (
            app.http
                .get(format!(
                    "{}/api/conversations/{}/messages?limit=ten",
                    app.address,
                    uuid::Uuid::new_v4()
                ))
                .bearer_auth(&alice.token),
            400,
            "bad_request",
        ),
        (
            app.http
                .post(format!(
                    "{}/api/conversations/{}/messages",
                    app.address,
                    uuid::Uuid::new_v4()
                ))
                .bearer_auth(&alice.token)
                .header("content-type", "application/json")
                .body("{\"body\": "),
            400,
            "bad_request",
        ),
        (
            app.http
                .post(format!(
                    "{}/api/conversations/{}/messages",
                    app.address,
                    uuid::Uuid::new_v4()
                ))
                .bearer_auth(&alice.token)
                .json(&json!({"body": "x".repeat(4001), "client_id": "c"})),
            413,
            "too_large",
        ),
        (
            app.http
                .post(format!(
                    "{}/api/conversations/{}/messages",
                    app.address,
                    uuid::Uuid::new_v4()
                ))
                .bearer_auth(&alice.token)
                .json(&json!({"body": "hi", "client_id": "c"})),
            404,
            "not_found",
        ),
        (
            app.http
                .put(format!("{}/api/blocks/not-an-id", app.address))
                .bearer_auth(&alice.token),
            404,
            "not_found",
        ),
        (
            app.http
                .post(format!("{}/api/direct/{}", app.address, alice.id))
                .bearer_auth(&alice.token),
            400,
            "bad_request",
        ),
    ];
    for (request, status, code) in cases {
        let r = request.send().await.unwrap();
        let url = r.url().to_string();
        assert_eq!(r.status().as_u16(), status, "{url}");
        let body: Value = r
            .json()
            .await
            .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"));
        assert_eq!(body["error"]["code"], code, "{url}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{url}"
        );
    }
}

#[actix_web::test]
async fn the_web_client_is_served_with_a_single_page_fallback() {
    let app = spawn_app().await;
    for path in ["/", "/index.html", "/conversations/some-id"] {
        let r = app
            .http
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.text().await.unwrap().contains("Banter test page"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn pages_carry_security_headers_and_hsts_only_over_https() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    let provider = app.issuer.issuer.trim_end_matches('/');
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains(&format!("connect-src 'self' ws: wss: {provider}")),
        "{csp}"
    );
    assert!(csp.contains(&format!("frame-src {provider}")), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(
        h.get("strict-transport-security").is_none(),
        "plain HTTP gets no HSTS"
    );

    let r = app
        .http
        .get(format!("{}/healthz", app.address))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[actix_web::test]
async fn the_forwarded_scheme_decides_what_the_server_s_own_origin_is() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let request = |forwarded_https: bool| {
        let mut r = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            app.ws_url.as_str(),
        )
        .unwrap();
        r.headers_mut().insert(
            "origin",
            format!("https://127.0.0.1:{}", app.port).parse().unwrap(),
        );
        r.headers_mut()
            .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
        if forwarded_https {
            r.headers_mut()
                .insert("x-forwarded-proto", "https".parse().unwrap());
        }
        r
    };
    let mut ws = Ws::connect_request(request(true)).await;
    ws.send(serde_json::json!({"type": "auth", "token": alice.token}))
        .await;
    assert_eq!(
        ws.recv().await["type"],
        "ready",
        "https page, https per the router"
    );
    let mut ws = Ws::connect_request(request(false)).await;
    assert_eq!(
        ws.closed().await,
        Closed::Code(1008),
        "an https page is not this plain-http server's origin"
    );
}

#[actix_web::test]
async fn metrics_answer_only_the_operator_s_token_and_are_off_without_one() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let url = format!("{}/metrics", app.address);
    for bearer in [
        None,
        Some("wrong-token-of-some-length"),
        Some(alice.token.as_str()),
    ] {
        let mut request = app.http.get(&url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{bearer:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    assert!(app.metrics().await.contains("banter_sockets_open"));

    let unmetered = spawn_app_with(|s| s.metrics_token = None).await;
    let response = unmetered
        .http
        .get(format!("{}/metrics", unmetered.address))
        .bearer_auth(TEST_METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
