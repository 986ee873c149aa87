//! Why a Redis step of the cluster mirror failed. Every part (presence, heartbeat,
//! rebuild) returns it with its cause; the mirror logs the whole chain once, when it
//! turns unhealthy, and rebuilds once Redis answers again.

use actix::MailboxError;

/// Why a Redis step failed; the mirror logs it and rebuilds once Redis answers again.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("no redis connection available")]
    Pool(#[from] bb8::RunError<redis::RedisError>),
    #[error("the registry is gone")]
    Registry(#[from] MailboxError),
    /// The subscriber did not hear its own probe: Redis did not take the `SUBSCRIBE`,
    /// or the connection ended first.
    #[error("this node's subscription did not hear its own probe (may its Redis user SUBSCRIBE?)")]
    NotSubscribed,
    /// The rebuild's routes were dropped or not confirmed in time.
    #[error("this node's routes could not be rewritten")]
    RoutesNotReplaced,
    /// `REDIS_TLS_CA_FILE` could not be read.
    #[error("reading REDIS_TLS_CA_FILE {path:?}")]
    CaFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
