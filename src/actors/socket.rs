//! The SocketSession: one per WebSocket (one per window). The only module that knows
//! `actix-web-actors`, so moving to `actix-ws` stays a one-module change.
//!
//! It keeps the connection honest (authentication within the deadline, keepalive pings,
//! frame size and flood limits, session expiry), decodes frames into commands, and
//! forwards them to the user's UserActor. It executes nothing itself.

use super::admission::{Admitted, ConnectGate, TurnedAway, GATE_BUSY_REASON};
use super::inbound::FrameGuard;
use super::messages::DetachSocket;
use super::outbound::{Charged, ConnectionFd, Outbound};
use super::paced::Paced;
use super::registry::{AttachSocket, PresenceRegistry};
use super::user::cmd::{decode, Auth, Command, DecodeLimits, Decoded};
use super::user::commands::{ok_frame, ExecuteCommand};
use super::user::{StartWatch, UserActor};
use super::ToSocket;
use crate::configuration::Limits;
use crate::domain::{User, WindowId};
use crate::identity::{SessionClaims, TokenVerifier, VerifyError};
use crate::metrics::Metrics;
use crate::protocol::{close, error_frame, error_frame_retry, ErrorCode, ServerEvent, ToFrame};
use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse};
use actix_web_actors::ws;
use bytestring::ByteString;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::borrow::Cow;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A socket may renew its session once every this long, after a burst of
/// [`RENEWAL_BURST`].
pub const RENEWAL_EVERY: Duration = Duration::from_secs(10);
pub const RENEWAL_BURST: NonZeroU32 = NonZeroU32::new(3).expect("3 is not 0");

/// How a socket starts.
pub enum Opening {
    /// Wait for an `auth` frame.
    AwaitAuth,
    /// Authenticated by the upgrade's `Authorization` header.
    Authenticated(SessionClaims),
    /// Close at once with this code (e.g. a refused Origin).
    Refuse { code: u16, reason: &'static str },
}

enum State {
    AwaitingAuth,
    /// Waiting for a turn at the connect gate, then for `AttachSocket`'s answer. The
    /// socket keeps being read (a client that leaves the queue is noticed, and its place
    /// freed) and pinged; text frames the client sends meanwhile wait in `early` and are
    /// handled in order once the window is attached.
    Attaching {
        user: User,
        early: Vec<String>,
    },
    Ready {
        user: User,
        actor: Addr<UserActor>,
        expiry: SpawnHandle,
    },
    Closed,
}

/// What every socket session of a node works with.
#[derive(Clone)]
pub struct SocketServices {
    pub registry: Addr<PresenceRegistry>,
    /// Checks the `auth` frames' tokens, off this thread.
    pub tokens: TokenVerifier,
    /// Admits new windows a bounded number at a time.
    pub gate: Arc<ConnectGate>,
    pub limits: Arc<Limits>,
    pub metrics: Metrics,
    /// This node's id, for the socket's log lines.
    pub node: Arc<str>,
    /// The clock of the socket's frame limits, made once per node: making one reads the
    /// CPU's features (`cpuid`, a trap to the hypervisor on a virtual machine), which
    /// cost every connect a few percent of the node's time when each socket made two.
    pub clock: DefaultClock,
}

pub struct SocketSession {
    window: WindowId,
    registry: Addr<PresenceRegistry>,
    /// Checks the `auth` frames' tokens, off this thread.
    tokens: TokenVerifier,
    /// Admits new windows a bounded number at a time.
    gate: Arc<ConnectGate>,
    limits: Arc<Limits>,
    metrics: Metrics,
    /// The client's address and Origin, for connect/disconnect logs.
    peer: String,
    /// This node's id and the upgrade request's id, for the socket's log lines.
    node: Arc<str>,
    request_id: String,
    /// When the socket opened, and the close code it ended with (sent or received;
    /// `None` when the connection just dropped): the lifetime line at the end says both.
    opened: Instant,
    close_code: Option<u16>,
    /// The client's address, for limits kept per address (room password attempts).
    address: Option<std::net::IpAddr>,
    opening: Option<Opening>,
    state: State,
    last_heard: Instant,
    flood: DefaultDirectRateLimiter,
    /// Session renewals (`auth` on a ready socket), each a token verification: a client
    /// renews once per session (minutes), so a few in a row is already generous.
    renewals: DefaultDirectRateLimiter,
    /// Bytes waiting towards this socket, charged by its UserActor and by its own
    /// replies, counted out by its response body.
    outbound: Arc<Outbound>,
    /// Set by the inbound [`FrameGuard`] when the peer declared a frame over the limit.
    oversize: Arc<std::sync::atomic::AtomicBool>,
}

/// Who is on the other end: a label for logs (address and Origin) and the client's
/// address for per-address limits.
pub struct Peer {
    pub label: String,
    pub address: Option<std::net::IpAddr>,
    /// The TCP connection, so a stalled socket can be cut.
    pub connection: Option<ConnectionFd>,
    /// The upgrade request's id (`X-Request-Id`), carried into the socket's log lines.
    pub request_id: String,
}

impl SocketSession {
    pub fn new(window: WindowId, opening: Opening, services: SocketServices, peer: Peer) -> Self {
        let SocketServices {
            registry,
            tokens,
            gate,
            limits,
            metrics,
            node,
            clock,
        } = services;
        let Peer {
            label: peer,
            address,
            connection,
            request_id,
        } = peer;
        let rate = NonZeroU32::new(limits.frame_rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.frame_burst).unwrap_or(rate);
        let outbound = Outbound::new(limits.outbound_bytes, connection);
        SocketSession {
            window,
            registry,
            tokens,
            gate,
            limits,
            metrics,
            peer,
            node,
            request_id,
            opened: Instant::now(),
            close_code: None,
            address,
            opening: Some(opening),
            state: State::AwaitingAuth,
            last_heard: Instant::now(),
            flood: RateLimiter::direct_with_clock(
                Quota::per_second(rate).allow_burst(burst),
                clock.clone(),
            ),
            renewals: RateLimiter::direct_with_clock(
                Quota::with_period(RENEWAL_EVERY)
                    .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
                    .allow_burst(RENEWAL_BURST),
                clock,
            ),
            outbound,
            oversize: Arc::default(),
        }
    }

    /// Upgrades the request; frames over the size limit end the socket with 4413 as soon
    /// as their header arrives (the inbound [`FrameGuard`]).
    pub fn start(
        self,
        req: &HttpRequest,
        stream: actix_web::web::Payload,
    ) -> Result<HttpResponse, actix_web::Error> {
        let codec = actix_http::ws::Codec::new().max_size(self.limits.max_frame_bytes);
        let mut response = ws::handshake(req)?;
        let outbound = self.outbound.clone();
        let stream = FrameGuard::new(stream, self.limits.max_frame_bytes, self.oversize.clone());
        let frames = ws::WebsocketContext::with_codec(self, stream, codec);
        Ok(response.streaming(Paced::new(Box::pin(frames), outbound)))
    }

    /// Closes the socket with [`close::SILENT`] when nothing came from the client (not
    /// even a pong) for `timeout`; says whether it did.
    fn close_if_silent(&mut self, timeout: Duration, ctx: &mut ws::WebsocketContext<Self>) -> bool {
        if self.last_heard.elapsed() < timeout || matches!(self.state, State::Closed) {
            return false;
        }
        log::info!(
            "closing silent socket window={} peer={}",
            self.window,
            self.peer
        );
        let reason = format!("nothing received for {} s", timeout.as_secs());
        self.close(ctx, close::SILENT, &reason);
        true
    }

    fn close(&mut self, ctx: &mut ws::WebsocketContext<Self>, code: u16, reason: &str) {
        self.close_code.get_or_insert(code);
        ctx.close(Some(ws::CloseReason {
            code: ws::CloseCode::Other(code),
            description: Some(reason.to_owned()),
        }));
        ctx.stop();
    }

    /// Writes one of the socket's own frames (a reply to what it was sent), charged to
    /// its budget like everything else; a peer too far behind has its connection cut.
    fn reply(&mut self, ctx: &mut ws::WebsocketContext<Self>, frame: ByteString) {
        match self.outbound.charge(frame.len()) {
            Charged::Accepted => {
                ctx.text(frame);
                // The UserActor watches for bytes that stop leaving: these are its too.
                if let State::Ready { actor, .. } = &self.state {
                    actor.do_send(StartWatch);
                }
            }
            Charged::OverBudget => {
                log::warn!(
                    "cutting slow socket window={} peer={}",
                    self.window,
                    self.peer
                );
                self.metrics.slow_consumers.inc();
                if !self.outbound.abort() {
                    ctx.stop();
                }
            }
        }
    }

    fn decode_limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_body_chars: self.limits.max_body_chars,
            history_max: self.limits.history_max,
            max_ui_state_bytes: self.limits.max_ui_state_bytes,
        }
    }

    fn expiry_timer(
        &self,
        claims: &SessionClaims,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> SpawnHandle {
        let left = (claims.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        ctx.run_later(left, |act, ctx| {
            act.close(ctx, close::UNAUTHORIZED, "session expired")
        })
    }

    /// Waits for the window's turn at the connect gate, then attaches it; a window turned
    /// away is closed to come back later. The wait is spawned, not awaited with
    /// `ctx.wait`: the socket goes on being read and pinged, so a client that gives up
    /// (or a dead connection) stops this actor, which drops the wait and its place.
    fn admit(
        &mut self,
        claims: SessionClaims,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        self.state = State::Attaching {
            user: claims.user.clone(),
            early: Vec::new(),
        };
        let (gate, person) = (self.gate.clone(), claims.user.id);
        ctx.spawn(
            async move { gate.enter(person).await }
                .into_actor(self)
                .map(move |turn, act, ctx| {
                    if !matches!(act.state, State::Attaching { .. }) {
                        return;
                    }
                    match turn {
                        Ok(admitted) => act.attach(claims, admitted, reference, ctx),
                        Err(TurnedAway::ShuttingDown) => {
                            act.close(ctx, close::RESTARTING, "server restarting; reconnect")
                        }
                        Err(TurnedAway::TooManyOfOnePerson) => act.close(
                            ctx,
                            close::TOO_MANY_WINDOWS,
                            "this user already has the most windows allowed waiting to connect",
                        ),
                        Err(turned_away) => {
                            log::info!(
                                "connect of window={} peer={} turned away: {turned_away}",
                                act.window,
                                act.peer
                            );
                            act.close(ctx, close::TRY_AGAIN_LATER, GATE_BUSY_REASON)
                        }
                    }
                }),
        );
    }

    fn attach(
        &mut self,
        claims: SessionClaims,
        admitted: Admitted,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let request = self.registry.send(AttachSocket {
            user: claims.user.clone(),
            window: self.window,
            socket: ctx.address().recipient(),
            outbound: self.outbound.clone(),
            expires_at: claims.expires_at,
            admitted,
            reference,
        });
        ctx.wait(
            request
                .into_actor(self)
                .map(move |result, act, ctx| match result {
                    Ok(Ok(actor)) => {
                        let expiry = act.expiry_timer(&claims, ctx);
                        log::info!(
                            user:% = claims.user.id,
                            window = act.window.0,
                            node = &*act.node,
                            request_id = act.request_id.as_str(),
                            peer = act.peer.as_str();
                            "socket ready"
                        );
                        act.metrics.socket_connects.inc();
                        let early = match std::mem::replace(
                            &mut act.state,
                            State::Ready {
                                user: claims.user,
                                actor,
                                expiry,
                            },
                        ) {
                            State::Attaching { early, .. } => early,
                            _ => Vec::new(),
                        };
                        for text in early {
                            act.on_text(&text, ctx);
                        }
                    }
                    Ok(Err(refused)) => {
                        act.close(ctx, close::TOO_MANY_WINDOWS, &refused.to_string())
                    }
                    Err(_) => act.close(ctx, 1011, "server unavailable"),
                }),
        );
    }

    /// Checks the first `auth` frame's token off this thread; no other frame is read
    /// meanwhile. `reference` (the frame's `ref`) comes back with `ready`.
    fn authenticate(
        &mut self,
        token: String,
        reference: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let tokens = self.tokens.clone();
        ctx.wait(
            async move { tokens.verify(&token).await }
                .into_actor(self)
                .map(move |verified, act, ctx| {
                    if !matches!(act.state, State::AwaitingAuth) {
                        return;
                    }
                    match verified {
                        Ok(claims) => act.admit(claims, reference, ctx),
                        Err(VerifyError::Refused(e)) => {
                            log::info!("refused socket auth peer={}: {e}", act.peer);
                            act.close(ctx, close::UNAUTHORIZED, "invalid or expired token")
                        }
                        Err(VerifyError::Busy(_)) => act.close(
                            ctx,
                            close::TRY_AGAIN_LATER,
                            "too many sessions are being checked; reconnect in a moment",
                        ),
                        Err(failed @ VerifyError::Failed(_)) => {
                            log::error!("{}", crate::error_chain(&failed));
                            act.close(ctx, 1011, "session tokens cannot be checked; reconnect")
                        }
                    }
                }),
        );
    }

    fn reauthenticate(
        &mut self,
        token: &str,
        reference: Option<&str>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if let Err(not_until) = self.renewals.check() {
            let wait = not_until.wait_time_from(self.renewals.clock().now());
            return self.reply(
                ctx,
                error_frame_retry(
                    reference,
                    ErrorCode::RateLimited,
                    "renewing the session more often than once every 10 s; wait a moment",
                    Some(wait),
                ),
            );
        }
        let tokens = self.tokens.clone();
        let token = token.to_owned();
        let reference = reference.map(str::to_owned);
        ctx.wait(
            async move { tokens.verify(&token).await }
                .into_actor(self)
                .map(move |verified, act, ctx| act.renewed(verified, reference.as_deref(), ctx)),
        );
    }

    /// Answers a renewal once its token is checked: a token for the same user moves the
    /// socket's expiry.
    fn renewed(
        &mut self,
        verified: Result<SessionClaims, VerifyError>,
        reference: Option<&str>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let State::Ready { user, expiry, .. } = &mut self.state else {
            return;
        };
        let claims = match verified {
            Err(VerifyError::Busy(_)) => {
                return self.reply(
                    ctx,
                    error_frame_retry(
                        reference,
                        ErrorCode::RateLimited,
                        "too many sessions are being checked right now; renew in a moment",
                        Some(crate::protocol::BUSY_RETRY),
                    ),
                );
            }
            Err(failed @ VerifyError::Failed(_)) => {
                log::error!("{}", crate::error_chain(&failed));
                return self.reply(
                    ctx,
                    error_frame(
                        reference,
                        ErrorCode::Unavailable,
                        "session tokens cannot be checked; renew again shortly",
                    ),
                );
            }
            verified => verified.ok(),
        };
        match claims {
            Some(claims) if claims.user.id == user.id => {
                ctx.cancel_future(*expiry);
                let expires_at = claims.expires_at;
                let handle = self.expiry_timer(&claims, ctx);
                if let State::Ready { expiry, .. } = &mut self.state {
                    *expiry = handle;
                }
                self.reply(
                    ctx,
                    ServerEvent::Session {
                        reference: reference.map(Cow::Borrowed),
                        expires_at,
                    }
                    .to_frame(),
                );
            }
            _ => self.reply(
                ctx,
                error_frame(
                    reference,
                    ErrorCode::Unauthorized,
                    "token is invalid, expired or for another user",
                ),
            ),
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let decoded = match decode(text, self.decode_limits()) {
            Ok(d) => d,
            Err(e) => {
                return self.reply(ctx, error_frame(e.reference.as_deref(), e.code, &e.message))
            }
        };
        match (&self.state, decoded.command) {
            (State::AwaitingAuth, Command::Auth(Auth { token })) => {
                self.authenticate(token, decoded.reference, ctx)
            }
            (State::AwaitingAuth, _) => self.reply(
                ctx,
                error_frame(
                    decoded.reference.as_deref(),
                    ErrorCode::Unauthorized,
                    "send an auth frame first",
                ),
            ),
            (State::Ready { .. }, Command::Auth(Auth { token })) => {
                self.reauthenticate(&token, decoded.reference.as_deref(), ctx)
            }
            // The heartbeat is answered here, at once: behind a slow query of the same
            // window it would make a busy server look dead to its client.
            (State::Ready { .. }, Command::Ping(_)) => {
                if let Some(reference) = decoded.reference.as_deref() {
                    self.reply(ctx, ok_frame(reference));
                }
            }
            (State::Ready { actor, .. }, command) => actor.do_send(ExecuteCommand {
                window: self.window,
                address: self.address,
                decoded: Decoded {
                    reference: decoded.reference,
                    command,
                },
            }),
            (State::Attaching { .. } | State::Closed, _) => {}
        }
    }
}

impl Actor for SocketSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.limits.outbound_queue);
        let ping_every = self.limits.ping_interval;
        let timeout = self.limits.client_timeout;
        ctx.run_interval(ping_every, move |act, ctx| {
            let silent = act.last_heard.elapsed();
            if act.close_if_silent(timeout, ctx) {
                return;
            }
            ctx.ping(b"");
            // The timeout falls before the next ping: check exactly then, so a silent
            // client is closed at the documented time, not up to a ping interval later.
            let left = timeout.saturating_sub(silent);
            if left < ping_every {
                ctx.run_later(left, move |act, ctx| {
                    act.close_if_silent(timeout, ctx);
                });
            }
        });
        match self.opening.take() {
            Some(Opening::Refuse { code, reason }) => self.close(ctx, code, reason),
            Some(Opening::Authenticated(claims)) => self.admit(claims, None, ctx),
            Some(Opening::AwaitAuth) | None => {
                ctx.run_later(self.limits.auth_timeout, |act, ctx| {
                    if matches!(act.state, State::AwaitingAuth) {
                        act.close(ctx, close::AUTH_TIMEOUT, "no auth frame in time");
                    }
                });
            }
        }
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let user = match std::mem::replace(&mut self.state, State::Closed) {
            State::Attaching { user, .. } | State::Ready { user, .. } => user,
            State::AwaitingAuth | State::Closed => return,
        };
        log::info!(
            user:% = user.id,
            window = self.window.0,
            node = &*self.node,
            request_id = self.request_id.as_str(),
            code = self.close_code.map_or_else(|| "none".to_owned(), |c| c.to_string()).as_str(),
            lived_ms = self.opened.elapsed().as_millis() as u64,
            peer = self.peer.as_str();
            "socket closed"
        );
        self.registry.do_send(DetachSocket {
            user: user.id,
            window: self.window,
        });
    }
}

impl Handler<ToSocket> for SocketSession {
    type Result = ();

    fn handle(&mut self, msg: ToSocket, ctx: &mut Self::Context) {
        match msg {
            ToSocket::Frame(frame) => ctx.text(frame),
            ToSocket::Close { code, reason } => self.close(ctx, code, reason),
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for SocketSession {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let message = match item {
            Ok(m) => m,
            Err(ws::ProtocolError::Overflow) => {
                return self.close(
                    ctx,
                    close::TOO_LARGE,
                    &format!("frame over {} bytes", self.limits.max_frame_bytes),
                )
            }
            Err(_) if self.oversize.load(std::sync::atomic::Ordering::Acquire) => {
                return self.close(
                    ctx,
                    close::TOO_LARGE,
                    &format!("frame over {} bytes", self.limits.max_frame_bytes),
                )
            }
            Err(e) => {
                log::info!(
                    "protocol error window={} peer={}: {e}",
                    self.window,
                    self.peer
                );
                return ctx.stop();
            }
        };
        self.last_heard = Instant::now();
        match message {
            ws::Message::Ping(bytes) => {
                // Pings are frames too: a peer pinging without reading piles up pongs.
                if self.flood.check().is_err() {
                    return self.close(ctx, close::FLOODING, "too many frames");
                }
                ctx.pong(&bytes)
            }
            ws::Message::Pong(_) | ws::Message::Nop => {}
            ws::Message::Close(reason) => {
                if let Some(code) = reason.as_ref().map(|r| u16::from(r.code)) {
                    self.close_code.get_or_insert(code);
                }
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Text(text) => {
                if self.flood.check().is_err() {
                    return self.close(ctx, close::FLOODING, "too many frames");
                }
                if let State::Attaching { early, .. } = &mut self.state {
                    // Waiting for its turn: kept for later, as many as one burst.
                    if early.len() >= self.limits.frame_burst as usize {
                        return self.close(ctx, close::FLOODING, "too many frames before ready");
                    }
                    early.push(text.to_string());
                    return;
                }
                self.on_text(&text, ctx);
            }
            ws::Message::Binary(_) | ws::Message::Continuation(_) => {
                if self.flood.check().is_err() {
                    return self.close(ctx, close::FLOODING, "too many frames");
                }
                self.reply(
                    ctx,
                    error_frame(
                        None,
                        ErrorCode::BadRequest,
                        "only unfragmented JSON text frames are understood",
                    ),
                );
            }
        }
    }
}
