//! Connections that keep their prepared statements: every connection of the pool, and
//! the PersistActor's own.
//!
//! A query sent as text is parsed and planned by Postgres every time it runs. For the
//! queries a connect storm repeats thousands of times (a page of history, a membership
//! check, the batched snapshot) planning cost more of Postgres's CPU than running them:
//! 0.4 ms of planning against 0.07 ms of execution for a page of history, measured with
//! `pg_stat_statements`. Prepared once per connection and kept, a statement is planned
//! for its first five runs; then Postgres uses one generic plan from then on if it
//! estimates that plan no dearer than those (`plan_cache_mode = auto`), so the planning
//! stops, and otherwise goes on planning for the values (decision 0030 says where a
//! generic plan could be the wrong choice).
//!
//! The cache is per connection (prepared statements belong to one session) and bounded:
//! Banter's SQL texts are fixed in the code, so it holds about a hundred at most, and a text
//! past the bound is prepared for that one use, as an uncached query would be.

use bb8::ManageConnection;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row, Socket, Statement, Transaction};

/// How many statements one connection keeps. The code has about a hundred SQL texts.
const KEPT: usize = 256;

/// Statements prepared on one connection, by their SQL text.
#[derive(Default)]
pub struct StatementCache(Mutex<HashMap<String, Statement>>);

impl StatementCache {
    fn get(&self, sql: &str) -> Option<Statement> {
        self.0.lock().ok()?.get(sql).cloned()
    }

    fn put(&self, sql: &str, statement: &Statement) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() < KEPT {
                map.insert(sql.to_owned(), statement.clone());
            }
        }
    }

    /// Forgets `sql`'s statement: the table it reads changed shape (a migration run by
    /// another node), and Postgres refuses to run it again.
    fn forget(&self, sql: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(sql);
        }
    }

    /// How many statements are kept.
    pub fn kept(&self) -> usize {
        self.0.lock().map(|map| map.len()).unwrap_or(0)
    }

    /// `sql` prepared on `client`: the kept statement, or a new one (then kept).
    async fn prepared<C: tokio_postgres::GenericClient>(
        &self,
        client: &C,
        sql: &str,
    ) -> Result<Statement, Error> {
        if let Some(statement) = self.get(sql) {
            return Ok(statement);
        }
        let statement = client.prepare(sql).await?;
        self.put(sql, &statement);
        Ok(statement)
    }
}

/// Did Postgres refuse a kept statement because what it reads changed shape since it
/// was prepared (SQLSTATE 0A000, "cached plan must not change result type")?
fn went_stale(e: &Error) -> bool {
    e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// A connection and the statements prepared on it. Queries given as SQL text run as
/// kept statements; everything else of [`Client`] is reached through `Deref`.
pub struct CachedClient {
    client: Client,
    statements: StatementCache,
}

/// Runs `$call` with `sql`'s kept statement; a statement that went stale is forgotten
/// and the query prepared again, once.
macro_rules! with_kept {
    ($self:expr, $client:expr, $sql:expr, |$statement:ident| $call:expr) => {{
        let $statement = $self.statements.prepared($client, $sql).await?;
        match $call.await {
            Err(e) if went_stale(&e) => {
                $self.statements.forget($sql);
                let $statement = $self.statements.prepared($client, $sql).await?;
                $call.await
            }
            done => done,
        }
    }};
}

impl CachedClient {
    pub fn new(client: Client) -> Self {
        CachedClient {
            client,
            statements: StatementCache::default(),
        }
    }

    /// False once the connection broke.
    pub fn is_usable(&self) -> bool {
        !self.client.is_closed()
    }

    /// The connection itself, for what needs it whole (the migration runner). DDL run
    /// through it can leave kept statements stale; they are prepared again when
    /// Postgres refuses them.
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The statements kept on this connection.
    pub fn statements(&self) -> &StatementCache {
        &self.statements
    }

    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        with_kept!(self, &self.client, sql, |s| self.client.query(&s, params))
    }

    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        with_kept!(self, &self.client, sql, |s| self
            .client
            .query_one(&s, params))
    }

    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        with_kept!(self, &self.client, sql, |s| self
            .client
            .query_opt(&s, params))
    }

    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        with_kept!(self, &self.client, sql, |s| self.client.execute(&s, params))
    }

    /// A read-write transaction whose queries use the kept statements.
    pub async fn transaction(&mut self) -> Result<Tx<'_>, Error> {
        Ok(Tx {
            inner: self.client.transaction().await?,
            statements: &self.statements,
        })
    }

    /// A read-only transaction on one snapshot of the database (`REPEATABLE READ`), whose
    /// queries use the kept statements.
    pub async fn snapshot(&mut self) -> Result<Tx<'_>, Error> {
        let inner = self
            .client
            .build_transaction()
            .read_only(true)
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await?;
        Ok(Tx {
            inner,
            statements: &self.statements,
        })
    }
}

impl std::ops::Deref for CachedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// A transaction: the queries of `tokio_postgres::Transaction`, over kept statements.
///
/// A kept statement that went stale fails the transaction (Postgres aborts it on any
/// error) and is forgotten, so the caller's next try prepares it again.
pub struct Tx<'a> {
    inner: Transaction<'a>,
    statements: &'a StatementCache,
}

/// Forgets `sql`'s statement if `result` says it went stale.
fn forget_if_stale<T>(
    statements: &StatementCache,
    sql: &str,
    result: Result<T, Error>,
) -> Result<T, Error> {
    if let Err(e) = &result {
        if went_stale(e) {
            statements.forget(sql);
        }
    }
    result
}

impl Tx<'_> {
    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        let statement = self.statements.prepared(&self.inner, sql).await?;
        let done = self.inner.query(&statement, params).await;
        forget_if_stale(self.statements, sql, done)
    }

    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        let statement = self.statements.prepared(&self.inner, sql).await?;
        let done = self.inner.query_opt(&statement, params).await;
        forget_if_stale(self.statements, sql, done)
    }

    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        let statement = self.statements.prepared(&self.inner, sql).await?;
        let done = self.inner.query_one(&statement, params).await;
        forget_if_stale(self.statements, sql, done)
    }

    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        let statement = self.statements.prepared(&self.inner, sql).await?;
        let done = self.inner.execute(&statement, params).await;
        forget_if_stale(self.statements, sql, done)
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.inner.commit().await
    }
}

/// The pool's connection manager: Postgres connections (as `bb8_postgres` opens them),
/// each with its own [`StatementCache`].
#[derive(Clone, Debug)]
pub struct CachingManager<Tls: MakeTlsConnect<Socket>>(
    bb8_postgres::PostgresConnectionManager<Tls>,
);

impl<Tls: MakeTlsConnect<Socket>> CachingManager<Tls> {
    pub fn new(config: tokio_postgres::Config, tls: Tls) -> Self {
        CachingManager(bb8_postgres::PostgresConnectionManager::new(config, tls))
    }
}

impl<Tls> ManageConnection for CachingManager<Tls>
where
    Tls: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
    <Tls as MakeTlsConnect<Socket>>::Stream: Send + Sync,
    <Tls as MakeTlsConnect<Socket>>::TlsConnect: Send,
    <<Tls as MakeTlsConnect<Socket>>::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    type Connection = CachedClient;
    type Error = Error;

    async fn connect(&self) -> Result<CachedClient, Error> {
        Ok(CachedClient::new(self.0.connect().await?))
    }

    async fn is_valid(&self, conn: &mut CachedClient) -> Result<(), Error> {
        self.0.is_valid(&mut conn.client).await
    }

    fn has_broken(&self, conn: &mut CachedClient) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}
