//! The client libraries of `clients/`, run against a real server: what they promise
//! (replies by ref, resume without gaps, resends stored once, a room's block holes read
//! without asking forever) holds on the wire.

use crate::helpers::*;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Alice, Bob and Carol signed in; the check script gets their tokens and ids.
async fn run_check(app: &TestApp, mut command: tokio::process::Command) -> Output {
    let alice = app.sign_in("alice@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let carol = app.sign_in("carol@example.com").await;
    command.env("BANTER_WS_URL", &app.ws_url);
    for (name, person) in [("ALICE", &alice), ("BOB", &bob), ("CAROL", &carol)] {
        command
            .env(format!("{name}_TOKEN"), &person.token)
            .env(format!("{name}_ID"), &person.id);
    }
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("the client check finishes")
        .expect("the client check runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What the checks leave in Postgres: the seven messages of the direct chat (the one sent
/// across a drop among them once) and the room's four.
async fn assert_stored_once(app: &TestApp) {
    let db = app.db().await;
    let row = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE body = 'after drop') FROM messages",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (11, 1));
}

#[actix_web::test]
async fn the_python_client_resumes_without_gaps_and_resends_once() {
    let app = spawn_app().await;
    // scripts/test.sh installs the `websockets` package here.
    let packages = root().join("target/tools/python");
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
        root().join("clients/python").display()
    );
    let mut command = tokio::process::Command::new("python3");
    command
        .arg(root().join("clients/python/check_client.py"))
        .env("PYTHONPATH", python_path);
    run_check(&app, command).await;
    assert_stored_once(&app).await;
}

#[actix_web::test]
async fn the_typescript_client_resumes_without_gaps_and_resends_once() {
    let app = spawn_app().await;
    let package = root().join("clients/typescript");
    let tsc = package.join("node_modules/.bin/tsc");
    assert!(
        tsc.is_file(),
        "{} is missing: run scripts/test.sh, or npm ci in {}",
        tsc.display(),
        package.display()
    );
    // Compiled here (into the package's dist/, where `ws` and the package's module type
    // resolve), so the check never runs stale JavaScript.
    let compile = tokio::process::Command::new(&tsc)
        .arg("-p")
        .arg(&package)
        .output()
        .await
        .expect("tsc runs");
    assert!(
        compile.status.success(),
        "the TypeScript client does not compile:\n{}",
        String::from_utf8_lossy(&compile.stdout)
    );
    let mut command = tokio::process::Command::new("node");
    command.arg(package.join("dist/check/check_client.js"));
    run_check(&app, command).await;
    assert_stored_once(&app).await;
}
