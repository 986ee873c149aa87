//! Changes to committed messages: an edit, a deletion, a reaction put on or taken off.
//! Each is numbered in its conversation's change sequence (docs/decisions/0026), and
//! travels between nodes and to the windows as a [`Change`].

use crate::domain::{ConversationId, UserId};
use crate::protocol::ServerEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One committed change to message `seq` of `conversation_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub conversation_id: ConversationId,
    pub seq: i64,
    /// Its number in the conversation's change sequence (1, 2, 3… without gaps): the
    /// order every window is shown the conversation's changes in.
    pub number: i64,
    /// Who made it (the sender, a room's creator deleting, the person reacting): their
    /// asking window is answered with its copy.
    pub by: UserId,
    pub what: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    Edited {
        body: String,
        edited_at: DateTime<Utc>,
    },
    Deleted {
        deleted_at: DateTime<Utc>,
    },
    Reaction {
        user_id: UserId,
        emoji: String,
        add: bool,
    },
}

impl Change {
    /// The frame every window that may see it is sent; the asking window's copy carries
    /// its `reference`.
    pub fn event<'a>(&'a self, reference: Option<&'a str>) -> ServerEvent<'a> {
        let reference = reference.map(Cow::Borrowed);
        let (conversation_id, seq, change) = (self.conversation_id, self.seq, self.number);
        match &self.what {
            ChangeKind::Edited { body, edited_at } => ServerEvent::MessageEdited {
                reference,
                conversation_id,
                seq,
                body: Cow::Borrowed(body),
                edited_at: *edited_at,
                change,
            },
            ChangeKind::Deleted { deleted_at } => ServerEvent::MessageDeleted {
                reference,
                conversation_id,
                seq,
                deleted_at: *deleted_at,
                change,
            },
            ChangeKind::Reaction {
                user_id,
                emoji,
                add,
            } => ServerEvent::Reaction {
                reference,
                conversation_id,
                seq,
                user_id: *user_id,
                emoji: Cow::Borrowed(emoji),
                add: *add,
                change,
            },
        }
    }
}

/// A reaction: exactly one emoji (with its skin tone, if any), stored in its fully
/// qualified form, so "❤" and "❤️" are one reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(&'static str);

/// Why a reaction was refused (`bad_request`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("emoji must be exactly one emoji, such as 👍")]
pub struct NotAnEmoji;

impl Emoji {
    pub fn parse(text: &str) -> Result<Self, NotAnEmoji> {
        // Unicode's emoji list (the `emojis` crate) decides; a longer text is no emoji.
        if text.len() > 64 {
            return Err(NotAnEmoji);
        }
        emojis::get(text)
            .map(|e| Emoji(e.as_str()))
            .ok_or(NotAnEmoji)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_passes_and_anything_else_is_refused() {
        for ok in ["👍", "❤️", "👍🏽", "🇫🇷", "👩‍💻", "🏳️‍🌈"] {
            assert_eq!(Emoji::parse(ok).map(|e| e.as_str()), Ok(ok), "{ok}");
        }
        for bad in [
            "",
            " ",
            "a",
            "👍👍",
            "👍 ",
            ":+1:",
            "<b>",
            "\u{200d}",
            &"👍".repeat(40),
        ] {
            assert_eq!(Emoji::parse(bad), Err(NotAnEmoji), "{bad:?}");
        }
    }

    #[test]
    fn an_emoji_without_its_variation_selector_is_the_same_reaction() {
        // Some keyboards send the heart without U+FE0F.
        let bare = Emoji::parse("\u{2764}").expect("the bare heart is an emoji");
        assert_eq!(bare, Emoji::parse("\u{2764}\u{fe0f}").unwrap());
        assert_eq!(bare.as_str(), "\u{2764}\u{fe0f}");
    }
}
