//! Scenario `rolling`: a deploy under load. Two nodes run behind HAProxy (one balancer
//! per [`WINDOWS_PER_BALANCER`] windows, each in front of both nodes), `dm` load runs
//! through the balancers, and [`RESTART_AFTER`] into it each node in turn is SIGTERMed,
//! exits, starts again and is back in every balancer before the next one goes.
//!
//! Every window behaves as a careful client does: when its socket closes (1012, or
//! without a code when the node's process ends first) it opens another after a short
//! spread-out pause ([`reconnect_pause`]), asks for each conversation's messages past
//! the last it saw (`history` with `after_seq`), and sends again, with their original
//! `client_id`, the messages it sent that were not acknowledged, then those that fell
//! due while it was away; a `history` page the node refused it asks for again after the
//! refusal's `retry_after_ms`. So a message is lost only if the server lost it (or a
//! window was not back within [`BACK_LIMIT`]).
//!
//! The report adds to `dm`'s: each node's restart (how long it took to exit and to be
//! ready again), how long each moved window took to be back (from its socket closing to
//! the next `ready`), how many messages windows read back after reconnecting, and the
//! latency of the messages due during the restarts.

use super::balancer::{Balancer, WINDOWS_PER_BALANCER};
use super::collect::schedule;
use super::dm::{parse_client_id, read_metrics, verify_stored};
use super::frames::{self, Head};
use super::nodes::Nodes;
use super::stats::{histogram, percentiles_ms, Observation, Stats, StoredAt};
use super::windows::{self, Settling, Tally, CONCURRENCY};
use super::{connect_ready, tokens, BenchArgs, Host, Socket};
use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How far into the load the first node gets SIGTERM.
const RESTART_AFTER: Duration = Duration::from_secs(5);

/// The pause between presence settling and the first message (as in `dm`).
const QUIET_BEFORE_LOAD: Duration = Duration::from_secs(2);

/// How long a window tries to get back before the run fails.
const BACK_LIMIT: Duration = Duration::from_secs(60);

/// One connect attempt's limit (handshake and `ready`): past the node's own 30 s connect
/// queue, which sheds a window it cannot serve with 1013. A client that gave up sooner
/// would throw away its place in that queue and join it again at the end.
const CONNECT_LIMIT: Duration = Duration::from_secs(45);

/// After the load and the restarts, how long the collector waits without any new frame
/// before it stops waiting for missing deliveries.
const DRAIN_IDLE: Duration = Duration::from_secs(10);

/// `history` page size (the protocol's most).
const PAGE: usize = 200;

/// The pause before a window's `attempt`-th try to get back (1-based): spread over
/// 0–500 ms by window, as clients with jitter spread themselves, then 500 ms more per
/// failed try. Deterministic, so runs compare.
fn reconnect_pause(window: usize, attempt: u32) -> Duration {
    let spread = (window as u64).wrapping_mul(7919) % 500;
    Duration::from_millis(spread + 500 * u64::from(attempt - 1))
}

/// What a window has of one conversation: every message up to `upto`, and some past
/// it. A history request after a reconnect asks from `upto`, so a message a closed
/// socket never answered for is asked for again, even when later ones arrived live.
#[derive(Debug, Default)]
struct Have {
    upto: i64,
    ahead: std::collections::BTreeSet<i64>,
}

impl Have {
    fn got(&mut self, seq: i64) {
        if seq > self.upto {
            self.ahead.insert(seq);
        }
        while self.ahead.remove(&(self.upto + 1)) {
            self.upto += 1;
        }
    }
}

/// What a window tells the collector.
enum Event {
    /// A frame of this run: an ack or a delivery, with the message's intended send time
    /// (µs since the epoch).
    Observed {
        observation: Observation,
        intended_us: u64,
    },
    /// A window got back: its socket closed (with `code`, if any) `closed_us` after the
    /// epoch, and the next `ready` came `after` it, on try `attempts`.
    Back {
        closed_us: u64,
        after: Duration,
        code: Option<u16>,
        attempts: u32,
    },
    /// Messages a window read back with `history` after reconnecting (not seen live).
    ReadBack(u64),
    /// A try to get back failed, this way.
    TryFailed(String),
    /// The run is over: what a window got (see [`Window::trace`]).
    Trace {
        window: usize,
        trace: Vec<(u32, &'static str, Arc<str>, i64)>,
    },
    /// A window gave up getting back.
    Stranded(String),
}

/// What every window shares.
struct Shared {
    run: String,
    users: usize,
    /// Latencies are measured from this instant (intended send times count from it).
    epoch: Instant,
    body: String,
    out: mpsc::UnboundedSender<Event>,
    /// When the load starts (set once presence settled).
    start: watch::Receiver<Option<Instant>>,
    /// Set when the run is over: the windows close.
    over: watch::Receiver<bool>,
}

/// One window: where it connects, and what it sends (sending windows only).
struct Plan {
    index: usize,
    user: usize,
    url: String,
    token: String,
    source: Option<Ipv4Addr>,
    /// Whether it is its user's sending window.
    sender: bool,
    /// `(k, due µs after the load's start)`, in order; empty for a non-sending window.
    sends: std::collections::VecDeque<(u64, u64)>,
    /// What its `send` frames name as destination.
    target: Value,
}

/// A window's own record of the conversation, as a client keeps it.
struct Window {
    plan: Plan,
    shared: Arc<Shared>,
    /// Sent and not acknowledged: `k → intended µs`; sent again after a reconnect.
    unacked: BTreeMap<u64, u64>,
    /// Messages it has, by `k`: whether it first saw each live (a second live copy is
    /// a duplicate; one read back with `history` that also arrived live is not).
    seen: HashMap<u64, bool>,
    /// Per conversation, what it has (from its first `ready` on).
    have: HashMap<String, Have>,
    presence: Settling,
    /// What it got, in arrival order: each message of the run (`"live"` or `"read"`
    /// back) and each `ready`'s `last_seq` (`"ready"`), as `(socket, what, conversation,
    /// seq)`; handed to the report when the run is over, to explain a lost delivery.
    trace: Vec<(u32, &'static str, Arc<str>, i64)>,
    /// How many sockets it has had.
    socket: u32,
    /// `history` requests refused (`rate_limited`, `unavailable`): asked again at the
    /// instant given, as the product's client does after `retry_after_ms`.
    history_retries: Vec<(Instant, String)>,
}

/// How a window's `history` requests are told apart from its other frames' replies.
const HISTORY_REF: &str = "h:";

/// How long a refused `history` waits to be asked again when the refusal gives no
/// `retry_after_ms`.
const HISTORY_RETRY: Duration = Duration::from_secs(1);

impl Window {
    fn emit(&self, event: Event) {
        let _ = self.shared.out.send(event);
    }

    fn intended(&self, due_us: u64, start: Instant) -> u64 {
        (start - self.shared.epoch).as_micros() as u64 + due_us
    }

    fn note_seq(&mut self, m: &Value) {
        if let (Some(c), Some(seq)) = (m["conversation_id"].as_str(), m["seq"].as_i64()) {
            self.have.entry(c.to_owned()).or_default().got(seq);
        }
    }

    /// Up to where it has every message of `conversation`.
    fn upto(&self, conversation: &str) -> i64 {
        self.have.get(conversation).map_or(0, |h| h.upto)
    }

    /// The `send` frame of message `k`.
    fn send_frame(&self, k: u64, intended_us: u64) -> WsMessage {
        let mut frame = json!({
            "type": "send",
            "client_id": format!("b{}-{k}-{intended_us}", self.shared.run),
            "body": self.shared.body,
        });
        if let (Some(frame), Some(target)) = (frame.as_object_mut(), self.plan.target.as_object()) {
            frame.extend(target.clone());
        }
        WsMessage::Text(frame.to_string())
    }

    /// A message of this run: its number and intended send time (µs since the epoch).
    fn of_this_run(&self, m: &Value) -> Option<(u64, u64)> {
        parse_client_id(m["client_id"].as_str()?, &self.shared.run)
    }

    /// Moves the next scheduled message to the unacknowledged and answers it: `(k,
    /// intended µs)`. The load started at `start`.
    fn take_next(&mut self, start: Instant) -> Option<(u64, u64)> {
        let (k, due_us) = self.plan.sends.pop_front()?;
        let intended = self.intended(due_us, start);
        self.unacked.insert(k, intended);
        Some((k, intended))
    }

    /// Folds a message (live, or read back) in.
    fn message(&mut self, m: &Value, live: bool) {
        self.note_seq(m);
        let Some((k, intended)) = self.of_this_run(m) else {
            return;
        };
        self.trace.push((
            self.socket,
            if live { "live" } else { "read" },
            m["conversation_id"].as_str().unwrap_or_default().into(),
            m["seq"].as_i64().unwrap_or(0),
        ));
        // A sending window reads back its own messages too: not deliveries to it.
        if self.plan.sender && k as usize % self.shared.users == self.plan.user {
            return;
        }
        let first = match self.seen.get(&k) {
            None => true,
            // The same message live twice: the server sent it twice.
            Some(true) if live => false,
            Some(_) => return,
        };
        self.seen.insert(k, live);
        if first && !live {
            self.emit(Event::ReadBack(1));
        }
        let latency_us = (self.shared.epoch.elapsed().as_micros() as u64).saturating_sub(intended);
        self.emit(Event::Observed {
            observation: Observation::Delivered {
                k,
                window: self.plan.index as u32,
                latency_us,
                cross_node: false,
            },
            intended_us: intended,
        });
    }

    fn ack(&mut self, m: &Value) {
        // Its own messages are the conversation's too: a reconnect need not read them.
        self.note_seq(m);
        let Some((k, intended)) = self.of_this_run(m) else {
            return;
        };
        if self.unacked.remove(&k).is_none() {
            return;
        }
        let latency_us = (self.shared.epoch.elapsed().as_micros() as u64).saturating_sub(intended);
        self.emit(Event::Observed {
            observation: Observation::Acked {
                k,
                latency_us,
                stored: StoredAt {
                    conversation: m["conversation_id"].as_str().unwrap_or_default().to_owned(),
                    id: m["id"].as_str().unwrap_or_default().to_owned(),
                    seq: m["seq"].as_i64().unwrap_or_default(),
                },
            },
            intended_us: intended,
        });
    }

    /// Handles a frame; answers `history` requests for the next page, if any.
    fn frame(&mut self, frame: &Value) -> Option<WsMessage> {
        match frame["type"].as_str().unwrap_or_default() {
            "ack" => self.ack(&frame["message"]),
            "message" => self.message(&frame["message"], true),
            "history" => {
                let messages = frame["messages"].as_array().cloned().unwrap_or_default();
                for m in &messages {
                    self.message(m, false);
                }
                if messages.len() == PAGE {
                    let conversation = frame["conversation_id"].as_str()?;
                    return Some(self.history(conversation));
                }
            }
            "error" => {
                if let Some(conversation) = frame["ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix(HISTORY_REF))
                {
                    let wait = frame["retry_after_ms"]
                        .as_u64()
                        .map_or(HISTORY_RETRY, Duration::from_millis);
                    self.history_retries
                        .push((Instant::now() + wait, conversation.to_owned()));
                }
                self.emit(Event::Observed {
                    observation: Observation::Refused {
                        code: frame["code"].as_str().unwrap_or("?").to_owned(),
                    },
                    intended_us: 0,
                })
            }
            _ => {}
        }
        None
    }

    fn history(&self, conversation: &str) -> WsMessage {
        let after = self.upto(conversation);
        WsMessage::Text(
            json!({
                "type": "history",
                "ref": format!("{HISTORY_REF}{conversation}"),
                "conversation_id": conversation,
                "after_seq": after,
                "limit": PAGE,
            })
            .to_string(),
        )
    }

    /// Reads and sends on `socket` until it closes (answers the close's code, if any) or
    /// the run is over (`None`).
    async fn live(&mut self, socket: &mut Socket) -> Option<Option<u16>> {
        let mut start_rx = self.shared.start.clone();
        let mut over = self.shared.over.clone();
        loop {
            let start = *start_rx.borrow_and_update();
            let due = start.and_then(|s| {
                self.plan
                    .sends
                    .front()
                    .map(|(_, due)| s + Duration::from_micros(*due))
            });
            let retry_at = self.history_retries.iter().map(|(at, _)| *at).min();
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(WsMessage::Text(text))) => {
                        let Some(head) = Head::parse(&text) else { continue };
                        // Presence frames are read for their count only.
                        if head.is_presence() {
                            self.presence.observe(&head);
                            continue;
                        }
                        let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
                        if let Some(next) = self.frame(&value) {
                            if socket.send(next).await.is_err() {
                                return Some(None);
                            }
                        }
                    }
                    // A close frame ends the window at once: the client reconnects
                    // without waiting for the node to drop the connection.
                    Some(Ok(WsMessage::Close(close))) => return Some(close.map(|c| u16::from(c.code))),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Some(None),
                },
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into()), if due.is_some() => {
                    let Some((k, intended)) = self.take_next(start.unwrap_or(self.shared.epoch)) else { continue };
                    if socket.send(self.send_frame(k, intended)).await.is_err() {
                        return Some(None);
                    }
                }
                _ = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now).into()), if retry_at.is_some() => {
                    let now = Instant::now();
                    let (due, later) = std::mem::take(&mut self.history_retries)
                        .into_iter()
                        .partition::<Vec<_>, _>(|(at, _)| *at <= now);
                    self.history_retries = later;
                    for (_, conversation) in due {
                        if socket.send(self.history(&conversation)).await.is_err() {
                            return Some(None);
                        }
                    }
                }
                _ = start_rx.changed(), if start.is_none() => {}
                _ = over.changed() => return None,
            }
        }
    }

    /// After a reconnect: what it missed, then what it owes.
    async fn catch_up(
        &mut self,
        socket: &mut Socket,
        positions: &[(String, i64)],
    ) -> anyhow::Result<()> {
        // What the last socket was refused is asked for again here, from where it is now.
        self.history_retries.clear();
        for (id, last) in positions {
            let (id, last) = (id.as_str(), *last);
            if last > self.upto(id) {
                socket.send(self.history(id)).await?;
            }
        }
        // Messages that fell due while it was away join the unacknowledged.
        let started = *self.shared.start.borrow();
        if let Some(start) = started {
            let now_us = start.elapsed().as_micros() as u64;
            while self
                .plan
                .sends
                .front()
                .is_some_and(|(_, due)| *due <= now_us)
            {
                self.take_next(start);
            }
        }
        let owed: Vec<_> = self.unacked.iter().map(|(k, at)| (*k, *at)).collect();
        for (k, intended) in owed {
            socket.send(self.send_frame(k, intended)).await?;
        }
        Ok(())
    }

    /// Runs the window until the run is over, getting back after every close.
    async fn run(mut self, mut socket: Socket) {
        loop {
            let Some(code) = self.live(&mut socket).await else {
                let _ = socket.close(None).await;
                let trace = std::mem::take(&mut self.trace);
                self.emit(Event::Trace {
                    window: self.plan.index,
                    trace,
                });
                return;
            };
            let closed = Instant::now();
            // The old socket finishes its closing handshake (the node waits for it
            // before it exits) while the window gets back.
            tokio::spawn(finish_closing(socket));
            let mut attempt = 0;
            let (next, ready) = loop {
                attempt += 1;
                tokio::time::sleep(reconnect_pause(self.plan.index, attempt)).await;
                if *self.shared.over.borrow() {
                    return;
                }
                let connecting = connect_ready(&self.plan.url, &self.plan.token, self.plan.source);
                match tokio::time::timeout(CONNECT_LIMIT, connecting).await {
                    Ok(Ok((socket, ready))) => break (socket, ready),
                    Ok(Err(e)) => self.emit(Event::TryFailed(failure_kind(&e))),
                    Err(_) => self.emit(Event::TryFailed(format!(
                        "no ready within {CONNECT_LIMIT:?}"
                    ))),
                }
                if closed.elapsed() > BACK_LIMIT {
                    self.emit(Event::Stranded(format!(
                        "window {} not back within {BACK_LIMIT:?}",
                        self.plan.index
                    )));
                    return;
                }
            };
            socket = next;
            self.socket += 1;
            // A `ready` the generator cannot read lists nothing to catch up on; its
            // messages then show as lost.
            let positions = frames::positions(&ready).unwrap_or_default();
            for (id, last) in &positions {
                self.trace
                    .push((self.socket, "ready", id.as_str().into(), *last));
            }
            self.emit(Event::Back {
                closed_us: (closed - self.shared.epoch).as_micros() as u64,
                after: closed.elapsed(),
                code,
                attempts: attempt,
            });
            if let Some(count) = frames::ReadyView::parse(&ready)
                .ok()
                .and_then(|r| r.online_count)
            {
                self.presence.count(count as usize);
            }
            // A socket that fails here is noticed by `live` at once.
            let _ = self.catch_up(&mut socket, &positions).await;
        }
    }
}

/// A connect failure in few words, to count alike failures together.
fn failure_kind(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    // Close reasons and HTTP statuses are what tell failures apart; drop the rest.
    text.chars().take(80).collect()
}

/// Reads a closed socket to its end (answering the close frame), for at most
/// [`CONNECT_LIMIT`].
async fn finish_closing(mut socket: Socket) {
    let _ = tokio::time::timeout(CONNECT_LIMIT, async {
        while socket.next().await.is_some() {}
    })
    .await;
}

/// A node's restart, as the report gives it.
struct Restart {
    node: &'static str,
    /// When it got SIGTERM (µs since the epoch).
    signalled_us: u64,
    /// From SIGTERM to its exit, and to its `/readyz` answering again.
    exited: Duration,
    ready: Duration,
    /// From SIGTERM until every balancer routes to it again.
    routed: Duration,
}

pub async fn run(args: BenchArgs, nodes: &mut Nodes, host: &Host) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.users >= 2 && args.windows >= 1,
        "need at least 2 users and 1 window"
    );
    anyhow::ensure!(nodes.ports.len() == 2, "rolling runs two nodes");
    let count = args.users * args.windows;
    let mut balancers = Vec::new();
    for _ in 0..count.div_ceil(WINDOWS_PER_BALANCER) {
        balancers.push(Balancer::start(nodes.ports[0], nodes.ports[1]).await?);
    }
    eprintln!(
        "{} balancer(s) in front of both nodes: {}",
        balancers.len(),
        balancers
            .iter()
            .map(|b| b.url.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    eprintln!("minting {} session tokens", args.users);
    let people = tokens(host, args.users)
        .await
        .context("minting tokens (needs DATABASE_URL)")?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let epoch = Instant::now();
    let (out, mut events) = mpsc::unbounded_channel();
    let (start_tx, start_rx) = watch::channel(None);
    let (over_tx, over_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        run: run.clone(),
        users: args.users,
        epoch,
        body: "x".repeat(args.body.max(1)),
        out,
        start: start_rx,
        over: over_rx,
    });
    let mut per_user = schedule(&args);
    let total: u64 = per_user.iter().map(|s| s.len() as u64).sum();
    let tally = Tally::new(args.users - 1);
    let ws_url = |i: usize| {
        format!(
            "{}/ws",
            balancers[i % balancers.len()].url.replacen("http", "ws", 1)
        )
    };

    // Every window opens through a balancer and starts its own loop at once.
    let started = Instant::now();
    let handles: Vec<_> = futures_util::stream::iter((0..count).map(|i| {
        let user = i / args.windows;
        let plan = Plan {
            index: i,
            user,
            url: ws_url(i),
            token: people[user].1.clone(),
            source: windows::source(i, args.source_addresses),
            sender: i % args.windows == 0,
            sends: if i % args.windows == 0 {
                std::mem::take(&mut per_user[user]).into()
            } else {
                Default::default()
            },
            target: json!({"to": people[(user + 1) % args.users].0}),
        };
        let (shared, tally) = (shared.clone(), tally.clone());
        async move {
            let (socket, ready) = connect_ready(&plan.url, &plan.token, plan.source).await?;
            let online = frames::ReadyView::parse(&ready)?.online_count.unwrap_or(0) as usize;
            let have = frames::positions(&ready)?
                .into_iter()
                .map(|(id, upto)| {
                    (
                        id,
                        Have {
                            upto,
                            ..Have::default()
                        },
                    )
                })
                .collect();
            let window = Window {
                plan,
                shared,
                unacked: BTreeMap::new(),
                seen: HashMap::new(),
                have,
                presence: tally.window(online),
                trace: Vec::new(),
                socket: 0,
                history_retries: Vec::new(),
            };
            Ok::<_, anyhow::Error>(tokio::spawn(window.run(socket)))
        }
    }))
    .buffered(CONCURRENCY)
    .try_collect()
    .await
    .context("opening the windows")?;
    let connect_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{count} windows open in {connect_secs:.2}s ({:.0}/s)",
        count as f64 / connect_secs
    );
    let settle_secs = tally.wait(count).await?;
    eprintln!("presence settled {settle_secs:.2}s later");
    // How the balancers spread the windows over the nodes before the deploy.
    let spread: Vec<f64> = read_metrics(&nodes.urls, ["banter_sockets_open"])
        .await
        .into_iter()
        .map(|[n]| n)
        .collect();
    eprintln!("windows per node: {spread:?}");
    tokio::time::sleep(QUIET_BEFORE_LOAD).await;

    let start = Instant::now();
    start_tx.send_replace(Some(start));
    let load_end = start + args.duration;
    // The deploy, beside the load.
    let deploy = async {
        tokio::time::sleep(RESTART_AFTER).await;
        let http = reqwest::Client::new();
        let mut restarts = Vec::new();
        for (i, name) in ["a", "b"].into_iter().enumerate() {
            let began = Instant::now();
            let signalled_us = (began - epoch).as_micros() as u64;
            eprintln!(
                "  {:>5.1}s  SIGTERM to node {name}",
                start.elapsed().as_secs_f64()
            );
            let (exited, ready) = nodes.restart(i).await?;
            for balancer in &balancers {
                balancer.wait_until_it_routes_to(&http, name).await?;
            }
            let routed = began.elapsed();
            eprintln!(
                "  {:>5.1}s  node {name} back: exited after {:.2}s, ready after {:.2}s, routed to after {:.2}s",
                start.elapsed().as_secs_f64(),
                exited.as_secs_f64(),
                ready.as_secs_f64(),
                routed.as_secs_f64()
            );
            restarts.push(Restart {
                node: name,
                signalled_us,
                exited,
                ready,
                routed,
            });
        }
        anyhow::Ok((restarts, start.elapsed()))
    };
    let collecting = collect(&mut events, start, load_end, total, args.windows as u64);
    let (deployed, collected) = tokio::join!(deploy, collecting);
    let (restarts, deploy_done) = deployed?;
    let collected = collected?;
    over_tx.send_replace(true);
    drop(handles);
    let missing = collected.stats.missing(args.windows * 2 - 1, 10);
    let missing_at: Vec<(u64, String)> = missing
        .iter()
        .filter_map(|(k, _)| {
            let (_, at) = collected
                .stats
                .stored
                .values()
                .flatten()
                .find(|(m, _)| m == k)?;
            Some((*k, at.conversation.clone()))
        })
        .collect();
    let traces = traces(&mut events, &missing_at, args.users, args.windows).await;
    let deploy_span_us = (
        (start - epoch + RESTART_AFTER).as_micros() as u64,
        (start - epoch + deploy_done).as_micros() as u64,
    );
    anyhow::ensure!(
        start.elapsed() >= deploy_done && deploy_done <= args.duration,
        "the load ended {:.1}s in, before the restarts did ({:.1}s): raise --duration",
        args.duration.as_secs_f64(),
        deploy_done.as_secs_f64()
    );
    let Collected {
        stats,
        back,
        read_back,
        stranded,
        failed_tries,
        failures,
        closes,
        during,
        codes,
    } = collected;
    let during_restart = during.in_span(deploy_span_us);
    let expected_per_message = args.windows as u64 * 2 - 1;
    let lost = stats.lost_of_sent(total, expected_per_message);
    eprintln!("checking through the API that every acknowledged message is stored once");
    let (stored_missing, stored_twice) =
        verify_stored(&balancers[0].url, &stats, &people, args.users).await?;
    let report = json!({
        "scenario": "rolling",
        "nodes": 2,
        "balancers": balancers.len(),
        "users": args.users,
        "windows": args.windows,
        "offered_per_s": args.rate,
        "sent": total,
        "acked": stats.acked,
        "delivered": stats.delivered,
        "lost": lost,
        "duplicated": stats.duplicated,
        "stored_missing": stored_missing,
        "stored_twice": stored_twice,
        "refused": stats.refused,
        "ack_latency_ms": percentiles_ms(&stats.ack_latency),
        "delivery_latency_ms": percentiles_ms(&stats.delivery_latency),
        "delivery_latency_during_restarts_ms": percentiles_ms(&during_restart),
        "restarts": restarts.iter().enumerate().map(|(i, r)| json!({
            "node": r.node,
            // When its windows' sockets closed, after its SIGTERM: the first and last.
            "windows_closed_s": closes_after(&closes, r.signalled_us, restarts.get(i + 1).map(|n| n.signalled_us)),
            "exited_s": secs(r.exited),
            "ready_s": secs(r.ready),
            "routed_s": secs(r.routed),
        })).collect::<Vec<_>>(),
        "windows_per_node_before": spread,
        "windows_moved": back.len(),
        "close_codes": codes,
        "back_s": percentiles_ms(&back).as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), json!(v.as_f64().unwrap_or(0.0) / 1000.0))).collect::<serde_json::Map<_, _>>()),
        "back_over_10s": back.count_between(10_000_000, u64::MAX),
        "read_back_after_reconnect": read_back,
        "stranded": stranded.len(),
        "failed_reconnect_tries": failed_tries,
        "failed_reconnect_reasons": failures,
        "connect_per_s": (count as f64 / connect_secs).round(),
        "missing_sample": missing,
        // For each missing message: where it was stored, and what its recipient's first
        // window got of that conversation (seq, live?), in order.
        "missing_detail": missing.iter().map(|(k, _)| {
            let stored = stats.stored.values().flatten().find(|(m, _)| m == k).map(|(_, s)| json!({"conversation": s.conversation, "seq": s.seq}));
            let got: Vec<_> = traces.get(k).cloned().unwrap_or_default();
            json!({"k": k, "stored": stored, "recipient_got": got})
        }).collect::<Vec<_>>(),
    });
    eprintln!(
        "\n{} users x {} windows through {} balancer(s), {} msg/s for {:.0}s, both nodes restarted: {} sent, {} acked, {} delivered, {lost} lost, {} duplicated",
        args.users, args.windows, balancers.len(), args.rate, args.duration.as_secs_f64(), total, stats.acked, stats.delivered, stats.duplicated
    );
    eprintln!(
        "windows moved {}, back after (s) {}",
        report["windows_moved"], report["back_s"]
    );
    eprintln!("delivery latency ms {}", report["delivery_latency_ms"]);
    eprintln!(
        "  during restarts ms {}",
        report["delivery_latency_during_restarts_ms"]
    );
    println!("{report}");
    anyhow::ensure!(stranded.is_empty(), "{}", stranded.join("; "));
    stats.ensure_nothing_lost(lost, stored_missing, stored_twice)
}

/// How many sockets closed from `from_us` until `until_us`, and the first and last of
/// those closes, in seconds after `from_us`.
fn closes_after(closes: &[u64], from_us: u64, until_us: Option<u64>) -> Value {
    let after: Vec<u64> = closes
        .iter()
        .filter(|c| **c >= from_us && until_us.is_none_or(|u| **c < u))
        .map(|c| c - from_us)
        .collect();
    let s = |us: Option<&u64>| us.map(|us| (*us as f64 / 1e4).round() / 100.0);
    json!({
        "count": after.len(),
        "first": s(after.iter().min()),
        "last": s(after.iter().max()),
    })
}

/// For each missing message `k` (stored in `conversation`), what its recipient's first
/// window got of that conversation: `(socket, what, seq)` (the windows' traces, awaited
/// briefly after the run).
async fn traces(
    events: &mut mpsc::UnboundedReceiver<Event>,
    missing: &[(u64, String)],
    users: usize,
    windows: usize,
) -> HashMap<u64, Vec<(u32, &'static str, i64)>> {
    let mut wanted: HashMap<usize, Vec<(u64, &str)>> = HashMap::new();
    for (k, conversation) in missing {
        let recipient = (*k as usize % users + 1) % users;
        wanted
            .entry(recipient * windows)
            .or_default()
            .push((*k, conversation.as_str()));
    }
    let mut found = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !wanted.is_empty() {
        let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break;
        };
        if let Event::Trace { window, trace } = event {
            for (k, conversation) in wanted.remove(&window).unwrap_or_default() {
                let got = trace
                    .iter()
                    .filter(|(_, _, c, _)| &**c == conversation)
                    .map(|(socket, what, _, seq)| (*socket, *what, *seq))
                    .collect();
                found.insert(k, got);
            }
        }
    }
    found
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}

/// Deliveries by intended send time, to pick those due during the restarts.
#[derive(Default)]
struct ByIntended(Vec<(u64, u64)>);

impl ByIntended {
    fn in_span(&self, (from, to): (u64, u64)) -> hdrhistogram::Histogram<u64> {
        let mut h = histogram();
        for (intended, latency) in &self.0 {
            if (from..=to).contains(intended) {
                let _ = h.record((*latency).max(1));
            }
        }
        h
    }
}

struct Collected {
    stats: Stats,
    /// How long moved windows took to be back (µs).
    back: hdrhistogram::Histogram<u64>,
    read_back: u64,
    stranded: Vec<String>,
    /// Tries to get back that failed (a node on its way down took the connect).
    failed_tries: u64,
    /// Why they failed → how many.
    failures: BTreeMap<String, u64>,
    during: ByIntended,
    /// When moved windows' sockets closed (µs since the epoch).
    closes: Vec<u64>,
    /// How sockets were closed: `"1012"`, `"none"` (no close frame), … → count.
    codes: BTreeMap<String, u64>,
}

/// Collects until the load is over and everything due arrived, or nothing arrived for
/// [`DRAIN_IDLE`] after the load; a progress line a second.
async fn collect(
    events: &mut mpsc::UnboundedReceiver<Event>,
    start: Instant,
    load_end: Instant,
    total: u64,
    windows: u64,
) -> anyhow::Result<Collected> {
    let expected_per_message = windows * 2 - 1;
    let mut c = Collected {
        stats: Stats::default(),
        back: histogram(),
        read_back: 0,
        stranded: Vec::new(),
        failed_tries: 0,
        failures: BTreeMap::new(),
        closes: Vec::new(),
        during: ByIntended::default(),
        codes: BTreeMap::new(),
    };
    let mut progress = tokio::time::interval(Duration::from_secs(1));
    let mut last_event = Instant::now();
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                last_event = Instant::now();
                match event {
                    Event::Observed { observation, intended_us } => {
                        if let Observation::Delivered { latency_us, .. } = &observation {
                            c.during.0.push((intended_us, *latency_us));
                        }
                        c.stats.observe(observation);
                    }
                    Event::Back { closed_us, after, code, attempts } => {
                        c.closes.push(closed_us);
                        let _ = c.back.record((after.as_micros() as u64).max(1));
                        c.failed_tries += u64::from(attempts - 1);
                        *c.codes.entry(code.map_or("none".into(), |c| c.to_string())).or_default() += 1;
                    }
                    Event::ReadBack(n) => c.read_back += n,
                    Event::TryFailed(why) => *c.failures.entry(why).or_default() += 1,
                    Event::Stranded(why) => c.stranded.push(why),
                    Event::Trace { .. } => {}
                }
            }
            _ = progress.tick() => {
                let p99 = |h: &hdrhistogram::Histogram<u64>| h.value_at_quantile(0.99) as f64 / 1000.0;
                eprintln!(
                    "  {:>5.1}s  {} acked  {} delivered  {} windows moved  delivery p99 {:.1} ms (last second {:.1} ms)",
                    start.elapsed().as_secs_f64(),
                    c.stats.acked,
                    c.stats.delivered,
                    c.back.len(),
                    p99(&c.stats.delivery_latency),
                    p99(&c.stats.recent_delivery_latency),
                );
                c.stats.recent_delivery_latency.reset();
            }
        }
        if Instant::now() >= load_end {
            let complete =
                c.stats.acked >= total && c.stats.delivered >= total * expected_per_message;
            if complete || last_event.elapsed() > DRAIN_IDLE {
                break;
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::{reconnect_pause, Have};
    use std::time::Duration;

    #[test]
    fn a_message_past_a_hole_does_not_move_where_the_window_reads_back_from() {
        let mut have = Have {
            upto: 252,
            ..Have::default()
        };
        have.got(254);
        assert_eq!(have.upto, 252, "253 is still missing");
        have.got(253);
        assert_eq!(have.upto, 254);
        have.got(200);
        have.got(254);
        assert_eq!((have.upto, have.ahead.len()), (254, 0));
    }

    #[test]
    fn reconnects_spread_over_half_a_second_and_back_off_per_failed_try() {
        let first: Vec<Duration> = (0..1000).map(|w| reconnect_pause(w, 1)).collect();
        assert!(first.iter().all(|d| *d < Duration::from_millis(500)));
        assert!(first.iter().any(|d| *d > Duration::from_millis(400)));
        assert_eq!(
            reconnect_pause(7, 3) - reconnect_pause(7, 1),
            Duration::from_millis(1000)
        );
    }
}
