//! `auth`: the socket's first frame, and a fresh token before the session ends. The
//! SocketSession applies it (it owns the session); it never reaches the UserActor.

/// A session token to start or renew the socket's session with.
#[derive(Debug, Clone)]
pub struct Auth {
    pub token: String,
}

impl Auth {
    pub fn parse(token: String) -> Self {
        Auth { token }
    }
}
