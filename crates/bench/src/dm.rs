//! Scenarios `dm` and `room`: user `i` writes from its first window, open-loop at a set
//! rate, either direct messages to user `i+1` (`dm`) or to a room it shares with
//! `--room-size - 1` others (`room`); each message should reach every window of the
//! recipients and the sender's other windows. With `--changes` (see [`changes`]), the
//! sender's first window tells its writer of each acknowledged message due a change, and
//! the writer makes it between the messages of its schedule.

use super::changes::{self, Change, Order, Plan};
use super::collect::{collect, schedule, Collected, Sent};
use super::frames::Head;
use super::procfs::{cpu_ticks, TICKS_PER_SECOND};
use super::stats::{percentiles_ms, Observation, Stats, StoredAt};
use super::storm;
use super::windows::{self, Placement, Settling, Tally};
use super::{tokens, ws_urls, BenchArgs, Host, Socket};
use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// `b<run>-<k>-<intended µs since the epoch>`: everything a receiver needs to account a
/// message. Frames of another run (a generator running beside this one, or an earlier
/// run's late frames) carry another run id and are not counted.
pub(crate) fn parse_client_id(id: &str, run: &str) -> Option<(u64, u64)> {
    let mut parts = id.strip_prefix('b')?.splitn(3, '-');
    if parts.next()? != run {
        return None;
    }
    let (k, at) = (parts.next()?, parts.next()?);
    Some((k.parse().ok()?, at.parse().ok()?))
}

/// The pause between presence settling and the first message.
const QUIET_BEFORE_LOAD: Duration = Duration::from_secs(2);

/// How far into the load a storm (scenario `storm`) begins.
pub(crate) const STORM_AFTER: Duration = Duration::from_secs(1);

/// How long a writer done with its messages waits for the next acknowledgement of one
/// due a change before it gives up on the rest (as the collection gives up on frames).
const CHANGE_WAIT: Duration = Duration::from_secs(5);

/// Where the windows are: window `i` belongs to user `i / windows` and sits on node
/// `(user + i % windows) % nodes`; user `k % users` sends message `k` from its first window.
#[derive(Debug, Clone, Copy)]
struct Layout {
    users: usize,
    windows: usize,
    nodes: usize,
}

impl Layout {
    fn node_of(&self, window: usize) -> usize {
        (window / self.windows + window % self.windows) % self.nodes
    }

    fn sender_node(&self, k: u64) -> usize {
        self.node_of((k as usize % self.users) * self.windows)
    }
}

/// What every reader shares.
#[derive(Clone)]
struct Reading {
    layout: Layout,
    /// Latencies are measured from this instant (intended send times count from it).
    epoch: Instant,
    run: Arc<str>,
    /// Which messages get a change (`--changes`).
    plan: Plan,
    out: mpsc::UnboundedSender<Observation>,
}

/// Reads a window. `orders` (the sender's first window, with `--changes`) goes to the
/// user's writer: each acknowledged message due a change.
async fn read_window(
    mut stream: futures_util::stream::SplitStream<Socket>,
    window: u32,
    mut presence: Settling,
    reading: Reading,
    orders: Option<mpsc::UnboundedSender<Order>>,
) {
    let Reading {
        layout,
        epoch: start,
        run,
        plan,
        out,
    } = reading;
    let my_node = layout.node_of(window as usize);
    // The messages of this run due a reaction that this window has, by where they are:
    // a `reaction` frame names only the place.
    let mut to_react: HashMap<(String, i64), u64> = HashMap::new();
    while let Some(Ok(frame)) = stream.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let now_us = start.elapsed().as_micros() as u64;
        let Some(head) = Head::parse(&text) else {
            continue;
        };
        // Presence frames are read for their count only; the rest are parsed whole.
        if head.is_presence() {
            presence.observe(&head);
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let kind = value["type"].as_str().unwrap_or_default();
        let observation = match kind {
            "ack" | "message" => {
                let Some((k, intended)) = value["message"]["client_id"]
                    .as_str()
                    .and_then(|id| parse_client_id(id, &run))
                else {
                    continue;
                };
                let latency_us = now_us.saturating_sub(intended);
                let m = &value["message"];
                let change = plan.change_for(k);
                if change.is_some() {
                    let place = (
                        m["conversation_id"].as_str().unwrap_or_default().to_owned(),
                        m["seq"].as_i64().unwrap_or_default(),
                    );
                    if change == Some(Change::React) {
                        to_react.insert(place.clone(), k);
                    }
                    if let (Some(orders), Some(change), "ack") = (&orders, change, kind) {
                        // The writer may be gone (it gave up): the frame still counts.
                        let _ = orders.send(Order {
                            k,
                            change,
                            conversation_id: place.0,
                            seq: place.1,
                        });
                    }
                }
                if kind == "ack" {
                    let stored = StoredAt {
                        conversation: m["conversation_id"].as_str().unwrap_or_default().to_owned(),
                        id: m["id"].as_str().unwrap_or_default().to_owned(),
                        seq: m["seq"].as_i64().unwrap_or_default(),
                    };
                    Observation::Acked {
                        k,
                        latency_us,
                        stored,
                    }
                } else {
                    Observation::Delivered {
                        k,
                        window,
                        latency_us,
                        cross_node: layout.sender_node(k) != my_node,
                    }
                }
            }
            "message_edited" => {
                let Some((k, sent_us)) = value["body"]
                    .as_str()
                    .and_then(|body| changes::parse_edit_body(body, &run))
                else {
                    continue;
                };
                Observation::Edited {
                    k,
                    window,
                    latency_us: now_us.saturating_sub(sent_us),
                    caught_up: false,
                }
            }
            "reaction" => {
                let place = (
                    value["conversation_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    value["seq"].as_i64().unwrap_or_default(),
                );
                match to_react.get(&place) {
                    Some(&k) if value["add"] == true && value["emoji"] == changes::EMOJI => {
                        Observation::Reacted {
                            k,
                            window,
                            caught_up: false,
                        }
                    }
                    _ => continue,
                }
            }
            // The server filling a gap in the changes it delivered (another node's event
            // was late): the changed messages as they are now.
            "changes" if value.get("ref").is_none() => {
                let caught_up = caught_up_changes(&value, &run, plan, window, now_us);
                if caught_up.into_iter().any(|o| out.send(o).is_err()) {
                    return;
                }
                continue;
            }
            "error" => {
                let code = value["code"].as_str().unwrap_or("?");
                let of_a_change = value["ref"]
                    .as_str()
                    .is_some_and(changes::is_change_reference);
                Observation::Refused {
                    code: if of_a_change {
                        format!("change:{code}")
                    } else {
                        code.to_owned()
                    },
                }
            }
            _ => continue,
        };
        if out.send(observation).is_err() {
            return;
        }
    }
}

/// The changes of this run that a `changes` frame brings `window`: each listed message
/// of the run due a change that carries it (its edited body, its sender's 👍).
fn caught_up_changes(
    frame: &Value,
    run: &str,
    plan: Plan,
    window: u32,
    now_us: u64,
) -> Vec<Observation> {
    let messages = frame["messages"].as_array().map(Vec::as_slice);
    messages
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let (k, _) = parse_client_id(m["client_id"].as_str()?, run)?;
            match plan.change_for(k)? {
                Change::Edit => {
                    let (_, sent_us) = changes::parse_edit_body(m["body"].as_str()?, run)?;
                    Some(Observation::Edited {
                        k,
                        window,
                        latency_us: now_us.saturating_sub(sent_us),
                        caught_up: true,
                    })
                }
                Change::React => changes::has_senders_reaction(m).then_some(Observation::Reacted {
                    k,
                    window,
                    caught_up: true,
                }),
            }
        })
        .collect()
}

/// What a user's writer needs besides its socket, its schedule and its orders.
struct Writing {
    /// The load's start and its distance from the epoch (µs), which intended send
    /// times and change send times count from.
    start: Instant,
    offset_us: u64,
    run: String,
    body: String,
    /// What the user's frames name as their destination.
    target: Value,
    plan: Plan,
}

/// A user's writer: sends its messages on schedule (open loop) and, between them, the
/// change of each acknowledged message its first window orders; once the schedule is
/// done, waits for the orders still due (up to [`CHANGE_WAIT`] for each).
async fn write(
    mut sink: futures_util::stream::SplitSink<Socket, WsMessage>,
    schedule: Vec<(u64, u64)>,
    mut orders: mpsc::UnboundedReceiver<Order>,
    w: Writing,
) -> (Sent, futures_util::stream::SplitSink<Socket, WsMessage>) {
    let mut sent = Sent::default();
    let mut schedule = schedule.into_iter().peekable();
    let mut orders_open = true;
    loop {
        let next = match schedule.peek() {
            Some(&(_, due_us)) => w.start + Duration::from_micros(due_us),
            None if sent.edits + sent.reactions >= sent.changes_due || !orders_open => break,
            None => Instant::now() + CHANGE_WAIT,
        };
        tokio::select! {
            // The schedule first: changes never hold a message back.
            biased;
            () = tokio::time::sleep_until(next.into()) => {
                let Some((k, due_us)) = schedule.next() else {
                    break; // no acknowledgement came for the remaining changes
                };
                let intended = w.offset_us + due_us;
                let mut frame = json!({"type": "send", "client_id": format!("b{}-{k}-{intended}", w.run), "body": w.body});
                if let (Some(frame), Some(target)) = (frame.as_object_mut(), w.target.as_object()) {
                    frame.extend(target.clone());
                }
                if sink.send(WsMessage::Text(frame.to_string())).await.is_err() {
                    break;
                }
                sent.messages += 1;
                sent.messages_done = w.start.elapsed();
                sent.changes_due += u64::from(w.plan.change_for(k).is_some());
            }
            order = orders.recv(), if orders_open => {
                let Some(order) = order else {
                    orders_open = false;
                    continue;
                };
                let sent_us = w.offset_us + w.start.elapsed().as_micros() as u64;
                let frame = changes::frame(&order, &w.run, sent_us, w.body.len());
                if sink.send(WsMessage::Text(frame.to_string())).await.is_err() {
                    break;
                }
                match order.change {
                    Change::Edit => sent.edits += 1,
                    Change::React => sent.reactions += 1,
                }
            }
        }
    }
    (sent, sink)
}

/// Where each user's messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// User `i` writes to user `i + 1`.
    Direct,
    /// Users are grouped into rooms of `size`; each writes to its room.
    Room { size: usize },
}

/// Creates the rooms of the `room` scenario over the HTTP API (the first member creates,
/// the others join) and returns each user's room id.
async fn make_rooms(
    server: &str,
    people: &[(String, String)],
    size: usize,
    run: &str,
) -> anyhow::Result<Vec<String>> {
    let http = reqwest::Client::new();
    let mut room_of = Vec::with_capacity(people.len());
    for (r, members) in people.chunks(size).enumerate() {
        let created: Value = http
            .post(format!("{server}/api/rooms"))
            .bearer_auth(&members[0].1)
            .json(&json!({"name": format!("bench-{run}-{r}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = created["room"]["id"]
            .as_str()
            .context("a room id")?
            .to_owned();
        for (_, token) in &members[1..] {
            http.post(format!("{server}/api/rooms/{id}/join"))
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?;
        }
        room_of.extend(std::iter::repeat_n(id, members.len()));
    }
    Ok(room_of)
}

pub async fn run(args: BenchArgs, mode: Mode, host: &Host) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.users >= 2 && args.windows >= 1,
        "need at least 2 users and 1 window"
    );
    if let Mode::Room { size } = mode {
        anyhow::ensure!(
            size >= 2 && args.users.is_multiple_of(size),
            "--users must be a multiple of --room-size (at least 2)"
        );
    }
    let ws_urls = ws_urls(&args);
    let base = args
        .server
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('/')
        .to_owned();
    eprintln!("minting {} session tokens", args.users + args.storm);
    let mut people = tokens(host, args.users + args.storm)
        .await
        .context("minting tokens (needs DATABASE_URL)")?;
    let stormers: Vec<String> = people
        .split_off(args.users)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    // What each user's frames name as their destination.
    let targets: Vec<Value> = match mode {
        Mode::Direct => (0..args.users)
            .map(|i| json!({"to": people[(i + 1) % args.users].0}))
            .collect(),
        Mode::Room { size } => {
            eprintln!("creating {} rooms of {size}", args.users / size);
            make_rooms(&base, &people, size, &run)
                .await?
                .into_iter()
                .map(|id| json!({"conversation_id": id}))
                .collect()
        }
    };
    // Every other window of the sender, and every window of each other member.
    let others = match mode {
        Mode::Direct => 1,
        Mode::Room { size } => size - 1,
    };
    let expected_per_message = (others * args.windows + args.windows - 1) as u64;

    let layout = Layout {
        users: args.users,
        windows: args.windows,
        nodes: ws_urls.len(),
    };
    // Every window gets its reader as soon as it is open; the run starts once every
    // window counts everyone else online.
    let epoch = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let plan = Plan {
        users: args.users,
        percent: args.changes,
    };
    let reading = Reading {
        layout,
        epoch,
        run: run.as_str().into(),
        plan,
        out: tx,
    };
    // Each user's first window orders its writer's changes (`--changes`).
    let (order_txs, order_rxs): (Vec<_>, Vec<_>) =
        (0..args.users).map(|_| mpsc::unbounded_channel()).unzip();
    let tally = Tally::new(args.users - 1);
    let (sinks, connect_secs) = windows::open(
        args.users * args.windows,
        |i| Placement {
            url: &ws_urls[layout.node_of(i)],
            token: &people[i / args.windows].1,
            source: windows::source(i, args.source_addresses),
        },
        |i, socket, online| {
            let (sink, stream) = socket.split();
            let orders = (args.changes > 0 && i % args.windows == 0)
                .then(|| order_txs[i / args.windows].clone());
            let reader = read_window(
                stream,
                i as u32,
                tally.window(online),
                reading.clone(),
                orders,
            );
            tokio::spawn(reader);
            sink
        },
    )
    .await
    .context("opening the windows")?;
    drop(reading);
    drop(order_txs);
    let windows_open = sinks.len();
    eprintln!(
        "{windows_open} windows open in {connect_secs:.2}s ({:.0}/s)",
        windows_open as f64 / connect_secs
    );
    let settle_secs = tally.wait(windows_open).await?;
    eprintln!("presence settled {settle_secs:.2}s later: every window counts everyone online");
    // The server finishes the connect storm's tail (snapshots' follow-up reads, presence
    // fan-out to the last windows) before the load starts, so the first second measures
    // messages rather than the storm.
    tokio::time::sleep(QUIET_BEFORE_LOAD).await;
    let senders: Vec<_> = sinks.into_iter().step_by(args.windows).collect();
    let start = Instant::now();
    let offset_us = (start - epoch).as_micros() as u64;
    let cpu_before = args.server_pid.and_then(cpu_ticks);
    let http_bases: Vec<String> = args
        .server
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .collect();
    let events_before = cluster_events(&http_bases).await;
    // Kept until the report is made: its readers hold the storm's windows open.
    let storm_runtime = if stormers.is_empty() {
        None
    } else {
        Some(storm::StormRuntime::new().context("starting the storm's runtime")?)
    };
    let storm = storm_runtime.as_ref().map(|runtime| {
        let storm = storm::Storm {
            expected_online: args.users + stormers.len() - 1,
            tokens: stormers,
            ws_urls: ws_urls.clone(),
            base: base.clone(),
            source_addresses: args.source_addresses,
        };
        runtime.spawn(storm, STORM_AFTER)
    });

    // Open loop: message k is due at k / rate; user k % users sends it (and, with
    // --changes, its changes as their acknowledgements come).
    let body = "x".repeat(args.body.max(1));
    let per_user = schedule(&args);
    let mut tasks = Vec::new();
    for (((sink, schedule), target), orders) in senders
        .into_iter()
        .zip(per_user)
        .zip(targets)
        .zip(order_rxs)
    {
        let writing = Writing {
            start,
            offset_us,
            run: run.clone(),
            body: body.clone(),
            target,
            plan,
        };
        tasks.push(tokio::spawn(write(sink, schedule, orders, writing)));
    }
    let Collected {
        stats,
        sent,
        offered_secs,
        sent_all,
        sinks: _sinks,
    } = collect(&mut rx, tasks, start, expected_per_message).await?;
    let server_cpu = args
        .server_pid
        .and_then(cpu_ticks)
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before) as f64 / TICKS_PER_SECOND);
    let lost = stats.lost_of_sent(sent, expected_per_message);
    // Every window of every member gets a change, the sender's first window too.
    let expected_per_change = expected_per_message + 1;
    let changes_lost = stats.changes_lost(
        sent_all.changes_due,
        sent_all.changes(),
        expected_per_change,
    );
    let events_after = cluster_events(&http_bases).await;
    // What the nodes decoded from Redis per message sent, over all nodes: with routed
    // events, one per node that holds a recipient (presence and the storm's arrivals
    // add theirs).
    let per_message = |i: usize| {
        let before: f64 = events_before.iter().map(|e| e[i]).sum();
        let after: f64 = events_after.iter().map(|e| e[i]).sum();
        ((after - before) / sent.max(1) as f64 * 1000.0).round() / 1000.0
    };
    let storm = match storm {
        Some(task) => Some(task.await.context("the storm task")??),
        None => None,
    };
    eprintln!("checking through the API that every acknowledged message is stored once");
    let (stored_missing, stored_twice) = verify_stored(&base, &stats, &people, args.users).await?;
    let report = json!({
        "scenario": args.scenario,
        "nodes": ws_urls.len(),
        "users": args.users,
        "windows": args.windows,
        "room_size": match mode { Mode::Room { size } => Some(size), Mode::Direct => None },
        "offered_per_s": (sent as f64 / offered_secs).round(),
        "sent": sent,
        "acked": stats.acked,
        "delivered": stats.delivered,
        "delivered_per_s": (stats.delivered as f64 / offered_secs).round(),
        "lost": lost,
        "stored_missing": stored_missing,
        "stored_twice": stored_twice,
        "duplicated": stats.duplicated,
        "refused": stats.refused,
        "ack_latency_ms": percentiles_ms(&stats.ack_latency),
        "delivery_latency_ms": percentiles_ms(&stats.delivery_latency),
        "cross_node_latency_ms": percentiles_ms(&stats.cross_node_latency),
        "missing_sample": stats.missing(expected_per_message as usize, 10),
        "connect_per_s": ((args.users * args.windows) as f64 / connect_secs).round(),
        "presence_settle_s": (settle_secs * 100.0).round() / 100.0,
        // CPU seconds the (first) server spent from the first send until the last frame.
        "server_cpu_s": server_cpu.map(|s| (s * 100.0).round() / 100.0),
        "cluster_events_received_per_message": per_message(0),
        "cluster_events_delivered_per_message": per_message(1),
        "server_cpu_ms_per_message": server_cpu.map(|s| (s * 1000.0 / sent.max(1) as f64 * 1000.0).round() / 1000.0),
        "changes_percent": args.changes,
        "changes_due": sent_all.changes_due,
        "changes_sent": sent_all.changes(),
        "edits_sent": sent_all.edits,
        "reactions_sent": sent_all.reactions,
        "edits_delivered": stats.edits_delivered,
        "edits_expected": sent_all.edits * expected_per_change,
        "reactions_delivered": stats.reactions_delivered,
        "reactions_expected": sent_all.reactions * expected_per_change,
        "changes_lost": changes_lost,
        "changes_duplicated": stats.changes_duplicated,
        "changes_caught_up": stats.changes_caught_up,
        "change_latency_ms": percentiles_ms(&stats.change_latency),
        "changes_missing_sample": stats.changes_missing(expected_per_change as usize, 10),
    });
    let mut report = report;
    if let (Some(storm), Some(report)) = (storm, report.as_object_mut()) {
        report.extend(storm.as_object().cloned().unwrap_or_default());
    }
    eprintln!(
        "\n{} users x {} windows, {:.0} msg/s offered for {:.1}s: {} sent, {} acked, {} delivered, {} lost, {} duplicated",
        args.users, args.windows, report["offered_per_s"].as_f64().unwrap_or(0.0), offered_secs, sent, stats.acked, stats.delivered, lost, stats.duplicated
    );
    eprintln!("ack latency      ms {}", report["ack_latency_ms"]);
    eprintln!("delivery latency ms {}", report["delivery_latency_ms"]);
    if args.changes > 0 {
        eprintln!(
            "changes ({}% of messages): {} sent of {} due ({} edits, {} reactions); {} of {} edits and {} of {} reactions delivered, {} lost, {} duplicated",
            args.changes,
            sent_all.changes(),
            sent_all.changes_due,
            sent_all.edits,
            sent_all.reactions,
            stats.edits_delivered,
            report["edits_expected"],
            stats.reactions_delivered,
            report["reactions_expected"],
            changes_lost,
            stats.changes_duplicated
        );
        eprintln!("edit latency  ms {}", report["change_latency_ms"]);
    }
    if let Some(cpu) = server_cpu {
        eprintln!(
            "server CPU {cpu:.1} s over {:.1} s ({} ms per message)",
            offered_secs, report["server_cpu_ms_per_message"]
        );
    }
    if layout.nodes > 1 {
        eprintln!("  across nodes  ms {}", report["cross_node_latency_ms"]);
        eprintln!(
            "events decoded per message, all nodes: {} received, {} for a window there",
            report["cluster_events_received_per_message"],
            report["cluster_events_delivered_per_message"]
        );
    }
    println!("{report}");
    stats.ensure_nothing_lost(lost, stored_missing, stored_twice)?;
    stats.ensure_changes_arrived(changes_lost)
}

/// Reads back, as each sender, every conversation of the run from its first acknowledged
/// `seq` on, and counts acknowledged messages missing from the store or stored twice.
pub(crate) async fn verify_stored(
    server: &str,
    stats: &Stats,
    people: &[(String, String)],
    users: usize,
) -> anyhow::Result<(u64, u64)> {
    let http = reqwest::Client::new();
    let (mut missing, mut twice) = (0u64, 0u64);
    for (conversation, acked) in &stats.stored {
        let Some((k, _)) = acked.first() else {
            continue;
        };
        let token = &people[*k as usize % users].1;
        let mut after = acked.iter().map(|(_, s)| s.seq).min().unwrap_or(1) - 1;
        let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        loop {
            let url = format!(
                "{server}/api/conversations/{conversation}/messages?after_seq={after}&limit=200"
            );
            let page: Value = http
                .get(&url)
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let messages = page["messages"].as_array().cloned().unwrap_or_default();
            for m in &messages {
                *counts
                    .entry(m["id"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
                after = after.max(m["seq"].as_i64().unwrap_or(after));
            }
            if messages.len() < 200 {
                break;
            }
        }
        for (_, stored) in acked {
            match counts.get(&stored.id) {
                None => missing += 1,
                Some(1) => {}
                Some(_) => twice += 1,
            }
        }
    }
    Ok((missing, twice))
}

/// Each node's `[received, delivered]` cluster-event counters (from `/metrics`); zeros
/// for a node that does not answer, or a node alone (which has none).
async fn cluster_events(bases: &[String]) -> Vec<[f64; 2]> {
    read_metrics(
        bases,
        [
            "banter_cluster_events_received_total",
            "banter_cluster_events_delivered_total",
        ],
    )
    .await
}

/// Each node's values of the `names` (unlabelled counters or gauges) from its
/// `/metrics`; zero for one it does not report or a node that does not answer.
pub(crate) async fn read_metrics<const N: usize>(
    bases: &[String],
    names: [&str; N],
) -> Vec<[f64; N]> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    for base in bases {
        let text = crate::nodes::metrics_text(&http, base)
            .await
            .unwrap_or_default();
        all.push(names.map(|name| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or(0.0)
        }));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::{caught_up_changes, parse_client_id, Layout};
    use crate::changes::{edit_body, Change, Plan};
    use crate::stats::Observation;
    use serde_json::json;

    #[test]
    fn window_w_of_user_u_sits_on_node_u_plus_w_mod_n_as_the_help_says() {
        let layout = Layout {
            users: 5,
            windows: 3,
            nodes: 2,
        };
        for u in 0..5 {
            for w in 0..3 {
                assert_eq!(
                    layout.node_of(u * 3 + w),
                    (u + w) % 2,
                    "user {u} window {w}"
                );
            }
        }
        let help = <crate::BenchArgs as clap::Args>::augment_args(clap::Command::new("bench"))
            .render_long_help()
            .to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains("window `w` of user `u` goes to node `(u + w) mod n`"),
            "{help}"
        );
    }

    #[test]
    fn a_client_id_of_this_run_gives_its_number_and_time_and_another_runs_is_ignored() {
        assert_eq!(
            parse_client_id("b1a2b3c4d-17-250000", "1a2b3c4d"),
            Some((17, 250_000))
        );
        assert_eq!(parse_client_id("bffffffff-17-250000", "1a2b3c4d"), None);
        assert_eq!(parse_client_id("not-ours", "1a2b3c4d"), None);
    }

    #[test]
    fn a_changes_frame_brings_the_runs_edits_and_the_senders_reactions_it_carries() {
        let plan = Plan {
            users: 1,
            percent: 100,
        };
        let (edit, react) = (0..10).fold((None, None), |(e, r), k| match plan.change_for(k) {
            Some(Change::Edit) => (e.or(Some(k)), r),
            Some(Change::React) => (e, r.or(Some(k))),
            None => (e, r),
        });
        let (edit, react) = (edit.unwrap(), react.unwrap());
        let frame = json!({"type": "changes", "conversation_id": "c", "through": 9, "more": false, "messages": [
            {"client_id": format!("brun-{edit}-100"), "sender_id": "u", "body": edit_body("run", edit, 1_000, 64)},
            {"client_id": format!("brun-{react}-100"), "sender_id": "u", "body": "x",
             "reactions": [{"emoji": "👍", "users": ["u"]}]},
            // Not edited yet, another run's, and a message this run leaves alone.
            {"client_id": format!("brun-{edit}-100"), "sender_id": "u", "body": "x"},
            {"client_id": format!("bother-{edit}-100"), "sender_id": "u", "body": edit_body("other", edit, 1_000, 64)},
        ]});
        let got = caught_up_changes(&frame, "run", plan, 3, 5_000);
        assert!(
            matches!(
                got.as_slice(),
                [
                    Observation::Edited { k: e, window: 3, latency_us: 4_000, caught_up: true },
                    Observation::Reacted { k: r, window: 3, caught_up: true },
                ] if *e == edit && *r == react
            ),
            "{got:?}"
        );
        let none = Plan {
            users: 1,
            percent: 0,
        };
        assert!(caught_up_changes(&frame, "run", none, 3, 5_000).is_empty());
    }

    #[test]
    fn changes_is_a_percentage() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            bench: crate::BenchArgs,
        }
        let parse = |changes: &str| Cli::try_parse_from(["bench", "room", "--changes", changes]);
        assert_eq!(parse("20").unwrap().bench.changes, 20);
        assert!(parse("101").is_err() && parse("-1").is_err());
        assert_eq!(Cli::try_parse_from(["bench"]).unwrap().bench.changes, 0);
    }
}
