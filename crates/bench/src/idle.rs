//! Scenario `idle`: open `users × windows` sockets, hold them, and report how much memory
//! the server spent per socket (from its /proc status, with `--server-pid`).
//!
//! Every window is read from the moment it opens (pings are answered, presence frames
//! consumed), and the memory is read once every window counts everyone online, so the
//! figure is what a settled idle socket costs, not a backlog of unread frames.

use super::procfs::rss_kib;
use super::windows::{self, Placement, Tally};
use super::{tokens, ws_urls, BenchArgs, Host};
use serde_json::json;
use std::time::Instant;

pub async fn run(args: BenchArgs, host: &Host) -> anyhow::Result<()> {
    let urls = ws_urls(&args);
    let people = tokens(host, args.users).await?;
    let before = args.server_pid.and_then(rss_kib);
    let tally = Tally::new(args.users - 1);
    let (readers, connect_secs) = windows::open(
        args.users * args.windows,
        |i| Placement {
            url: &urls[i % urls.len()],
            token: &people[i / args.windows].1,
            source: windows::source(i, args.source_addresses),
        },
        |_, socket, online| windows::keep_reading(socket, tally.window(online)),
    )
    .await?;
    eprintln!(
        "{} sockets open in {connect_secs:.1}s ({:.0}/s)",
        readers.len(),
        readers.len() as f64 / connect_secs
    );
    let settle_secs = tally.wait(readers.len()).await?;
    eprintln!(
        "presence settled {settle_secs:.1}s later; holding for {:?}",
        args.duration
    );
    let held = Instant::now();
    tokio::time::sleep(args.duration).await;
    let after = args.server_pid.and_then(rss_kib);
    let still_open = readers.iter().filter(|r| !r.is_finished()).count();
    for r in &readers {
        r.abort();
    }
    let per_socket = match (before, after) {
        (Some(b), Some(a)) if still_open > 0 => {
            Some(a.saturating_sub(b) as f64 / still_open as f64)
        }
        _ => None,
    };
    let report = json!({
        "scenario": "idle",
        "sockets": still_open,
        "held_s": held.elapsed().as_secs_f64().round(),
        "connect_per_s": (still_open as f64 / connect_secs).round(),
        "presence_settle_s": (settle_secs * 100.0).round() / 100.0,
        "server_rss_kib_before": before,
        "server_rss_kib_after": after,
        "server_kib_per_socket": per_socket.map(|k| (k * 100.0).round() / 100.0),
    });
    eprintln!(
        "\n{still_open} idle sockets held; server memory per socket: {}",
        per_socket.map_or("unknown (pass --server-pid)".to_owned(), |k| format!(
            "{k:.2} KiB"
        ))
    );
    println!("{report}");
    anyhow::ensure!(
        still_open == args.users * args.windows,
        "sockets were dropped while idle"
    );
    Ok(())
}
