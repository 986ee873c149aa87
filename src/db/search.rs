//! Full-text search over the messages a person may read.

use super::messages::{message, MESSAGE_COLUMNS, REPLY_JOIN};
use super::{DbError, Pool};
use crate::domain::{ConversationId, ConversationKind, Message, User, UserId};
use serde::Serialize;

/// Marks around matched words in `ts_headline`'s output: private-use characters, so the
/// snippet can be split into plain text and matches without any markup to escape.
const START: char = '\u{E000}';
const STOP: char = '\u{E001}';

/// How `ts_headline` cuts and marks a body.
pub const HEADLINE_OPTIONS: &str =
    "StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=30, MinWords=12, MaxFragments=2";

/// `words`: each distinct word of the query `q` once, OR'ed, which is what the
/// headline marks. Given `q` itself, `ts_headline` tries every stretch of the body
/// against the whole query: a phrase or a hyphenated word whose parts repeat
/// (`w-w-w-w`, `"w w w w w w w w"`) over a body repeating them took a second and more per
/// message (10 s for a 12-word phrase over 4000 characters), so a search answered 503
/// once the statement timeout struck, holding a pooled connection meanwhile. Each
/// distinct word OR'ed costs a few milliseconds at most. The words are the quoted
/// lexemes of `q`'s text form (quotes doubled, backslashes escaped, as `tsquery` reads
/// them back); a query without any keeps `q`.
pub const HIGHLIGHT_WORDS: &str = r#"SELECT coalesce(string_agg(DISTINCT w[1], ' | ')::tsquery, q) AS words
     FROM regexp_matches(q::text, $re$('(?:[^'\\]|''|\\.)*')$re$, 'g') AS w"#;

/// One found message, where it was said, and the words that matched.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub message: Message,
    pub conversation: ConversationRef,
    pub rank: f32,
    /// The message body (or the matching part of a long one) in pieces, the matched
    /// words with `match: true`.
    pub highlight: Vec<Piece>,
}

/// Enough of a conversation to name it in a result list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationRef {
    pub id: ConversationId,
    pub kind: ConversationKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Piece {
    pub text: String,
    #[serde(rename = "match")]
    pub matched: bool,
}

/// Splits a headline marked with `START`/`STOP` into pieces.
pub fn pieces(headline: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut matched = false;
    for ch in headline.chars() {
        if ch == START || ch == STOP {
            if !text.is_empty() {
                out.push(Piece {
                    text: std::mem::take(&mut text),
                    matched,
                });
            }
            matched = ch == START;
        } else {
            text.push(ch);
        }
    }
    if !text.is_empty() {
        out.push(Piece { text, matched });
    }
    out
}

/// Messages matching `query` (web-search syntax: words, "quoted phrases", -excluded, OR)
/// in conversations `reader` belongs to, best match first, then newest. Messages of
/// people the reader blocked in a room are left out, as in history.
pub async fn messages(
    pool: &Pool,
    reader: UserId,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Hit>, DbError> {
    let conn = pool.get().await?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, c.kind, c.name, p.id AS peer_id, p.email AS peer_email,
                CASE WHEN EXISTS (SELECT 1 FROM blocks bn
                                  WHERE (bn.blocker_id = $1 AND bn.blocked_id = p.id)
                                     OR (bn.blocker_id = p.id AND bn.blocked_id = $1))
                     THEN NULL ELSE p.display_name END AS peer_name,
                ts_rank(m.search, q) AS rank,
                ts_headline('simple', m.body, h.words, '{HEADLINE_OPTIONS}') AS headline
         FROM websearch_to_tsquery('simple', $2) AS q
              CROSS JOIN LATERAL ({HIGHLIGHT_WORDS}) AS h,
              messages m {REPLY_JOIN}
              JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
              JOIN conversations c ON c.id = m.conversation_id
              LEFT JOIN direct_pairs d ON d.conversation_id = c.id
              LEFT JOIN users p ON p.id = CASE WHEN d.user_lo = $1 THEN d.user_hi ELSE d.user_lo END
         WHERE m.search @@ q
           AND NOT (c.kind = 'room' AND EXISTS (
               SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = m.sender_id))
         ORDER BY rank DESC, m.created_at DESC, m.id
         LIMIT $3 OFFSET $4"
    );
    let rows = conn
        .query(sql.as_str(), &[&reader.0, &query, &limit, &offset])
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let kind: String = row.get("kind");
            Hit {
                message: message(row),
                conversation: ConversationRef {
                    id: ConversationId(row.get("conversation_id")),
                    kind: ConversationKind::parse(&kind).unwrap_or(ConversationKind::Room),
                    peer: row.get::<_, Option<uuid::Uuid>>("peer_id").map(|id| User {
                        id: UserId(id),
                        email: row.get("peer_email"),
                        name: row.get("peer_name"),
                    }),
                    name: row.get("name"),
                },
                rank: row.get("rank"),
                highlight: pieces(row.get("headline")),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_headline_splits_into_text_and_matches() {
        let marked = format!("see {START}you{STOP} at {START}noon{STOP}");
        let got: Vec<(String, bool)> = pieces(&marked)
            .into_iter()
            .map(|p| (p.text, p.matched))
            .collect();
        assert_eq!(
            got,
            vec![
                ("see ".into(), false),
                ("you".into(), true),
                (" at ".into(), false),
                ("noon".into(), true)
            ]
        );
    }
}
