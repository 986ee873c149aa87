//! Raw HTTP/1.1 over TCP, for what a WebSocket library would not send: an upgrade asked
//! of any path, frames sent in the same packet as the request, a frame declared far
//! larger than what follows. Every wait has a timeout.

use super::WAIT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A WebSocket upgrade request (no token) with `method` for `path` at `host` (host:port).
pub fn upgrade_request(method: &str, path: &str, host: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Reads up to the end of a response head.
pub async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tokio::time::timeout(WAIT, tcp.read_exact(&mut byte))
            .await
            .expect("a response within the wait")
            .expect("a response head");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// A TCP connection to `host` upgraded to `/ws`, not signed in.
pub async fn raw_socket(host: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(host).await.expect("connect");
    tcp.write_all(upgrade_request("GET", "/ws", host).as_bytes())
        .await
        .expect("upgrade sent");
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp
}

/// What [`declare_a_huge_frame`] saw.
pub struct HugeFrame {
    /// Whether all 64 MiB went out and the sending side was then shut (the server did
    /// not reset the connection meanwhile).
    pub sent_all: bool,
    /// How reading ended: `None` if the connection was still open after the wait, else
    /// `Ok` at an orderly end or the error of a reset.
    pub ended: Option<std::io::Result<usize>>,
    /// What the server sent after its 101.
    pub received: Vec<u8>,
}

/// Upgrades a TCP connection to `/ws` at `host` without any token, declares one text
/// frame of 1 TiB, streams 64 MiB of it and shuts its sending side, while reading what
/// the server sends until the connection ends.
pub async fn declare_a_huge_frame(host: &str) -> HugeFrame {
    let tcp = raw_socket(host).await;
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    header.extend_from_slice(&[7, 7, 7, 7]);
    let (mut read, mut write) = tcp.into_split();
    let sending = async move {
        if write.write_all(&header).await.is_err() {
            return false;
        }
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            if write.write_all(&zeros).await.is_err() {
                return false; // cut off
            }
        }
        write.shutdown().await.is_ok()
    };
    let reading = async {
        let mut received = Vec::new();
        let ended = tokio::time::timeout(WAIT, read.read_to_end(&mut received))
            .await
            .ok();
        (ended, received)
    };
    let (sent_all, (ended, received)) = tokio::join!(sending, reading);
    HugeFrame {
        sent_all,
        ended,
        received,
    }
}
