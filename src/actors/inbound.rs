//! A socket's inbound bytes, checked frame by frame before anything buffers them.
//!
//! actix-http's WebSocket parser waits until a whole frame has arrived before it compares
//! the frame's length with the limit, and `actix-web-actors` reads everything the peer
//! sends into one buffer meanwhile: a peer declaring a 64 MiB frame (or an exabyte one)
//! and sending it made the node hold all of it, authenticated or not. [`FrameGuard`]
//! reads each frame's header as the bytes pass (it copies nothing) and ends the stream
//! the moment a header declares more than the limit; the socket then closes with 4413
//! (it sees [`FrameGuard`]'s flag) and nothing more is read from the peer.

use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Where the guard is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Reading a frame header: `have` bytes of it so far.
    Header { bytes: [u8; 14], have: usize },
    /// Inside a frame's payload: `left` bytes to go.
    Payload { left: u64 },
    /// An oversize frame was refused; nothing more passes.
    Refused,
}

const NEW_HEADER: Position = Position::Header {
    bytes: [0; 14],
    have: 0,
};

pub struct FrameGuard<S> {
    inner: S,
    /// Largest payload a frame may declare.
    max: u64,
    position: Position,
    /// Set when a frame over the limit was refused, so the socket can tell the peer why.
    oversize: Arc<AtomicBool>,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, max: usize, oversize: Arc<AtomicBool>) -> Self {
        FrameGuard {
            inner,
            max: u64::try_from(max).unwrap_or(u64::MAX),
            position: NEW_HEADER,
            oversize,
        }
    }

    /// Follows `chunk` through the frame headers and payloads; `false` if it holds a
    /// header declaring more than the limit.
    fn follow(&mut self, chunk: &[u8]) -> bool {
        let mut i = 0;
        while i < chunk.len() {
            match &mut self.position {
                Position::Refused => return false,
                Position::Payload { left } => {
                    let take = (*left).min((chunk.len() - i) as u64);
                    *left -= take;
                    i += take as usize;
                    if *left == 0 {
                        self.position = NEW_HEADER;
                    }
                }
                Position::Header { bytes, have } => {
                    bytes[*have] = chunk[i];
                    *have += 1;
                    i += 1;
                    if let Some(length) = declared_length(&bytes[..*have]) {
                        if length > self.max {
                            self.position = Position::Refused;
                            return false;
                        }
                        self.position = if length == 0 {
                            NEW_HEADER
                        } else {
                            Position::Payload { left: length }
                        };
                    }
                }
            }
        }
        true
    }
}

/// The payload length a complete frame header declares, or `None` while `header` is not
/// complete yet (RFC 6455 §5.2: 2 bytes, then 0, 2 or 8 bytes of extended length, then
/// the 4-byte mask when the mask bit is set).
fn declared_length(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let short = u64::from(second & 0x7f);
    let extended = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let masked = if second & 0x80 != 0 { 4 } else { 0 };
    if header.len() < 2 + extended + masked {
        return None;
    }
    Some(match extended {
        0 => short,
        _ => header[2..2 + extended]
            .iter()
            .fold(0u64, |n, b| (n << 8) | u64::from(*b)),
    })
}

impl<S, E> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: From<actix_http::error::PayloadError>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.position == Position::Refused {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this.follow(&chunk) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    this.oversize.store(true, Ordering::Release);
                    Poll::Ready(Some(Err(actix_http::error::PayloadError::Overflow.into())))
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::error::PayloadError;
    use futures_util::stream;

    /// A masked client frame header declaring `length`.
    fn header(length: u64) -> Vec<u8> {
        let mut h = vec![0x81];
        match length {
            0..=125 => h.push(0x80 | length as u8),
            126..=0xffff => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&length.to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    fn frame(length: usize) -> Vec<u8> {
        let mut f = header(length as u64);
        f.extend(std::iter::repeat_n(b'x', length));
        f
    }

    /// What the guard lets through of `chunks`, and whether it flagged an oversize frame.
    fn run(chunks: Vec<Vec<u8>>, max: usize) -> (Vec<Result<usize, ()>>, bool) {
        let flag = Arc::new(AtomicBool::new(false));
        let inner = stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, PayloadError>(Bytes::from(c))),
        );
        let mut guard = FrameGuard::new(inner, max, flag.clone());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut out = Vec::new();
        // The inner stream is always ready, so polling to the end needs no executor.
        while let Poll::Ready(Some(item)) = Pin::new(&mut guard).poll_next(&mut cx) {
            out.push(item.map(|b| b.len()).map_err(|_| ()));
        }
        (out, flag.load(Ordering::Acquire))
    }

    #[test]
    fn frames_within_the_limit_pass_however_they_are_cut() {
        let mut bytes = frame(10);
        bytes.extend(frame(300));
        bytes.extend(frame(0));
        bytes.extend(frame(70_000));
        let total = bytes.len();
        // One byte at a time, and in uneven slices.
        let singles: Vec<Vec<u8>> = bytes.iter().map(|b| vec![*b]).collect();
        let (out, flagged) = run(singles, 70_000);
        assert_eq!((out.len(), flagged), (total, false));
        let slices: Vec<Vec<u8>> = bytes.chunks(7).map(<[u8]>::to_vec).collect();
        let (out, flagged) = run(slices, 70_000);
        assert!(out.iter().all(Result::is_ok) && !flagged);
    }

    #[test]
    fn a_header_declaring_too_much_ends_the_stream_before_its_payload() {
        let mut first = frame(5);
        first.extend(header(64 << 20));
        let (out, flagged) = run(vec![first, vec![b'x'; 4096], vec![b'x'; 4096]], 65_536);
        assert_eq!(out, vec![Err(())], "nothing of the oversize frame passes");
        assert!(flagged);
    }

    #[test]
    fn an_absurd_declared_length_is_refused_too() {
        let (out, flagged) = run(vec![header(u64::MAX >> 1)], 65_536);
        assert_eq!((out, flagged), (vec![Err(())], true));
    }

    #[test]
    fn unmasked_and_16_bit_lengths_are_read_right() {
        assert_eq!(declared_length(&[0x81, 5]), Some(5));
        assert_eq!(declared_length(&[0x81, 126, 0x01]), None);
        assert_eq!(declared_length(&[0x81, 126, 0x01, 0x00]), Some(256));
        assert_eq!(
            declared_length(&[0x81, 0x80 | 3, 1, 2, 3]),
            None,
            "mask incomplete"
        );
    }
}
