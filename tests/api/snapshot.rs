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
