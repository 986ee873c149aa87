//! Session tokens verified on a bounded pool of their own, off the HTTP workers' threads.
//!
//! A token's cost is bounded before it reaches the pool ([`SessionKeys::verify`] refuses
//! appended blocks and over-long tokens before any signature or Datalog), so one
//! verification takes tens of microseconds; the pool makes sure that no burst of them,
//! honest (a reconnect storm) or not, can take more than [`RUNNING`] cores from the
//! sockets and the actors, and that no more than [`WAITING`] tokens ever wait in memory.
//! Beyond that the caller is told [`VerifyError::Busy`] (`rate_limited`; a socket's first
//! `auth` closes with 1013, try again later).

use super::{SessionClaims, SessionError, SessionKeys};
use crate::bounded_pool::{BoundedPool, Refused};
use std::sync::Arc;
use std::time::Duration;

/// Threads that verify tokens, node-wide.
pub const RUNNING: usize = 2;
/// Tokens allowed to wait for a verifying thread: a reconnect storm's worth (at tens of
/// microseconds each, the queue drains in well under a second), at most 2 KiB each.
pub const WAITING: usize = 4096;
/// The longest a request waits for its token to be checked.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The token is bad: the client hears `unauthorized`.
    #[error(transparent)]
    Refused(#[from] SessionError),
    /// The verifying threads are all busy and the queue full: the token was not judged,
    /// and the client should try again shortly (`rate_limited`).
    #[error("session tokens cannot be checked right now")]
    Busy(#[source] Refused),
    /// Checking the token failed inside (it panicked, or the threads are gone): not the
    /// client's doing (`unavailable`).
    #[error("checking a session token failed")]
    Failed(#[source] Refused),
}

/// Verifies session tokens on its pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    /// The root key the tokens must be signed with.
    keys: Arc<SessionKeys>,
    pool: BoundedPool,
}

impl TokenVerifier {
    /// Starts the verifying threads for tokens signed with `keys`.
    pub fn start(keys: Arc<SessionKeys>) -> Self {
        Self::on_pool(
            keys,
            BoundedPool::start("tokens", RUNNING, WAITING, MAX_WAIT),
        )
    }

    /// Verifies on `pool` (tests use a small one).
    fn on_pool(keys: Arc<SessionKeys>, pool: BoundedPool) -> Self {
        TokenVerifier { keys, pool }
    }

    /// Verifies `token` on a verifying thread. A token over the length limit is refused
    /// here, before it is copied to the queue.
    pub async fn verify(&self, token: &str) -> Result<SessionClaims, VerifyError> {
        let token = token.trim();
        if token.len() > super::session::MAX_TOKEN_CHARS {
            return Err(SessionError::TooLong(token.len()).into());
        }
        let keys = self.keys.clone();
        let token = token.to_owned();
        match self.pool.run(move || keys.verify(&token)).await {
            Ok(verified) => Ok(verified?),
            Err(busy @ Refused::Busy(_)) => Err(VerifyError::Busy(busy)),
            Err(stopped @ Refused::Stopped(_)) => Err(VerifyError::Failed(stopped)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{User, UserId};

    fn fresh() -> (Arc<SessionKeys>, TokenVerifier) {
        let keys = Arc::new(
            SessionKeys::from_private_bytes(&SessionKeys::generate_private_bytes()).unwrap(),
        );
        (keys.clone(), TokenVerifier::start(keys))
    }

    #[tokio::test]
    async fn tokens_are_checked_on_the_pools_own_threads() {
        let (keys, _) = fresh();
        let pool = BoundedPool::start("tokens-test", 1, 4, Duration::from_secs(30));
        let verifier = TokenVerifier::on_pool(keys.clone(), pool.clone());
        let user = User {
            id: UserId::new(),
            email: "alice@example.com".into(),
            name: None,
        };
        let (token, _) = keys.mint(&user, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap().user, user);
        // The same pool names its thread; the caller's (this test's) is another.
        let on = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(on.as_deref(), Some("tokens-test-0"));
        assert_ne!(std::thread::current().name(), on.as_deref());
    }

    #[tokio::test]
    async fn a_full_pool_answers_busy_without_judging_the_token() {
        let (keys, _) = fresh();
        let pool = BoundedPool::start("tokens-full", 1, 1, Duration::from_secs(30));
        let verifier = TokenVerifier::on_pool(keys, pool.clone());
        // Hold the only thread and fill the one place in the queue: the next token is
        // not judged.
        let (release, holding) = crate::bounded_pool::occupy_a_thread(&pool).await;
        let waiting = tokio::spawn(async move { pool.run(|| ()).await });
        // On this test's single thread the waiting task queues its job at its first poll.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(
            verifier.verify("not even a token").await,
            Err(VerifyError::Busy(Refused::Busy("tokens-full")))
        ));
        release.send(()).unwrap();
        holding.await.unwrap().unwrap();
        waiting.await.unwrap().unwrap();
        assert!(matches!(
            verifier.verify("not even a token").await,
            Err(VerifyError::Refused(_))
        ));
    }

    #[tokio::test]
    async fn a_minted_token_verifies_on_the_pool_and_a_forged_one_is_refused() {
        let (keys, verifier) = fresh();
        let user = User {
            id: UserId::new(),
            email: "alice@example.com".into(),
            name: None,
        };
        let (token, _) = keys.mint(&user, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap().user, user);
        let (_, other) = fresh();
        assert!(matches!(
            other.verify(&token).await,
            Err(VerifyError::Refused(SessionError::Signature(_)))
        ));
    }

    #[tokio::test]
    async fn an_over_long_token_is_refused_without_queueing() {
        let (_, verifier) = fresh();
        let long = "A".repeat(super::super::session::MAX_TOKEN_CHARS + 1);
        assert!(matches!(
            verifier.verify(&long).await,
            Err(VerifyError::Refused(SessionError::TooLong(_)))
        ));
    }
}
