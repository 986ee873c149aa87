//! Upgraded connections leave the HTTP/1 dispatcher (decision 0029).
//!
//! actix-http keeps two 8 KiB buffers per connection (read and write) for as long as the
//! connection lives, and a WebSocket lives for hours: at 15,000 idle sockets they were
//! 16 of the 23 KiB a socket cost. actix-http hands a request that asks for an upgrade to
//! an *upgrade service* with the connection itself; this is that service:
//!
//! 1. The request goes through the same [`App`](actix_web::App) as every other request
//!    (middleware, access log, routing, the `/ws` handler and its checks), with a payload
//!    that will read the connection once it has been handed over.
//! 2. A `101 Switching Protocols` for `GET /ws` is written, the dispatcher's buffers are
//!    dropped, and the connection is split: its read half feeds the payload (reads of at
//!    most [`READ_CHUNK`] bytes), the response body (the socket's frames) is written to
//!    its write half as it comes, what is ready gathered into one write.
//! 3. Any other answer is written as the peer takes it, and the connection closed.
//!
//! A connection is closed by shutting its write side, then reading and discarding what
//! the peer still sends until it closes too (a second at most), so that no close frame is
//! lost to a reset.
//!
//! No socket logic lives here: the socket is still the `/ws` handler's SocketSession.

use super::request_log::REQUEST_ID;
use actix_codec::{Framed, FramedParts};
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::error::PayloadError;
use actix_http::h1::{Codec, Message};
use actix_http::{ConnectionType, Method, Payload, Request, Response, StatusCode};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::HttpResponse;
use bytes::{Bytes, BytesMut};
use futures_util::future::{poll_fn, FutureExt as _};
use futures_util::stream::{self, StreamExt as _};
use futures_util::SinkExt;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_util::io::ReaderStream;

/// The most one read from an upgraded connection takes in (a client's frames are a few
/// hundred bytes; a larger one arrives in several reads).
pub const READ_CHUNK: usize = 2 * 1024;

/// The most one write gathers of the frames that are ready together (the socket's
/// output is paced in slices smaller than this: `actors/paced.rs`).
const GATHER: usize = 16 * 1024;

/// How long an answer that is not an upgrade may take to go out.
const ANSWERING: Duration = Duration::from_secs(30);

/// How long a closed connection waits for its peer to close too.
const LINGER: Duration = Duration::from_secs(1);

/// The path whose 101 hands the connection to a socket.
const SOCKET_PATH: &str = "/ws";

/// What a socket's payload waits for: bytes the dispatcher had read past the request,
/// and the connection's read half.
type HandOver = (Bytes, OwnedReadHalf);

/// Serves one upgrade request on `framed` with `app` (the App's service, one per worker).
/// Its future lives as long as the socket, in the connection's task: what only answers or
/// closes is boxed, so that it does not make every socket's future larger.
/// Failures here are the peer's (it left, or stopped reading): they end the connection and
/// are logged at debug level, never returned (the dispatcher would log them as errors).
pub async fn serve<S, B>(app: Rc<S>, req: Request, mut framed: Framed<TcpStream, Codec>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let socket = req.method() == Method::GET && req.path() == SOCKET_PATH;
    let (hand_over, handed) = oneshot::channel::<HandOver>();
    // Only the socket reads its connection; any other request has no body.
    let payload: Payload = if socket {
        Payload::Stream {
            payload: Box::pin(incoming(handed)),
        }
    } else {
        Payload::None
    };
    let (req, _) = req.replace_payload(payload);
    let response: Response<BoxBody> = match app.call(req).await {
        Ok(res) => res.map_into_boxed_body().into(),
        Err(e) => HttpResponse::from_error(e).into(),
    };
    let (head, body) = response.into_parts();
    let result = match (socket, head.status() == StatusCode::SWITCHING_PROTOCOLS) {
        (true, true) => switch(head, body, framed, hand_over).await,
        // A 101 for a request spelled so that it reached the socket's handler by another
        // path (`/%77s`): that socket was given no connection to read.
        (false, true) => {
            drop(body);
            let mut refused = HttpResponse::BadRequest();
            if let Some(id) = head.headers().get(&REQUEST_ID) {
                refused.insert_header((REQUEST_ID, id.clone()));
            }
            let refused = refused.finish().map_into_boxed_body();
            let (head, body) = Response::from(refused).into_parts();
            Box::pin(answer(head, body, &mut framed)).await
        }
        (_, false) => Box::pin(answer(head, body, &mut framed)).await,
    };
    if let Err(e) = result {
        log::debug!("upgraded connection ended: {e}");
    }
}

/// The socket's input: nothing until the connection is handed over, then what the
/// dispatcher had already read, then the connection's reads. Ends when the peer closes
/// (or if the connection is never handed over).
fn incoming(
    handed: oneshot::Receiver<HandOver>,
) -> impl futures_util::Stream<Item = Result<Bytes, PayloadError>> {
    stream::once(handed).flat_map(|handed| match handed {
        Ok((early, reader)) => {
            let early = (!early.is_empty()).then_some(Ok(early));
            let reads = ReaderStream::with_capacity(reader, READ_CHUNK)
                .map(|read| read.map_err(PayloadError::Io));
            stream::iter(early).chain(reads).left_stream()
        }
        Err(_) => stream::empty().right_stream(),
    })
}

/// Writes the 101, drops the dispatcher's buffers, hands the read half over and writes
/// the socket's frames until they end.
async fn switch(
    head: Response<()>,
    body: BoxBody,
    mut framed: Framed<TcpStream, Codec>,
    hand_over: oneshot::Sender<HandOver>,
) -> std::io::Result<()> {
    // On every way out the socket (the body) goes before the connection does: its
    // outbound budget may cut the connection by its descriptor until then (outbound.rs).
    if let Err(e) = framed.send(Message::Item((head, BodySize::None))).await {
        drop(body);
        return Err(e);
    }
    let FramedParts { io, read_buf, .. } = framed.into_parts();
    // A copy, so the dispatcher's 8 KiB buffer is freed now, not when these few bytes are.
    let early = Bytes::copy_from_slice(&read_buf);
    drop(read_buf);
    let (reader, writer) = io.into_split();
    if let Err((_, reader)) = hand_over.send((early, reader)) {
        // The socket ended before it was handed its connection.
        drop(body);
        drop(reader);
        return Ok(());
    }
    write_frames(body, writer).await
}

/// Writes `body` to `writer` as it comes: each wait for the next frame is preceded by one
/// write of everything that was ready (at most [`GATHER`] bytes), so a burst of frames
/// costs one system call and an idle socket holds no write buffer. Once the frames end
/// (the close frame is out), the socket (and the read half it holds) is dropped and the
/// connection closed with [`close`].
async fn write_frames(body: BoxBody, mut writer: OwnedWriteHalf) -> std::io::Result<()> {
    {
        let mut body = std::pin::pin!(body);
        let mut ended = false;
        while !ended {
            let Some(first) = poll_fn(|cx| body.as_mut().poll_next(cx)).await else {
                break;
            };
            let first = first.map_err(body_failed)?;
            let mut gathered: Option<BytesMut> = None;
            while gathered.as_ref().map_or(first.len(), BytesMut::len) < GATHER {
                match poll_fn(|cx| body.as_mut().poll_next(cx)).now_or_never() {
                    Some(Some(more)) => {
                        let more = more.map_err(body_failed)?;
                        gathered
                            .get_or_insert_with(|| BytesMut::from(&first[..]))
                            .extend_from_slice(&more);
                    }
                    Some(None) => {
                        ended = true;
                        break;
                    }
                    None => break,
                }
            }
            match gathered {
                Some(all) => writer.write_all(&all).await?,
                None => writer.write_all(&first).await?,
            }
        }
    }
    writer.shutdown().await?;
    Box::pin(close(writer.as_ref())).await;
    Ok(())
}

/// Ends a connection whose last bytes are written and whose write side is shut: reads
/// and discards what the peer still sends (its close frame, the rest of a frame that was
/// refused) until it closes too, for at most [`LINGER`]. Closing with unread bytes would
/// make the kernel reset the connection, and a peer may then lose the close frame it was
/// sent.
async fn close(connection: &TcpStream) {
    let mut discard = vec![0u8; 1024];
    let draining = async {
        loop {
            if connection.readable().await.is_err() {
                return;
            }
            match connection.try_read(&mut discard) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, draining).await;
}

/// Writes an answer that is not an upgrade, a chunk at a time as the peer takes it, then
/// closes the connection; all of it within [`ANSWERING`].
async fn answer(
    mut head: Response<()>,
    body: BoxBody,
    framed: &mut Framed<TcpStream, Codec>,
) -> std::io::Result<()> {
    head.head_mut().set_connection_type(ConnectionType::Close);
    let writing = async {
        let size = body.size();
        framed.send(Message::Item((head, size))).await?;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            let chunk = chunk.map_err(body_failed)?;
            framed.send(Message::Chunk(Some(chunk))).await?;
        }
        framed.send(Message::Chunk(None)).await?;
        SinkExt::<Message<(Response<()>, BodySize)>>::close(framed).await
    };
    tokio::time::timeout(ANSWERING, writing)
        .await
        .map_err(|_| std::io::Error::other("the answer took too long to go out"))??;
    close(framed.io_ref()).await;
    Ok(())
}

/// A response body's error, as the write's.
fn body_failed(e: Box<dyn std::error::Error>) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
