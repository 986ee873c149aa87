//! Display names: what a person is called on the page, validated.

use banter_protocol::NAME_CHARS;

/// A display name: 1..=64 characters after trimming, no control characters, no
/// bidirectional controls (which could make a name read as someone else's), and at least
/// one character that shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

/// Characters that reorder the text around them: embeddings, overrides, isolates, and the
/// direction marks (LRM, RLM, ALM).
fn reorders(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that show nothing by themselves: zero-width spaces and joiners (a joiner is
/// fine inside an emoji sequence), fillers that render blank (Hangul, Braille), the soft
/// hyphen, invisible operators, variation selectors, tags and the BOM.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

impl DisplayName {
    /// The name a person typed, or why it is refused (a sentence for `bad_request`).
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        let name = name.trim();
        if name.chars().all(|c| c.is_whitespace() || invisible(c)) {
            return Err("a name needs at least one visible character");
        }
        if name.chars().count() > NAME_CHARS {
            return Err("a name is at most 64 characters");
        }
        if name.chars().any(|c| c.is_control() || reorders(c)) {
            return Err("a name cannot hold control characters or text direction overrides");
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// The name an identity provider's claims suggest: `name`, else (no `name` at all)
    /// `nickname`. A `name` that is an email suggests nothing: Auth0 sets it to the email
    /// for password accounts, and their `nickname` is the email's local part, which says
    /// no more than the email shown in its place. What a person could not type is
    /// dropped and an over-long name is cut, since the person did not choose it here;
    /// `None` when nothing usable is left.
    pub fn from_claims(name: Option<&str>, nickname: Option<&str>) -> Option<Self> {
        let usable = |claim: &str| -> Option<DisplayName> {
            let kept: String = claim
                .chars()
                .filter(|c| !c.is_control() && !reorders(*c))
                .collect();
            let cut: String = kept.trim().chars().take(NAME_CHARS).collect();
            DisplayName::parse(&cut).ok()
        };
        match name.filter(|n| !n.trim().is_empty()) {
            Some(name) if name.contains('@') => None,
            Some(name) => usable(name),
            None => nickname.and_then(usable),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_kept_as_typed() {
        let name = DisplayName::parse("  Zoë Ångström 🎈 ").unwrap();
        assert_eq!(name.as_str(), "Zoë Ångström 🎈");
        // An emoji sequence keeps its joiner and variation selector.
        assert!(DisplayName::parse("👩\u{200D}💻 Ada ❤\u{FE0F}").is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(64))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            64
        );
    }

    #[test]
    fn empty_invisible_over_long_or_controlled_names_are_refused() {
        for bad in [
            "",
            "   ",
            "\u{200B}\u{200D}",
            "\u{3164}\u{3164}",
            "\u{2800}",
            "\u{00AD}\u{FE0F}",
            "Bob\u{200F}",
            &"a".repeat(65),
            "a\nb",
            "a\0b",
            "\u{202E}evil",
        ] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_provider_name_is_used_unless_it_is_an_email_and_nickname_stands_in_for_none() {
        let from = |n, k| DisplayName::from_claims(n, k).map(DisplayName::into_string);
        assert_eq!(
            from(Some("Alice Smith"), Some("alice")),
            Some("Alice Smith".into())
        );
        assert_eq!(from(Some("alice@example.com"), Some("alice")), None);
        assert_eq!(from(None, Some("ally")), Some("ally".into()));
        assert_eq!(from(None, None), None);
        assert_eq!(
            from(Some("  "), Some("al\u{202E}ice")),
            Some("alice".into())
        );
        assert_eq!(
            from(Some(&"x".repeat(100)), None).map(|n| n.len()),
            Some(64)
        );
    }
}
