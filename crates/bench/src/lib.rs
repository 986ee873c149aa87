//! `banter bench` (crate `banter-bench`): a load generator that speaks only the public
//! protocol, a client of `banter-protocol` like any other.
//!
//! It mints session tokens with the root key (as `banter token` does, through the
//! [`Host`] the `banter` binary hands it), opens
//! `users × windows` sockets, and runs open-loop: message `k` has an intended send time,
//! and every latency is measured from that time, so a stalled server cannot hide behind
//! a slowed-down generator. Scenario `dm`: user `i` writes direct messages to user `i+1`
//! from its first window; each message should reach the recipient's windows and the
//! sender's other windows. `room`: the same into rooms of `--room-size` members. With
//! `--changes P`, P% of their messages are then edited or reacted to by their senders.
//! Scenario `idle` holds sockets and reports the server's memory per socket; `churn` opens
//! and closes windows and measures how fast viewers hear of it. With `--nodes N` the
//! generator starts the servers itself (N > 1: sharing Redis).

pub mod balancer;
mod changes;
mod churn;
mod collect;
mod dm;
mod frames;
mod idle;
mod nodes;
mod pg_floor;
mod procfs;
mod relay;
mod rolling;
pub mod stats;
mod storm;
mod windows;

use anyhow::Context as _;
use banter_protocol::MintTokens;
use futures_util::StreamExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Scenario: dm (direct messages between online peers), room (messages into rooms),
    /// storm (dm load while --storm more people connect at once), rolling (dm load through
    /// HAProxy while two nodes it starts are restarted in turn; clients reconnect, resend
    /// and read back what they missed),
    /// idle (hold sockets), churn (windows coming and going; presence latency), relay
    /// (dm's load on a minimal in-process WebSocket relay: the socket floor), pg-floor
    /// (Postgres's batched-insert rate for the message write path; --windows connections,
    /// --users conversations).
    #[arg(default_value = "dm")]
    pub scenario: String,
    /// Base URL of the server; a comma list spreads the windows over several nodes: in
    /// dm, room and storm's steady load, window `w` of user `u` goes to node
    /// `(u + w) mod n` (so each user spans nodes); in idle, churn and storm's arrivals,
    /// the `i`-th socket goes to node `i mod n`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    #[arg(long, default_value_t = 2)]
    pub windows: usize,
    /// Offered messages per second, across all users.
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Characters per message body.
    #[arg(long, default_value_t = 64)]
    pub body: usize,
    /// The server's process id (idle: its memory is read from /proc).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Local addresses 127.0.0.1..=N to open sockets from (each gives ~28,000 ports).
    #[arg(long, default_value_t = 1)]
    pub source_addresses: u8,
    /// Members per room (scenario room; --users must be a multiple).
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Start this many server nodes (this binary, on free ports; with 2 or more they share
    /// Redis) instead of using --server. Needs DATABASE_URL.
    #[arg(long)]
    pub nodes: Option<usize>,
    /// storm: people who connect (one window each) one second into the dm load; relay:
    /// as many windows opened on the relay then (the storm's floor).
    #[arg(long, default_value_t = 0)]
    pub storm: usize,
    /// pg-floor: rows per transaction (one row per commit is measured alongside).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// dm, room, storm: this percentage of the messages is followed, once acknowledged,
    /// by a change from its sender, alternately an edit and a 👍 reaction, each owed to
    /// every window of every member. The server allows a person 5 changes a second: the
    /// run refuses a share for which `--rate / --users × changes / 100` exceeds that.
    #[arg(long, default_value_t = 0, value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub changes: u8,
}

/// The Postgres pool `pg-floor` measures with: the server's own kind (TLS as the
/// database URL asks), so the floor is the server's path to Postgres.
pub type PgPool =
    bb8::Pool<bb8_postgres::PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>>;

/// A future of a pool of `n` connections.
pub type PgPoolFuture = Pin<Box<dyn Future<Output = anyhow::Result<PgPool>> + Send>>;

/// What the generator needs from the `banter` binary, handed in so that this crate never
/// imports the server: session tokens for the bench's users, minted with the root key,
/// and (for `pg-floor`) a pool on the server's database. Both reach the database only
/// when a scenario asks.
#[derive(Clone)]
pub struct Host {
    pub minter: Arc<dyn MintTokens>,
    /// Opens a pool of the given size on `DATABASE_URL`.
    pub postgres: Arc<dyn Fn(u32) -> PgPoolFuture + Send + Sync>,
}

/// The WebSocket URLs of the `--server` list.
pub(crate) fn ws_urls(args: &BenchArgs) -> Vec<String> {
    args.server
        .split(',')
        .map(|s| {
            format!(
                "{}/ws",
                s.trim().trim_end_matches('/').replacen("http", "ws", 1)
            )
        })
        .collect()
}

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Runs the benchmark on its own multi-threaded runtime and prints the report.
pub fn run_blocking(args: BenchArgs, host: Host) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut args = args;
        if args.scenario == "rolling" {
            anyhow::ensure!(
                args.nodes.is_none_or(|n| n == 2),
                "rolling starts two nodes itself (--nodes 2, the default for it)"
            );
            args.nodes = Some(2);
        }
        anyhow::ensure!(
            args.changes == 0 || matches!(args.scenario.as_str(), "dm" | "room" | "storm"),
            "--changes is for dm, room and storm"
        );
        let plan = changes::Plan {
            users: args.users,
            percent: args.changes,
        };
        anyhow::ensure!(
            plan.per_person_rate(args.rate) <= changes::ALLOWANCE_PER_S,
            "--changes {} at {} messages a second over {} users makes {:.1} changes a second \
             per person, past the server's allowance of {}: lower --changes or --rate, or \
             raise --users",
            args.changes,
            args.rate,
            args.users,
            plan.per_person_rate(args.rate),
            changes::ALLOWANCE_PER_S
        );
        let mut nodes = match args.nodes {
            Some(n) => {
                anyhow::ensure!(n >= 1, "--nodes must be at least 1");
                let nodes = nodes::Nodes::start(n).await?;
                args.server = nodes.urls.join(",");
                args.server_pid = args.server_pid.or(nodes.first_pid());
                Some(nodes)
            }
            None => None,
        };
        let result = match args.scenario.as_str() {
            "dm" => dm::run(args, dm::Mode::Direct, &host).await,
            "storm" => {
                if args.storm == 0 {
                    Err(anyhow::anyhow!(
                        "storm needs --storm N (people who connect)"
                    ))
                } else {
                    dm::run(args, dm::Mode::Direct, &host).await
                }
            }
            "room" => {
                let size = args.room_size;
                dm::run(args, dm::Mode::Room { size }, &host).await
            }
            "idle" => idle::run(args, &host).await,
            "churn" => churn::run(args, &host).await,
            "relay" => relay::run(args).await,
            "rolling" => match nodes.as_mut() {
                Some(nodes) => rolling::run(args, nodes, &host).await,
                None => Err(anyhow::anyhow!("rolling needs the nodes it starts")),
            },
            "pg-floor" => pg_floor::run(args, &host).await,
            other => Err(anyhow::anyhow!(
                "unknown scenario {other:?} (dm, room, storm, rolling, idle, churn, relay, pg-floor)"
            )),
        };
        if let Some(nodes) = nodes {
            nodes.stop().await;
        }
        result
    })
}

/// A session token for each of `users` bench users (created if new): `(user id, token)`.
pub(crate) async fn tokens(host: &Host, users: usize) -> anyhow::Result<Vec<(String, String)>> {
    tokens_for(host, users, |i| format!("bench-{i}@bench.banter.test")).await
}

/// A session token for each of `n` people, person `i` with the email `email(i)` (created
/// if new): `(user id, token)`.
pub(crate) async fn tokens_for(
    host: &Host,
    n: usize,
    email: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<(String, String)>> {
    let email = &email;
    futures_util::stream::iter((0..n).map(|i| async move {
        let minted = host
            .minter
            .mint(&email(i), Duration::from_secs(3600))
            .await
            .map_err(|e| anyhow::anyhow!(e))
            .context("minting a session token")?;
        Ok::<_, anyhow::Error>((minted.user_id.to_string(), minted.token))
    }))
    .buffered(8)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect()
}

/// Opens an authenticated window (header auth) and waits for its `ready`.
pub(crate) async fn connect(ws_url: &str, token: &str) -> anyhow::Result<Socket> {
    Ok(connect_from(ws_url, token, None).await?.0)
}

/// What a window's `ready` said, as far as the generator needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    /// `online_count`: how many people it counts online.
    pub online: usize,
    /// The frame's size in bytes.
    pub bytes: usize,
    /// How many entries each of its lists held, in [`READY_LISTS`] order: what made a
    /// large `ready` large.
    pub lists: [usize; READY_LISTS.len()],
}

/// The lists of a `ready` frame.
pub(crate) const READY_LISTS: [&str; 5] =
    ["online", "partners", "blocked", "conversations", "rooms"];

/// Like [`connect`], from a chosen local address (to go past one address's ports); also
/// answers how many people the `ready` snapshot counted online (`online_count`: everyone
/// the window may see, not only the first page it lists).
pub(crate) async fn connect_from(
    ws_url: &str,
    token: &str,
    source: Option<std::net::Ipv4Addr>,
) -> anyhow::Result<(Socket, Ready)> {
    let (socket, text) = connect_ready(ws_url, token, source).await?;
    let view = frames::ReadyView::parse(&text).context("a ready the generator cannot read")?;
    let online = view
        .online_count
        .context("a ready without online_count (a server of protocol v1?)")?;
    let ready = Ready {
        online: online as usize,
        bytes: text.len(),
        lists: view.lists(),
    };
    Ok((socket, ready))
}

/// Opens an authenticated window (header auth) from `source` and waits for its `ready`:
/// the socket and the `ready` frame's text (read with [`frames`]' views).
pub(crate) async fn connect_ready(
    ws_url: &str,
    token: &str,
    source: Option<std::net::Ipv4Addr>,
) -> anyhow::Result<(Socket, String)> {
    let mut request = ws_url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let uri = request.uri().clone();
    let host = uri.host().unwrap_or("127.0.0.1");
    let port = uri.port_u16().unwrap_or(80);
    let server: std::net::SocketAddr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .context("server address")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind((ip, 0).into())?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let (mut socket, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await?;
    // Wait for the snapshot, so the load starts on settled presence.
    while let Some(frame) = socket.next().await {
        match frame? {
            WsMessage::Text(text)
                if frames::Head::parse(&text).is_some_and(|h| h.kind == "ready") =>
            {
                return Ok((socket, text.to_string()));
            }
            WsMessage::Close(Some(close)) => {
                anyhow::bail!("closed before ready: {} {}", close.code, close.reason)
            }
            _ => {}
        }
    }
    anyhow::bail!("socket closed before ready")
}
