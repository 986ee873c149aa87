//! The PersistActor: every write goes through here, grouped into transactions.
//!
//! Writes queue up while a transaction is in flight; when it commits, everything that
//! queued meanwhile goes into the next one (group commit), so throughput grows with load
//! while an idle server commits each write at once. Only after `COMMIT` returns does the
//! actor publish [`WritesCommitted`] (for delivery) and answer the callers (for acks),
//! so nothing is delivered or acknowledged that is not durable. Writes are applied in
//! the order they arrived, and published in that order, which gives every conversation
//! its `seq` order end to end.

use crate::db::writes::{self, WriteConnection, WriteOp, WriteOutcome, WriteRejection};
use crate::db::{DbError, Pool};
use crate::domain::WindowId;
use crate::metrics::Metrics;
use actix::prelude::*;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Which window asked for a write, so its reply (an `ack`) goes to it alone and mirrored
/// frames skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub window: WindowId,
    pub reference: Option<String>,
}

/// Why a write did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PersistError {
    #[error(transparent)]
    Rejected(#[from] WriteRejection),
    /// The database failed (logged with its cause where it happened).
    #[error("storage is unavailable")]
    Unavailable,
}

/// Command: apply `op` durably. Answers once committed (or refused).
#[derive(Message)]
#[rtype(result = "Result<WriteOutcome, PersistError>")]
pub struct ApplyWrite {
    pub op: WriteOp,
    pub origin: Option<Origin>,
}

/// Notification: these writes are committed, in commit order. Sent to the PresenceRegistry
/// (through a `Recipient`), whose fan-out decides what each shows to whom.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct WritesCommitted {
    pub writes: Vec<CommittedWrite>,
}

#[derive(Debug)]
pub struct CommittedWrite {
    pub outcome: WriteOutcome,
    pub origin: Option<Origin>,
    /// When the write reached the PersistActor: the start of delivery latency.
    pub received_at: Instant,
}

struct Pending {
    op: WriteOp,
    origin: Option<Origin>,
    received_at: Instant,
    reply: oneshot::Sender<Result<WriteOutcome, PersistError>>,
}

pub struct PersistActor {
    /// Where the write connection comes from (and comes again from after it broke).
    pool: Pool,
    /// The actor's own connection, out of the pool: commits never queue behind reads for
    /// a connection, and its statements stay prepared. `None` while a transaction holds
    /// it, or after it broke.
    connection: Option<WriteConnection>,
    /// Where committed writes are announced (the PresenceRegistry).
    committed: Recipient<WritesCommitted>,
    queue: VecDeque<Pending>,
    /// A transaction is running; new writes wait for the next one.
    in_flight: bool,
    max_batch: usize,
    metrics: Metrics,
    /// Callers of [`Drain`] waiting for the queue to empty (shutdown).
    drained: Vec<oneshot::Sender<()>>,
    /// `statement_timeout` of the write connection.
    statement_timeout: Duration,
    /// Runs one transaction of writes: [`run_transaction`], unless a test of the guard
    /// around it replaced it ([`PersistActor::transaction_runner`]).
    run: TransactionRunner,
}

/// What a batch's writes come to: each write's result, or the error that sank the whole
/// transaction.
pub type TransactionResult = Result<Vec<Result<WriteOutcome, PersistError>>, DbError>;

/// How one transaction of writes is run on the write connection.
pub type TransactionRunner =
    for<'a> fn(&'a mut WriteConnection, &'a [WriteOp]) -> BoxFuture<'a, TransactionResult>;

/// The write connection's `statement_timeout` unless set
/// (DATABASE_WRITE_STATEMENT_TIMEOUT_MS).
pub const WRITE_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Query: is the actor alive and answering? `/readyz` asks; a stopped actor (or one
/// whose thread is stuck) makes the node not ready.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Health;

/// Command: answer once every write queued so far is committed (graceful shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Drain;

impl PersistActor {
    pub fn new(
        pool: Pool,
        committed: Recipient<WritesCommitted>,
        max_batch: usize,
        metrics: Metrics,
    ) -> Self {
        PersistActor {
            pool,
            connection: None,
            committed,
            queue: VecDeque::new(),
            in_flight: false,
            max_batch: max_batch.max(1),
            metrics,
            drained: Vec::new(),
            statement_timeout: WRITE_STATEMENT_TIMEOUT,
            run: |connection, ops| Box::pin(run_transaction(connection, ops)),
        }
    }

    /// Replaces how a batch's transaction is run. For tests of what surrounds it (a
    /// runner that panics proves a panic is caught at the batch); the server never
    /// calls it.
    pub fn transaction_runner(mut self, run: TransactionRunner) -> Self {
        self.run = run;
        self
    }

    /// Sets the write connection's `statement_timeout`: a statement running longer fails
    /// (and its batch is retried one by one, as after any SQL error).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.queue.is_empty() {
            self.in_flight = false;
            for waiter in self.drained.drain(..) {
                let _ = waiter.send(());
            }
            return;
        }
        self.in_flight = true;
        let n = self.queue.len().min(self.max_batch);
        let batch: Vec<Pending> = self.queue.drain(..n).collect();
        self.metrics.commit_batch_size.observe(n as f64);
        let ops: Vec<WriteOp> = batch.iter().map(|p| p.op.clone()).collect();
        let (pool, connection) = (self.pool.clone(), self.connection.take());
        let (metrics, timeout, run) = (self.metrics.clone(), self.statement_timeout, self.run);
        ctx.spawn(
            async move {
                let started = Instant::now();
                let done = commit(&pool, timeout, connection, ops, run).await;
                metrics
                    .commit_seconds
                    .observe(started.elapsed().as_secs_f64());
                done
            }
            .into_actor(self)
            .map(move |(results, connection), act, ctx| {
                act.connection = connection;
                act.publish(batch, results);
                act.flush(ctx);
            }),
        );
    }

    fn publish(&mut self, batch: Vec<Pending>, results: Vec<Result<WriteOutcome, PersistError>>) {
        let mut committed = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        for (pending, result) in batch.into_iter().zip(results) {
            if let Ok(outcome) = &result {
                if matches!(outcome, WriteOutcome::MessageStored { .. }) {
                    self.metrics.messages_committed.inc();
                }
                committed.push(CommittedWrite {
                    outcome: outcome.clone(),
                    origin: pending.origin,
                    received_at: pending.received_at,
                });
            }
            replies.push((pending.reply, result));
        }
        if !committed.is_empty() {
            self.committed
                .do_send(WritesCommitted { writes: committed });
        }
        for (reply, result) in replies {
            // The caller may have gone (socket closed); the write stands regardless.
            let _ = reply.send(result);
        }
    }
}

/// How long opening the write connection may take before the writes waiting for it are
/// answered `unavailable` (as the pool's own checkout limit).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a transaction did not commit.
#[derive(Debug, thiserror::Error)]
enum TxError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The code applying the writes panicked (a bug). The transaction was dropped, so it
    /// rolled back; the connection is not trusted again.
    #[error("applying the writes panicked: {0}")]
    Panicked(String),
}

/// Commits `ops` in one transaction; if that fails, retries each alone so one bad write
/// cannot sink its neighbours. Hands back the connection while it is still usable.
///
/// A panic while applying the writes is caught here, at the batch: the actor stays up,
/// the connection is replaced, the writes are retried one by one like after a SQL error,
/// and a write that panics alone is answered `unavailable` (its caller hears an error,
/// never silence; a retry with the same `client_id` is safe).
async fn commit(
    pool: &Pool,
    timeout: Duration,
    connection: Option<WriteConnection>,
    ops: Vec<WriteOp>,
    run: TransactionRunner,
) -> (
    Vec<Result<WriteOutcome, PersistError>>,
    Option<WriteConnection>,
) {
    let Some(mut connection) = usable(pool, timeout, connection).await else {
        return (vec![Err(PersistError::Unavailable); ops.len()], None);
    };
    let mut attempt = raced_again(&mut connection, &ops, run).await;
    let broke = |e: &DbError, c: &WriteConnection| e.connection_lost() || !c.is_usable();
    if matches!(&attempt, Err(TxError::Db(e)) if broke(e, &connection)) {
        // The connection broke (Postgres restarted, or dropped it): the transaction
        // rolled back, so the batch is retried once whole on a new connection.
        log::warn!("the write connection broke; reconnecting");
        let Some(fresh) = usable(pool, timeout, None).await else {
            return (vec![Err(PersistError::Unavailable); ops.len()], None);
        };
        connection = fresh;
        attempt = raced_again(&mut connection, &ops, run).await;
    }
    let mut connection = Some(connection);
    let results = match attempt {
        Ok(results) => results,
        Err(e) if ops.len() == 1 => {
            log::error!("write failed: {}", crate::error_chain(&e));
            if matches!(e, TxError::Panicked(_)) {
                connection = None;
            }
            vec![Err(PersistError::Unavailable)]
        }
        Err(e) => {
            log::warn!(
                "batch of {} writes failed, retrying one by one: {}",
                ops.len(),
                crate::error_chain(&e)
            );
            if matches!(e, TxError::Panicked(_)) {
                connection = None;
            }
            let mut results = Vec::with_capacity(ops.len());
            for op in &ops {
                let Some(mut c) = usable(pool, timeout, connection.take()).await else {
                    // No connection to be had: the rest would wait for it in vain.
                    results.resize(ops.len(), Err(PersistError::Unavailable));
                    break;
                };
                results.push(
                    match raced_again(&mut c, std::slice::from_ref(op), run).await {
                        Ok(mut r) => {
                            connection = Some(c);
                            r.pop().unwrap_or(Err(PersistError::Unavailable))
                        }
                        Err(e) => {
                            log::error!("write failed: {}", crate::error_chain(&e));
                            if !matches!(e, TxError::Panicked(_)) {
                                connection = Some(c);
                            }
                            Err(PersistError::Unavailable)
                        }
                    },
                );
            }
            results
        }
    };
    (results, connection.filter(WriteConnection::is_usable))
}

/// [`guarded`], run once more when it lost a race to another commit
/// ([`DbError::lost_a_race`]): the second run sees what the other committed, so a resend
/// that another node stored first is answered as the stored message, not refused.
async fn raced_again(
    connection: &mut WriteConnection,
    ops: &[WriteOp],
    run: TransactionRunner,
) -> Result<Vec<Result<WriteOutcome, PersistError>>, TxError> {
    match guarded(connection, ops, run).await {
        Err(TxError::Db(e)) if e.lost_a_race() => {
            log::info!(
                "{} write(s) lost a race to another commit, running them again: {}",
                ops.len(),
                crate::error_chain(&e)
            );
            guarded(connection, ops, run).await
        }
        other => other,
    }
}

/// `run`, with a panic inside it caught and turned into an error.
async fn guarded(
    connection: &mut WriteConnection,
    ops: &[WriteOp],
    run: TransactionRunner,
) -> Result<Vec<Result<WriteOutcome, PersistError>>, TxError> {
    match std::panic::AssertUnwindSafe(run(connection, ops))
        .catch_unwind()
        .await
    {
        Ok(done) => Ok(done?),
        Err(panic) => Err(TxError::Panicked(
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into()),
        )),
    }
}

/// `connection` if it still works, else a new one (`None`, logged, if Postgres is out of
/// reach).
/// A new connection gets the write path's own `statement_timeout`.
async fn usable(
    pool: &Pool,
    timeout: Duration,
    connection: Option<WriteConnection>,
) -> Option<WriteConnection> {
    if let Some(c) = connection.filter(WriteConnection::is_usable) {
        return Some(c);
    }
    let open = async {
        let client = pool.dedicated_connection().await?;
        crate::db::set_statement_timeout(&client, timeout).await?;
        Ok::<_, DbError>(client)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, open).await {
        Ok(Ok(client)) => Some(client),
        Ok(Err(e)) => {
            log::error!(
                "no database connection for writes: {}",
                crate::error_chain(&e)
            );
            None
        }
        Err(_) => {
            log::error!("no database connection for writes within {CONNECT_TIMEOUT:?}");
            None
        }
    }
}

/// Applies `ops` in one transaction and commits it: how every batch is written.
pub async fn run_transaction(
    connection: &mut WriteConnection,
    ops: &[WriteOp],
) -> TransactionResult {
    let tx = connection.transaction().await?;
    let results = writes::apply_batch(&tx, ops).await?;
    tx.commit().await?;
    Ok(results
        .into_iter()
        .map(|r| r.map_err(PersistError::Rejected))
        .collect())
}

impl Actor for PersistActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Callers rely on mailbox order for write order; never make them wait for space.
        ctx.set_mailbox_capacity(super::LARGE_MAILBOX);
    }
}

impl Handler<ApplyWrite> for PersistActor {
    type Result = ResponseFuture<Result<WriteOutcome, PersistError>>;

    fn handle(&mut self, msg: ApplyWrite, ctx: &mut Self::Context) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        self.queue.push_back(Pending {
            op: msg.op,
            origin: msg.origin,
            received_at: Instant::now(),
            reply,
        });
        if !self.in_flight {
            self.flush(ctx);
        }
        Box::pin(async move { answer.await.unwrap_or(Err(PersistError::Unavailable)) })
    }
}

impl Handler<Drain> for PersistActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: Drain, _ctx: &mut Self::Context) -> Self::Result {
        if !self.in_flight && self.queue.is_empty() {
            return Box::pin(async {});
        }
        let (tx, rx) = oneshot::channel();
        self.drained.push(tx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<Health> for PersistActor {
    type Result = ();

    fn handle(&mut self, _msg: Health, _ctx: &mut Self::Context) {}
}
