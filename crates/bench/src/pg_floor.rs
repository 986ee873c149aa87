//! Scenario `pg-floor`: the floor of the message write path, measured on the server's own
//! database. In a throwaway schema (`bench_floor_<random>`, dropped at the end) with the
//! `conversations` and `messages` tables as the migrations make them (the same columns,
//! constraints, foreign keys, the search tsvector with its GIN index, `reply_to`), a few
//! connections insert messages closed-loop for `--duration`, each transaction doing the
//! minimum a group commit does: one `UPDATE conversations SET last_seq = last_seq + n`
//! over the batch's conversations, one `INSERT … SELECT FROM unnest(…)` of the batch,
//! `COMMIT` (with `synchronous_commit` as the database has it). It runs twice, with
//! `--batch` rows per transaction and with one, to show what batching buys.
//!
//! `--users` is the number of conversations (user `i` writes to `i+1`, as in `dm`), split
//! between the `--windows` connections so they never wait on each other's row locks.

use super::stats::{histogram, percentiles_ms};
use super::BenchArgs;
use super::{Host, PgPool};
use anyhow::Context as _;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The tables, as sql/V1 to V4 make them, in schema `{s}`.
fn schema_sql(s: &str) -> String {
    format!(
        "CREATE SCHEMA {s};
        CREATE TABLE {s}.users (id uuid PRIMARY KEY);
        CREATE TABLE {s}.conversations (
            id             uuid PRIMARY KEY,
            kind           text NOT NULL CHECK (kind IN ('direct', 'room')),
            name           text,
            password_hash  text,
            created_by     uuid REFERENCES {s}.users (id) ON DELETE SET NULL,
            last_seq       bigint NOT NULL DEFAULT 0,
            created_at     timestamptz NOT NULL DEFAULT now(),
            CHECK (kind = 'room' OR (name IS NULL AND password_hash IS NULL)),
            CHECK (kind = 'direct' OR name IS NOT NULL)
        );
        CREATE UNIQUE INDEX ON {s}.conversations (lower(name)) WHERE kind = 'room';
        CREATE TABLE {s}.messages (
            id               uuid PRIMARY KEY,
            conversation_id  uuid NOT NULL REFERENCES {s}.conversations (id) ON DELETE CASCADE,
            seq              bigint NOT NULL CHECK (seq > 0),
            sender_id        uuid NOT NULL REFERENCES {s}.users (id) ON DELETE CASCADE,
            body             text NOT NULL,
            client_id        text NOT NULL,
            created_at       timestamptz NOT NULL DEFAULT now(),
            search           tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
            reply_to         bigint CHECK (reply_to > 0 AND reply_to < seq),
            UNIQUE (conversation_id, seq),
            UNIQUE (sender_id, client_id)
        );
        CREATE INDEX ON {s}.messages USING GIN (search);"
    )
}

/// Conversation `i` and its sender, user `i`.
#[derive(Debug, Clone, Copy)]
struct Conversation {
    id: Uuid,
    sender: Uuid,
}

/// Empty tables and `users` direct conversations, each with its sender.
async fn seed(pool: &PgPool, s: &str, users: usize) -> anyhow::Result<Vec<Conversation>> {
    let conn = pool.get().await?;
    conn.batch_execute(&format!(
        "TRUNCATE {s}.messages, {s}.conversations, {s}.users"
    ))
    .await?;
    let conversations: Vec<Conversation> = (0..users)
        .map(|_| Conversation {
            id: Uuid::new_v4(),
            sender: Uuid::new_v4(),
        })
        .collect();
    let senders: Vec<Uuid> = conversations.iter().map(|c| c.sender).collect();
    let ids: Vec<Uuid> = conversations.iter().map(|c| c.id).collect();
    conn.execute(
        &format!("INSERT INTO {s}.users (id) SELECT unnest($1::uuid[])"),
        &[&senders],
    )
    .await?;
    conn.execute(
        &format!(
            "INSERT INTO {s}.conversations (id, kind, created_by)
             SELECT id, 'direct', u FROM unnest($1::uuid[], $2::uuid[]) AS t(id, u)"
        ),
        &[&ids, &senders],
    )
    .await?;
    conn.batch_execute(&format!("ANALYZE {s}.users, {s}.conversations"))
        .await?;
    Ok(conversations)
}

/// The start and the end of a phase, set by whoever passes the starting barrier first.
type Clock = Arc<std::sync::OnceLock<(Instant, Instant)>>;

fn starting(duration: Duration) -> (Instant, Instant) {
    let now = Instant::now();
    (now, now + duration)
}

/// What one connection did in a phase.
struct Worked {
    rows: u64,
    commits: u64,
    commit: Histogram<u64>,
    transaction: Histogram<u64>,
    finished: Instant,
}

/// What one connection is to do in a phase.
struct Job {
    schema: String,
    /// Its share of the conversations.
    mine: Vec<Conversation>,
    batch: usize,
    body: Arc<str>,
    run: String,
    go: Arc<tokio::sync::Barrier>,
    clock: Clock,
    duration: Duration,
}

type Connection = bb8::PooledConnection<
    'static,
    bb8_postgres::PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>,
>;

/// One connection: transactions of `batch` rows over its conversations until the end.
async fn work(mut conn: Connection, job: Job) -> anyhow::Result<Worked> {
    let Job {
        schema: s,
        mine,
        batch,
        body,
        run,
        go,
        clock,
        duration,
    } = job;
    let update = format!(
        "UPDATE {s}.conversations c SET last_seq = c.last_seq + v.n
         FROM unnest($1::uuid[], $2::int8[]) AS v(id, n) WHERE c.id = v.id
         RETURNING c.id, c.last_seq"
    );
    let insert = format!(
        "INSERT INTO {s}.messages (id, conversation_id, seq, sender_id, body, client_id, created_at, reply_to)
         SELECT id, c, s, u, b, cl, clock_timestamp(), rt
         FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::int8[])
              AS t(id, c, s, u, b, cl, rt)
         RETURNING id, created_at"
    );
    let prepared = async {
        Ok::<_, tokio_postgres::Error>((conn.prepare(&update).await?, conn.prepare(&insert).await?))
    }
    .await;
    // Reach the starting barrier even on failure, so the others are not left waiting.
    go.wait().await;
    let (update, insert) = prepared?;
    let (start, deadline) = *clock.get_or_init(|| starting(duration));
    let mut worked = Worked {
        rows: 0,
        commits: 0,
        commit: histogram(),
        transaction: histogram(),
        finished: start,
    };
    let mut cursor = 0usize;
    let mut k = 0u64;
    while Instant::now() < deadline {
        let began = Instant::now();
        // The batch: rows spread over this connection's conversations in turn.
        let rows: Vec<Conversation> = (0..batch)
            .map(|j| mine[(cursor + j) % mine.len()])
            .collect();
        cursor = (cursor + batch) % mine.len();
        let mut counts: HashMap<Uuid, i64> = HashMap::new();
        for c in &rows {
            *counts.entry(c.id).or_default() += 1;
        }
        let mut ids: Vec<Uuid> = counts.keys().copied().collect();
        ids.sort();
        let n_per: Vec<i64> = ids.iter().map(|id| counts[id]).collect();

        let tx = conn.transaction().await?;
        let mut next_seq: HashMap<Uuid, i64> = HashMap::new();
        for row in tx.query(&update, &[&ids, &n_per]).await? {
            let (id, last): (Uuid, i64) = (row.get(0), row.get(1));
            next_seq.insert(id, last - counts[&id] + 1);
        }
        let message_ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
        let conversations: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
        let senders: Vec<Uuid> = rows.iter().map(|c| c.sender).collect();
        let seqs: Vec<i64> = rows
            .iter()
            .map(|c| {
                let seq = next_seq.get_mut(&c.id).expect("updated above");
                *seq += 1;
                *seq - 1
            })
            .collect();
        let at_us = start.elapsed().as_micros();
        let bodies: Vec<&str> = rows.iter().map(|_| &*body).collect();
        let client_ids: Vec<String> = (0..batch)
            .map(|j| format!("b{run}-{}-{at_us}", k + j as u64))
            .collect();
        let replies: Vec<Option<i64>> = vec![None; batch];
        tx.query(
            &insert,
            &[
                &message_ids,
                &conversations,
                &seqs,
                &senders,
                &bodies,
                &client_ids,
                &replies,
            ],
        )
        .await?;
        let committing = Instant::now();
        tx.commit().await?;
        let done = Instant::now();
        let _ = worked
            .commit
            .record((done - committing).as_micros().max(1) as u64);
        let _ = worked
            .transaction
            .record((done - began).as_micros().max(1) as u64);
        worked.rows += batch as u64;
        worked.commits += 1;
        worked.finished = done;
        k += batch as u64;
    }
    Ok(worked)
}

/// One phase: fresh tables, `connections` workers, `batch` rows per transaction.
async fn phase(pool: &PgPool, s: &str, args: &BenchArgs, batch: usize) -> anyhow::Result<Value> {
    let conversations = seed(pool, s, args.users).await?;
    let connections = args.windows.min(args.users);
    let body: Arc<str> = "x".repeat(args.body.max(1)).into();
    let run = Uuid::new_v4().simple().to_string()[..8].to_owned();
    let go = Arc::new(tokio::sync::Barrier::new(connections + 1));
    let clock: Clock = Arc::default();
    let mut workers = Vec::new();
    for w in 0..connections {
        let mine: Vec<Conversation> = conversations
            .iter()
            .skip(w)
            .step_by(connections)
            .copied()
            .collect();
        let job = Job {
            schema: s.to_owned(),
            mine,
            batch,
            body: body.clone(),
            run: run.clone(),
            go: go.clone(),
            clock: clock.clone(),
            duration: args.duration,
        };
        workers.push(tokio::spawn(work(pool.get_owned().await?, job)));
    }
    // Once every connection has prepared its statements, the clock starts for all.
    go.wait().await;
    let (start, _) = *clock.get_or_init(|| starting(args.duration));

    let (mut rows, mut commits) = (0u64, 0u64);
    let (mut commit, mut transaction) = (histogram(), histogram());
    let mut finished = start;
    for w in workers {
        let worked = w.await??;
        rows += worked.rows;
        commits += worked.commits;
        commit.add(&worked.commit)?;
        transaction.add(&worked.transaction)?;
        finished = finished.max(worked.finished);
    }
    let secs = (finished - start).as_secs_f64().max(1e-9);

    // Everything committed is there, once, with gapless sequence numbers.
    let conn = pool.get().await?;
    let row = conn
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM {s}.messages),
                        (SELECT coalesce(sum(last_seq), 0)::int8 FROM {s}.conversations)"
            ),
            &[],
        )
        .await?;
    let (stored, sequenced): (i64, i64) = (row.get(0), row.get(1));
    anyhow::ensure!(
        stored as u64 == rows && sequenced as u64 == rows,
        "{rows} rows committed, but {stored} stored and {sequenced} sequenced"
    );

    Ok(json!({
        "batch": batch,
        "seconds": (secs * 100.0).round() / 100.0,
        "rows": rows,
        "commits": commits,
        "rows_per_s": (rows as f64 / secs).round(),
        "commits_per_s": (commits as f64 / secs).round(),
        "commit_latency_ms": percentiles_ms(&commit),
        "transaction_latency_ms": percentiles_ms(&transaction),
    }))
}

pub async fn run(args: BenchArgs, host: &Host) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.users >= 1 && args.windows >= 1 && args.batch >= 1,
        "need at least 1 user (conversation), 1 window (connection) and a batch of 1"
    );
    let connections = args.windows.min(args.users);
    let pool = (host.postgres)(connections as u32 + 1)
        .await
        .context("needs DATABASE_URL")?;
    let schema = format!("bench_floor_{}", &Uuid::new_v4().simple().to_string()[..8]);
    let settings = {
        let conn = pool.get().await?;
        let row = conn
            .query_one(
                "SELECT current_setting('synchronous_commit'), current_setting('fsync'),
                        current_setting('server_version')",
                &[],
            )
            .await?;
        let settings: (String, String, String) = (row.get(0), row.get(1), row.get(2));
        conn.batch_execute(&schema_sql(&schema))
            .await
            .context("creating the floor's tables")?;
        settings
    };
    eprintln!(
        "pg-floor in schema {schema}: {connections} connections, {} conversations, {}-character bodies, \
         {:?} per batch size; Postgres {}, synchronous_commit={}, fsync={}",
        args.users, args.body, args.duration, settings.2, settings.0, settings.1
    );

    let measured = async {
        let batched = phase(&pool, &schema, &args, args.batch).await?;
        let single = if args.batch == 1 {
            batched.clone()
        } else {
            phase(&pool, &schema, &args, 1).await?
        };
        anyhow::Ok((batched, single))
    }
    .await;
    let dropped = match pool.get().await {
        Ok(conn) => conn
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    let (batched, single) = measured?;
    dropped.with_context(|| format!("dropping schema {schema}"))?;

    let line = |name: &str, p: &Value| {
        let f = |v: &Value| v.as_f64().unwrap_or(0.0);
        let (commit, transaction) = (&p["commit_latency_ms"], &p["transaction_latency_ms"]);
        eprintln!(
            "{name:>10}: {:.0} rows/s, {:.0} commits/s; COMMIT p50 {:.1} / p99 {:.1} ms; \
             whole transaction p50 {:.1} / p99 {:.1} ms",
            f(&p["rows_per_s"]),
            f(&p["commits_per_s"]),
            f(&commit["p50"]),
            f(&commit["p99"]),
            f(&transaction["p50"]),
            f(&transaction["p99"]),
        )
    };
    eprintln!();
    line(&format!("batch {}", args.batch), &batched);
    line("batch 1", &single);
    let gain = batched["rows_per_s"].as_f64().unwrap_or(0.0)
        / single["rows_per_s"].as_f64().unwrap_or(0.0).max(1.0);
    eprintln!("batching: {gain:.1} times the rows/s of one row per commit");
    let report = json!({
        "scenario": args.scenario,
        "connections": connections,
        "conversations": args.users,
        "body": args.body,
        "postgres": settings.2,
        "synchronous_commit": settings.0,
        "fsync": settings.1,
        "batched": batched,
        "single": single,
        "batching_gain": (gain * 10.0).round() / 10.0,
    });
    println!("{report}");
    anyhow::ensure!(
        batched["rows"].as_u64() > Some(0) && single["rows"].as_u64() > Some(0),
        "nothing committed"
    );
    Ok(())
}
