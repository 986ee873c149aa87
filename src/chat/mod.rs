//! The chat service: what a person can do, shared by the socket path (UserActor) and the
//! HTTP API, so an action over HTTP reaches every window exactly as one over a socket.
//!
//! Rooms live in `rooms.rs`.
//!
//! Writes are handed to the PersistActor *synchronously* (the returned future only waits
//! for the answer), so writes from one window keep their order.

use crate::actors::messages::{GetOnlineAmong, ShowOnlinePage, UserTyped};
use crate::actors::persist::{ApplyWrite, Health, Origin, PersistActor, PersistError};
use crate::configuration::Limits;
use crate::db::messages::Page;
use crate::db::snapshot::SnapshotReader;
use crate::db::writes::{WriteOp, WriteOutcome, WriteRejection};
use crate::db::{self, DbError, Pool};
use crate::domain::{ConversationId, Message, User, UserId};
use crate::protocol::ErrorCode;
use actix::{Addr, Recipient};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

pub mod allowance;
mod online;
mod passwords;
mod rooms;

pub use allowance::{Action, Admission, Allowances, SharedAllowances};

/// `n` a minute, all of them usable at once.
fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

/// Why an action failed, with its protocol code (and hence its HTTP status).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Rejected(#[from] WriteRejection),
    /// The person did something more often than their allowance (`allowance.rs`).
    #[error(transparent)]
    TooFast(#[from] allowance::TooFast),
    #[error("too many room password attempts; wait a minute")]
    PasswordAttempts,
    /// The bounded pool that hashes and checks room passwords is full.
    #[error("too many room passwords are being checked right now; try again in a moment")]
    PasswordHashingBusy,
    /// No turn to read came within [`READ_TURN_WAIT`]: the node is reading for many
    /// people at once (after a deploy, every window asks what it missed).
    #[error("too many reads are waiting on this server right now; try again in a moment")]
    ReadsBusy,
    /// Not the person's doing: the client hears only this text (`unavailable`); the
    /// cause stays attached for the log, written where the error is answered.
    #[error("storage is unavailable")]
    Unavailable(#[source] Internal),
}

/// What failed inside when an action answers `unavailable`, with its own cause.
#[derive(Debug, thiserror::Error)]
pub enum Internal {
    #[error(transparent)]
    Database(#[from] DbError),
    /// The PersistActor refused for the database's sake (it logged the cause itself).
    #[error("the write was not committed")]
    Persist(#[source] PersistError),
    /// An actor did not answer: it stopped, or its mailbox was closed.
    #[error("the {actor} did not answer")]
    Mailbox {
        actor: &'static str,
        #[source]
        source: actix::MailboxError,
    },
    #[error("hashing a room password failed")]
    Hashing(#[source] PasswordHashError),
    /// The password hashing threads are gone (one panicked).
    #[error("the password hashing threads stopped")]
    HashingStopped,
    /// The blocking thread pool lost the task (it panicked or was cancelled).
    #[error("a blocking task failed")]
    Blocking(#[from] tokio::task::JoinError),
}

impl ChatError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::Rejected(WriteRejection::Blocked) => ErrorCode::Blocked,
            ChatError::Rejected(WriteRejection::NotFound(_)) => ErrorCode::NotFound,
            ChatError::Rejected(WriteRejection::BadRequest(_)) => ErrorCode::BadRequest,
            ChatError::Rejected(WriteRejection::Forbidden(_)) => ErrorCode::Forbidden,
            ChatError::Rejected(WriteRejection::Conflict(_)) => ErrorCode::Conflict,
            ChatError::Rejected(WriteRejection::Gone(_)) => ErrorCode::Gone,
            ChatError::TooFast(_)
            | ChatError::PasswordAttempts
            | ChatError::PasswordHashingBusy
            | ChatError::ReadsBusy => ErrorCode::RateLimited,
            ChatError::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    /// For `rate_limited`: how long until trying again could pass.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ChatError::TooFast(too_fast) => Some(too_fast.retry_after),
            ChatError::PasswordAttempts => Some(std::time::Duration::from_secs(60)),
            ChatError::PasswordHashingBusy | ChatError::ReadsBusy => {
                Some(std::time::Duration::from_secs(1))
            }
            _ => None,
        }
    }

    /// Logs the whole cause chain when the failure is internal (`unavailable`), for the
    /// edge that answers the client (an `error` frame, an HTTP response) and nowhere else.
    pub fn log_if_internal(&self) {
        if let ChatError::Unavailable(_) = self {
            log::error!("{}", crate::error_chain(self));
        }
    }
}

/// argon2's error (`password_hash::Error`) implements `std::error::Error` only with the
/// `std` feature, which this build leaves off; this carries it as a source all the same.
#[derive(Debug)]
pub struct PasswordHashError(pub(crate) argon2::password_hash::Error);

impl std::fmt::Display for PasswordHashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for PasswordHashError {}

impl From<PersistError> for ChatError {
    fn from(e: PersistError) -> Self {
        match e {
            PersistError::Rejected(r) => ChatError::Rejected(r),
            e @ PersistError::Unavailable => ChatError::Unavailable(Internal::Persist(e)),
        }
    }
}

impl From<DbError> for ChatError {
    fn from(e: DbError) -> Self {
        ChatError::Unavailable(Internal::Database(e))
    }
}

impl From<Internal> for ChatError {
    fn from(e: Internal) -> Self {
        ChatError::Unavailable(e)
    }
}

/// The PresenceRegistry, as far as the chat tells and asks it (it sits above the chat,
/// so the chat holds recipients for exactly these messages, not its address).
#[derive(Clone)]
pub struct RegistryLink {
    /// Told who is typing, for the members' windows.
    pub typing: Recipient<UserTyped>,
    /// Asked which of a room's members are online for a viewer.
    pub online: Recipient<GetOnlineAmong>,
    /// Asked to send a window a page of its viewer's online list.
    pub pages: Recipient<ShowOnlinePage>,
}

/// Cheap to clone; every clone shares the same actors, pool and rate limiter.
#[derive(Clone)]
pub struct Chat {
    pub pool: Pool,
    /// Reads windows' snapshots, in batches under a connect storm.
    pub snapshots: SnapshotReader,
    persist: Addr<PersistActor>,
    /// The PresenceRegistry above, for what the chat tells and asks it.
    registry: RegistryLink,
    /// Each person's allowances (messages, room actions, blocks, typing, UI state,
    /// queries), whichever window, node or API call they come from.
    allowances: Arc<Allowances>,
    /// Room password attempts per person and per client address, so nobody can guess
    /// a password by brute force (5 a minute each person, 20 a minute each address).
    password_attempts_by_user: Arc<DefaultKeyedRateLimiter<UserId>>,
    password_attempts_by_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Hashes and checks room passwords on a bounded pool.
    passwords: passwords::PasswordHashing,
    /// Turns for UserActors' catch-up reads (after a Redis outage every online user
    /// catches up at once): a few at a time, so they queue here instead of timing out
    /// on the pool and starving sends.
    catch_ups: Arc<tokio::sync::Semaphore>,
    /// Turns for the pages people ask for (`history`, `changes`): a few at a time, so a
    /// burst of them (after a deploy every window reads what it missed) queues here
    /// instead of timing out on the pool, and snapshots, catch-ups and the other
    /// queries keep connections.
    reads: Arc<tokio::sync::Semaphore>,
    limits: Arc<Limits>,
}

/// Catch-up reads at once, per node.
const CATCH_UPS_AT_ONCE: usize = 2;

/// Asked-for page reads at once, per node (the pool holds 10 by default).
const READS_AT_ONCE: usize = 4;

/// The longest a page read waits for its turn before it is refused with `rate_limited`
/// (and a `retry_after`). The wait is here, not on the pool: with at most
/// [`READS_AT_ONCE`] holding turns, a read that got its turn finds a connection well
/// within the pool's own 5 s checkout limit.
const READ_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Chat {
    pub fn new(
        pool: Pool,
        snapshots: SnapshotReader,
        persist: Addr<PersistActor>,
        registry: RegistryLink,
        limits: Arc<Limits>,
        shared: Option<Arc<dyn SharedAllowances>>,
    ) -> Self {
        Chat {
            pool,
            snapshots,
            persist,
            registry,
            allowances: Arc::new(Allowances::new(&limits, shared)),
            password_attempts_by_user: Arc::new(RateLimiter::keyed(per_minute(5))),
            password_attempts_by_address: Arc::new(RateLimiter::keyed(per_minute(20))),
            passwords: passwords::PasswordHashing::start(),
            catch_ups: Arc::new(tokio::sync::Semaphore::new(CATCH_UPS_AT_ONCE)),
            reads: Arc::new(tokio::sync::Semaphore::new(READS_AT_ONCE)),
            limits,
        }
    }

    /// Where catch-up reads take turns.
    pub fn catch_up_turns(&self) -> Arc<tokio::sync::Semaphore> {
        self.catch_ups.clone()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Does the PersistActor answer within `within`? False once it stopped (its mailbox
    /// closed) or while its thread is stuck: `/readyz` then answers 503.
    pub async fn writes_alive(&self, within: std::time::Duration) -> bool {
        matches!(
            tokio::time::timeout(within, self.persist.send(Health)).await,
            Ok(Ok(()))
        )
    }

    /// Applies a write. The write is queued before this returns; the future resolves
    /// once it is committed or refused.
    pub fn write(
        &self,
        op: WriteOp,
        origin: Option<Origin>,
    ) -> impl Future<Output = Result<WriteOutcome, ChatError>> + 'static {
        let request = self.persist.send(ApplyWrite { op, origin });
        async move {
            match request.await {
                Ok(result) => result.map_err(ChatError::from),
                Err(source) => Err(Internal::Mailbox {
                    actor: "PersistActor",
                    source,
                }
                .into()),
            }
        }
    }

    /// Takes one of `user`'s allowance for `action`: decided at once, or (for an
    /// action kept across the deployment) once the shared store answers.
    pub fn admit(&self, action: Action, user: UserId) -> Admission {
        self.allowances.admit(action, user)
    }

    /// Takes one of `user`'s allowance for `action` on this node only (for actions not
    /// kept across the deployment: typing, UI state, queries).
    pub fn check_local(&self, action: Action, user: UserId) -> Result<(), ChatError> {
        self.allowances.check_local(action, user)
    }

    /// Forgets rate-limit state of users idle long enough to be back at full allowance.
    pub fn forget_idle_rate_limits(&self) {
        self.allowances.forget_idle();
        self.password_attempts_by_user.retain_recent();
        self.password_attempts_by_address.retain_recent();
    }

    /// A turn to read a page (see `reads`), or `ReadsBusy` after [`READ_TURN_WAIT`].
    async fn read_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ChatError> {
        read_turn(&self.reads, READ_TURN_WAIT).await
    }

    /// A page of history, for members only (others get `not_found`).
    pub async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        page: Page,
        limit: i64,
    ) -> Result<Vec<Message>, ChatError> {
        self.check_local(Action::Query, user)?;
        let _turn = self.read_turn().await?;
        if !db::conversations::is_member(&self.pool, user, conversation).await? {
            return Err(WriteRejection::NotFound("conversation").into());
        }
        Ok(db::messages::history(&self.pool, conversation, user, page, limit).await?)
    }

    /// The messages changed after change number `after`, for members only.
    pub async fn changes(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: i64,
        limit: i64,
    ) -> Result<db::messages::ChangedPage, ChatError> {
        self.check_local(Action::Query, user)?;
        let _turn = self.read_turn().await?;
        db::messages::changes_since(&self.pool, conversation, user, after, limit)
            .await?
            .ok_or(WriteRejection::NotFound("conversation").into())
    }

    /// Who of the conversation's other members has read up to `seq` (read receipts):
    /// their count and the first of them.
    pub async fn seen(
        &self,
        user: UserId,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<(i64, Vec<User>), ChatError> {
        self.check_local(Action::Query, user)?;
        match db::receipts::seen_by(&self.pool, conversation, user, seq).await? {
            db::receipts::SeenBy::Seen { count, users } => Ok((count, users)),
            db::receipts::SeenBy::NotAMember => Err(WriteRejection::NotFound("conversation").into()),
            db::receipts::SeenBy::NotSharing => Err(WriteRejection::Forbidden(
                "you do not share your read receipts, so you are shown no one's; turn them on to see them",
            )
            .into()),
        }
    }

    /// Tells the other members' windows that `user` is typing.
    pub async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        self.check_local(Action::Typing, user)?;
        let audience = db::conversations::audience_if_member(&self.pool, user, conversation)
            .await?
            .ok_or(WriteRejection::NotFound("conversation"))?;
        self.registry.typing.do_send(UserTyped {
            sender: user,
            conversation,
            audience,
        });
        Ok(())
    }
}

/// A turn of `reads` within `wait`, or `ReadsBusy` (answered `rate_limited`).
async fn read_turn(
    reads: &tokio::sync::Semaphore,
    wait: std::time::Duration,
) -> Result<tokio::sync::SemaphorePermit<'_>, ChatError> {
    match tokio::time::timeout(wait, reads.acquire()).await {
        Ok(Ok(turn)) => Ok(turn),
        _ => Err(ChatError::ReadsBusy),
    }
}

#[cfg(test)]
mod tests {
    use super::{read_turn, ChatError};
    use crate::protocol::ErrorCode;
    use std::time::Duration;

    #[tokio::test]
    async fn a_read_without_a_turn_in_time_is_refused_as_rate_limited_and_a_freed_turn_is_taken() {
        let reads = tokio::sync::Semaphore::new(1);
        let held = read_turn(&reads, Duration::from_millis(50)).await.unwrap();
        let refused = read_turn(&reads, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(refused, ChatError::ReadsBusy));
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        assert_eq!(refused.retry_after(), Some(Duration::from_secs(1)));
        drop(held);
        assert!(read_turn(&reads, Duration::from_millis(50)).await.is_ok());
    }
}
