//! Settings read from the environment (SPEC §2), and the protocol limits (SPEC §7).
//!
//! Reading is a pure function of a lookup closure so tests can build settings without
//! touching the process environment. A missing or malformed setting is a [`ConfigError`]
//! whose `Display` is the one line `main` prints before exiting.

use crate::identity::{EmailVerifiedPolicy, KeyEncryptionKey};
use std::path::PathBuf;
use std::time::Duration;

/// Why the configuration could not be read; each names the variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// Everything `banter serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Interface to bind; Heroku's router reaches the dyno on 0.0.0.0.
    pub host: String,
    /// HTTP port; 0 asks the OS for a free one (tests).
    pub port: u16,
    pub database_url: String,
    /// Most Postgres connections this node opens (small plans have small limits).
    pub database_pool_size: u32,
    /// `statement_timeout` of every pooled connection (DATABASE_STATEMENT_TIMEOUT_MS,
    /// default 5 s): no read (search, history, member lists) holds a connection longer.
    pub statement_timeout: Duration,
    /// `statement_timeout` of the PersistActor's connection
    /// (DATABASE_WRITE_STATEMENT_TIMEOUT_MS, default 10 s; room deletions take longest).
    pub write_statement_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_MS`: the most a SIGTERM may take from signal to exit, whatever
    /// hangs (a stuck write, an unreachable Redis): Heroku kills a dyno 30 s after it.
    pub shutdown_timeout: Duration,
    /// `None` runs a single node; the cluster mirror needs it.
    pub redis_url: Option<String>,
    /// How a `rediss://` server's certificate is checked.
    pub redis_tls: RedisTls,
    /// Every Redis key and channel starts with this (several deployments, or tests, can
    /// share one Redis).
    pub redis_key_prefix: String,
    /// How often this node proves it is alive, and how long others wait before reaping it.
    pub heartbeat_interval: Duration,
    pub node_ttl: Duration,
    pub oidc: OidcSettings,
    /// Hex Ed25519 root key; `None` means "generate once and share through Postgres".
    pub biscuit_private_key: Option<String>,
    /// `ROOT_KEY_ENCRYPTION_KEY`: seals the root key kept in Postgres (needed unless
    /// `biscuit_private_key` is set).
    pub root_key_encryption: Option<KeyEncryptionKey>,
    /// Origins allowed to open WebSockets; `None` means "the server's own origin".
    pub allowed_origins: Option<Vec<String>>,
    pub static_dir: PathBuf,
    /// This node's name in logs, metrics and the cluster mirror: it names the node's
    /// heartbeat and user set in Redis, so two live processes must never share one
    /// (see [`node_id_from`]).
    pub node_id: String,
    pub limits: Limits,
    /// `RETENTION_DAYS`: delete messages older than this; `None` keeps everything.
    pub retention: Option<crate::retention::Retention>,
    /// `TRUSTED_PROXIES`: how many proxies in front of the server append the address they
    /// saw to `X-Forwarded-For` (Heroku's router: 1). The client's address is the entry
    /// that many from the right; entries further left are the client's own claim and are
    /// never used. 0 (the default) takes the connection's peer and ignores the header.
    pub trusted_proxies: usize,
    /// `METRICS_TOKEN`: `/metrics` answers only requests bearing it; unset, `/metrics` is
    /// off (404). Counts of people, sockets and messages are nobody's business but the
    /// operator's scraper.
    pub metrics_token: Option<String>,
}

/// TLS to Redis (`rediss://`): the server's certificate and name are verified, against
/// the system's roots or `REDIS_TLS_CA_FILE`, unless `REDIS_TLS_VERIFY=false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTls {
    /// `REDIS_TLS_VERIFY` (default `true`). `false` encrypts without checking who answers:
    /// for Heroku Redis, whose certificates are self-signed (app.json sets it).
    pub verify: bool,
    /// `REDIS_TLS_CA_FILE`: the PEM certificate(s) of the authority that signed the
    /// server's, trusted instead of the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for RedisTls {
    fn default() -> Self {
        RedisTls {
            verify: true,
            ca_file: None,
        }
    }
}

/// `REDIS_TLS_VERIFY` and `REDIS_TLS_CA_FILE`.
fn redis_tls_from(lookup: Lookup) -> Result<RedisTls, ConfigError> {
    let verify = match optional(lookup, "REDIS_TLS_VERIFY").as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ConfigError::Malformed {
                name: "REDIS_TLS_VERIFY",
                reason: format!("{other:?} is neither \"true\" nor \"false\""),
            })
        }
    };
    let ca_file = optional(lookup, "REDIS_TLS_CA_FILE").map(PathBuf::from);
    if !verify && ca_file.is_some() {
        return Err(ConfigError::Malformed {
            name: "REDIS_TLS_CA_FILE",
            reason: "set, but REDIS_TLS_VERIFY=false checks no certificate".into(),
        });
    }
    Ok(RedisTls { verify, ca_file })
}

/// The identity provider the server trusts.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// Compared byte for byte with the `iss` claim (Auth0's ends with a slash).
    pub issuer: String,
    pub audience: String,
    /// Handed to the web client by `/api/config`; the server itself never needs it.
    pub client_id: Option<String>,
    /// `OIDC_EMAIL_VERIFIED`: `required` (default) or `if-present`.
    pub email_verified: EmailVerifiedPolicy,
}

/// The connect gate (`actors/admission.rs`): how many windows are admitted at once, and
/// how many may wait for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLimits {
    /// Windows between their accepted `auth` and their `ready` at once
    /// (`CONNECTS_IN_FLIGHT`).
    pub in_flight: usize,
    /// Windows waiting for a turn at once; more are turned away at once.
    pub waiting: usize,
    /// The longest a window waits for its turn.
    pub max_wait: Duration,
}

/// Bounds that protect the server and other users from one client (SPEC §7).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_chars: usize,
    pub max_frame_bytes: usize,
    pub send_rate_per_second: u32,
    pub send_burst: u32,
    /// Frames of any kind per socket; past this the socket is closed with 4429.
    pub frame_rate_per_second: u32,
    pub frame_burst: u32,
    pub max_windows_per_user: usize,
    pub auth_timeout: Duration,
    pub ping_interval: Duration,
    pub client_timeout: Duration,
    /// Frames queued towards one socket before it counts as a slow consumer.
    pub outbound_queue: usize,
    /// Bytes that may wait towards one socket (a single larger frame passes when
    /// nothing waits); past this it counts as a slow consumer and its connection is cut.
    pub outbound_bytes: usize,
    /// How long bytes may wait towards a socket without any leaving before its
    /// connection is cut as stalled.
    pub outbound_stall: Duration,
    /// New windows admitted at once under a connect storm, and the queue behind them.
    pub connect_gate: GateLimits,
    pub session_ttl: Duration,
    pub history_max: i64,
    /// Most writes the PersistActor groups into one transaction.
    pub max_commit_batch: usize,
    /// Largest serialized UI state (selection, draft) a window may mirror.
    pub max_ui_state_bytes: usize,
    /// Per-person allowances (`chat/allowance.rs`); rooms, joins, blocks and renames hold
    /// across the deployment, the rest per node.
    pub room_creations_per_minute: u32,
    pub room_deletions_per_minute: u32,
    pub joins_and_leaves_per_minute: u32,
    pub block_toggles_per_minute: u32,
    pub renames_per_minute: u32,
    /// Edits, deletions and reactions (across the deployment).
    pub changes_per_second: u32,
    pub changes_burst: u32,
    pub typing_per_second: u32,
    pub typing_burst: u32,
    pub ui_per_second: u32,
    pub ui_burst: u32,
    /// History pages, member lists and searches.
    pub queries_per_second: u32,
    pub queries_burst: u32,
    /// Read positions moved.
    pub reads_per_second: u32,
    pub reads_burst: u32,
    /// How long a UserActor waits for a missing `seq` (delivered out of order by another
    /// node) before reading it from Postgres.
    pub gap_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_chars: 4000,
            max_frame_bytes: 64 * 1024,
            send_rate_per_second: 20,
            send_burst: 40,
            frame_rate_per_second: 100,
            frame_burst: 200,
            max_windows_per_user: 16,
            auth_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(25),
            client_timeout: Duration::from_secs(60),
            outbound_queue: 1024,
            outbound_bytes: 2 * 1024 * 1024,
            outbound_stall: Duration::from_secs(5),
            // Measured (docs/benchmarks.md, 2026-11-30): 64 admitted at once connected a
            // 15,000-window storm a third faster than no gate, and 256 no faster.
            connect_gate: GateLimits {
                in_flight: 64,
                waiting: 20_000,
                max_wait: Duration::from_secs(30),
            },
            session_ttl: Duration::from_secs(15 * 60),
            history_max: 200,
            max_commit_batch: 512,
            max_ui_state_bytes: 16 * 1024,
            gap_timeout: Duration::from_millis(1000),
            room_creations_per_minute: 10,
            room_deletions_per_minute: 30,
            joins_and_leaves_per_minute: 30,
            block_toggles_per_minute: 30,
            renames_per_minute: 10,
            changes_per_second: 5,
            changes_burst: 20,
            typing_per_second: 1,
            typing_burst: 5,
            ui_per_second: 10,
            ui_burst: 20,
            queries_per_second: 20,
            queries_burst: 40,
            reads_per_second: 20,
            reads_burst: 40,
        }
    }
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn optional(lookup: Lookup, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn required(lookup: Lookup, name: &'static str) -> Result<String, ConfigError> {
    optional(lookup, name).ok_or(ConfigError::Missing(name))
}

fn millis(lookup: Lookup, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match optional(lookup, name) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .parse()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or(ConfigError::Malformed {
                name,
                reason: format!("{v:?} is not a positive number of milliseconds"),
            }),
    }
}

fn url(name: &'static str, value: String, schemes: &[&str]) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(&value).map_err(|e| ConfigError::Malformed {
        name,
        reason: e.to_string(),
    })?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(ConfigError::Malformed {
            name,
            reason: format!("scheme must be one of {}", schemes.join(", ")),
        });
    }
    Ok(value)
}

/// The database URL alone (`banter migrate` and `banter token` read a few more alone).
pub fn database_url_from(lookup: Lookup) -> Result<String, ConfigError> {
    url(
        "DATABASE_URL",
        required(lookup, "DATABASE_URL")?,
        &["postgres", "postgresql"],
    )
}

/// The key that seals the root key kept in Postgres, if set (64 hex digits, or any
/// secret of at least 32 characters).
pub fn root_key_encryption_from(lookup: Lookup) -> Result<Option<KeyEncryptionKey>, ConfigError> {
    optional(lookup, "ROOT_KEY_ENCRYPTION_KEY")
        .map(|v| {
            KeyEncryptionKey::from_setting(&v).ok_or(ConfigError::Malformed {
                name: "ROOT_KEY_ENCRYPTION_KEY",
                reason: "expected 64 hexadecimal digits (`openssl rand -hex 32`) or another \
                         secret of at least 32 characters"
                    .into(),
            })
        })
        .transpose()
}

/// The issuer alone, if set (`banter token` mints for that provider's people).
pub fn oidc_issuer_from(lookup: Lookup) -> Result<Option<String>, ConfigError> {
    optional(lookup, "OIDC_ISSUER")
        .map(|v| url("OIDC_ISSUER", v, &["http", "https"]))
        .transpose()
}

/// This node's id: `NODE_ID` as given (the operator keeps it unique), else the dyno's
/// name (`DYNO`, "node" without one) and a suffix of this process's own. Heroku's `$DYNO`
/// is not unique during a deploy: with Preboot an old and a new `web.1` run side by side
/// for minutes, and a shared id would have each clear the other's presence. A process
/// that dies without leaving is reaped when its heartbeat expires.
pub fn node_id_from(lookup: Lookup) -> String {
    optional(lookup, "NODE_ID").unwrap_or_else(|| {
        let name = optional(lookup, "DYNO").unwrap_or_else(|| "node".into());
        format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
    })
}

/// The optional root key, checked for shape (64 hex digits).
pub fn biscuit_key_from(lookup: Lookup) -> Result<Option<String>, ConfigError> {
    let Some(key) = optional(lookup, "BISCUIT_PRIVATE_KEY") else {
        return Ok(None);
    };
    if key.len() != 64 || hex::decode(&key).is_err() {
        return Err(ConfigError::Malformed {
            name: "BISCUIT_PRIVATE_KEY",
            reason: "expected 64 hexadecimal digits (an Ed25519 private key)".into(),
        });
    }
    Ok(Some(key))
}

/// `OIDC_EMAIL_VERIFIED`: whether a sign-in needs the provider's `email_verified: true`.
fn email_verified_from(lookup: Lookup) -> Result<EmailVerifiedPolicy, ConfigError> {
    match optional(lookup, "OIDC_EMAIL_VERIFIED").as_deref() {
        None | Some("required") => Ok(EmailVerifiedPolicy::Required),
        Some("if-present") => Ok(EmailVerifiedPolicy::IfPresent),
        Some(other) => Err(ConfigError::Malformed {
            name: "OIDC_EMAIL_VERIFIED",
            reason: format!("{other:?} is neither \"required\" nor \"if-present\""),
        }),
    }
}

/// A node that serves the web client (`STATIC_DIR` holds its `index.html`) must hand
/// the page the provider's client id (`/api/config`), or nobody can sign in there.
fn web_client_has_its_client_id(settings: &Settings) -> Result<(), ConfigError> {
    let serves_page = settings.static_dir.join("index.html").is_file();
    if serves_page && settings.oidc.client_id.is_none() {
        return Err(ConfigError::Malformed {
            name: "OIDC_CLIENT_ID",
            reason: format!(
                "required: the web client is served from {} and signs in with it",
                settings.static_dir.display()
            ),
        });
    }
    Ok(())
}

impl Settings {
    /// Reads every setting of SPEC §2 from the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: Lookup) -> Result<Settings, ConfigError> {
        let port = match optional(lookup, "PORT") {
            None => 8080,
            Some(p) => p.parse().map_err(|_| ConfigError::Malformed {
                name: "PORT",
                reason: format!("{p:?} is not a port number"),
            })?,
        };
        let redis_url = optional(lookup, "REDIS_URL")
            .map(|v| url("REDIS_URL", v, &["redis", "rediss"]))
            .transpose()?;
        if redis_url.as_deref().is_some_and(|u| u.contains('#')) {
            return Err(ConfigError::Malformed {
                name: "REDIS_URL",
                reason: "a #fragment is not read; TLS checks are REDIS_TLS_VERIFY's".into(),
            });
        }
        let issuer = url(
            "OIDC_ISSUER",
            required(lookup, "OIDC_ISSUER")?,
            &["http", "https"],
        )?;
        let allowed_origins = optional(lookup, "ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .map(|o| url("ALLOWED_ORIGINS", o, &["http", "https"]))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let settings = Settings {
            host: optional(lookup, "HOST").unwrap_or_else(|| "0.0.0.0".into()),
            port,
            database_url: database_url_from(lookup)?,
            database_pool_size: match optional(lookup, "DATABASE_POOL_SIZE") {
                None => 10,
                Some(n) => n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Malformed {
                        name: "DATABASE_POOL_SIZE",
                        reason: format!("{n:?} is not a positive number"),
                    })?,
            },
            statement_timeout: millis(lookup, "DATABASE_STATEMENT_TIMEOUT_MS", 5_000)?,
            write_statement_timeout: millis(lookup, "DATABASE_WRITE_STATEMENT_TIMEOUT_MS", 10_000)?,
            shutdown_timeout: millis(lookup, "SHUTDOWN_TIMEOUT_MS", 25_000)?,
            redis_url,
            redis_tls: redis_tls_from(lookup)?,
            redis_key_prefix: optional(lookup, "REDIS_KEY_PREFIX")
                .unwrap_or_else(|| "banter:".into()),
            heartbeat_interval: millis(lookup, "CLUSTER_HEARTBEAT_MS", 3_000)?,
            node_ttl: millis(lookup, "CLUSTER_NODE_TTL_MS", 10_000)?,
            oidc: OidcSettings {
                issuer,
                audience: required(lookup, "OIDC_AUDIENCE")?,
                client_id: optional(lookup, "OIDC_CLIENT_ID"),
                email_verified: email_verified_from(lookup)?,
            },
            biscuit_private_key: biscuit_key_from(lookup)?,
            root_key_encryption: root_key_encryption_from(lookup)?,
            allowed_origins,
            static_dir: optional(lookup, "STATIC_DIR")
                .unwrap_or_else(|| "./static".into())
                .into(),
            node_id: node_id_from(lookup),
            metrics_token: match optional(lookup, "METRICS_TOKEN") {
                Some(t) if t.chars().count() < 16 => {
                    return Err(ConfigError::Malformed {
                        name: "METRICS_TOKEN",
                        reason: "at least 16 characters (e.g. `openssl rand -hex 16`)".into(),
                    })
                }
                token => token,
            },
            trusted_proxies: match optional(lookup, "TRUSTED_PROXIES") {
                None => 0,
                Some(v) => {
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| *n <= 10)
                        .ok_or(ConfigError::Malformed {
                            name: "TRUSTED_PROXIES",
                            reason: format!("{v:?} is not a number of proxies (0 to 10)"),
                        })?
                }
            },
            retention: match optional(lookup, "RETENTION_DAYS") {
                None => None,
                Some(v) => Some(crate::retention::Retention {
                    keep: v
                        .parse::<u64>()
                        .ok()
                        .filter(|d| (1..=36_500).contains(d))
                        .map(|d| Duration::from_secs(d * 24 * 60 * 60))
                        .ok_or(ConfigError::Malformed {
                            name: "RETENTION_DAYS",
                            reason: format!("{v:?} is not a number of days (1 to 36500)"),
                        })?,
                    sweep_every: Duration::from_secs(60 * 60),
                }),
            },
            limits: Limits {
                session_ttl: match optional(lookup, "SESSION_TTL_SECS") {
                    None => Limits::default().session_ttl,
                    Some(v) => v
                        .parse()
                        .ok()
                        .filter(|s| *s >= 10)
                        .map(Duration::from_secs)
                        .ok_or(ConfigError::Malformed {
                            name: "SESSION_TTL_SECS",
                            reason: format!("{v:?} is not a number of seconds (at least 10)"),
                        })?,
                },
                connect_gate: GateLimits {
                    in_flight: match optional(lookup, "CONNECTS_IN_FLIGHT") {
                        None => Limits::default().connect_gate.in_flight,
                        Some(v) => {
                            v.parse()
                                .ok()
                                .filter(|n| *n > 0)
                                .ok_or(ConfigError::Malformed {
                                    name: "CONNECTS_IN_FLIGHT",
                                    reason: format!("{v:?} is not a positive number"),
                                })?
                        }
                    },
                    ..Limits::default().connect_gate
                },
                ..Limits::default()
            },
        };
        web_client_has_its_client_id(&settings)?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(&move |k| map.get(k).cloned())
    }

    const MINIMAL: &[(&str, &str)] = &[
        ("DATABASE_URL", "postgres://localhost/banter"),
        ("OIDC_ISSUER", "https://tenant.example.com/"),
        ("OIDC_AUDIENCE", "https://api.banter"),
        // Required only where the web client is served (./static, once built).
        ("OIDC_CLIENT_ID", "banter-web"),
    ];

    #[test]
    fn minimal_settings_take_the_documented_defaults() {
        let s = settings(MINIMAL).unwrap();
        assert_eq!(s.port, 8080);
        assert_eq!(s.static_dir, PathBuf::from("./static"));
        assert!(s.redis_url.is_none() && s.allowed_origins.is_none());
        assert_eq!(s.oidc.issuer, "https://tenant.example.com/");
        assert_eq!(s.limits.session_ttl, Duration::from_secs(15 * 60));
        assert_eq!(s.limits.connect_gate.in_flight, 64);
        assert_eq!(s.retention, None);
        assert_eq!(s.oidc.email_verified, EmailVerifiedPolicy::Required);
        assert_eq!(s.redis_tls, RedisTls::default());
        assert!(s.redis_tls.verify, "TLS to Redis is verified by default");
    }

    #[test]
    fn a_node_serving_the_web_client_needs_its_client_id_and_one_without_it_does_not() {
        let page = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/static");
        let without_id: Vec<_> = MINIMAL
            .iter()
            .copied()
            .filter(|(k, _)| *k != "OIDC_CLIENT_ID")
            .collect();
        let mut serving = without_id.clone();
        serving.push(("STATIC_DIR", page));
        match settings(&serving) {
            Err(ConfigError::Malformed { name, reason }) => {
                assert_eq!(name, "OIDC_CLIENT_ID");
                assert!(reason.contains(page), "{reason}");
            }
            other => panic!("expected OIDC_CLIENT_ID refused, got {other:?}"),
        }
        serving.push(("OIDC_CLIENT_ID", "banter-web"));
        assert!(settings(&serving).is_ok());
        let mut api_only = without_id;
        api_only.push(("STATIC_DIR", "/nonexistent/banter-static"));
        assert!(settings(&api_only).is_ok());
    }

    #[test]
    fn two_processes_of_one_dyno_get_ids_of_their_own_and_an_operator_s_id_is_kept() {
        let dyno = |name: &str| name == "DYNO";
        let lookup = |name: &str| dyno(name).then(|| "web.1".to_owned());
        let (first, second) = (node_id_from(&lookup), node_id_from(&lookup));
        assert!(first.starts_with("web.1-"), "{first}");
        assert_ne!(first, second);
        let given = |name: &str| (name == "NODE_ID").then(|| "eu-1".to_owned());
        assert_eq!(node_id_from(&given), "eu-1");
    }

    #[test]
    fn session_lifetime_can_be_shortened() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("SESSION_TTL_SECS", "90"));
        assert_eq!(
            settings(&vars).unwrap().limits.session_ttl,
            Duration::from_secs(90)
        );
    }

    #[test]
    fn each_missing_required_setting_is_named() {
        for name in ["DATABASE_URL", "OIDC_ISSUER", "OIDC_AUDIENCE"] {
            let vars: Vec<_> = MINIMAL
                .iter()
                .copied()
                .filter(|(k, _)| *k != name)
                .collect();
            let err = settings(&vars).unwrap_err();
            assert_eq!(err, ConfigError::Missing(name));
            assert!(err.to_string().contains(name));
        }
    }

    #[test]
    fn malformed_settings_are_named() {
        let cases = [
            ("PORT", "eighty"),
            ("DATABASE_URL", "mysql://localhost/x"),
            ("REDIS_URL", "http://localhost"),
            ("BISCUIT_PRIVATE_KEY", "abc"),
            ("ALLOWED_ORIGINS", "not a url"),
            ("SESSION_TTL_SECS", "5"),
            ("RETENTION_DAYS", "0"),
            ("OIDC_EMAIL_VERIFIED", "no"),
            ("ROOT_KEY_ENCRYPTION_KEY", "abc"),
            ("REDIS_TLS_VERIFY", "no"),
            ("REDIS_URL", "rediss://h:6379/#insecure"),
        ];
        for (name, value) in cases {
            let mut vars: Vec<_> = MINIMAL.to_vec();
            vars.retain(|(k, _)| *k != name);
            vars.push((name, value));
            match settings(&vars) {
                Err(ConfigError::Malformed { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: expected malformed, got {other:?}"),
            }
        }
    }

    #[test]
    fn redis_tls_is_verified_unless_turned_off_and_never_both() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("REDIS_TLS_VERIFY", "false"));
        assert!(!settings(&vars).unwrap().redis_tls.verify);
        vars.push(("REDIS_TLS_CA_FILE", "/etc/redis-ca.pem"));
        assert!(matches!(
            settings(&vars),
            Err(ConfigError::Malformed {
                name: "REDIS_TLS_CA_FILE",
                ..
            })
        ));
        vars.retain(|(k, _)| *k != "REDIS_TLS_VERIFY");
        let tls = settings(&vars).unwrap().redis_tls;
        assert_eq!(
            (tls.verify, tls.ca_file),
            (true, Some(PathBuf::from("/etc/redis-ca.pem")))
        );
    }

    #[test]
    fn allowed_origins_are_split_and_trimmed() {
        let mut vars = MINIMAL.to_vec();
        vars.push((
            "ALLOWED_ORIGINS",
            "https://a.example, http://localhost:5173/",
        ));
        let s = settings(&vars).unwrap();
        assert_eq!(
            s.allowed_origins.unwrap(),
            vec!["https://a.example", "http://localhost:5173"]
        );
    }
}
