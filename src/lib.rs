pub mod actors;
pub mod chat;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod domain;
pub mod identity;
pub mod metrics;
pub mod protocol;
pub mod routes;
pub mod startup;

/// Formats an error with its whole `source()` chain, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
