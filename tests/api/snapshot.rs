//! Snapshots under a connect storm: windows that connect together share batched reads
//! (one query per table for the whole batch), and each still gets exactly its own state.

use crate::helpers::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn ids(list: &Value, key: impl Fn(&Value) -> &Value) -> BTreeSet<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| key(v).as_str().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn windows_that_connect_together_on_a_small_pool_each_get_their_own_snapshot() {
    let app = spawn_app_with(|s| s.database_pool_size = 3).await;
    let n = 40;
    let emails: Vec<String> = (0..n).map(|i| format!("storm-{i}@example.com")).collect();
    let people = join_all(emails.iter().map(|e| app.sign_in(e))).await;
    let db = app.db().await;
    // Person i blocked person i+1, talks with person i+3, and left a draft of their own.
    for (i, person) in people.iter().enumerate() {
        app.block(person, &people[(i + 1) % n]).await;
        let (status, _) = app
            .open_direct(&person.token, &people[(i + 3) % n].id)
            .await;
        assert!(status == 200 || status == 201, "{status}");
        db.execute(
            "UPDATE users SET ui_state = $1 WHERE id = $2::text::uuid",
            &[&json!({"draft": format!("draft of {i}")}), &person.id],
        )
        .await
        .expect("a draft");
    }

    let windows = join_all(people.iter().map(|p| app.window(p))).await;

    for (i, (_, ready)) in windows.iter().enumerate() {
        assert_eq!(ready["me"]["id"], people[i].id, "window {i}");
        assert_eq!(
            ids(&ready["blocked"], |u| &u["id"]),
            BTreeSet::from([people[(i + 1) % n].id.clone()]),
            "window {i}'s blocks"
        );
        assert_eq!(
            ids(&ready["conversations"], |c| &c["peer"]["id"]),
            BTreeSet::from([
                people[(i + 3) % n].id.clone(),
                people[(i + n - 3) % n].id.clone()
            ]),
            "window {i}'s conversations"
        );
        assert_eq!(ready["ui"]["draft"], format!("draft of {i}"), "window {i}");
        // Blocks hide both ways in the online list too.
        let online = ids(&ready["online"], |u| &u["id"]);
        assert!(!online.contains(&people[(i + 1) % n].id), "window {i}");
        assert!(!online.contains(&people[(i + n - 1) % n].id), "window {i}");
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("banter_snapshots_shed_total 0"),
        "nobody shed: {metrics}"
    );
    assert!(
        metrics.contains(&format!("banter_snapshot_seconds_count {n}")),
        "one snapshot per window: {metrics}"
    );
}

/// Opens a window for each of `people` at once; each ends with its `ready` or its close.
async fn storm_of(app: &TestApp, people: &[Person]) -> Vec<(Ws, Result<Value, (u16, String)>)> {
    join_all(people.iter().map(|person| async {
        let mut ws = Ws::connect(&app.ws_url).await;
        ws.send(json!({"type": "auth", "token": person.token}))
            .await;
        let outcome = ws.ready_or_closed().await;
        (ws, outcome)
    }))
    .await
}

#[actix_web::test]
async fn a_storm_past_the_connect_gate_queues_and_every_window_gets_its_ready() {
    // One window admitted at a time: the others wait their turn, and each turn is let
    // go once that window's `ready` is out (a turn that stayed taken would leave every
    // later window waiting past the test's patience).
    let app = spawn_app_with(|s| s.limits.connect_gate.in_flight = 1).await;
    let emails: Vec<String> = (0..30).map(|i| format!("queued-{i}@example.com")).collect();
    let people = join_all(emails.iter().map(|e| app.sign_in(e))).await;
    for (i, (_, outcome)) in storm_of(&app, &people).await.iter().enumerate() {
        let ready = outcome
            .as_ref()
            .unwrap_or_else(|c| panic!("window {i} closed: {c:?}"));
        assert_eq!(ready["me"]["id"], people[i].id);
    }
    // A window refused after its turn (the 17th of one person) lets its turn go too.
    let alice = app.sign_in("alice@example.com").await;
    let mut windows = Vec::new();
    for _ in 0..16 {
        windows.push(app.window(&alice).await.0);
    }
    let mut refused = Ws::connect(&app.ws_url).await;
    refused
        .send(json!({"type": "auth", "token": alice.token}))
        .await;
    assert_eq!(refused.closed().await, Closed::Code(4403));
    let bob = app.sign_in("bob@example.com").await;
    assert_eq!(app.window(&bob).await.1["me"]["id"], bob.id);
    let metrics = app.metrics().await;
    assert!(metrics.contains("banter_connects_waiting 0"), "{metrics}");
    assert!(
        metrics.contains("banter_connects_turned_away_total 0"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn windows_the_connect_gate_cannot_queue_are_told_when_to_come_back() {
    // One admitted at a time and nobody may wait: of 60 windows at once, those that
    // find the gate taken are closed with 1013 and a retry_after, the rest are ready.
    let app = spawn_app_with(|s| {
        s.limits.connect_gate.in_flight = 1;
        s.limits.connect_gate.waiting = 0;
    })
    .await;
    let emails: Vec<String> = (0..60).map(|i| format!("shed-{i}@example.com")).collect();
    let people = join_all(emails.iter().map(|e| app.sign_in(e))).await;
    let outcomes = storm_of(&app, &people).await;
    let mut turned_away = 0;
    for (i, (_, outcome)) in outcomes.iter().enumerate() {
        match outcome {
            Ok(ready) => assert_eq!(ready["me"]["id"], people[i].id),
            Err(close) => {
                assert_eq!(close, &(1013, "server busy; retry_after=5".to_owned()));
                turned_away += 1;
            }
        }
    }
    assert!(turned_away > 0, "60 windows at once through a gate of one");
    assert!(turned_away < 60, "the gate admits someone");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(&format!("banter_connects_turned_away_total {turned_away}")),
        "{metrics}"
    );
    // Come back later, and get in.
    let (_, ready) = app.window(&people[0]).await;
    assert_eq!(ready["me"]["id"], people[0].id);
}

#[actix_web::test]
async fn frames_sent_before_ready_are_answered_after_it() {
    // A client may send right after `auth`: what arrives while its window waits for a
    // turn at the gate (one at a time here, 20 at once) is kept and answered once its
    // `ready` is out.
    let app = spawn_app_with(|s| s.limits.connect_gate.in_flight = 1).await;
    let emails: Vec<String> = (0..20).map(|i| format!("early-{i}@example.com")).collect();
    let people = join_all(emails.iter().map(|e| app.sign_in(e))).await;
    join_all(people.iter().map(|person| async {
        let mut ws = Ws::connect(&app.ws_url).await;
        ws.send(json!({"type": "auth", "token": person.token}))
            .await;
        ws.send(json!({"type": "rooms", "ref": "early-1"})).await;
        ws.send(json!({"type": "online", "ref": "early-2"})).await;
        assert_eq!(ws.recv().await["type"], "ready");
        // Two queries answered by different parts of the server: both come, in either
        // order (answers are matched by `ref`), among others' arrivals.
        let mut answers = BTreeSet::new();
        while answers.len() < 2 {
            let frame = ws.recv().await;
            if let Some(reference) = frame["ref"].as_str() {
                let kind = frame["type"].as_str().unwrap_or_default();
                answers.insert((kind.to_owned(), reference.to_owned()));
            }
        }
        assert_eq!(
            answers,
            BTreeSet::from([
                ("online_page".to_owned(), "early-2".to_owned()),
                ("rooms".to_owned(), "early-1".to_owned())
            ])
        );
    }))
    .await;
}
