//! Scenario `churn`: `users` viewers stay online while churners come online and go
//! offline, one at a time at `--rate` per second; reports how long each viewer waited
//! to hear of each arrival and departure.

use super::stats::percentiles_ms;
use super::windows::{self, Placement, Tally};
use super::{connect, tokens, ws_urls, BenchArgs, Host};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Churners beside the viewers: enough that one is always resting between visits.
const CHURNERS: usize = 10;

pub async fn run(args: BenchArgs, host: &Host) -> anyhow::Result<()> {
    let urls = ws_urls(&args);
    let people = tokens(host, args.users + CHURNERS).await?;
    let (viewers, churners) = people.split_at(args.users);
    let start = Instant::now();
    // When each churner's transition happened: (user id, online) → µs since start.
    let mut marks: HashMap<(String, bool), Vec<u64>> = HashMap::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, bool, u64)>();
    let tally = Tally::new(viewers.len() - 1);
    let (_readers, _) = windows::open(
        viewers.len(),
        |i| Placement {
            url: &urls[i % urls.len()],
            token: &viewers[i].1,
            source: windows::source(i, args.source_addresses),
        },
        |_, mut socket, online| {
            let (tx, mut presence) = (tx.clone(), tally.window(online));
            tokio::spawn(async move {
                // Pings are answered by the client as it reads; only text frames count.
                while let Some(Ok(frame)) = socket.next().await {
                    let WsMessage::Text(text) = frame else {
                        continue;
                    };
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    presence.observe(&v);
                    if v["type"] == "presence" {
                        let id = v["user"]["id"].as_str().unwrap_or_default().to_owned();
                        let online = v["online"].as_bool().unwrap_or(false);
                        let _ = tx.send((id, online, start.elapsed().as_micros() as u64));
                    }
                }
            })
        },
    )
    .await?;
    tally.wait(viewers.len()).await?;
    // Presence frames of the viewers' own arrivals are not churn.
    while rx.try_recv().is_ok() {}
    drop(tx);
    eprintln!(
        "{} viewers online; churning {CHURNERS} people at {}/s",
        viewers.len(),
        args.rate
    );
    // Each churner cycles online/offline, half a period each; staggered, they make
    // `rate` transitions per second together, and each stays long enough to be announced.
    let period = Duration::from_secs_f64(2.0 * CHURNERS as f64 / args.rate.max(1) as f64);
    let deadline = Instant::now() + args.duration;
    let mut cycles = Vec::new();
    for (k, (id, token)) in churners.iter().enumerate() {
        let (id, token, url) = (id.clone(), token.clone(), urls[k % urls.len()].clone());
        let stagger = period.mul_f64(k as f64 / CHURNERS as f64);
        cycles.push(tokio::spawn(async move {
            let mut marks: Vec<(String, bool, u64)> = Vec::new();
            tokio::time::sleep(stagger).await;
            while Instant::now() < deadline {
                let opened = start.elapsed().as_micros() as u64;
                let socket = connect(&url, &token).await?;
                marks.push((id.clone(), true, opened));
                tokio::time::sleep(period / 2).await;
                marks.push((id.clone(), false, start.elapsed().as_micros() as u64));
                drop(socket);
                tokio::time::sleep(period / 2).await;
            }
            Ok::<_, anyhow::Error>(marks)
        }));
    }
    let mut transitions = 0u64;
    for cycle in cycles {
        for (id, online, at) in cycle.await?? {
            marks.entry((id, online)).or_default().push(at);
            transitions += 1;
        }
    }
    // Match each viewer's presence frame to the latest transition at or before it.
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut heard = 0u64;
    let quiet = Duration::from_secs(3);
    while let Ok(Some((id, online, at))) = tokio::time::timeout(quiet, rx.recv()).await {
        if let Some(t) = marks
            .get(&(id, online))
            .and_then(|v| v.iter().rev().find(|t| **t <= at))
        {
            let _ = latency.record((at - t).max(1));
            heard += 1;
        }
    }
    let expected = transitions * viewers.len() as u64;
    let report = json!({
        "scenario": "churn",
        "viewers": viewers.len(),
        "transitions": transitions,
        "presence_frames_expected": expected,
        "presence_frames_heard": heard,
        "presence_latency_ms": percentiles_ms(&latency),
    });
    eprintln!(
        "\n{transitions} transitions x {} viewers: {heard} of {expected} presence frames; latency ms {}",
        viewers.len(),
        report["presence_latency_ms"]
    );
    println!("{report}");
    Ok(())
}
