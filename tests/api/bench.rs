//! Smoke runs of `banter bench` against a real server: each scenario completes and the
//! generator reports zero loss (the full benchmark is run by hand: docs/benchmarks.md).

use crate::helpers::*;
use serde_json::Value;

/// Runs `banter bench <args>` with only the given environment variables of ours set,
/// asserts it succeeded, and parses its JSON line.
async fn run_bench(args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_banter"));
    command
        .arg("bench")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("ROOT_KEY_ENCRYPTION_KEY")
        .env("METRICS_TOKEN", TEST_METRICS_TOKEN)
        .env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), command.output())
        .await
        .expect("the bench finishes")
        .expect("the bench runs");
    assert!(
        out.status.success(),
        "bench {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().expect("a JSON line")).expect("the JSON line parses")
}

/// A scenario against `server`.
async fn bench(app: &TestApp, server: &ServerProcess, args: &[&str]) -> Value {
    let url = format!("http://127.0.0.1:{}", server.port);
    let mut args = args.to_vec();
    args.extend(["--server", &url]);
    let sealing = ("ROOT_KEY_ENCRYPTION_KEY", TEST_ROOT_KEY_ENCRYPTION_KEY);
    run_bench(&args, &[("DATABASE_URL", &app.database_url), sealing]).await
}

#[actix_web::test]
async fn each_bench_scenario_runs_with_nothing_lost() {
    let app = spawn_app().await;
    let env = app.peer_env("bench-target");
    let server = ServerProcess::start(&app.database_url, free_port(), env).await;

    let dm = bench(
        &app,
        &server,
        &[
            "dm",
            "--users",
            "20",
            "--windows",
            "2",
            "--rate",
            "200",
            "--duration",
            "2s",
        ],
    )
    .await;
    assert_eq!(
        (dm["lost"].as_u64(), dm["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{dm}"
    );
    assert_eq!(dm["acked"], dm["sent"]);
    assert_eq!(
        (dm["stored_missing"].as_u64(), dm["stored_twice"].as_u64()),
        (Some(0), Some(0)),
        "{dm}"
    );
    assert_eq!(
        dm["delivered"].as_u64(),
        dm["sent"].as_u64().map(|s| s * 3),
        "{dm}"
    );

    let pid = server.child.id().unwrap().to_string();
    let idle = bench(
        &app,
        &server,
        &[
            "idle",
            "--users",
            "50",
            "--windows",
            "2",
            "--duration",
            "1s",
            "--server-pid",
            &pid,
        ],
    )
    .await;
    assert_eq!(idle["sockets"], 100);
    assert!(idle["server_kib_per_socket"].is_number(), "{idle}");

    let storm = bench(
        &app,
        &server,
        &[
            "storm",
            "--users",
            "10",
            "--windows",
            "1",
            "--rate",
            "50",
            "--storm",
            "60",
            "--duration",
            "3s",
        ],
    )
    .await;
    assert_eq!(
        (storm["lost"].as_u64(), storm["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{storm}"
    );
    assert_eq!(storm["storm_windows"], 60, "{storm}");
    assert!(
        storm["storm_all_ready_s"].as_f64().unwrap() > 0.0,
        "{storm}"
    );
    assert!(
        storm["storm_presence_settled_s"].is_number(),
        "settled: {storm}"
    );
    assert_eq!(storm["server_snapshots_shed"], 0, "{storm}");
    assert!(
        storm["server_snapshot_wait_ms"]["p99"].is_number(),
        "{storm}"
    );

    let churn = bench(
        &app,
        &server,
        &["churn", "--users", "10", "--rate", "10", "--duration", "1s"],
    )
    .await;
    assert!(churn["transitions"].as_u64().unwrap() >= 2, "{churn}");
    assert_eq!(
        churn["presence_frames_heard"], churn["presence_frames_expected"],
        "{churn}"
    );
}

#[actix_web::test]
async fn the_room_scenario_fans_out_to_every_member_window_with_nothing_lost() {
    let app = spawn_app().await;
    let env = app.peer_env("bench-rooms");
    let server = ServerProcess::start(&app.database_url, free_port(), env).await;
    let room = bench(
        &app,
        &server,
        &[
            "room",
            "--users",
            "12",
            "--room-size",
            "4",
            "--windows",
            "2",
            "--rate",
            "60",
            "--duration",
            "2s",
        ],
    )
    .await;
    assert_eq!(
        (room["lost"].as_u64(), room["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{room}"
    );
    // Each message reaches the 3 other members' 2 windows and the sender's other window.
    assert_eq!(
        room["delivered"].as_u64(),
        room["sent"].as_u64().map(|s| s * 7),
        "{room}"
    );
    assert_eq!(room["stored_missing"], 0, "{room}");
}

#[actix_web::test]
async fn the_generator_starts_two_nodes_itself_and_loses_nothing_across_them() {
    let app = spawn_app().await;
    let redis = test_redis_url();
    let dm = run_bench(
        &[
            "dm",
            "--nodes",
            "2",
            "--users",
            "10",
            "--windows",
            "2",
            "--rate",
            "100",
            "--duration",
            "2s",
        ],
        &[
            ("DATABASE_URL", &app.database_url),
            ("REDIS_URL", &redis),
            ("ROOT_KEY_ENCRYPTION_KEY", TEST_ROOT_KEY_ENCRYPTION_KEY),
        ],
    )
    .await;
    assert_eq!(dm["nodes"], 2, "{dm}");
    assert_eq!(
        (dm["lost"].as_u64(), dm["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{dm}"
    );
    assert!(
        dm["cross_node_latency_ms"]["p50"].as_f64().unwrap() > 0.0,
        "{dm}"
    );
}

#[actix_web::test]
async fn a_rolling_restart_under_load_through_haproxy_loses_nothing_and_every_window_comes_back() {
    let app = spawn_app().await;
    let redis = test_redis_url();
    let rolling = run_bench(
        &[
            "rolling",
            "--users",
            "20",
            "--windows",
            "2",
            "--rate",
            "40",
            "--duration",
            "20s",
        ],
        &[
            ("DATABASE_URL", &app.database_url),
            ("REDIS_URL", &redis),
            ("ROOT_KEY_ENCRYPTION_KEY", TEST_ROOT_KEY_ENCRYPTION_KEY),
        ],
    )
    .await;
    assert_eq!(rolling["scenario"], "rolling", "{rolling}");
    assert_eq!(
        rolling["restarts"].as_array().map(Vec::len),
        Some(2),
        "{rolling}"
    );
    // Each node held windows, and each restart moved its windows elsewhere.
    let moved = rolling["windows_moved"].as_u64().unwrap();
    assert!(moved >= 40, "every one of the 40 windows moved: {rolling}");
    assert!(
        rolling["close_codes"]["1012"].as_u64().unwrap() > 0,
        "{rolling}"
    );
    assert_eq!(rolling["stranded"], 0, "{rolling}");
    let sent = rolling["sent"].as_u64().unwrap();
    assert!(sent >= 700, "{rolling}");
    assert_eq!(rolling["acked"].as_u64(), Some(sent), "{rolling}");
    // Two windows per user: the recipient's two and the sender's other one.
    assert_eq!(rolling["delivered"].as_u64(), Some(sent * 3), "{rolling}");
    for zero in ["lost", "duplicated", "stored_missing", "stored_twice"] {
        assert_eq!(rolling[zero], 0, "{zero}: {rolling}");
    }
}

/// Runs a floor scenario, which needs no Banter server (`pg-floor` needs a database).
/// A floor scenario (no Banter server), with a database when it needs one.
async fn bench_floor(database_url: Option<&str>, args: &[&str]) -> Value {
    match database_url {
        Some(url) => run_bench(args, &[("DATABASE_URL", url)]).await,
        None => run_bench(args, &[]).await,
    }
}

#[actix_web::test]
async fn the_relay_floor_carries_dm_load_and_a_connect_storm_with_nothing_lost() {
    let relay = bench_floor(
        None,
        &[
            "relay",
            "--users",
            "20",
            "--windows",
            "2",
            "--rate",
            "200",
            "--duration",
            "2s",
            "--storm",
            "50",
        ],
    )
    .await;
    assert_eq!(relay["scenario"], "relay", "{relay}");
    // The storm's windows opened beside the load, one second into it.
    assert_eq!(relay["storm_windows"], 50, "{relay}");
    assert!(
        relay["storm_connect_per_s"].as_f64().unwrap() > 0.0,
        "{relay}"
    );
    let storm_secs = relay["storm_all_ready_s"]
        .as_f64()
        .expect("the storm's time");
    assert!(storm_secs < 2.0, "{relay}");
    assert_eq!(relay["sent"], 400, "{relay}");
    assert_eq!(
        (relay["lost"].as_u64(), relay["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{relay}"
    );
    assert_eq!(relay["acked"], relay["sent"], "{relay}");
    assert_eq!(relay["delivered"], 400 * 3, "{relay}");
    assert!(relay["delivery_latency_ms"]["p50"].as_f64().unwrap() > 0.0);
}

#[actix_web::test]
async fn the_postgres_floor_commits_batches_and_single_rows_and_drops_its_schema() {
    let database = TestDatabase::create().await;
    let floor = bench_floor(
        Some(&database.url),
        &[
            "pg-floor",
            "--users",
            "10",
            "--windows",
            "2",
            "--batch",
            "16",
            "--duration",
            "1s",
        ],
    )
    .await;
    assert_eq!(floor["scenario"], "pg-floor", "{floor}");
    let (batched, single) = (&floor["batched"], &floor["single"]);
    assert_eq!(
        (batched["batch"].as_u64(), single["batch"].as_u64()),
        (Some(16), Some(1))
    );
    for phase in [batched, single] {
        assert!(phase["rows_per_s"].as_f64().unwrap() > 0.0, "{floor}");
        assert!(phase["commits_per_s"].as_f64().unwrap() > 0.0, "{floor}");
        assert!(phase["commit_latency_ms"]["p99"].is_number(), "{floor}");
    }
    assert_eq!(
        batched["rows"].as_u64(),
        batched["commits"].as_u64().map(|c| c * 16)
    );
    assert_eq!(single["rows"], single["commits"]);

    let (client, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench_floor_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the floor's schema is dropped");
}
