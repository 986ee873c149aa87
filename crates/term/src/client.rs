//! The running client: one loop over the socket, stdin and a few timers, and the
//! reconnects between sockets. What to print and send is [`Chat`]'s decision; this file
//! only moves lines and frames.

use super::commands::{self, Command};
use super::connection::{self, ConnectError, Endpoint, Socket};
use super::error::TermError;
use super::input::Input;
use super::output::{Line, Output};
use super::state::{Chat, Effects, Lookup};
use super::token::Tokens;
use banter_protocol::{ClientFrame, Request, ServerEvent};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long `/quit` and end of input wait for outstanding answers before leaving.
pub const LEAVE_WITHIN: Duration = Duration::from_secs(10);
/// The server pings every 25 s; this much silence means the connection is gone.
const SILENCE: Duration = Duration::from_secs(60);
/// How long reconnecting is tried before giving up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(5 * 60);
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(10);

/// How one socket's life ended.
enum Ended {
    /// `/quit`, end of input, or the time to leave ran out.
    Left,
    Dropped(ConnectError),
}

pub struct Client {
    pub endpoint: Endpoint,
    pub tls: Arc<rustls::ClientConfig>,
    pub tokens: Tokens,
    pub chat: Chat,
    pub out: Output,
    pub http: reqwest::Client,
    /// When to send a renewing `auth` (only with a minted token).
    renew_at: Option<Instant>,
    /// Set by `/quit` or end of input: leave once idle, or at this instant.
    leaving: Option<Instant>,
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        tls: Arc<rustls::ClientConfig>,
        tokens: Tokens,
        http: reqwest::Client,
    ) -> Client {
        Client {
            endpoint,
            tls,
            tokens,
            chat: Chat::default(),
            out: Output::stdout(),
            http,
            renew_at: None,
            leaving: None,
        }
    }

    /// Connects for the first time: any failure ends the program, except a refused
    /// minted token, which is minted again once.
    pub async fn connect_first(&mut self) -> Result<Socket, TermError> {
        let first = connection::connect(&self.endpoint, self.tokens.current(), &self.tls).await;
        let (socket, ready) = match first {
            Err(ConnectError::Unauthorized) if self.tokens.renewable() => {
                self.tokens.renew().await?;
                connection::connect(&self.endpoint, self.tokens.current(), &self.tls).await
            }
            other => other,
        }
        .map_err(|e| e.into_error(&self.endpoint.ws))?;
        let fx = self.on_ready(ready);
        self.print(&fx.lines)?;
        Ok(socket)
    }

    /// Runs until `/quit` or end of input (then `Ok`, or [`TermError::Unsent`] if
    /// messages could not be delivered in time), or a failure reconnecting cannot fix.
    pub async fn run(
        mut self,
        mut socket: Socket,
        mut input: mpsc::Receiver<Input>,
    ) -> Result<(), TermError> {
        loop {
            match self.serve(&mut socket, &mut input).await? {
                Ended::Left => {
                    close(&mut socket).await;
                    return self.left();
                }
                Ended::Dropped(why) => {
                    let renewable =
                        matches!(why, ConnectError::Unauthorized) && self.tokens.renewable();
                    if !why.retryable() && !renewable {
                        return Err(why.into_error(&self.endpoint.ws));
                    }
                    if self.leaving.is_some() && self.chat.idle() {
                        return Ok(());
                    }
                    self.print(&[Line::Disconnected(why.to_string())])?;
                    match self.reconnect(why).await? {
                        Some(s) => socket = s,
                        None => return self.left(),
                    }
                }
            }
        }
    }

    fn left(&self) -> Result<(), TermError> {
        match self.chat.unsent() {
            0 => Ok(()),
            n => Err(TermError::Unsent(n)),
        }
    }

    /// One socket's life.
    async fn serve(
        &mut self,
        socket: &mut Socket,
        input: &mut mpsc::Receiver<Input>,
    ) -> Result<Ended, TermError> {
        let mut last_heard = Instant::now();
        loop {
            if self.leaving.is_some() && self.chat.idle() {
                return Ok(Ended::Left);
            }
            let reading = self.leaving.is_none() && self.chat.synced();
            let renew_at = self.renew_at;
            let leave_at = self.leaving;
            let fx = tokio::select! {
                frame = socket.next() => {
                    last_heard = Instant::now();
                    match frame {
                        None => return Ok(Ended::Dropped(ConnectError::Unreachable(
                            "the connection closed".into(),
                        ))),
                        Some(Err(e)) => {
                            return Ok(Ended::Dropped(ConnectError::Unreachable(e.to_string())))
                        }
                        Some(Ok(WsMessage::Close(frame))) => {
                            return Ok(Ended::Dropped(connection::closed(frame)))
                        }
                        Some(Ok(WsMessage::Text(text))) => self.on_text(&text).await,
                        // Pings are answered by the socket itself.
                        Some(Ok(_)) => Effects::default(),
                    }
                }
                next = input.recv(), if reading => self.on_input(next)?,
                _ = sleep_until(renew_at), if renew_at.is_some() => {
                    self.renew_at = None;
                    match self.tokens.renew().await {
                        Ok(token) => Effects {
                            lines: Vec::new(),
                            frames: vec![Request::new(ClientFrame::Auth { token })],
                        },
                        Err(e) => {
                            // Try again shortly; the socket lives until the old token expires.
                            self.renew_at = Some(Instant::now() + Duration::from_secs(30));
                            Effects {
                                lines: vec![Line::error("renew", e.to_string())],
                                frames: Vec::new(),
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(last_heard + SILENCE) => {
                    return Ok(Ended::Dropped(ConnectError::Unreachable(format!(
                        "no word from the server for {} s", SILENCE.as_secs()
                    ))));
                }
                _ = sleep_until(leave_at), if leave_at.is_some() => return Ok(Ended::Left),
            };
            self.print(&fx.lines)?;
            if let Err(why) = send_all(socket, &fx.frames).await {
                return Ok(Ended::Dropped(why));
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Effects {
        let event = match ServerEvent::decode(text) {
            Ok(event) => event,
            Err(e) => {
                return Effects {
                    lines: vec![Line::error(
                        "protocol",
                        format!("undecodable frame from the server: {e}"),
                    )],
                    frames: Vec::new(),
                }
            }
        };
        if let ServerEvent::Session { expires_at, .. } = &event {
            self.schedule_renewal(*expires_at);
        }
        while let Some(lookup) = self.chat.lookup(&event) {
            self.chat.looked_up(lookup);
            let token = self.tokens.current();
            match lookup {
                Lookup::Conversations(_) => {
                    match connection::conversations(&self.http, &self.endpoint, token).await {
                        Ok(list) => self.chat.learn(list.conversations),
                        Err(e) => log::warn!("GET /api/conversations: {e}"),
                    }
                }
                Lookup::Members { room, .. } => {
                    match connection::members(&self.http, &self.endpoint, token, room).await {
                        Ok(list) => self.chat.learn_people(list.members),
                        Err(e) => log::warn!("GET /api/rooms/{room}/members: {e}"),
                    }
                }
            }
        }
        self.chat.on_event(event)
    }

    fn on_input(&mut self, next: Option<Input>) -> Result<Effects, TermError> {
        let line = match next {
            Some(Input::Line(line)) => line,
            Some(Input::Eof) | None => {
                self.leave();
                return Ok(Effects::default());
            }
            Some(Input::Failed(e)) => return Err(TermError::Input(e)),
        };
        Ok(match commands::parse(&line) {
            None => Effects::default(),
            Some(Err(e)) => Effects {
                lines: vec![Line::error("usage", e.to_string())],
                frames: Vec::new(),
            },
            Some(Ok(Command::Quit)) => {
                self.leave();
                Effects::default()
            }
            Some(Ok(command)) => self.chat.on_command(command),
        })
    }

    /// A new socket's `ready`: renewal is scheduled by its expiry, and [`Chat`] reacts.
    fn on_ready(&mut self, ready: ServerEvent<'static>) -> Effects {
        if let ServerEvent::Ready { expires_at, .. } = &ready {
            self.schedule_renewal(*expires_at);
        }
        self.chat.on_event(ready)
    }

    fn leave(&mut self) {
        self.leaving.get_or_insert(Instant::now() + LEAVE_WITHIN);
    }

    fn schedule_renewal(&mut self, expires_at: chrono::DateTime<chrono::Utc>) {
        self.renew_at = self.tokens.renew_in(expires_at).map(|d| Instant::now() + d);
    }

    /// Reconnects with growing pauses, never sooner than a close's `retry_after` asks;
    /// `None` if the time to leave ran out first.
    async fn reconnect(&mut self, why: ConnectError) -> Result<Option<Socket>, TermError> {
        let started = Instant::now();
        let mut last = why.to_string();
        let mut pause = FIRST_RETRY;
        let mut stay_away = why.retry_after().unwrap_or_default();
        loop {
            let wake = Instant::now() + jittered(pause).max(std::mem::take(&mut stay_away));
            if self.leaving.is_some_and(|deadline| wake >= deadline) {
                return Ok(None);
            }
            if wake.duration_since(started) > GIVE_UP_AFTER {
                return Err(TermError::Lost {
                    url: self.endpoint.ws.clone(),
                    minutes: GIVE_UP_AFTER.as_secs() / 60,
                    reason: last,
                });
            }
            tokio::time::sleep_until(wake).await;
            pause = (pause * 2).min(LONGEST_RETRY);
            match connection::connect(&self.endpoint, self.tokens.current(), &self.tls).await {
                Ok((mut socket, ready)) => {
                    let fx = self.on_ready(ready);
                    self.print(&fx.lines)?;
                    match send_all(&mut socket, &fx.frames).await {
                        Ok(()) => return Ok(Some(socket)),
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(ConnectError::Unauthorized) if self.tokens.renewable() => {
                    match self.tokens.renew().await {
                        Ok(_) => pause = FIRST_RETRY,
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(e) if !e.retryable() => return Err(e.into_error(&self.endpoint.ws)),
                Err(e) => {
                    stay_away = e.retry_after().unwrap_or_default();
                    last = e.to_string();
                }
            }
        }
    }

    fn print(&self, lines: &[Line]) -> Result<(), TermError> {
        self.out.write(lines).map_err(TermError::Output)
    }
}

/// Sends frames in order, flushing once.
async fn send_all(socket: &mut Socket, frames: &[Request]) -> Result<(), ConnectError> {
    if frames.is_empty() {
        return Ok(());
    }
    for frame in frames {
        socket
            .feed(WsMessage::Text(frame.to_text()))
            .await
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    }
    socket
        .flush()
        .await
        .map_err(|e| ConnectError::Unreachable(e.to_string()))
}

/// Closes politely: the close frame, then the server's answer (briefly).
async fn close(socket: &mut Socket) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = socket.close(None).await;
        while let Some(Ok(frame)) = socket.next().await {
            if frame.is_close() {
                break;
            }
        }
    })
    .await;
}

/// Sleeps until `at`, or forever without one (its `select!` branch is disabled then).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// `pause` give or take a fifth, so many clients of a restarted server spread out.
fn jittered(pause: Duration) -> Duration {
    use rand::Rng;
    pause.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
}
