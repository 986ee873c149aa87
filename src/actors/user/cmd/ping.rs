//! `ping`: an application heartbeat (browsers cannot send WebSocket pings). The window
//! hears `ok` with its `ref`, nothing without one. The socket session answers it at once
//! (`SocketSession::on_text`), ahead of replies its window's earlier frames still wait
//! for: behind a slow query it would make a busy server look dead to its client. It never
//! reaches the UserActor, reads and writes nothing and takes no allowance; the socket's
//! frame limits bound a flood.

#[derive(Debug, Clone)]
pub struct Ping;

impl Ping {
    pub fn parse() -> Self {
        Ping
    }
}
