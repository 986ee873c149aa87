//! A socket's outbound bytes, handed to the connection a few KiB between writes.
//!
//! A `ready` snapshot can be tens of KiB. [`Paced`] cuts the stream into slices of at most
//! [`SLICE`] bytes (zero-copy) and, once a slice's worth went out, answers `Pending` once
//! (waking itself at once), which makes the writer (`routes/upgrade.rs`, which gathers
//! what is ready into one write) write what it holds before it asks again: no write ever
//! needs a buffer of more than a slice and a frame. (Under actix-http's HTTP/1 dispatcher,
//! before decision 0029, this kept the dispatcher's write buffer within its initial
//! 8 KiB for the connection's life.)
//!
//! Every byte handed over is counted out of the socket's [`Outbound`] budget, and when
//! the body is dropped the budget forgets the connection (see `outbound.rs`).

use super::outbound::Outbound;
use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Bytes handed over between two flushes.
pub const SLICE: usize = 4 * 1024;

pub struct Paced<S> {
    inner: S,
    /// The part of a large chunk not handed over yet.
    rest: Bytes,
    /// Bytes handed over since the last flush.
    since_flush: usize,
    /// The socket's budget, told of every byte that leaves.
    outbound: Arc<Outbound>,
}

impl<S> Paced<S> {
    pub fn new(inner: S, outbound: Arc<Outbound>) -> Self {
        Paced {
            inner,
            rest: Bytes::new(),
            since_flush: 0,
            outbound,
        }
    }

    fn hand(&mut self, mut chunk: Bytes) -> Bytes {
        let n = chunk.len().min(SLICE);
        self.rest = chunk.split_off(n);
        self.since_flush += n;
        self.outbound.sent(n);
        chunk
    }
}

impl<S> Drop for Paced<S> {
    fn drop(&mut self) {
        self.outbound.released();
    }
}

impl<S, E> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.since_flush >= SLICE {
            this.since_flush = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if !this.rest.is_empty() {
            let rest = std::mem::take(&mut this.rest);
            return Poll::Ready(Some(Ok(this.hand(rest))));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(this.hand(chunk)))),
            Poll::Pending => {
                // The HTTP layer writes out whatever it holds while we wait.
                this.since_flush = 0;
                Poll::Pending
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream::{self, StreamExt};
    use futures_util::task::noop_waker;

    fn paced<S>(inner: S) -> Paced<S> {
        Paced::new(inner, Outbound::new(usize::MAX, None))
    }

    /// Everything `paced` yields until it ends, with `None` for each `Pending`.
    fn drain(
        mut paced: Paced<impl Stream<Item = Result<Bytes, ()>> + Unpin>,
    ) -> Vec<Option<Bytes>> {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut out = Vec::new();
        loop {
            match Pin::new(&mut paced).poll_next(&mut cx) {
                Poll::Ready(Some(Ok(b))) => out.push(Some(b)),
                Poll::Ready(None) => return out,
                Poll::Ready(Some(Err(()))) => panic!("no errors here"),
                Poll::Pending => out.push(None),
            }
        }
    }

    #[test]
    fn a_large_chunk_goes_out_in_slices_with_a_flush_after_each() {
        let big = Bytes::from(vec![7u8; 3 * SLICE + 10]);
        let out = drain(paced(stream::iter(vec![Ok(big.clone())])));
        let sizes: Vec<Option<usize>> = out.iter().map(|b| b.as_ref().map(Bytes::len)).collect();
        assert_eq!(
            sizes,
            [
                Some(SLICE),
                None,
                Some(SLICE),
                None,
                Some(SLICE),
                None,
                Some(10)
            ]
        );
        let joined: Vec<u8> = out.into_iter().flatten().flat_map(|b| b.to_vec()).collect();
        assert_eq!(joined, big.to_vec(), "same bytes, same order");
    }

    #[test]
    fn small_chunks_pass_whole_until_a_slice_worth_went_out() {
        let small = || Ok(Bytes::from(vec![1u8; 1500]));
        let out = drain(paced(stream::iter(vec![
            small(),
            small(),
            small(),
            small(),
        ])));
        let sizes: Vec<Option<usize>> = out.iter().map(|b| b.as_ref().map(Bytes::len)).collect();
        assert_eq!(
            sizes,
            [Some(1500), Some(1500), Some(1500), None, Some(1500)]
        );
    }

    #[test]
    fn bytes_handed_over_leave_the_budget() {
        let outbound = Outbound::new(usize::MAX, None);
        outbound.charge(3 * SLICE);
        let body = Paced::new(
            stream::iter(vec![Ok(Bytes::from(vec![0u8; 3 * SLICE]))]),
            outbound.clone(),
        );
        drain(body);
        assert_eq!(outbound.queued(), 0);
    }

    #[test]
    fn errors_pass_through() {
        let s = stream::iter(vec![Ok(Bytes::from_static(b"a")), Err(())]);
        let mut paced = paced(s.boxed());
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            Pin::new(&mut paced).poll_next(&mut cx),
            Poll::Ready(Some(Ok(_)))
        ));
        assert!(matches!(
            Pin::new(&mut paced).poll_next(&mut cx),
            Poll::Ready(Some(Err(())))
        ));
    }
}
