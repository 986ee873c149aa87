//! Floods, oversize and malformed frames, reconnect storms and identity switches from one
//! account, each against the server binary while two bystanders keep talking (see
//! `watch.rs` for what "the node stays well" means).
//!
//! A flood is one account's 16 windows (the most it may open) each sending 250 copies of
//! one kind of frame as fast as the test can write them: past the 200-frame burst every
//! window is closed with 4429, and what was let through is bounded by the person's
//! allowances.

use super::watch::Watched;
use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The most windows one person may open.
const WINDOWS: usize = 16;
/// Frames each window sends: past the 200-frame burst of the 100-a-second limit.
const FRAMES: usize = 250;

/// What the attacker's frames refer to.
struct Scene {
    mallory: Person,
    victim: Person,
    /// A room Mallory created (she is its only member).
    room: String,
    /// Mallory's direct conversation with the victim.
    direct: String,
}

async fn scene(watched: &Watched) -> Scene {
    let mallory = watched.person("mallory@example.com").await;
    let victim = watched.person("victim@example.com").await;
    let (node, http) = (&watched.node, &watched.app.http);
    let room = node
        .post(
            http,
            "/api/rooms",
            &mallory.token,
            Some(json!({"name": "mallory's"})),
        )
        .await;
    let direct = node
        .post(
            http,
            &format!("/api/direct/{}", victim.id),
            &mallory.token,
            None,
        )
        .await;
    Scene {
        room: room["room"]["id"].as_str().expect("room id").to_owned(),
        direct: direct["id"].as_str().expect("conversation id").to_owned(),
        mallory,
        victim,
    }
}

/// The `i`th frame of a flood of `kind`.
fn frame(kind: &str, scene: &Scene, i: usize) -> WsMessage {
    let r = format!("r{i}");
    let text = match kind {
        "send" => json!({"type": "send", "ref": r, "client_id": new_client_id(),
                         "conversation_id": scene.room, "body": "flood"}),
        "history" => json!({"type": "history", "ref": r, "conversation_id": scene.room,
                            "after_seq": 0, "limit": 200}),
        "read" => json!({"type": "read", "ref": r, "conversation_id": scene.direct, "seq": 0}),
        "block" => json!({"type": if i.is_multiple_of(2) { "block" } else { "unblock" }, "ref": r,
                          "user_id": scene.victim.id}),
        "ui" => json!({"type": "ui", "ref": r, "state": {"selected": scene.room,
                                                          "draft": "x".repeat(1000)}}),
        "typing" => json!({"type": "typing", "ref": r, "conversation_id": scene.direct}),
        "create_room" => json!({"type": "create_room", "ref": r, "name": format!("flood {i}")}),
        "join_room" => json!({"type": "join_room", "ref": r, "room_id": scene.room}),
        "leave_room" => json!({"type": "leave_room", "ref": r,
                               "room_id": uuid::Uuid::new_v4().to_string()}),
        "delete_room" => json!({"type": "delete_room", "ref": r,
                                "room_id": uuid::Uuid::new_v4().to_string()}),
        "members" => json!({"type": "members", "ref": r, "room_id": scene.room}),
        "auth" => json!({"type": "auth", "ref": r, "token": scene.mallory.token}),
        "ping_frame" => json!({"type": "ping", "ref": r}),
        "unknown" => json!({"type": "teleport", "ref": r}),
        "binary" => return WsMessage::Binary(vec![0u8; 1024]),
        "ping" => return WsMessage::Ping(vec![1u8; 125]),
        other => panic!("no frame of kind {other}"),
    };
    WsMessage::Text(text.to_string())
}

/// Mallory's 16 windows each flood `kind` while the bystanders are watched; every window
/// ends closed with 4429 and the node stays well.
async fn flood_of(kind: &str) {
    let mut watched = Watched::start(&format!("flood-{kind}")).await;
    let scene = scene(&watched).await;
    let mut windows = Vec::new();
    for _ in 0..WINDOWS {
        windows.push(watched.app.window_at(&watched.node, &scene.mallory).await.0);
    }
    let closes = watched
        .during(async {
            let floods = windows.iter_mut().map(|ws| async {
                for i in 0..FRAMES {
                    ws.send_raw(frame(kind, &scene, i)).await;
                }
                ws.closed().await
            });
            futures_util::future::join_all(floods).await
        })
        .await;
    assert!(
        closes.iter().all(|c| *c == Closed::Code(4429)),
        "every flooding window is closed with 4429: {closes:?}"
    );
    watched.assert_well();
    // Mallory may come back (and is held to her allowances, not shut out).
    let (mut again, _) = watched.app.window_at(&watched.node, &scene.mallory).await;
    again
        .send(json!({"type": "members", "ref": "m", "room_id": scene.room}))
        .await;
    let answer = again.recv().await;
    assert!(
        answer["type"] == "members" || answer["code"] == "rate_limited",
        "{answer}"
    );
}

#[actix_web::test]
async fn a_flood_of_sends_from_every_window_leaves_the_node_well() {
    flood_of("send").await;
}

#[actix_web::test]
async fn a_flood_of_history_requests_leaves_the_node_well() {
    flood_of("history").await;
}

#[actix_web::test]
async fn a_flood_of_read_positions_leaves_the_node_well() {
    flood_of("read").await;
}

#[actix_web::test]
async fn a_flood_of_block_toggles_leaves_the_node_well() {
    flood_of("block").await;
}

#[actix_web::test]
async fn a_flood_of_ui_states_leaves_the_node_well() {
    flood_of("ui").await;
}

#[actix_web::test]
async fn a_flood_of_typing_notices_leaves_the_node_well() {
    flood_of("typing").await;
}

#[actix_web::test]
async fn a_flood_of_room_creations_leaves_the_node_well() {
    flood_of("create_room").await;
}

#[actix_web::test]
async fn a_flood_of_joins_leaves_the_node_well() {
    flood_of("join_room").await;
}

#[actix_web::test]
async fn a_flood_of_leaves_leaves_the_node_well() {
    flood_of("leave_room").await;
}

#[actix_web::test]
async fn a_flood_of_room_deletions_leaves_the_node_well() {
    flood_of("delete_room").await;
}

#[actix_web::test]
async fn a_flood_of_member_lists_leaves_the_node_well() {
    flood_of("members").await;
}

#[actix_web::test]
async fn a_flood_of_session_renewals_leaves_the_node_well() {
    flood_of("auth").await;
}

#[actix_web::test]
async fn a_flood_of_ping_frames_leaves_the_node_well() {
    flood_of("ping_frame").await;
}

#[actix_web::test]
async fn a_flood_of_unknown_frames_leaves_the_node_well() {
    flood_of("unknown").await;
}

#[actix_web::test]
async fn a_flood_of_binary_frames_leaves_the_node_well() {
    flood_of("binary").await;
}

#[actix_web::test]
async fn a_flood_of_pings_leaves_the_node_well() {
    flood_of("ping").await;
}

#[actix_web::test]
async fn oversize_frames_are_refused_on_their_header_without_being_buffered() {
    let mut watched = Watched::start("oversize").await;
    let mallory = watched.person("mallory@example.com").await;
    let mut windows = Vec::new();
    for _ in 0..WINDOWS {
        windows.push(watched.app.window_at(&watched.node, &mallory).await.0);
    }
    let address = watched
        .node
        .address
        .trim_start_matches("http://")
        .to_owned();
    let (
        closes,
        HugeFrame {
            received: stranger, ..
        },
    ) = watched
        .during(async {
            let sends = windows.iter_mut().map(|ws| async {
                ws.send_raw(WsMessage::Text("x".repeat(1 << 20))).await;
                ws.closed().await
            });
            // Someone who never signs in declares a 1 TiB frame and sends 64 MiB of it.
            tokio::join!(
                futures_util::future::join_all(sends),
                declare_a_huge_frame(&address)
            )
        })
        .await;
    assert!(
        closes.iter().all(|c| *c == Closed::Code(4413)),
        "{closes:?}"
    );
    // A close frame (0x88) with code 4413 (0x113d), then the end.
    assert!(
        stranger.windows(2).any(|w| w == [0x11, 0x3d]) && stranger.first() == Some(&0x88),
        "{stranger:?}"
    );
    watched.assert_well();
}

#[actix_web::test]
async fn malformed_frames_each_get_bad_request_and_the_socket_stays_usable() {
    let mut watched = Watched::start("malformed").await;
    let mallory = watched.person("mallory@example.com").await;
    let (mut ws, _) = watched.app.window_at(&watched.node, &mallory).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let malformed = vec![
        "not json".to_owned(),
        "{".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        "\"send\"".to_owned(),
        deep.clone(),
        format!("{{\"type\":\"ui\",\"state\":{{\"selected\":null,\"draft\":\"\",\"x\":{deep}}}}}"),
        r#"{"type":"send","body":"hi"}"#.to_owned(),
        r#"{"type":"send","client_id":"c","body":123,"to":"x"}"#.to_owned(),
        r#"{"type":"history","conversation_id":"x","limit":1e309}"#.to_owned(),
        r#"{"type":"history","conversation_id":"00000000-0000-0000-0000-000000000000","limit":-1}"#
            .to_owned(),
        r#"{"type":"read","conversation_id":"00000000-0000-0000-0000-000000000000","seq":99999999999999999999}"#
            .to_owned(),
        format!(r#"{{"type":"typing","ref":"{}","conversation_id":"x"}}"#, "r".repeat(10_000)),
        r#"{"type":"send","type":"typing"}"#.to_owned(),
        "\u{feff}{}".to_owned(),
    ];
    let count = malformed.len();
    let answers = watched
        .during(async {
            let mut codes = Vec::new();
            for text in malformed {
                ws.send_text(text).await;
                codes.push(ws.recv_type("error").await["code"].clone());
            }
            codes
        })
        .await;
    assert_eq!(answers, vec![json!("bad_request"); count]);
    ws.send(json!({"type": "create_room", "ref": "ok", "name": "still works"}))
        .await;
    assert_eq!(ws.recv_type("joined").await["ref"], "ok");
    watched.assert_well();
}

#[actix_web::test]
async fn a_reconnect_storm_from_one_account_leaves_the_node_well_and_nothing_behind() {
    let mut watched = Watched::start("storm").await;
    let mallory = watched.person("mallory@example.com").await;
    let ws_url = watched.node.ws_url.clone();
    let opened = watched
        .during(async {
            // 16 at a time, 320 in all: each authenticates, gets its `ready`, and goes.
            let lanes = (0..WINDOWS).map(|_| async {
                let mut opened = 0;
                for _ in 0..20 {
                    let mut ws = Ws::connect(&ws_url).await;
                    ws.send(json!({"type": "auth", "token": mallory.token}))
                        .await;
                    if let Ok(ready) = ws.next_or_close(WAIT).await {
                        assert_eq!(ready["type"], "ready");
                        opened += 1;
                    }
                    ws.close().await;
                }
                opened
            });
            futures_util::future::join_all(lanes).await
        })
        .await;
    assert_eq!(opened.iter().sum::<usize>(), WINDOWS * 20);
    watched.assert_well();
    // Nothing is left behind: only the bystanders' two sockets stay counted.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while watched.metric("banter_sockets_open").await != 2.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "sockets left counted after the storm"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(watched.metric("banter_users_online").await, 2.0);
}

#[actix_web::test]
async fn a_socket_cannot_switch_to_another_identity() {
    let mut watched = Watched::start("identity").await;
    let (mallory, victim) = (
        watched.person("mallory@example.com").await,
        watched.person("victim@example.com").await,
    );
    let (mut ws, _) = watched.app.window_at(&watched.node, &mallory).await;
    let (mut victims, _) = watched.app.window_at(&watched.node, &victim).await;
    let renewal_answers = watched
        .during(async {
            // Someone else's token, a forged one and an empty one, as renewals.
            let mut codes = Vec::new();
            for token in [
                victim.token.clone(),
                format!("{}x", victim.token),
                String::new(),
            ] {
                ws.send(json!({"type": "auth", "ref": "switch", "token": token}))
                    .await;
                codes.push(ws.recv_type("error").await["code"].clone());
            }
            codes
        })
        .await;
    assert_eq!(renewal_answers, vec![json!("unauthorized"); 3]);
    // The socket is still Mallory's: what it sends comes from her, not the victim.
    ws.send(
        json!({"type": "send", "ref": "s", "client_id": new_client_id(),
                   "to": victim.id, "body": "who am I?"}),
    )
    .await;
    let ack = ws.recv_type("ack").await;
    assert_eq!(ack["message"]["sender_id"], mallory.id);
    let delivered = victims.recv_type("message").await;
    assert_eq!(delivered["message"]["sender_id"], mallory.id);
    watched.assert_well();
}
