//! What the fuzz targets (`fuzz_targets/`) share: the limits they decode with, the
//! independent statement of each documented rule they hold the server's validators to,
//! a command written back as the frame that asks for it, and the one Postgres connection
//! of the differential checks.
//!
//! Run with `cargo fuzz run --fuzz-dir crates/fuzz <target>` (docs/security.md, Fuzzing).

use banter::actors::user::cmd::{Command, DecodeLimits};
use banter::configuration::Limits;
use banter::routes::error::ApiError;
use banter_protocol::ClientFrame;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The limits a server runs with by default (SPEC §7).
pub fn production_limits() -> DecodeLimits {
    let limits = Limits::default();
    DecodeLimits {
        max_body_chars: limits.max_body_chars,
        history_max: limits.history_max,
        max_ui_state_bytes: limits.max_ui_state_bytes,
    }
}

/// Limits small enough that short inputs cross them.
pub const TIGHT: DecodeLimits = DecodeLimits {
    max_body_chars: 16,
    history_max: 10,
    max_ui_state_bytes: 64,
};

/// The longest `client_id`, room name and room password, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 100;
pub const MAX_ROOM_NAME_CHARS: usize = 80;
pub const MAX_ROOM_PASSWORD_CHARS: usize = 200;

/// Why a message body breaks SPEC §7, in the order the server checks: empty (or only
/// white space), too long (characters, not bytes), a NUL.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyRule {
    Empty,
    TooLong,
    Nul,
}

pub fn body_rule(body: &str, max_chars: usize) -> Option<BodyRule> {
    if body.trim().is_empty() {
        Some(BodyRule::Empty)
    } else if body.chars().count() > max_chars {
        Some(BodyRule::TooLong)
    } else if body.contains('\0') {
        Some(BodyRule::Nul)
    } else {
        None
    }
}

/// Is `id` a valid `client_id`: not blank, at most 100 characters, no NUL?
pub fn client_id_ok(id: &str) -> bool {
    !id.trim().is_empty() && id.chars().count() <= MAX_CLIENT_ID_CHARS && !id.contains('\0')
}

/// Is `name` (already trimmed) a valid room name: 1 to 80 characters, no control
/// characters?
pub fn room_name_ok(name: &str) -> bool {
    name == name.trim()
        && !name.is_empty()
        && name.chars().count() <= MAX_ROOM_NAME_CHARS
        && !name.chars().any(char::is_control)
}

/// Is `password` a valid room password once the empty one means "none": at most 200
/// characters, no NUL?
pub fn room_password_ok(password: &str) -> bool {
    password.chars().count() <= MAX_ROOM_PASSWORD_CHARS && !password.contains('\0')
}

/// Does any string or key of `value`, at any depth, hold a NUL?
pub fn json_has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v))
        }
        _ => false,
    }
}

/// The two answers a refused input may get: `bad_request` (400) or `too_large` (413).
/// Anything else (`unavailable`, an internal error) would tell the client to retry
/// something that can never succeed.
pub fn is_client_error(e: &ApiError) -> bool {
    matches!(e, ApiError::BadRequest(m) | ApiError::TooLarge(m) if !m.is_empty())
}

/// The frame a client sends to ask for `command`: decoding it gives `command` back.
pub fn frame_of(command: &Command) -> ClientFrame {
    match command {
        Command::Auth(a) => ClientFrame::Auth {
            token: a.token.clone(),
        },
        Command::Send(s) => {
            ClientFrame::send(s.target, s.client_id.as_str(), s.body.as_str(), s.reply_to)
        }
        Command::History(h) => ClientFrame::history(h.conversation, h.page, Some(h.limit)),
        Command::Read(r) => ClientFrame::Read {
            conversation_id: r.conversation,
            seq: r.seq,
        },
        Command::Block(b) if b.active => ClientFrame::Block { user_id: b.user },
        Command::Block(b) => ClientFrame::Unblock { user_id: b.user },
        Command::Ui(u) => ClientFrame::Ui {
            state: u.state.clone(),
        },
        Command::SetName(n) => ClientFrame::SetName {
            name: n.name.as_str().to_owned(),
        },
        Command::SetReceipts(r) => ClientFrame::SetReceipts { share: r.share },
        Command::Seen(w) => ClientFrame::Seen {
            conversation_id: w.conversation,
            seq: w.seq,
        },
        Command::Edit(e) => ClientFrame::Edit {
            conversation_id: e.conversation,
            seq: e.seq,
            body: e.body.as_str().to_owned(),
        },
        Command::Delete(d) => ClientFrame::Delete {
            conversation_id: d.conversation,
            seq: d.seq,
        },
        Command::React(r) => ClientFrame::React {
            conversation_id: r.conversation,
            seq: r.seq,
            emoji: r.emoji.as_str().to_owned(),
            add: r.add,
        },
        Command::Changes(c) => ClientFrame::Changes {
            conversation_id: c.conversation,
            after: c.after,
        },
        Command::Typing(t) => ClientFrame::Typing {
            conversation_id: t.conversation,
        },
        Command::CreateRoom(c) => ClientFrame::CreateRoom {
            name: c.name.as_str().to_owned(),
            password: c.password.as_ref().map(|p| p.expose().to_owned()),
        },
        Command::JoinRoom(j) => ClientFrame::JoinRoom {
            room_id: j.room,
            password: j.password.as_ref().map(|p| p.expose().to_owned()),
        },
        Command::LeaveRoom(l) => ClientFrame::LeaveRoom { room_id: l.room },
        Command::DeleteRoom(d) => ClientFrame::DeleteRoom { room_id: d.room },
        Command::Members(m) => ClientFrame::Members { room_id: m.room },
        Command::Online(o) => ClientFrame::Online {
            prefix: (!o.prefix.is_empty()).then(|| o.prefix.clone()),
            offset: Some(o.offset as i64),
            limit: Some(o.limit as i64),
        },
        Command::Rooms(r) => ClientFrame::Rooms {
            query: r.page.query.clone(),
            after: r.page.after.clone(),
            limit: Some(r.page.limit as i64),
        },
        Command::Ping(_) => ClientFrame::Ping,
    }
}

/// A comparable form of a command: the frame that asks for it, passwords included
/// (a `RoomPassword` hides itself from `Debug`).
pub fn canonical(command: &Command) -> String {
    serde_json::to_string(&frame_of(command)).expect("client frames serialize")
}

/// The Postgres connection of the differential checks: `FUZZ_DATABASE_URL`, else the
/// local server. Connecting is tried once; a target that cannot reach it panics rather
/// than pass without checking.
pub fn database() -> MutexGuard<'static, postgres::Client> {
    static CLIENT: OnceLock<Mutex<postgres::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let url = std::env::var("FUZZ_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let mut client = postgres::Client::connect(&url, postgres::NoTls)
                .unwrap_or_else(|e| panic!("fuzzing needs Postgres at {url}: {e}"));
            // Well under the server's 5 s: a parse this slow would itself be a finding.
            client
                .batch_execute("SET statement_timeout = 2000")
                .expect("set statement_timeout");
            Mutex::new(client)
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Postgres stores `text` as the server does (`text` parameters): a NUL, for one, is
/// refused. Panics with Postgres' own error when it refuses.
pub fn assert_postgres_stores_text(what: &str, text: &str) {
    if let Err(e) = database().query_one("SELECT $1::text", &[&text]) {
        panic!("{what} {text:?} was accepted but Postgres refuses it as text: {e}");
    }
}

/// Postgres stores `value` as `jsonb`, as the `ui` write does.
pub fn assert_postgres_stores_jsonb(what: &str, value: &serde_json::Value) {
    if let Err(e) = database().query_one("SELECT $1::jsonb", &[value]) {
        panic!("{what} {value} was accepted but Postgres refuses it as jsonb: {e}");
    }
}
