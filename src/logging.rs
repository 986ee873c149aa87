//! The log: env_logger filtered by `RUST_LOG` (default `info`), under ceilings that no
//! `RUST_LOG` lifts for the crates that would write secrets into it, one line per event
//! in logfmt (`ts=… level=info target=… msg="…" user=… window=…`), the format Heroku's
//! own router lines and most log add-ons read (decision 0022).
//!
//! tokio-postgres logs every statement's parameters at `debug` (message bodies, argon2
//! hashes of room passwords, the session root key while it is stored) and the text of
//! batches; `RUST_LOG=debug`, or `tokio_postgres::query=trace`, would put them all in the
//! log. The ceilings are applied to every record, after and regardless of the filter.

use log::kv::{Error as KvError, Key, Value, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::fmt::Write as _;
use std::io::Write as _;

/// Filter when `RUST_LOG` is unset: our `info`, quieter for the chatty dependencies.
const DEFAULT_FILTER: &str = "info,refinery_core=warn,tokio_postgres=warn";

/// Crates (with their modules) whose records above a level never reach the log.
const CEILINGS: &[(&str, LevelFilter)] = &[
    // Statement parameters and batch text at debug; server notices at info.
    ("tokio_postgres", LevelFilter::Info),
    ("postgres_protocol", LevelFilter::Info),
    // Migration SQL (no secrets today; kept out all the same).
    ("refinery_core", LevelFilter::Info),
    // Commands carry event payloads (message bodies) between nodes.
    ("redis", LevelFilter::Info),
    ("bb8_redis", LevelFilter::Info),
];

/// Whether a record of `target` at `level` is allowed through the ceilings.
fn within_ceilings(target: &str, level: Level) -> bool {
    CEILINGS
        .iter()
        .filter(|(krate, _)| {
            target
                .strip_prefix(krate)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
        .all(|(_, ceiling)| level <= *ceiling)
}

/// env_logger's logger with the ceilings on top.
struct Capped {
    inner: env_logger::Logger,
}

impl Log for Capped {
    fn enabled(&self, metadata: &Metadata) -> bool {
        within_ceilings(metadata.target(), metadata.level()) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if within_ceilings(record.target(), record.level()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// A logfmt value: bare when it is one plain word, else quoted with `"` and `\` escaped
/// and line breaks written as `\n` (one event, one line).
fn logfmt_value(out: &mut String, value: &str) {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
    if plain {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a record's key-values as ` key=value`.
struct Pairs<'a>(&'a mut String);

impl<'kvs> VisitSource<'kvs> for Pairs<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), KvError> {
        let _ = write!(self.0, " {key}=");
        logfmt_value(self.0, &value.to_string());
        Ok(())
    }
}

/// One record as one logfmt line (without the timestamp, which the writer adds).
fn logfmt_line(record: &Record) -> String {
    let mut line = format!(
        "level={} target={} msg=",
        record.level().as_str().to_ascii_lowercase(),
        record.target()
    );
    logfmt_value(&mut line, &record.args().to_string());
    let _ = record.key_values().visit(&mut Pairs(&mut line));
    line
}

/// Installs the logger for the process (`main` calls it once).
pub fn init() -> Result<(), log::SetLoggerError> {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(DEFAULT_FILTER))
            .format(|buf, record| {
                let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
                writeln!(buf, "ts={ts} {}", logfmt_line(record))
            })
            .build();
    let max = inner.filter();
    log::set_boxed_logger(Box::new(Capped { inner }))?;
    log::set_max_level(max);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_logfmt_line_with_its_pairs() {
        let line = logfmt_line(
            &Record::builder()
                .level(Level::Info)
                .target("banter::socket")
                .args(format_args!("socket closed"))
                .key_values(&[("user", "u-1"), ("reason", "said \"bye\"\nthen left")])
                .build(),
        );
        assert_eq!(
            line,
            r#"level=info target=banter::socket msg="socket closed" user=u-1 reason="said \"bye\"\nthen left""#
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn postgres_and_redis_records_above_info_never_pass() {
        for target in ["tokio_postgres", "tokio_postgres::query", "redis::aio::x"] {
            assert!(!within_ceilings(target, Level::Debug), "{target}");
            assert!(!within_ceilings(target, Level::Trace), "{target}");
            assert!(within_ceilings(target, Level::Info), "{target}");
            assert!(within_ceilings(target, Level::Warn), "{target}");
        }
        // Only those crates: ours, and a crate whose name merely starts the same, pass.
        assert!(within_ceilings("banter::startup", Level::Trace));
        assert!(within_ceilings("redistribute", Level::Debug));
    }
}
