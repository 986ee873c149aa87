//! The client libraries of `clients/`, run against a real server: what they promise
//! (replies by ref, resume without gaps, resends stored once) holds on the wire.

use crate::helpers::*;
use std::path::Path;
use std::time::Duration;

#[actix_web::test]
async fn the_python_client_resumes_without_gaps_and_resends_once() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // scripts/test.sh installs the `websockets` package here.
    let packages = root.join("target/tools/python");
    assert!(
        packages.join("websockets").is_dir(),
        "the websockets package is missing from {}: run scripts/test.sh, or pip install \
         --target {} websockets==15.0.1",
        packages.display(),
        packages.display()
    );
    let python_path = format!(
        "{}:{}",
        packages.display(),
        root.join("clients/python").display()
    );
    let run = tokio::process::Command::new("python3")
        .arg(root.join("clients/python/check_client.py"))
        .env("PYTHONPATH", python_path)
        .env("BANTER_WS_URL", &app.ws_url)
        .env("ALICE_TOKEN", &alice.token)
        .env("ALICE_ID", &alice.id)
        .env("BOB_TOKEN", &bob.token)
        .env("BOB_ID", &bob.id)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the python client finishes")
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Seven messages, the one sent across the drop among them once.
    let db = app.db().await;
    let row = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE body = 'after drop') FROM messages",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (7, 1));
}
