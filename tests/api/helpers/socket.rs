//! The WebSocket client tests talk to the server with; every wait has a timeout.

use super::WAIT;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::VecDeque;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A WebSocket client for tests.
pub struct Ws {
    inner: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Presence changes read from an `online_changes` frame and not yet taken by
    /// [`Ws::recv_presence`].
    presence: VecDeque<Value>,
}

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    Code(u16),
    WithoutCode,
}

impl Ws {
    pub async fn connect(url: &str) -> Ws {
        Self::connect_request(url.into_client_request().unwrap()).await
    }

    /// A socket to `url`, or `None` if it cannot be opened within `within` (a node that
    /// is restarting refuses the upgrade).
    pub async fn try_connect(url: &str, within: Duration) -> Option<Ws> {
        match tokio::time::timeout(within, tokio_tungstenite::connect_async(url)).await {
            Ok(Ok((inner, _))) => Some(Ws::of(inner)),
            _ => None,
        }
    }

    pub async fn connect_request(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Ws {
        let (inner, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("connect");
        Ws::of(inner)
    }

    fn of(
        inner: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    ) -> Ws {
        Ws {
            inner,
            presence: VecDeque::new(),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        tokio::time::timeout(WAIT, self.inner.send(WsMessage::Text(text)))
            .await
            .expect("send in time")
            .expect("send");
    }

    pub async fn send_raw(&mut self, message: WsMessage) {
        let _ = tokio::time::timeout(WAIT, self.inner.send(message)).await;
    }

    /// The next JSON text frame; pings and pongs are skipped.
    pub async fn recv(&mut self) -> Value {
        self.try_recv(WAIT).await.expect("a frame in time")
    }

    /// The next JSON frame within `within`, or `None`.
    pub async fn try_recv(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .ok()??;
            match next {
                Ok(WsMessage::Text(text)) => return Some(super::schema::server_frame(&text)),
                Ok(WsMessage::Close(frame)) => panic!("socket closed unexpectedly: {frame:?}"),
                Ok(_) => continue,
                Err(e) => panic!("socket error: {e}"),
            }
        }
    }

    /// The next JSON frame, or `None` once the socket is closed or broken; panics if
    /// neither happens within `within`.
    pub async fn try_recv_until_closed(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("socket neither spoke nor closed in time"),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Some(super::schema::server_frame(&text))
                }
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next JSON frame, or the close code if the server closes the socket first.
    pub async fn next_or_close(&mut self, within: Duration) -> Result<Value, Closed> {
        self.next_within(within)
            .await
            .expect("socket neither spoke nor closed in time")
    }

    /// The next JSON frame or the close code within `within`; `None` if neither came.
    pub async fn next_within(&mut self, within: Duration) -> Option<Result<Value, Closed>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    return Some(Ok(super::schema::server_frame(&text)))
                }
                Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
                    return Some(Err(Closed::Code(u16::from(frame.code))))
                }
                Ok(Some(Ok(WsMessage::Close(None)))) | Ok(Some(Err(_))) | Ok(None) => {
                    return Some(Err(Closed::WithoutCode))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next frame of `kind`, skipping others (presence noise, typing...).
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .try_recv(left)
                .await
                .unwrap_or_else(|| panic!("no {kind} frame in time"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// The next presence change this window hears, as `{"user": {"id", "email"?},
    /// "online"}`: the people of each `online_changes` frame one at a time, arrivals
    /// first (a departure carries only the id). Count-only frames are skipped.
    pub async fn recv_presence(&mut self) -> Value {
        loop {
            if let Some(change) = self.presence.pop_front() {
                return change;
            }
            let frame = self.recv_type("online_changes").await;
            self.presence.extend(presence_changes(&frame));
        }
    }

    /// Reads until the stream is quiet for `quiet`, and answers who this window last
    /// heard come (`true`) or go (`false`): changes within a tick are gathered, so
    /// someone online only briefly may not be heard of at all.
    pub async fn presence_until_quiet(
        &mut self,
        quiet: Duration,
    ) -> std::collections::HashMap<String, bool> {
        let mut last: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        let mut fold = |change: Value| {
            let id = change["user"]["id"].as_str().unwrap_or_default().to_owned();
            last.insert(id, change["online"] == true);
        };
        self.presence.drain(..).for_each(&mut fold);
        while let Some(frame) = self.try_recv(quiet).await {
            presence_changes(&frame).into_iter().for_each(&mut fold);
        }
        last
    }

    /// Asserts this window hears of nobody coming or going within `within` (frames with
    /// only a count may come).
    pub async fn assert_no_presence(&mut self, within: Duration) {
        assert!(self.presence.is_empty(), "unread: {:?}", self.presence);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv(left).await {
                None => return,
                Some(frame) if !presence_changes(&frame).is_empty() => {
                    panic!("unexpected presence change: {frame}")
                }
                Some(_) => continue,
            }
        }
    }

    /// Asserts no frame of `kind` arrives within `within`.
    pub async fn assert_no(&mut self, kind: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv(left).await {
                None => return,
                Some(frame) if frame["type"] == kind => panic!("unexpected {kind}: {frame}"),
                Some(_) => continue,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    /// The `ready` frame, or the close code and reason if the socket is closed first.
    pub async fn ready_or_closed(&mut self) -> Result<Value, (u16, String)> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("neither ready nor closed in time"),
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    let frame: Value = super::schema::server_frame(&text);
                    if frame["type"] == "ready" {
                        return Ok(frame);
                    }
                }
                Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
                    return Err((u16::from(frame.code), frame.reason.to_string()))
                }
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(WsMessage::Close(None)))) => {
                    return Err((1006, String::new()))
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn closed(&mut self) -> Closed {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.inner.next()).await {
                Err(_) => panic!("socket not closed in time"),
                Ok(None) | Ok(Some(Err(_))) => return Closed::WithoutCode,
                Ok(Some(Ok(WsMessage::Close(Some(frame))))) => {
                    return Closed::Code(u16::from(frame.code))
                }
                Ok(Some(Ok(WsMessage::Close(None)))) => return Closed::WithoutCode,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(WAIT, self.inner.close(None)).await;
        // Read until the server answers the close, so the server has seen it.
        let _ = tokio::time::timeout(WAIT, async {
            while let Some(Ok(m)) = self.inner.next().await {
                if m.is_close() {
                    break;
                }
            }
        })
        .await;
    }
}

/// The presence changes an `online_changes` frame carries (none for other frames), each
/// as `{"user": .., "online": ..}`.
pub fn presence_changes(frame: &Value) -> Vec<Value> {
    if frame["type"] != "online_changes" {
        return Vec::new();
    }
    let came = frame["came"].as_array().into_iter().flatten();
    let went = frame["went"].as_array().into_iter().flatten();
    came.map(|u| serde_json::json!({"user": u, "online": true}))
        .chain(went.map(|id| serde_json::json!({"user": {"id": id}, "online": false})))
        .collect()
}
