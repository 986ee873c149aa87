//! Scenario `churn`: `users` viewers stay online while churners come online and go
//! offline, one at a time at `--rate` transitions per second; reports how long the
//! viewers waited to hear of each arrival and departure.
//!
//! Protocol v2 tells a window of arrivals and departures (`came` and `went` in
//! `online_changes`, gathered every ~200 ms) only within its page of the online list and
//! among its conversation partners; everyone else moves only its count. So that the
//! viewers are owed every transition, the run is laid out by list position:
//!
//! - the churners' emails sort before every viewer's (`bench-0-churn-<k>@…` before
//!   `bench-<i>@…`, as `-` sorts before `@`), which puts them at the top of every viewer's
//!   first page, the range a window tracks until it asks for another;
//! - there are at most [`MAX_CHURNERS`] (a page), so the half of them online at a time
//!   stays well within the page;
//! - each stays online, and offline, at least [`MIN_STAY`] (five of the server's
//!   coalescing ticks), so no arrival and departure fold into nothing. A faster `--rate`
//!   takes more churners, up to [`MAX_CHURNERS`]; beyond that the rate is capped.
//!
//! Every viewer is then owed every transition, unless people outside the run are online
//! (counted from the viewers' counts) and could sort before the churners and push them
//! off the page: then no expectation is reported, only what was heard. Either way the
//! run does not fail because a viewer did not hear of a churner (outside its page, that
//! is the protocol working); it fails if, with the churners owed to every viewer, some
//! transition reached no viewer at all.

use super::frames::Head;
use super::stats::percentiles_ms;
use super::windows::{self, Placement, Tally};
use super::{connect, tokens, tokens_for, ws_urls, BenchArgs, Host};
use banter_protocol::ONLINE_PAGE;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Churners at the least: enough that one is always resting between visits.
const MIN_CHURNERS: usize = 10;

/// Churners at the most: a page of the online list, so those online at once (about
/// half) are all on every viewer's first page.
const MAX_CHURNERS: usize = ONLINE_PAGE;

/// How long each churner stays online, and then offline, at the least: five of the
/// server's ~200 ms ticks, so each arrival and departure goes out on its own.
const MIN_STAY: Duration = Duration::from_secs(1);

/// The churn for an asked `--rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    /// Transitions per second, all churners together.
    rate: u64,
    churners: usize,
    /// How long each churner stays online, then offline (half its period).
    stay: Duration,
}

impl Plan {
    fn new(asked: u64) -> Plan {
        let max_rate = (MAX_CHURNERS as f64 / MIN_STAY.as_secs_f64()).floor() as u64;
        let rate = asked.clamp(1, max_rate);
        let churners = ((rate as f64 * MIN_STAY.as_secs_f64()).ceil() as usize)
            .clamp(MIN_CHURNERS, MAX_CHURNERS);
        Plan {
            rate,
            churners,
            stay: Duration::from_secs_f64(churners as f64 / rate as f64),
        }
    }

    /// The most churners online at once: staggered evenly, half of them, with a margin
    /// for connects that take a while.
    fn most_online(&self) -> usize {
        self.churners / 2 + 2
    }

    /// Whether every churner is on every viewer's first page with `others` people
    /// online beside the viewers (who might all sort before the churners).
    fn on_every_first_page(&self, others: usize) -> bool {
        others + self.most_online() < ONLINE_PAGE
    }
}

/// Churner `k`'s email: sorts before every `bench-<i>@…` viewer's.
fn churner_email(k: usize) -> String {
    format!("bench-0-churn-{k}@bench.banter.test")
}

/// The arrivals (`true`) and departures an `online_changes` frame tells of, by user id.
fn changes(frame: &Value) -> Vec<(String, bool)> {
    if frame["type"] != "online_changes" {
        return Vec::new();
    }
    let came = frame["came"].as_array().into_iter().flatten();
    let came = came
        .filter_map(|u| u["id"].as_str())
        .map(|id| (id.to_owned(), true));
    let went = frame["went"].as_array().into_iter().flatten();
    let went = went
        .filter_map(Value::as_str)
        .map(|id| (id.to_owned(), false));
    came.chain(went).collect()
}

/// When each churner came online and went offline (µs since the start).
#[derive(Debug, Default)]
struct Transitions {
    /// `(user id, online)` → the times, ascending.
    marks: HashMap<(String, bool), Vec<u64>>,
    count: u64,
}

impl Transitions {
    /// One transition; each churner's are recorded in the order they happened.
    fn record(&mut self, id: String, online: bool, at: u64) {
        self.marks.entry((id, online)).or_default().push(at);
        self.count += 1;
    }

    /// The transition a viewer heard of at `at`: the latest of that churner to that
    /// state at or before it, as its index among them and its time.
    fn heard(&self, id: &str, online: bool, at: u64) -> Option<(usize, u64)> {
        let marks = self.marks.get(&(id.to_owned(), online))?;
        let i = marks.iter().rposition(|t| *t <= at)?;
        Some((i, marks[i]))
    }
}

pub async fn run(args: BenchArgs, host: &Host) -> anyhow::Result<()> {
    anyhow::ensure!(args.users >= 1, "churn needs at least 1 viewer");
    let plan = Plan::new(args.rate);
    if plan.rate != args.rate {
        eprintln!(
            "churn: {} transitions/s instead of {}: {} churners at most, each online and offline at least {MIN_STAY:?}",
            plan.rate, args.rate, MAX_CHURNERS
        );
    }
    let urls = ws_urls(&args);
    let viewers = tokens(host, args.users).await?;
    let churners = tokens_for(host, plan.churners, churner_email).await?;
    let churner_ids: Arc<HashSet<String>> =
        Arc::new(churners.iter().map(|c| c.0.clone()).collect());
    let start = Instant::now();
    // What the viewers heard of churners: (viewer, user id, online, µs since start).
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, String, bool, u64)>();
    // Each viewer's latest count of people online.
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new((0..viewers.len()).map(|_| AtomicUsize::new(0)).collect());
    let tally = Tally::new(viewers.len() - 1);
    let (_readers, _) = windows::open(
        viewers.len(),
        |i| Placement {
            url: &urls[i % urls.len()],
            token: &viewers[i].1,
            source: windows::source(i, args.source_addresses),
        },
        |i, mut socket, online| {
            let (tx, mut presence) = (tx.clone(), tally.window(online));
            let (ids, counts) = (churner_ids.clone(), counts.clone());
            counts[i].store(online, Ordering::Relaxed);
            tokio::spawn(async move {
                // Pings are answered by the client as it reads; only text frames count.
                while let Some(Ok(frame)) = socket.next().await {
                    let at = start.elapsed().as_micros() as u64;
                    let WsMessage::Text(text) = frame else {
                        continue;
                    };
                    let Some(head) = Head::parse(&text) else {
                        continue;
                    };
                    presence.observe(&head);
                    if let Some(count) = head.online_count() {
                        counts[i].store(count, Ordering::Relaxed);
                    }
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    for (id, online) in changes(&v) {
                        if ids.contains(&id) {
                            let _ = tx.send((i, id, online, at));
                        }
                    }
                }
            })
        },
    )
    .await?;
    tally.wait(viewers.len()).await?;
    // Only people of this run should be online: anyone else might sort before the
    // churners and push them off the viewers' first pages.
    let most_counted = counts
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let others = most_counted.saturating_sub(viewers.len() - 1);
    let owed = plan.on_every_first_page(others);
    // Frames of departures before this run (an earlier run's churners) are not churn.
    while rx.try_recv().is_ok() {}
    drop(tx);
    eprintln!(
        "{} viewers online{}; churning {} people at {}/s, each online and offline {:?}",
        viewers.len(),
        if others > 0 {
            format!(" ({others} other people too)")
        } else {
            String::new()
        },
        plan.churners,
        plan.rate,
        plan.stay
    );
    // Each churner cycles online/offline, `stay` each; staggered, they make `rate`
    // transitions per second together.
    let period = plan.stay * 2;
    let deadline = Instant::now() + args.duration;
    let mut cycles = Vec::new();
    for (k, (id, token)) in churners.iter().enumerate() {
        let (id, token, url) = (id.clone(), token.clone(), urls[k % urls.len()].clone());
        let stagger = period.mul_f64(k as f64 / plan.churners as f64);
        let stay = plan.stay;
        cycles.push(tokio::spawn(async move {
            let mut marks: Vec<(String, bool, u64)> = Vec::new();
            tokio::time::sleep(stagger).await;
            while Instant::now() < deadline {
                let opened = start.elapsed().as_micros() as u64;
                let socket = connect(&url, &token).await?;
                marks.push((id.clone(), true, opened));
                tokio::time::sleep(stay).await;
                marks.push((id.clone(), false, start.elapsed().as_micros() as u64));
                drop(socket);
                tokio::time::sleep(stay).await;
            }
            Ok::<_, anyhow::Error>(marks)
        }));
    }
    let mut transitions = Transitions::default();
    for cycle in cycles {
        for (id, online, at) in cycle.await?? {
            transitions.record(id, online, at);
        }
    }
    // Match what each viewer heard to the latest transition at or before it.
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut heard: HashSet<(usize, String, bool, usize)> = HashSet::new();
    let mut reached: HashSet<(String, bool, usize)> = HashSet::new();
    let mut duplicated = 0u64;
    let quiet = Duration::from_secs(3);
    while let Ok(Some((viewer, id, online, at))) = tokio::time::timeout(quiet, rx.recv()).await {
        let Some((i, t)) = transitions.heard(&id, online, at) else {
            continue;
        };
        if heard.insert((viewer, id.clone(), online, i)) {
            let _ = latency.record((at - t).max(1));
            reached.insert((id, online, i));
        } else {
            duplicated += 1;
        }
    }
    let count = transitions.count;
    let unheard = count - reached.len() as u64;
    let expected = owed.then_some(count * viewers.len() as u64);
    let report = json!({
        "scenario": "churn",
        "viewers": viewers.len(),
        "churners": plan.churners,
        "rate_per_s": plan.rate,
        "transitions": count,
        // Deliveries (a `came` or `went` of a churner to a viewer): owed (every viewer
        // of every transition, unless other people online make it unknown), and heard.
        "presence_frames_expected": expected,
        "presence_frames_heard": heard.len(),
        "presence_frames_duplicated": duplicated,
        "transitions_unheard": unheard,
        "others_online": others,
        "presence_latency_ms": percentiles_ms(&latency),
    });
    eprintln!(
        "\n{count} transitions x {} viewers: {} of {} deliveries heard ({unheard} transitions reached nobody); latency ms {}",
        viewers.len(),
        heard.len(),
        expected.map_or("an unknown number of".to_owned(), |e| e.to_string()),
        report["presence_latency_ms"]
    );
    println!("{report}");
    anyhow::ensure!(
        !owed || unheard == 0,
        "{unheard} of {count} transitions reached no viewer, though every churner is on every viewer's first page"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_keeps_each_stay_long_and_the_churners_within_a_page() {
        let slow = Plan::new(10);
        assert_eq!((slow.rate, slow.churners), (10, 10));
        assert_eq!(slow.stay, Duration::from_secs(1));
        assert_eq!(Plan::new(1).stay, Duration::from_secs(10));
        assert_eq!(Plan::new(0).rate, 1);
        let fast = Plan::new(60);
        assert_eq!((fast.churners, fast.stay), (60, Duration::from_secs(1)));
        let capped = Plan::new(1000);
        assert_eq!((capped.rate, capped.churners), (100, MAX_CHURNERS));
        assert!(capped.stay >= MIN_STAY);
        assert!(capped.on_every_first_page(0));
        assert!(!capped.on_every_first_page(ONLINE_PAGE / 2));
    }

    #[test]
    fn churners_sort_before_every_viewer() {
        let viewers = [
            "bench-0@bench.banter.test",
            "bench-00@x",
            "bench-1@bench.banter.test",
        ];
        for k in [0, 9, 10, 99] {
            let churner = churner_email(k);
            for viewer in viewers {
                assert!(
                    churner.to_lowercase() < viewer.to_lowercase(),
                    "{churner} {viewer}"
                );
            }
        }
    }

    #[test]
    fn arrivals_and_departures_are_read_from_online_changes() {
        let frame = json!({"type": "online_changes", "came": [{"id": "a", "email": "a@x"}],
                           "went": ["b", "c"], "count": 4});
        assert_eq!(
            changes(&frame),
            [
                ("a".to_owned(), true),
                ("b".to_owned(), false),
                ("c".to_owned(), false)
            ]
        );
        let count_only = json!({"type": "online_changes", "came": [], "went": [], "count": 3});
        assert!(changes(&count_only).is_empty());
        let page = json!({"type": "online_page", "offset": 0, "count": 1, "people": [{"id": "a"}]});
        assert!(changes(&page).is_empty());
    }

    #[test]
    fn what_a_viewer_heard_matches_the_latest_transition_before_it() {
        let mut t = Transitions::default();
        t.record("a".into(), true, 100);
        t.record("a".into(), false, 1_000);
        t.record("a".into(), true, 2_000);
        assert_eq!(t.count, 3);
        assert_eq!(t.heard("a", true, 150), Some((0, 100)));
        assert_eq!(t.heard("a", true, 2_500), Some((1, 2_000)));
        assert_eq!(t.heard("a", false, 1_200), Some((0, 1_000)));
        // Before any such transition (an earlier run's), or someone else: nothing.
        assert_eq!(t.heard("a", false, 500), None);
        assert_eq!(t.heard("b", true, 5_000), None);
    }
}
