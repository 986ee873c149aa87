//! The online list as a window onto a sorted set (protocol v2): `ready` carries the
//! first page, the count and the online partners; a window then hears of changes to its
//! range and its partners only, gathered into at most one frame a tick.

use crate::helpers::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Signs in `emails` and opens a window for each, a few at a time.
async fn online(app: &TestApp, emails: &[String]) -> Vec<(Person, Ws)> {
    let mut open = Vec::new();
    for chunk in emails.chunks(25) {
        let people = join_all(chunk.iter().map(|e| app.sign_in(e))).await;
        let windows = join_all(people.iter().map(|p| app.window(p))).await;
        open.extend(
            people
                .into_iter()
                .zip(windows.into_iter().map(|(ws, _)| ws)),
        );
    }
    open
}

/// The first page of the online list as `viewer` sees it, by email: the first
/// `ONLINE_PAGE` people online in list order, the viewer left out.
fn first_page(everyone: &BTreeSet<String>, viewer: &str) -> Vec<String> {
    everyone
        .iter()
        .take(100)
        .filter(|e| *e != viewer)
        .cloned()
        .collect()
}

fn ids_of(ids: &HashMap<String, String>, emails: &[String]) -> BTreeSet<String> {
    emails.iter().map(|e| ids[e].clone()).collect()
}

fn emails_of(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

/// Reads `ws` until the stream is quiet for `quiet`, folding its presence changes into
/// `seen` (ids online) and answering the last count heard; panics on any change about
/// someone in `never`.
async fn drain(ws: &mut Ws, seen: &mut BTreeSet<String>, never: &[&str]) -> Option<u64> {
    let mut count = None;
    while let Some(frame) = ws.try_recv(Duration::from_millis(700)).await {
        if frame["type"] == "online_changes" {
            count = frame["count"].as_u64();
        }
        for change in presence_changes(&frame) {
            let id = change["user"]["id"].as_str().unwrap().to_owned();
            assert!(!never.contains(&id.as_str()), "heard of {id}: {frame}");
            if change["online"] == true {
                seen.insert(id);
            } else {
                seen.remove(&id);
            }
        }
    }
    count
}

/// Signs in two people with a direct conversation between them.
async fn partners(app: &TestApp, viewer: &str, partner: &str) -> (Person, Person) {
    let (viewer, partner) = (app.sign_in(viewer).await, app.sign_in(partner).await);
    let (status, _) = app.open_direct(&viewer.token, &partner.id).await;
    assert!(status == 200 || status == 201, "{status}");
    (viewer, partner)
}

#[actix_web::test]
async fn a_window_hears_only_of_its_range_and_its_partners_and_a_search_moves_the_range() {
    let app = spawn_app().await;
    let (viewer, partner) = partners(&app, "a-viewer@example.com", "zz-partner@example.com").await;
    let (mut ws, ready) = app.window(&viewer).await;
    assert_eq!(ready["online_count"], 0);
    assert_eq!(ready["partners"], json!([]));

    // 210 people arrive: the viewer's first page (everyone, while they were alone)
    // fills, then slides: it holds the first 100 people online, the viewer left out, as
    // told by `online_changes` alone (a first page is never sent again whole).
    let emails: Vec<String> = (0..210).map(|i| format!("p{i:03}@example.com")).collect();
    let mut crowd = online(&app, &emails).await;
    let (partner_ws, _) = app.window(&partner).await;
    let mut ids: HashMap<String, String> = crowd
        .iter()
        .map(|(p, _)| (p.email.clone(), p.id.clone()))
        .collect();
    ids.insert(partner.email.clone(), partner.id.clone());
    let mut everyone: BTreeSet<String> = emails.iter().cloned().collect();
    everyone.extend([viewer.email.clone(), partner.email.clone()]);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    drain(&mut ws, &mut seen, &[]).await;
    let mut expected = ids_of(&ids, &first_page(&everyone, &viewer.email));
    expected.insert(partner.id.clone());
    assert_eq!(
        seen, expected,
        "the first page and the partner, far down the list"
    );

    // A new window starts from the first page, the count and the partner.
    let (mut second, ready) = app.window(&viewer).await;
    assert_eq!(
        emails_of(&ready["online"]),
        first_page(&everyone, &viewer.email)
    );
    assert_eq!(ready["online_count"], 211);
    assert_eq!(emails_of(&ready["partners"]), ["zz-partner@example.com"]);
    let mut seen: BTreeSet<String> = ready["online"]
        .as_array()
        .unwrap()
        .iter()
        .chain(ready["partners"].as_array().unwrap())
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();

    // Inside the first page: heard, and the next person slides in. Past it: not. The
    // partner: heard, wherever they sort. An arrival inside pushes the last one out.
    let leave = |crowd: &mut Vec<(Person, Ws)>, email: &str| {
        let at = crowd.iter().position(|(p, _)| p.email == email).unwrap();
        crowd.remove(at)
    };
    let (p050, w) = leave(&mut crowd, "p050@example.com");
    w.close().await;
    let (p150, w) = leave(&mut crowd, "p150@example.com");
    w.close().await;
    partner_ws.close().await;
    let late = app.sign_in("p0505@example.com").await;
    let (_late_ws, _) = app.window(&late).await;
    for gone in [&p050.email, &p150.email, &partner.email] {
        everyone.remove(gone);
    }
    everyone.insert(late.email.clone());
    ids.insert(late.email.clone(), late.id.clone());
    let count = drain(&mut second, &mut seen, &[&p150.id]).await;
    assert_eq!(seen, ids_of(&ids, &first_page(&everyone, &viewer.email)));
    assert!(!seen.contains(&p050.id) && !seen.contains(&partner.id));
    assert!(
        seen.contains(&late.id),
        "an arrival inside the range is heard"
    );
    assert_eq!(count, Some(209), "211, less three gone, plus one");

    // A search outside the first page: its page, then changes inside the prefix only.
    second
        .send(json!({"type": "online", "ref": "s", "prefix": "P12"}))
        .await;
    let found = second.recv_type("online_page").await;
    assert_eq!(found["ref"], "s");
    assert_eq!(found["count"], 10);
    assert_eq!(emails_of(&found["people"]), emails[120..130]);
    let (p125, w) = leave(&mut crowd, "p125@example.com");
    w.close().await;
    let (p060, w) = leave(&mut crowd, "p060@example.com");
    w.close().await;
    let gone = second.recv_presence().await;
    assert_eq!(
        (gone["user"]["id"].as_str(), gone["online"].as_bool()),
        (Some(p125.id.as_str()), Some(false))
    );
    drain(&mut second, &mut seen, &[&p060.id]).await;
}

#[actix_web::test]
async fn a_small_deployment_lists_everyone_in_ready_with_the_count() {
    let app = spawn_app().await;
    let names = ["carol@example.com", "Bob@example.com", "alice@example.com"];
    let people = join_all(names.iter().map(|e| app.sign_in(e))).await;
    let _windows = join_all(people[..2].iter().map(|p| app.window(p))).await;
    let (_, ready) = app.window(&people[2]).await;
    assert_eq!(
        emails_of(&ready["online"]),
        ["Bob@example.com", "carol@example.com"]
    );
    assert_eq!(ready["online_count"], 2);
}

#[actix_web::test]
async fn blocked_people_are_in_no_page_count_or_search_and_leave_the_count_when_blocked() {
    let app = spawn_app().await;
    let viewer = app.sign_in("viewer@example.com").await;
    let (blocker, blocked, other) = (
        app.sign_in("blocker@example.com").await,
        app.sign_in("blocked@example.com").await,
        app.sign_in("bystander@example.com").await,
    );
    app.block(&blocker, &viewer).await;
    let _others = join_all([&blocker, &blocked, &other].map(|p| app.window(p))).await;
    let (mut ws, ready) = app.window(&viewer).await;
    assert_eq!(ready["online_count"], 2, "the blocker is hidden: {ready}");
    assert!(!emails_of(&ready["online"]).contains(&blocker.email));
    ws.send(json!({"type": "online", "prefix": "b"})).await;
    let page = ws.recv_type("online_page").await;
    assert_eq!(page["count"], 2);
    assert_eq!(
        emails_of(&page["people"]),
        ["blocked@example.com", "bystander@example.com"]
    );
    // Blocking someone takes them out of the range and the count.
    ws.send(json!({"type": "block", "user_id": blocked.id}))
        .await;
    let changes = ws.recv_type("online_changes").await;
    assert_eq!(changes["went"], json!([blocked.id]));
    assert_eq!(changes["count"], 1);
}

#[actix_web::test]
async fn changes_within_a_tick_arrive_as_their_final_state_and_at_most_a_few_frames_a_second() {
    let app = spawn_app().await;
    let viewer = app.sign_in("viewer@example.com").await;
    let flicker = app.sign_in("flicker@example.com").await;
    let (mut ws, _) = app.window(&viewer).await;
    // Online, offline and online again, as fast as the client can.
    let (first, _) = app.window(&flicker).await;
    first.close().await;
    let (_again, _) = app.window(&flicker).await;
    let mut seen = BTreeSet::new();
    drain(&mut ws, &mut seen, &[]).await;
    assert_eq!(seen, BTreeSet::from([flicker.id.clone()]), "ends online");

    // Twenty people come and go: the viewer hears all forty changes, in frames no
    // closer than the tick (so fewer frames than changes, and at most one a tick).
    let emails: Vec<String> = (0..20).map(|i| format!("churn-{i}@example.com")).collect();
    let started = tokio::time::Instant::now();
    let (_, (frames, last)) = tokio::join!(
        async {
            let crowd = online(&app, &emails).await;
            // Online for a few ticks: someone who comes and goes within one is not
            // heard of at all.
            tokio::time::sleep(Duration::from_millis(600)).await;
            join_all(crowd.into_iter().map(|(_, w)| w.close())).await;
        },
        async {
            let (mut frames, mut heard, mut last) = (0, 0, started);
            while let Some(frame) = ws.try_recv(Duration::from_millis(1500)).await {
                let changes = presence_changes(&frame).len();
                if changes > 0 {
                    frames += 1;
                    heard += changes;
                    last = tokio::time::Instant::now();
                }
            }
            assert_eq!(heard, 40, "everyone came and went, each heard of");
            (frames, last)
        }
    );
    let ticks = last.duration_since(started).as_millis() / 200;
    assert!(frames < 40, "{frames} frames: changes are gathered");
    assert!(
        frames as u128 <= ticks + 2,
        "{frames} frames in {ticks} ticks"
    );
}

#[actix_web::test]
async fn a_partner_pushed_off_the_first_page_by_an_arrival_stays_tracked() {
    let app = spawn_app().await;
    let (viewer, partner) =
        partners(&app, "a-viewer@example.com", "p098-partner@example.com").await;
    // The viewer, 98 people and the partner: exactly the first page's 100.
    let emails: Vec<String> = (0..98).map(|i| format!("p{i:03}@example.com")).collect();
    let _crowd = online(&app, &emails).await;
    let (partner_ws, _) = app.window(&partner).await;
    let (mut ws, ready) = app.window(&viewer).await;
    let on_page = emails_of(&ready["online"]);
    assert_eq!(
        on_page.len(),
        99,
        "the viewer is left out of their own page"
    );
    assert_eq!(on_page.last(), Some(&partner.email));
    let mut seen: BTreeSet<String> = ready["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();

    drain(&mut ws, &mut seen, &[]).await;

    // Inside the page, the partner's leaving and coming back are heard.
    partner_ws.close().await;
    drain(&mut ws, &mut seen, &[]).await;
    assert!(
        !seen.contains(&partner.id),
        "the partner left, inside the page"
    );
    let (partner_ws, _) = app.window(&partner).await;
    drain(&mut ws, &mut seen, &[]).await;
    assert!(
        seen.contains(&partner.id),
        "the partner is back, inside the page"
    );

    // An arrival at the top pushes the partner off the page: they stay shown.
    let early = app.sign_in("b-early@example.com").await;
    let (_early_ws, _) = app.window(&early).await;
    drain(&mut ws, &mut seen, &[]).await;
    assert!(seen.contains(&early.id), "the arrival is heard");
    assert!(
        seen.contains(&partner.id),
        "a partner pushed off the page is still tracked"
    );

    // And their leaving is still heard.
    partner_ws.close().await;
    drain(&mut ws, &mut seen, &[]).await;
    assert!(
        !seen.contains(&partner.id),
        "the partner's leaving is heard"
    );
}

#[actix_web::test]
async fn a_window_opened_while_arrivals_gather_gets_at_most_a_page_and_then_the_right_one() {
    let app = spawn_app().await;
    let crowd: Vec<String> = (0..110).map(|i| format!("p-{i:03}@example.com")).collect();
    let crowd_windows = online(&app, &crowd).await;
    // 40 people who sort first arrive together while 6 viewers open their windows: some
    // `ready`s are built before the first page slides past the arrivals.
    let arrivals: Vec<String> = (0..40).map(|i| format!("a-{i:02}@example.com")).collect();
    let viewers: Vec<String> = (0..6).map(|i| format!("z-{i}@example.com")).collect();
    let app = &app;
    let arriving = join_all(arrivals.iter().map(|e| app.sign_in(e))).await;
    let watching = join_all(viewers.iter().map(|e| app.sign_in(e))).await;
    let (arrived, opened) = tokio::join!(
        join_all(arriving.iter().map(|p| app.window(p))),
        join_all(watching.iter().enumerate().map(|(i, p)| async move {
            tokio::time::sleep(Duration::from_millis(40 * i as u64)).await;
            app.window(p).await
        }))
    );
    let everyone: BTreeSet<String> = crowd
        .iter()
        .chain(&arrivals)
        .chain(&viewers)
        .cloned()
        .collect();
    let ids: HashMap<String, String> = arriving
        .iter()
        .chain(&watching)
        .map(|p| (p.email.clone(), p.id.clone()))
        .chain(
            crowd_windows
                .iter()
                .map(|(p, _)| (p.email.clone(), p.id.clone())),
        )
        .collect();
    for ((mut ws, ready), viewer) in opened.into_iter().zip(&viewers) {
        let listed = emails_of(&ready["online"]);
        assert!(
            listed.len() <= 100,
            "{viewer}'s ready lists {}",
            listed.len()
        );
        let mut seen: BTreeSet<String> = ids_of(&ids, &listed);
        drain(&mut ws, &mut seen, &[]).await;
        assert_eq!(
            seen,
            ids_of(&ids, &first_page(&everyone, viewer)),
            "{viewer}"
        );
    }
    drop(arrived);
}

#[actix_web::test]
async fn the_http_online_list_is_paged_searchable_and_hides_blocked_people_as_the_socket_does() {
    let app = spawn_app().await;
    let crowd: Vec<String> = (0..120).map(|i| format!("h-{i:03}@example.com")).collect();
    let windows = online(&app, &crowd).await;
    let viewer = app.sign_in("viewer@example.com").await;
    // The viewer blocked h-000; h-001 blocked the viewer: both are hidden.
    app.block(&viewer, &windows[0].0).await;
    app.block(&windows[1].0, &viewer).await;
    let visible: Vec<String> = crowd[2..].to_vec();

    let (status, page) = app.get("/api/users/online", &viewer.token).await;
    assert_eq!(status, 200);
    assert_eq!(emails_of(&page["users"]), visible[..100]);
    assert_eq!(
        (page["count"].clone(), page["offset"].clone()),
        (json!(118), json!(0))
    );
    let (_, page) = app
        .get("/api/users/online?offset=100&limit=50", &viewer.token)
        .await;
    assert_eq!(emails_of(&page["users"]), visible[100..]);
    let (_, page) = app
        .get("/api/users/online?prefix=H-11", &viewer.token)
        .await;
    assert_eq!(emails_of(&page["users"]), visible[108..]);
    assert_eq!(page["count"], 10);
    let (_, page) = app
        .get("/api/users/online?prefix=h-00", &viewer.token)
        .await;
    assert_eq!(
        emails_of(&page["users"]),
        visible[..8],
        "h-000 and h-001 hidden"
    );
    for bad in ["limit=0", "limit=201", "offset=-1", "limit=x"] {
        let (status, body) = app
            .get(&format!("/api/users/online?{bad}"), &viewer.token)
            .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!("bad_request")),
            "{bad}"
        );
    }
}
