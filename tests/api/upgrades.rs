//! Upgrade requests, spoken as raw HTTP/1.1: a socket's connection leaves the HTTP layer
//! after its 101 (routes/upgrade.rs), and an upgrade asked of any other path is answered
//! like any request, then the connection is closed.

use crate::helpers::{declare_a_huge_frame, read_head, spawn_app, upgrade_request, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client's (masked) frame of `opcode` carrying `payload` (under 126 bytes).
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads the server's frames until one of `opcode` arrives; returns its payload.
async fn frame_of(tcp: &mut TcpStream, opcode: u8) -> Vec<u8> {
    loop {
        let mut first = [0u8; 2];
        tokio::time::timeout(WAIT, tcp.read_exact(&mut first))
            .await
            .expect("a frame within the wait")
            .expect("a frame");
        let len = match first[1] & 0x7f {
            126 => {
                let mut n = [0u8; 2];
                tcp.read_exact(&mut n).await.expect("length");
                u16::from_be_bytes(n) as usize
            }
            127 => {
                let mut n = [0u8; 8];
                tcp.read_exact(&mut n).await.expect("length");
                u64::from_be_bytes(n) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        tcp.read_exact(&mut payload).await.expect("payload");
        if first[0] & 0x0f == opcode {
            return payload;
        }
    }
}

#[actix_web::test]
async fn a_frame_sent_in_the_same_packet_as_the_upgrade_request_is_read_and_answered() {
    let app = spawn_app().await;
    let host = format!("127.0.0.1:{}", app.port);
    let mut tcp = TcpStream::connect(&host).await.expect("connect");
    // The request and a ping behind it, in one write: the HTTP layer reads both at once,
    // and the ping must reach the socket all the same.
    let mut packet = upgrade_request("GET", "/ws", &host).into_bytes();
    packet.extend(masked_frame(0x9, b"are you there"));
    tcp.write_all(&packet).await.expect("sent");
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(frame_of(&mut tcp, 0xA).await, b"are you there");
    // And the socket goes on reading after that first packet.
    tcp.write_all(&masked_frame(0x9, b"still here"))
        .await
        .expect("sent");
    assert_eq!(frame_of(&mut tcp, 0xA).await, b"still here");
}

#[actix_web::test]
async fn an_upgrade_asked_of_another_path_gets_that_paths_answer_and_the_connection_closes() {
    let app = spawn_app().await;
    let host = format!("127.0.0.1:{}", app.port);
    for (method, path, status) in [
        ("GET", "/api/me", "401"),
        ("GET", "/api/nothing-here", "404"),
        ("POST", "/ws", "405"),
        // The socket's handler under another spelling of its path: the socket would have
        // no connection to read, so no 101.
        ("GET", "/%77s", "400"),
    ] {
        let mut tcp = TcpStream::connect(&host).await.expect("connect");
        tcp.write_all(upgrade_request(method, path, &host).as_bytes())
            .await
            .expect("sent");
        let head = read_head(&mut tcp).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{method} {path}: {head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("connection: close"),
            "{method} {path}: {head}"
        );
        assert!(
            head.to_ascii_lowercase().contains("x-request-id:"),
            "the App's middleware ran: {head}"
        );
        let mut rest = Vec::new();
        tokio::time::timeout(WAIT, tcp.read_to_end(&mut rest))
            .await
            .expect("the connection is closed after the answer")
            .expect("read");
    }
}

#[actix_web::test]
async fn a_socket_closed_while_its_client_is_still_sending_ends_cleanly_with_its_close_frame() {
    let app = spawn_app().await;
    // A text frame declared at 1 TiB (over the 64 KiB limit), 64 MiB of it, then the end
    // of the client's sending: the server refuses the frame on its header and closes
    // while most of it is still on its way.
    let huge = declare_a_huge_frame(&format!("127.0.0.1:{}", app.port)).await;
    assert!(
        huge.sent_all,
        "the server took everything sent before closing"
    );
    // The close frame arrives, and the connection then ends in an orderly way (EOF), not
    // with a reset that could have thrown the close frame away.
    let rest = huge.received;
    match huge.ended {
        Some(Ok(_)) => {}
        Some(Err(e)) => panic!("the connection was reset: {e} after {rest:?}"),
        None => panic!("the connection did not end within the wait"),
    }
    assert_eq!(rest.first(), Some(&0x88), "a close frame first: {rest:?}");
    let code = u16::from_be_bytes([rest[2], rest[3]]);
    assert_eq!(code, 4413, "closed as too large");
}
