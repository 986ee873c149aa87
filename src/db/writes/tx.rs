//! The write transaction: a `tokio_postgres` transaction on the PersistActor's own
//! connection whose statements are prepared once and reused.
//!
//! Preparing a statement costs a round trip to Postgres; a group commit runs about ten
//! statements, so preparing each on every commit would double the round trips on the
//! path every message takes. The cache lives as long as the connection (prepared
//! statements belong to it); the write SQL texts are fixed in the code, so it holds a
//! few dozen statements at most.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Error, Row, Statement, Transaction};

/// Statements prepared on one connection, by their SQL text.
#[derive(Default)]
pub struct StatementCache(Mutex<HashMap<String, Statement>>);

impl StatementCache {
    fn get(&self, sql: &str) -> Option<Statement> {
        self.0.lock().ok()?.get(sql).cloned()
    }

    fn put(&self, sql: &str, statement: Statement) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(sql.to_owned(), statement);
        }
    }
}

/// The PersistActor's connection: it never waits on the shared pool behind reads, and
/// keeps its prepared statements.
pub struct WriteConnection {
    client: Client,
    statements: StatementCache,
}

impl WriteConnection {
    pub fn new(client: Client) -> Self {
        WriteConnection {
            client,
            statements: StatementCache::default(),
        }
    }

    /// False once the connection broke; the PersistActor then opens another.
    pub fn is_usable(&self) -> bool {
        !self.client.is_closed()
    }

    pub async fn transaction(&mut self) -> Result<Tx<'_>, Error> {
        Ok(Tx {
            inner: self.client.transaction().await?,
            statements: &self.statements,
        })
    }
}

/// A write transaction: the queries of `tokio_postgres::Transaction`, over cached
/// statements.
pub struct Tx<'a> {
    inner: Transaction<'a>,
    statements: &'a StatementCache,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl Tx<'_> {
    async fn statement(&self, sql: &str) -> Result<Statement, Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement);
        }
        let statement = self.inner.prepare(sql).await?;
        self.statements.put(sql, statement.clone());
        Ok(statement)
    }

    pub async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        self.inner.query(&self.statement(sql).await?, params).await
    }

    pub async fn query_opt(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, Error> {
        self.inner
            .query_opt(&self.statement(sql).await?, params)
            .await
    }

    pub async fn query_one(&self, sql: &str, params: Params<'_>) -> Result<Row, Error> {
        self.inner
            .query_one(&self.statement(sql).await?, params)
            .await
    }

    pub async fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64, Error> {
        self.inner
            .execute(&self.statement(sql).await?, params)
            .await
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.inner.commit().await
    }
}
