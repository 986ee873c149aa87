//! The `q` of `GET /api/search`, against Postgres itself.
//!
//! Holds: `search::query_text` refuses exactly what its rules name (empty once trimmed,
//! over 200 characters, a NUL, over 20 `-`), always as `bad_request`; and every query it
//! accepts, Postgres parses and runs as the search does (`websearch_to_tsquery('simple',
//! q)`, `@@`, `ts_rank`, and `ts_headline` with the same words and options) over a
//! message written to be expensive for it (the query's own text repeated to the longest
//! body), without an error and within 2 s: an error answers 503, which tells the client
//! to retry a query that can never succeed, and a slow one holds a pooled connection.

#![no_main]

use banter::db::search::{HEADLINE_OPTIONS, HIGHLIGHT_WORDS};
use banter::routes::error::ApiError;
use banter::routes::search::{query_text, MAX_QUERY_CHARS, MAX_QUERY_NOTS};
use banter_fuzz::database;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The expressions of `db::search::messages` (src/db/search.rs) over one body: the
/// query's text repeated up to 4000 characters, the longest a message may be.
fn parse_and_run() -> String {
    format!(
        "SELECT ts_rank(to_tsvector('simple', d.body), q),
                ts_headline('simple', d.body, h.words, '{HEADLINE_OPTIONS}'),
                to_tsvector('simple', d.body) @@ q,
                numnode(q), q::text
         FROM websearch_to_tsquery('simple', $1) AS q
              CROSS JOIN LATERAL ({HIGHLIGHT_WORDS}) AS h,
              (SELECT left(repeat($1 || ' ', 4000 / (length($1) + 1) + 1), 4000) AS body) AS d"
    )
}

/// libFuzzer sees the coverage of this process only, not of Postgres' parser. This turns
/// the shape of what Postgres parsed into edges of ours, so that inputs parsing to new
/// shapes are kept: libFuzzer counts how often each edge runs in buckets (1, 2, 3, 4-7,
/// 8-15, ...), so each loop below tells apart that many sizes.
fn feedback(matched: bool, nodes: i32, parsed: String) {
    use std::hint::black_box;
    for _ in 0..nodes.clamp(0, 256) {
        black_box(0);
    }
    for _ in 0..parsed.matches("<->").count() {
        black_box(1);
    }
    for _ in 0..parsed.matches('!').count() {
        black_box(2);
    }
    for _ in 0..parsed.matches('|').count() {
        black_box(3);
    }
    if matched {
        black_box(4);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let trimmed = raw.trim();
    let refused = trimmed.is_empty()
        || trimmed.chars().count() > MAX_QUERY_CHARS
        || trimmed.contains('\0')
        || trimmed.matches('-').count() > MAX_QUERY_NOTS;
    match query_text(Some(raw)) {
        Err(ApiError::BadRequest(message)) => {
            assert!(refused, "{raw:?} refused: {message}");
            assert!(!message.is_empty());
        }
        Err(other) => panic!("{raw:?} refused with {other:?}, not bad_request"),
        Ok(q) => {
            assert!(!refused, "{raw:?} accepted");
            assert_eq!(q, trimmed);
            static STATEMENT: OnceLock<postgres::Statement> = OnceLock::new();
            let mut db = database();
            let statement =
                STATEMENT.get_or_init(|| db.prepare(&parse_and_run()).expect("prepare"));
            let row = match db.query_one(statement, &[&q]) {
                Ok(row) => row,
                Err(e) => {
                    let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
                    panic!("the search query {q:?} was accepted, but Postgres fails on it ({code}): {e}");
                }
            };
            // The server reads these as a number and a text: never NULL.
            let rank: f32 = row.get(0);
            let headline: Option<String> = row.get(1);
            assert!(rank.is_finite(), "{q:?}: rank {rank}");
            assert!(headline.is_some(), "{q:?}: no headline");
            feedback(row.get(2), row.get(3), row.get(4));
        }
    }
});
