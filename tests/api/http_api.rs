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
