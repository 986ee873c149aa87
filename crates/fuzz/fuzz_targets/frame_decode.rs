//! One text frame from a client, as the socket hands it to `cmd::decode`.
//!
//! Holds: a refusal is `bad_request` or `too_large` (the latter only for an over-long
//! `send` body or `ui` state), never empty, and carries the frame's `ref` exactly when it
//! had a valid one; an accepted command keeps every documented limit, and the frame that
//! asks for it (written with banter-protocol's types) decodes to the same command; a
//! frame accepted under tight limits is accepted, unchanged, under the default ones.

#![no_main]

use banter::actors::user::cmd::{decode, Command, DecodeLimits, Decoded, FrameError};
use banter::protocol::ErrorCode;
use banter_fuzz::{
    body_rule, canonical, client_id_ok, frame_of, json_has_nul, production_limits, room_name_ok,
    room_password_ok, TIGHT,
};
use banter_protocol::{Page, Request, UiState, MAX_REF_CHARS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loose = production_limits();
    let parsed: Option<serde_json::Value> = serde_json::from_str(text).ok();
    // A string `ref` comes back with the answer, also when it is too long (v4: the
    // refusal carries it, so the client can tell which frame it was).
    let expected_ref = parsed
        .as_ref()
        .and_then(|v| v.get("ref"))
        .and_then(|r| r.as_str());
    let ref_too_long = expected_ref.is_some_and(|r| r.chars().count() > MAX_REF_CHARS);
    let frame_type = parsed
        .as_ref()
        .and_then(|v| v.get("type"))
        .and_then(|t| t.as_str());

    let answer = decode(text, loose);
    let tight = decode(text, TIGHT);
    if ref_too_long {
        assert!(
            matches!(&answer, Err(e) if e.code == ErrorCode::BadRequest),
            "{text:?}: a ref over {MAX_REF_CHARS} characters is refused: {answer:?}"
        );
    }
    for (limits, answer) in [(&loose, &answer), (&TIGHT, &tight)] {
        match answer {
            Ok(decoded) => check_accepted(text, decoded, expected_ref, limits),
            Err(e) => check_refused(text, e, expected_ref, frame_type, parsed.as_ref(), limits),
        }
    }
    // Raising the limits never turns an acceptance into a refusal, nor changes it.
    if let Ok(t) = &tight {
        let l = answer.as_ref().unwrap_or_else(|e| {
            panic!("{text:?}: accepted under tight limits, not default: {e:?}")
        });
        assert_eq!(canonical(&t.command), canonical(&l.command), "{text:?}");
    }
});

fn check_refused(
    text: &str,
    e: &FrameError,
    expected_ref: Option<&str>,
    frame_type: Option<&str>,
    parsed: Option<&serde_json::Value>,
    limits: &DecodeLimits,
) {
    assert!(!e.message.is_empty(), "{text:?}: empty message");
    assert_eq!(
        e.reference.as_deref(),
        expected_ref,
        "{text:?}: ref of {e:?}"
    );
    match e.code {
        ErrorCode::BadRequest => {}
        ErrorCode::TooLarge => {
            // Only a body over its length or a UI state over its size.
            let over = match (frame_type, parsed) {
                (Some("send"), Some(v)) => v["body"]
                    .as_str()
                    .is_some_and(|b| b.chars().count() > limits.max_body_chars),
                // As it would be stored: absent fields filled in, a null selection left out.
                (Some("ui"), Some(v)) => v
                    .get("state")
                    .and_then(|s| serde_json::from_value::<UiState>(s.clone()).ok())
                    .is_some_and(|s| {
                        serde_json::to_vec(&s).unwrap().len() > limits.max_ui_state_bytes
                    }),
                _ => false,
            };
            assert!(
                over,
                "{text:?}: too_large for something within its limit: {e:?}"
            );
        }
        other => panic!("{text:?}: refused with {other:?}, not bad_request or too_large"),
    }
}

fn check_accepted(
    text: &str,
    decoded: &Decoded,
    expected_ref: Option<&str>,
    limits: &DecodeLimits,
) {
    assert_eq!(decoded.reference.as_deref(), expected_ref, "{text:?}");
    match &decoded.command {
        Command::Send(s) => {
            assert_eq!(
                body_rule(s.body.as_str(), limits.max_body_chars),
                None,
                "{text:?}"
            );
            assert!(client_id_ok(s.client_id.as_str()), "{text:?}");
            assert!(s.reply_to.is_none_or(|r| r >= 1), "{text:?}");
        }
        Command::History(h) => {
            assert!((1..=limits.history_max).contains(&h.limit), "{text:?}");
            let (after, before) = h.page.bounds();
            assert!(
                after.is_none_or(|a| a >= 0) && before.is_none_or(|b| b >= 0),
                "{text:?}"
            );
            assert_eq!(Page::from_bounds(after, before), Ok(h.page));
        }
        Command::Read(r) => assert!(r.seq >= 0, "{text:?}"),
        Command::Ui(u) => {
            let value = serde_json::to_value(&u.state).unwrap();
            assert!(
                serde_json::to_vec(&value).unwrap().len() <= limits.max_ui_state_bytes,
                "{text:?}"
            );
            assert!(
                !json_has_nul(&value),
                "{text:?}: a NUL in an accepted ui state"
            );
        }
        Command::Edit(e) => {
            assert_eq!(
                body_rule(e.body.as_str(), limits.max_body_chars),
                None,
                "{text:?}"
            );
            assert!(e.seq >= 1, "{text:?}");
        }
        Command::Delete(d) => assert!(d.seq >= 1, "{text:?}"),
        Command::React(r) => {
            // One emoji of Unicode's list, as stored: the same emoji parsed again.
            assert!(r.seq >= 1, "{text:?}");
            assert_eq!(
                banter::domain::Emoji::parse(r.emoji.as_str()).as_ref(),
                Ok(&r.emoji),
                "{text:?}"
            );
            assert!(!r.emoji.as_str().chars().any(char::is_control), "{text:?}");
        }
        Command::Changes(c) => assert!(c.after >= 0, "{text:?}"),
        Command::Seen(w) => assert!(w.seq >= 1, "{text:?}"),
        // A flag: any value of it is a valid command.
        Command::SetReceipts(_) => {}
        Command::SetName(n) => {
            // What Postgres's check and the page take: trimmed, 1-64 characters, no NUL
            // or other control character.
            let name = n.name.as_str();
            assert_eq!(name, name.trim(), "{text:?}: a name not trimmed");
            assert!((1..=64).contains(&name.chars().count()), "{text:?}");
            assert!(!name.chars().any(char::is_control), "{text:?}");
        }
        Command::CreateRoom(c) => {
            assert!(room_name_ok(c.name.as_str()), "{text:?}");
            assert!(c
                .password
                .as_ref()
                .is_none_or(|p| !p.expose().is_empty() && room_password_ok(p.expose())));
        }
        Command::JoinRoom(j) => {
            assert!(j
                .password
                .as_ref()
                .is_none_or(|p| !p.expose().is_empty() && room_password_ok(p.expose())));
        }
        Command::Online(o) => {
            assert!((1..=200).contains(&o.limit), "{text:?}");
            assert!(o.prefix.chars().count() <= 254, "{text:?}");
            let folded = o.folded_prefix();
            assert_eq!(
                folded,
                folded.to_lowercase(),
                "{text:?}: a prefix not folded"
            );
        }
        Command::Rooms(r) => {
            assert!((1..=100).contains(&r.page.limit), "{text:?}");
            for text_field in [&r.page.query, &r.page.after].into_iter().flatten() {
                assert!(!text_field.is_empty(), "{text:?}");
                assert!(text_field.chars().count() <= 80, "{text:?}");
                assert!(
                    !text_field.contains('\0'),
                    "{text:?}: a NUL would reach Postgres"
                );
            }
            assert!(
                r.page.query.as_deref().is_none_or(|q| q == q.trim()),
                "{text:?}: a query not trimmed"
            );
        }
        Command::Auth(_)
        | Command::Block(_)
        | Command::Typing(_)
        | Command::LeaveRoom(_)
        | Command::DeleteRoom(_)
        | Command::Members(_)
        | Command::Ping(_) => {}
    }
    // The frame a client writes for this command decodes to the same command, and
    // survives banter-protocol's own round trip.
    let request = Request {
        reference: decoded.reference.clone(),
        frame: frame_of(&decoded.command),
    };
    let again_text = request.to_text();
    let again = decode(&again_text, *limits).unwrap_or_else(|e| {
        panic!("{text:?} decoded, but its re-encoding {again_text:?} did not: {e:?}")
    });
    assert_eq!(again.reference, decoded.reference, "{again_text:?}");
    assert_eq!(
        canonical(&again.command),
        canonical(&decoded.command),
        "{again_text:?}"
    );
    let back: Request = serde_json::from_str(&again_text)
        .unwrap_or_else(|e| panic!("banter-protocol cannot read back {again_text:?}: {e}"));
    assert_eq!(back, request, "{again_text:?}");
}
