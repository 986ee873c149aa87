//! Scenario `idle`: open `users × windows` sockets, hold them, and report how much memory
//! the server spent per socket (from its /proc status, with `--server-pid`).

use super::{connect_from, tokens, ws_urls, BenchArgs, Socket};
use serde_json::json;
use std::time::{Duration, Instant};

/// Resident memory of a process in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let urls = ws_urls(&args);
    let people = tokens(args.users).await?;
    let before = args.server_pid.and_then(rss_kib);
    let started = Instant::now();
    let mut sockets: Vec<Socket> = Vec::with_capacity(args.users * args.windows);
    let sources = args.source_addresses.max(1);
    for (u, (_, token)) in people.iter().enumerate() {
        for w in 0..args.windows {
            let i = u * args.windows + w;
            let source = std::net::Ipv4Addr::new(127, 0, 0, 1 + (i % sources as usize) as u8);
            sockets.push(connect_from(&urls[i % urls.len()], token, Some(source)).await?);
            if sockets.len() % 1000 == 0 {
                eprintln!("  {} sockets open", sockets.len());
            }
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} sockets open in {connect_secs:.1}s; holding for {:?}",
        sockets.len(),
        args.duration
    );
    // Hold, reading (so pings are answered) without sending.
    let held = Instant::now();
    let mut readers = Vec::new();
    for socket in sockets {
        readers.push(tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut socket = socket;
            let deadline = tokio::time::sleep(Duration::from_secs(3600));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    frame = socket.next() => if frame.is_none() { return false },
                    _ = &mut deadline => return true,
                }
            }
        }));
    }
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
