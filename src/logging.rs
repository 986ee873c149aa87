//! The log: env_logger filtered by `RUST_LOG` (default `info`), under ceilings that no
//! `RUST_LOG` lifts for the crates that would write secrets into it.
//!
//! tokio-postgres logs every statement's parameters at `debug` (message bodies, argon2
//! hashes of room passwords, the session root key while it is stored) and the text of
//! batches; `RUST_LOG=debug`, or `tokio_postgres::query=trace`, would put them all in the
//! log. The ceilings are applied to every record, after and regardless of the filter.

use log::{Level, LevelFilter, Log, Metadata, Record};

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

/// Installs the logger for the process (`main` calls it once).
pub fn init() -> Result<(), log::SetLoggerError> {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(DEFAULT_FILTER))
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
