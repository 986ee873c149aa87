//! @mentions: `@` and a person's email in a room message (`@ada@example.com`). Clients show
//! the person's name in its place; the server records whom it names, so a member's unread
//! mentions are counted apart from the rest.

/// Most people one message can mention: a longer list is a broadcast, not a mention,
/// and each costs an index lookup in the commit.
pub const MAX_MENTIONS: usize = 20;

fn local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// The emails `body` mentions, lower case, each once, in order, at most [`MAX_MENTIONS`].
/// A mention starts at an `@` that does not continue a word or an address (so the `@` of
/// `bob@example.com` is not one) and is an email whose domain is two labels or more
/// (`[A-Za-z0-9-]+`, joined by dots): a full stop after it, or `...`, ends the sentence,
/// not the domain. The web client reads mentions with the same rule
/// (`web/src/chat/mentions.ts`), so what it counts live is what the server records.
pub fn mentioned_emails(body: &str) -> Vec<String> {
    // Most messages mention nobody: they cost one scan for `@`.
    if !body.contains('@') {
        return Vec::new();
    }
    let chars: Vec<char> = body.chars().collect();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() && found.len() < MAX_MENTIONS {
        let starts =
            chars[i] == '@' && (i == 0 || !(local_char(chars[i - 1]) || chars[i - 1] == '@'));
        if !starts {
            i += 1;
            continue;
        }
        let local_end = (i + 1..chars.len())
            .find(|&j| !local_char(chars[j]))
            .unwrap_or(chars.len());
        if local_end == i + 1 || chars.get(local_end) != Some(&'@') {
            i = local_end.max(i + 1);
            continue;
        }
        // Labels joined by single dots; a dot not followed by a label ends it.
        let (mut end, mut labels) = (local_end + 1, 0);
        loop {
            let label_end = (end..chars.len())
                .find(|&j| !label_char(chars[j]))
                .unwrap_or(chars.len());
            if label_end == end {
                break;
            }
            labels += 1;
            end = label_end;
            if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(|c| label_char(*c)) {
                end += 1;
            } else {
                break;
            }
        }
        if labels >= 2 {
            let email: String = chars[i + 1..end].iter().collect::<String>().to_lowercase();
            if !found.contains(&email) {
                found.push(email);
            }
        }
        i = end.max(i + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_an_at_and_an_email_anywhere_in_the_text() {
        assert_eq!(
            mentioned_emails("@Ada@Example.com, can you ask @bob.smith+chat@mail.example.org?"),
            ["ada@example.com", "bob.smith+chat@mail.example.org"]
        );
        assert_eq!(
            mentioned_emails("thanks (@ada@example.com)."),
            ["ada@example.com"]
        );
        assert_eq!(
            mentioned_emails("@ada@example.com...anyone?"),
            ["ada@example.com"]
        );
        assert_eq!(mentioned_emails("@x@host.-"), ["x@host.-"]);
        assert_eq!(
            mentioned_emails("@ada@example.com @ADA@example.com"),
            ["ada@example.com"]
        );
    }

    #[test]
    fn a_plain_email_a_handle_or_a_bare_at_mentions_nobody() {
        for body in [
            "write to ada@example.com",
            "@ada",
            "@ada@localhost",
            "@@ada@example.com",
            "@ @x.y",
            "a@b@c.d",
            "@",
        ] {
            assert!(mentioned_emails(body).is_empty(), "{body}");
        }
    }

    #[test]
    fn one_message_mentions_at_most_twenty_people() {
        let body: String = (0..50).map(|i| format!("@p{i}@example.com ")).collect();
        assert_eq!(mentioned_emails(&body).len(), MAX_MENTIONS);
    }
}
