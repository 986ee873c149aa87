//! A message body, validated (the message itself is `banter_protocol::Message`).

/// A message body that passed SPEC §7: 1..=max characters, not only white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

/// Why a body was refused; mapped to `bad_request` or `too_large`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body must not be empty or only white space")]
    Empty,
    #[error("body is {len} characters; the limit is {max}")]
    TooLong { len: usize, max: usize },
    /// Postgres cannot store U+0000 in text; refused here rather than failing the commit.
    #[error("body must not contain the NUL character (U+0000)")]
    Nul,
}

impl MessageBody {
    pub fn parse(body: String, max_chars: usize) -> Result<Self, BodyError> {
        if body.trim().is_empty() {
            return Err(BodyError::Empty);
        }
        let len = body.chars().count();
        if len > max_chars {
            return Err(BodyError::TooLong {
                len,
                max: max_chars,
            });
        }
        if body.contains('\0') {
            return Err(BodyError::Nul);
        }
        Ok(MessageBody(body))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Shows `message`'s quote as if the quoted message were gone (`sender_id` and `body`
/// `null`, as after retention): for a viewer who blocked the quoted person or was
/// blocked by them, so a third person's reply does not carry their words across.
pub fn hide_quote(message: &mut banter_protocol::Message) {
    if let Some(quote) = &mut message.reply_to {
        quote.sender_id = None;
        quote.body = None;
    }
}

/// [`hide_quote`] on every message whose quoted person `hides` says the viewer must not
/// see.
pub fn hide_quotes<'a>(
    messages: impl IntoIterator<Item = &'a mut banter_protocol::Message>,
    hides: impl Fn(crate::domain::UserId) -> bool,
) {
    for message in messages {
        if message
            .reply_to
            .as_ref()
            .and_then(|q| q.sender_id)
            .is_some_and(&hides)
        {
            hide_quote(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_only_white_space_are_refused() {
        assert_eq!(
            MessageBody::parse(" \n\t".into(), 10),
            Err(BodyError::Empty)
        );
        assert_eq!(MessageBody::parse(String::new(), 10), Err(BodyError::Empty));
    }

    #[test]
    fn a_nul_character_is_refused() {
        assert_eq!(MessageBody::parse("a\0b".into(), 10), Err(BodyError::Nul));
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(MessageBody::parse("é".repeat(4000), 4000).is_ok());
        assert_eq!(
            MessageBody::parse("é".repeat(4001), 4000),
            Err(BodyError::TooLong {
                len: 4001,
                max: 4000
            })
        );
    }
}
