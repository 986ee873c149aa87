//! What a node checks before it serves: the identity provider it is configured with.

use crate::helpers::*;
use banter::startup::Application;

/// Builds a node on a fresh database trusting `issuer`; the error's whole chain on one
/// line, as `banter serve` prints it.
async fn build_with_issuer(issuer: &str) -> Result<Application, String> {
    let database = TestDatabase::create().await;
    let settings = test_settings(&database.url, issuer);
    Application::build(settings)
        .await
        .map_err(|e| format!("{e:#}"))
}

#[actix_web::test]
async fn a_wrong_issuer_stops_start_up_with_one_line_naming_it() {
    let issuer = TestIssuer::start().await;
    // No discovery document there, and one naming another issuer (no trailing slash).
    let elsewhere = format!("{}elsewhere/", issuer.issuer);
    let unslashed = issuer.issuer.trim_end_matches('/').to_owned();
    for wrong in [elsewhere, unslashed] {
        let error = build_with_issuer(&wrong)
            .await
            .err()
            .unwrap_or_else(|| panic!("a node trusting {wrong} started"));
        assert!(error.contains(&format!("OIDC_ISSUER={wrong} ")), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }
}

#[actix_web::test]
async fn a_provider_down_at_start_up_is_not_fatal_and_sign_ins_work_once_it_is_up() {
    // The provider's port is chosen, but nothing listens there yet.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer_url = format!(
        "http://127.0.0.1:{}/",
        reserved.local_addr().unwrap().port()
    );
    drop(reserved);
    let database = TestDatabase::create().await;
    let app = Application::build(test_settings(&database.url, &issuer_url))
        .await
        .expect("a node starts while its provider is down");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());

    let listener = std::net::TcpListener::bind(
        issuer_url
            .trim_start_matches("http://")
            .trim_end_matches('/'),
    )
    .expect("the provider's port is free again");
    let issuer = TestIssuer::start_on(listener).await;
    let response = reqwest::Client::new()
        .post(format!("{address}/api/session"))
        .bearer_auth(issuer.token("sub|late", Some("late@example.com")))
        .send()
        .await
        .expect("POST /api/session");
    assert_eq!(response.status(), 201);
}
