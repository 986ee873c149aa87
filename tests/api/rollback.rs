//! A rollback: Heroku runs the release phase (`banter migrate`) for a rolled-back, older
//! image too, against a database a newer build already migrated.

use crate::helpers::*;
use serde_json::json;

#[actix_web::test]
async fn an_older_build_migrates_and_serves_against_a_database_one_migration_ahead() {
    let app = spawn_app().await;
    let db = app.db().await;
    // What a newer build's migration left: a table this build does not know, recorded
    // under the next version.
    let newest: i32 = db
        .query_one("SELECT max(version) FROM refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    db.batch_execute(&format!(
        "CREATE TABLE from_a_newer_build (id bigint);
         INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES ({}, 'from_a_newer_build', '2026-11-30T12:00:00Z', '1')",
        newest + 1
    ))
    .await
    .unwrap();

    // The release phase succeeds, and says what it found.
    let mut migrate = std::process::Command::new(env!("CARGO_BIN_EXE_banter"));
    migrate.arg("migrate").env("RUST_LOG", "warn");
    for (name, value) in app.operator_env() {
        migrate.env(name, value);
    }
    let output = migrate.output().expect("banter migrate runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "banter migrate failed:\n{log}");
    assert!(log.contains(&format!("V{}", newest + 1)), "{log}");

    // `serve` (which migrates at start too) starts and serves.
    let server =
        ServerProcess::start(&app.database_url, free_port(), app.peer_env("rolled-back")).await;
    let node = server.node();
    let alice = app.sign_in_at(&node.address, "alice@example.com").await;
    let bob = app.sign_in_at(&node.address, "bob@example.com").await;
    let (mut alice_ws, _) = app.window_at(&node, &alice).await;
    alice_ws
        .send(json!({"type": "send", "ref": "s", "client_id": new_client_id(), "body": "after a rollback", "to": bob.id}))
        .await;
    assert_eq!(
        alice_ws.recv_type("ack").await["message"]["body"],
        "after a rollback"
    );
    // Nothing of the newer migration was undone.
    let kept: i64 = db
        .query_one(
            "SELECT count(*) FROM refinery_schema_history WHERE version = $1",
            &[&(newest + 1)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
}
