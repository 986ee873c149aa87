//! Opening the socket: the server URL, TLS for `wss://`, header authentication on the
//! upgrade (no `Origin`: non-browser clients send none), and the `ready` that follows.
//! Also the HTTP calls the client makes to name what it has not met on the socket:
//! `GET /api/conversations` and `GET /api/rooms/{id}/members`.

use super::error::TermError;
use super::frames::{ConversationList, MemberList};
use banter_protocol::{ConversationId, ServerEvent};
use futures_util::StreamExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

/// How long a TCP connect, a TLS handshake or the upgrade may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the wait for `ready` may take: a node under a connect storm queues a window
/// up to 30 s for its turn and builds its snapshot within 40 s, else closes it with 1013
/// itself. Giving up sooner would leave only to join the back of the queue again.
pub const READY_TIMEOUT: Duration = Duration::from_secs(75);

/// A byte stream a socket can run over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Socket = tokio_tungstenite::WebSocketStream<Box<dyn Io>>;

/// The server's addresses, worked out from `--server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `ws(s)://host[:port][/prefix]/ws`.
    pub ws: String,
    /// `http(s)://host[:port][/prefix]`, for the HTTP API.
    pub http: String,
    host: String,
    port: u16,
    tls: bool,
}

impl Endpoint {
    /// Accepts `http(s)://` or `ws(s)://` URLs, with or without the `/ws` path, and a bare
    /// `host:port` (plain HTTP).
    pub fn parse(server: &str) -> Result<Endpoint, TermError> {
        let bad = || TermError::ServerUrl(server.to_owned());
        let server = server.trim();
        let with_scheme = if server.contains("://") {
            server.to_owned()
        } else {
            format!("http://{server}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| bad())?;
        let tls = match url.scheme() {
            "http" | "ws" => false,
            "https" | "wss" => true,
            _ => return Err(bad()),
        };
        let host = url.host_str().ok_or_else(bad)?.to_owned();
        let port = url.port_or_known_default().ok_or_else(bad)?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let path = url.path().trim_end_matches('/');
        let prefix = path.strip_suffix("/ws").unwrap_or(path);
        let (ws, http) = if tls {
            ("wss", "https")
        } else {
            ("ws", "http")
        };
        Ok(Endpoint {
            ws: format!("{ws}://{authority}{prefix}/ws"),
            http: format!("{http}://{authority}{prefix}"),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            tls,
        })
    }
}

/// Why a connection attempt failed; [`ConnectError::retryable`] says whether waiting helps.
#[derive(Debug)]
pub enum ConnectError {
    /// `401` on the upgrade, or close 4401.
    Unauthorized,
    /// Closed before `ready` with this code.
    Closed { code: u16, reason: String },
    /// Could not connect, or the connection broke.
    Unreachable(String),
}

impl ConnectError {
    pub fn retryable(&self) -> bool {
        match self {
            ConnectError::Unauthorized => false,
            ConnectError::Closed { code, .. } => close_is_retryable(*code),
            ConnectError::Unreachable(_) => true,
        }
    }

    /// How long a close asks the client to stay away (a 1013 under a connect storm:
    /// `server busy; retry_after=5`), if it says.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ConnectError::Closed { reason, .. } => retry_after(reason),
            _ => None,
        }
    }

    pub fn into_error(self, url: &str) -> TermError {
        match self {
            ConnectError::Unauthorized => TermError::Unauthorized,
            ConnectError::Closed { code, reason } => TermError::Closed { code, reason },
            ConnectError::Unreachable(reason) => TermError::Unreachable {
                url: url.to_owned(),
                reason,
            },
        }
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Unauthorized => write!(f, "session token refused"),
            ConnectError::Closed { code, reason } => {
                write!(f, "closed by the server ({code}: {reason})")
            }
            ConnectError::Unreachable(reason) => write!(f, "{reason}"),
        }
    }
}

/// The seconds of a close reason's `retry_after=N` (1 to 4 digits, a word of its own
/// among `;` and spaces), as docs/protocol.md writes it.
pub fn retry_after(reason: &str) -> Option<std::time::Duration> {
    reason
        .split([';', ' '])
        .find_map(|word| word.strip_prefix("retry_after="))
        .filter(|n| (1..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .map(std::time::Duration::from_secs)
}

/// Does reconnecting help after the server closed with `code`? Not for a refused token
/// (4401), too many windows (4403) or a refused origin (1008); yes for restarts (1012),
/// slow consumers (4409), flooding (4429), an unbuilt snapshot (1011) and the rest.
pub fn close_is_retryable(code: u16) -> bool {
    !matches!(code, 4401 | 4403 | 1008)
}

/// The TLS settings for `wss://`: the public roots, or the roots in `ca_cert`.
pub fn tls_config(ca_cert: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TermError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_cert {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let failed = |reason: String| TermError::CaCert {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()).flatten() {
                roots.add(cert).map_err(|e| failed(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(failed("no PEM certificate in it".into()));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TermError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Connects, authenticates with the `Authorization` header, and waits for `ready`: the
/// event returned is always a [`ServerEvent::Ready`].
pub async fn connect(
    endpoint: &Endpoint,
    token: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(Socket, ServerEvent<'static>), ConnectError> {
    let unreachable = |e: &dyn std::fmt::Display| ConnectError::Unreachable(e.to_string());
    let mut request = endpoint
        .ws
        .as_str()
        .into_client_request()
        .map_err(|e| unreachable(&e))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ConnectError::Unauthorized)?;
    request.headers_mut().insert(header::AUTHORIZATION, bearer);

    let within =
        |what: &'static str| move |_| ConnectError::Unreachable(format!("{what} timed out"));
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port)),
    )
    .await
    .map_err(within("connecting"))?
    .map_err(|e| unreachable(&e))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if endpoint.tls {
        let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
            .map_err(|e| unreachable(&e))?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
            .await
            .map_err(within("the TLS handshake"))?
            .map_err(|e| unreachable(&e))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let upgraded = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::client_async(request, stream),
    )
    .await
    .map_err(within("the WebSocket upgrade"))?;
    let mut socket = match upgraded {
        Ok((socket, _)) => socket,
        Err(tungstenite::Error::Http(response))
            if response.status() == StatusCode::UNAUTHORIZED =>
        {
            return Err(ConnectError::Unauthorized)
        }
        Err(tungstenite::Error::Http(response)) => {
            return Err(ConnectError::Unreachable(format!(
                "the server answered {} to the WebSocket upgrade",
                response.status()
            )))
        }
        Err(e) => return Err(unreachable(&e)),
    };
    let ready = tokio::time::timeout(READY_TIMEOUT, async {
        while let Some(frame) = socket.next().await {
            match frame.map_err(|e| unreachable(&e))? {
                WsMessage::Text(text) => {
                    if let Ok(ready @ ServerEvent::Ready { .. }) = ServerEvent::decode(&text) {
                        return Ok(ready);
                    }
                }
                WsMessage::Close(frame) => return Err(closed(frame)),
                _ => {}
            }
        }
        Err(ConnectError::Unreachable(
            "the connection closed before ready".into(),
        ))
    })
    .await
    .map_err(within("waiting for ready"))??;
    Ok((socket, ready))
}

/// What a close frame means for a connection that is being opened or was open.
pub fn closed(frame: Option<tungstenite::protocol::CloseFrame<'_>>) -> ConnectError {
    match frame {
        Some(f) if u16::from(f.code) == 4401 => ConnectError::Unauthorized,
        Some(f) => ConnectError::Closed {
            code: u16::from(f.code),
            reason: f.reason.into_owned(),
        },
        None => ConnectError::Unreachable("the server closed the connection".into()),
    }
}

/// `GET /api/conversations`, for the peers of conversations this client has not seen.
pub async fn conversations(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
) -> Result<ConversationList, reqwest::Error> {
    http.get(format!("{}/api/conversations", endpoint.http))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

/// `GET /api/rooms/{room}/members`, for the emails of people writing in a room.
pub async fn members(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    room: ConversationId,
) -> Result<MemberList, reqwest::Error> {
    http.get(format!("{}/api/rooms/{room}/members", endpoint.http))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_map_to_the_socket_and_the_api() {
        let cases = [
            (
                "http://127.0.0.1:8080",
                "ws://127.0.0.1:8080/ws",
                "http://127.0.0.1:8080",
            ),
            (
                "https://chat.example.com/",
                "wss://chat.example.com/ws",
                "https://chat.example.com",
            ),
            (
                "wss://chat.example.com/ws",
                "wss://chat.example.com/ws",
                "https://chat.example.com",
            ),
            (
                "localhost:9000",
                "ws://localhost:9000/ws",
                "http://localhost:9000",
            ),
            (
                "http://[::1]:8080/banter",
                "ws://[::1]:8080/banter/ws",
                "http://[::1]:8080/banter",
            ),
        ];
        for (server, ws, http) in cases {
            let e = Endpoint::parse(server).unwrap();
            assert_eq!((e.ws.as_str(), e.http.as_str()), (ws, http), "{server}");
        }
        let e = Endpoint::parse("https://chat.example.com").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.tls),
            ("chat.example.com", 443, true)
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn a_close_reason_says_how_long_to_stay_away() {
        let secs = |reason: &str| retry_after(reason).map(|d| d.as_secs());
        assert_eq!(secs("server busy; retry_after=5"), Some(5));
        assert_eq!(secs("retry_after=30"), Some(30));
        assert_eq!(secs("server busy"), None);
        assert_eq!(secs("retry_after=x"), None);
        assert_eq!(secs("retry_after=123456"), None);
        assert_eq!(secs("no_retry_after=5"), None);
        let busy = ConnectError::Closed {
            code: 1013,
            reason: "server busy; retry_after=5".into(),
        };
        assert_eq!(busy.retry_after(), Some(std::time::Duration::from_secs(5)));
        assert_eq!(ConnectError::Unauthorized.retry_after(), None);
    }

    #[test]
    fn only_closes_that_waiting_can_fix_are_retried() {
        assert!(!close_is_retryable(4401));
        assert!(!close_is_retryable(4403));
        assert!(!close_is_retryable(1008));
        assert!(close_is_retryable(1012));
        assert!(close_is_retryable(4409));
        assert!(close_is_retryable(1011));
    }
}
