//! What a line of stdin means: decoded into a [`Command`] here, executed by
//! [`super::state::Chat`]. Anything not starting with `/` is a message.
//!
//! Arguments are separated by white space. One that starts with `"` runs to the next
//! `"` and may hold spaces (room names, passwords); inside it `\"` is a quote and `\\` a
//! backslash. `/reply` and `/edit` take the rest of their line as typed. `/delete` with
//! an unquoted number deletes that message; with anything else, a room.

/// How many messages `/open` shows, and `/history` without a number.
pub const DEFAULT_HISTORY: i64 = 20;

/// One decoded line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send this text to the open chat.
    Say(String),
    /// `/reply <seq> <text>`: send `text` to the open chat as a reply to message `seq`.
    Reply { seq: i64, body: String },
    /// `/edit <seq> <text>`: replace the text of my message `seq` of the open chat.
    Edit { seq: i64, body: String },
    /// `/delete <seq>` (an unquoted number): delete message `seq` of the open chat for
    /// everyone.
    DeleteMessage(i64),
    /// `/seen <seq>`: who of the open chat's other members has read up to message `seq`.
    Seen(i64),
    /// `/receipts on|off`: share my read positions (read receipts), or stop.
    Receipts(bool),
    /// `/react <seq> <emoji>`: put my reaction `emoji` on message `seq` of the open chat,
    /// or take it back if it is on (as far as this client knows).
    React { seq: i64, emoji: String },
    /// `/online [prefix]` (or `/who`): list who is online; with a prefix, ask the server
    /// for the people online whose email starts with it.
    Online(Option<String>),
    /// `/open <email|room>`: open the direct chat with this person (an email or a user
    /// id), or a room you are a member of (its name or id).
    Open(String),
    /// `/history [n]`: show up to `n` messages older than those shown.
    History(i64),
    /// `/block <email>`.
    Block(String),
    /// `/unblock <email>`.
    Unblock(String),
    /// `/blocked`: list whom you blocked.
    Blocked,
    /// `/name <name>`: set your display name (quoted if it has spaces).
    Name(String),
    /// `/read`: mark the open chat read up to its last message.
    Read,
    /// `/rooms [query]`: list the first page of the room directory (the rooms whose name
    /// contains `query`, or every room).
    Rooms(Option<String>),
    /// `/more`: list the next page of the last `/rooms`.
    More,
    /// `/create <name> [password]`: create a room (and join it).
    Create {
        name: String,
        password: Option<String>,
    },
    /// `/join <room> [password]`: become a member of a room (by name or id), then open it.
    Join {
        room: String,
        password: Option<String>,
    },
    /// `/leave [room]`: stop being a member of the open room (or the one named).
    Leave(Option<String>),
    /// `/delete [room]`: delete the open room (or the one named); its creator only.
    Delete(Option<String>),
    /// `/members [room]`: list the members of the open room (or the one named).
    Members(Option<String>),
    /// `/help`.
    Help,
    /// `/quit` (or `/exit`): wait for outstanding sends, then close.
    Quit,
}

/// A line that is not a valid command; printed as `error usage ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(
        "unknown command /{0}; /help lists them (start a message with // to send a leading /)"
    )]
    Unknown(String),
    /// The command's usage: `error usage /open <email>`.
    #[error("{0}")]
    Usage(&'static str),
    /// A quoted argument without its closing quote (or with text right after it).
    #[error(r#"a quoted argument must end with " followed by a space or the end of the line (\" is a quote inside)"#)]
    Unclosed,
}

/// Every command with its usage, for `/help` and for usage errors.
pub const HELP: &[(&str, &str)] = &[
    (
        "/open <email|room>",
        "open the direct chat with someone, or a room you are in, and show its last messages",
    ),
    ("<text>", "send text to the open chat (//text sends /text)"),
    (
        "/reply <seq> <text>",
        "send text to the open chat as a reply to its message seq",
    ),
    (
        "/edit <seq> <text>",
        "replace the text of your message seq of the open chat",
    ),
    (
        "/react <seq> <emoji>",
        "put your reaction (one emoji) on message seq of the open chat, or take it back",
    ),
    (
        "/delete <seq>",
        "delete message seq of the open chat for everyone (yours, or any in a room you created)",
    ),
    (
        "/history [n]",
        "show up to n (default 20) older messages of the open chat",
    ),
    (
        "/online [prefix]",
        "list who is online (also /who); with a prefix, search everyone online",
    ),
    ("/read", "mark the open chat read"),
    (
        "/rooms [query]",
        "list rooms by name, 50 at a time (with a query, those whose name contains it)",
    ),
    ("/more", "list the next rooms of the last /rooms"),
    (
        "/create <name> [password]",
        "create a room (with a password, a private one) and open it",
    ),
    (
        "/join <room> [password]",
        "join a room by name or id (its password if it has one) and open it",
    ),
    ("/leave [room]", "leave the open room (or the one named)"),
    (
        "/delete [room]",
        r#"delete the open room (or the one named), if you created it (a room named by a number in "quotes")"#,
    ),
    (
        "/members [room]",
        "list the members of the open room (or the one named)",
    ),
    ("/block <email>", "block someone"),
    ("/unblock <email>", "unblock someone"),
    ("/blocked", "list whom you blocked"),
    (
        r#"/name "<name>""#,
        "set the display name others see instead of your email",
    ),
    (
        r#""a name""#,
        r#"quote an argument with spaces: /join "Book club" secret (\" is a quote inside)"#,
    ),
    ("/help", "this list"),
    (
        "/quit",
        "leave once every message is acknowledged (also end of input)",
    ),
];

const REPLY_USAGE: &str = "/reply <seq> <text>, seq a message number of the open chat";
const EDIT_USAGE: &str = "/edit <seq> <text>, seq a message number of the open chat";
const REACT_USAGE: &str =
    "/react <seq> <emoji>, seq a message number of the open chat and one emoji";
const DELETE_USAGE: &str = r#"/delete <seq> deletes a message (seq from 1), /delete [room] a room (a room named by a number in "quotes")"#;

/// Decodes one line (without its line ending). Blank lines mean nothing: `None`.
pub fn parse(line: &str) -> Option<Result<Command, CommandError>> {
    if line.trim().is_empty() {
        return None;
    }
    if let Some(text) = line.strip_prefix("//") {
        return Some(Ok(Command::Say(format!("/{text}"))));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Some(Ok(Command::Say(line.to_owned())));
    };
    let rest = rest.trim_start();
    let (name, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match name {
        "reply" => {
            return Some(
                seq_and_text(rest, REPLY_USAGE).map(|(seq, body)| Command::Reply { seq, body }),
            )
        }
        "edit" => {
            return Some(
                seq_and_text(rest, EDIT_USAGE).map(|(seq, body)| Command::Edit { seq, body }),
            )
        }
        // A number, unquoted, is a message; a room named by a number is quoted.
        "delete" if is_number(rest.trim()) => {
            return Some(match rest.trim().parse::<i64>() {
                Ok(seq) if seq >= 1 => Ok(Command::DeleteMessage(seq)),
                _ => Err(CommandError::Usage(DELETE_USAGE)),
            })
        }
        _ => {}
    }
    Some(split_args(rest).and_then(|args| command(name, &args)))
}

/// `<seq> <text>` (`/reply`, `/edit`): the text is the rest of the line, as typed.
fn seq_and_text(rest: &str, usage: &'static str) -> Result<(i64, String), CommandError> {
    let rest = rest.trim_start();
    let (seq, body) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let body = body.trim_start();
    match seq.parse::<i64>() {
        Ok(seq) if seq >= 1 && !body.trim().is_empty() => Ok((seq, body.to_owned())),
        _ => Err(CommandError::Usage(usage)),
    }
}

/// Only ASCII digits (at least one).
fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Splits arguments on white space. An argument that starts with `"` runs to the next
/// `"` and may hold spaces; inside it `\"` is a quote and `\\` a backslash (any other
/// backslash is kept). Outside quotes nothing is special.
pub fn split_args(rest: &str) -> Result<Vec<String>, CommandError> {
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else {
            return Ok(args);
        };
        let mut arg = String::new();
        if first == '"' {
            loop {
                match chars.next() {
                    None => return Err(CommandError::Unclosed),
                    Some('"') => break,
                    Some('\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                        arg.extend(chars.next());
                    }
                    Some(c) => arg.push(c),
                }
            }
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(CommandError::Unclosed);
            }
        } else {
            arg.push(first);
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                arg.push(c);
            }
        }
        args.push(arg);
    }
}

fn command(name: &str, args: &[String]) -> Result<Command, CommandError> {
    let one = |usage: &'static str| match args {
        [who] => Ok(who.clone()),
        _ => Err(CommandError::Usage(usage)),
    };
    let optional = |usage: &'static str| match args {
        [] => Ok(None),
        [room] => Ok(Some(room.clone())),
        _ => Err(CommandError::Usage(usage)),
    };
    let none = |command: Command, usage: &'static str| {
        if args.is_empty() {
            Ok(command)
        } else {
            Err(CommandError::Usage(usage))
        }
    };
    match name {
        "open" => {
            one(r#"/open <email|room> (a room name with spaces in "quotes")"#).map(Command::Open)
        }
        "block" => one("/block <email>").map(Command::Block),
        "unblock" => one("/unblock <email>").map(Command::Unblock),
        "history" => match args {
            [] => Ok(Command::History(DEFAULT_HISTORY)),
            [n] => match n.parse::<i64>() {
                Ok(n) if (1..=super::frames::HISTORY_MAX).contains(&n) => Ok(Command::History(n)),
                _ => Err(CommandError::Usage("/history [n], n from 1 to 200")),
            },
            _ => Err(CommandError::Usage("/history [n], n from 1 to 200")),
        },
        "online" | "who" => optional("/online [prefix]").map(Command::Online),
        "blocked" => none(Command::Blocked, "/blocked"),
        "name" => one(r#"/name <name> (a name with spaces in "quotes")"#).map(Command::Name),
        "read" => none(Command::Read, "/read"),
        "seen" => match args {
            [n] => match n.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(Command::Seen(n)),
                _ => Err(CommandError::Usage("/seen <seq>")),
            },
            _ => Err(CommandError::Usage("/seen <seq>")),
        },
        "receipts" => match args {
            [on] if on == "on" => Ok(Command::Receipts(true)),
            [off] if off == "off" => Ok(Command::Receipts(false)),
            _ => Err(CommandError::Usage("/receipts on|off")),
        },
        "rooms" => {
            optional("/rooms [query] (a query with spaces in \"quotes\")").map(Command::Rooms)
        }
        "more" => none(Command::More, "/more"),
        "create" => match args {
            [name] | [name, _] if !name.trim().is_empty() => Ok(Command::Create {
                name: name.clone(),
                password: args.get(1).cloned(),
            }),
            _ => Err(CommandError::Usage(
                r#"/create <name> [password] (a name with spaces in "quotes")"#,
            )),
        },
        "join" => match args {
            [room] | [room, _] if !room.trim().is_empty() => Ok(Command::Join {
                room: room.clone(),
                password: args.get(1).cloned(),
            }),
            _ => Err(CommandError::Usage(
                r#"/join <room> [password] (a name with spaces in "quotes")"#,
            )),
        },
        "leave" => optional("/leave [room]").map(Command::Leave),
        "delete" => optional(DELETE_USAGE).map(Command::Delete),
        "react" => match args {
            [seq, emoji] => match seq.parse::<i64>() {
                Ok(seq) if seq >= 1 && !emoji.trim().is_empty() => Ok(Command::React {
                    seq,
                    emoji: emoji.clone(),
                }),
                _ => Err(CommandError::Usage(REACT_USAGE)),
            },
            _ => Err(CommandError::Usage(REACT_USAGE)),
        },
        "members" => optional("/members [room]").map(Command::Members),
        "help" | "?" => Ok(Command::Help),
        "quit" | "exit" => none(Command::Quit, "/quit"),
        other => Err(CommandError::Unknown(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_a_message_and_a_double_slash_sends_a_leading_slash() {
        assert_eq!(parse("hi bob"), Some(Ok(Command::Say("hi bob".into()))));
        assert_eq!(
            parse("  /not a command"),
            Some(Ok(Command::Say("  /not a command".into())))
        );
        assert_eq!(parse("//shrug"), Some(Ok(Command::Say("/shrug".into()))));
        assert_eq!(parse("   "), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn commands_take_their_arguments_and_refuse_others() {
        assert_eq!(
            parse("/open bob@example.com"),
            Some(Ok(Command::Open("bob@example.com".into())))
        );
        assert_eq!(parse("/who"), Some(Ok(Command::Online(None))));
        assert_eq!(
            parse("/online bo"),
            Some(Ok(Command::Online(Some("bo".into()))))
        );
        assert_eq!(parse("/history"), Some(Ok(Command::History(20))));
        assert_eq!(parse("/history 5"), Some(Ok(Command::History(5))));
        assert!(matches!(
            parse("/history 0"),
            Some(Err(CommandError::Usage(_)))
        ));
        assert!(matches!(parse("/open"), Some(Err(CommandError::Usage(_)))));
        assert!(matches!(
            parse("/open a b"),
            Some(Err(CommandError::Usage(_)))
        ));
        assert_eq!(
            parse("/dance"),
            Some(Err(CommandError::Unknown("dance".into())))
        );
        assert_eq!(parse("/quit"), Some(Ok(Command::Quit)));
    }

    #[test]
    fn a_name_with_spaces_is_quoted() {
        assert_eq!(
            parse(r#"/name "Ada Lovelace""#),
            Some(Ok(Command::Name("Ada Lovelace".into())))
        );
        assert!(matches!(parse("/name"), Some(Err(CommandError::Usage(_)))));
    }

    #[test]
    fn arguments_with_spaces_are_quoted() {
        assert_eq!(
            parse(r#"/join "Book club" s3cret"#),
            Some(Ok(Command::Join {
                room: "Book club".into(),
                password: Some("s3cret".into())
            }))
        );
        assert_eq!(
            parse("/create General"),
            Some(Ok(Command::Create {
                name: "General".into(),
                password: None
            }))
        );
        assert_eq!(
            parse(r#"/create   "say \"hi\" \\ there"   "two words""#),
            Some(Ok(Command::Create {
                name: r#"say "hi" \ there"#.into(),
                password: Some("two words".into())
            }))
        );
        assert_eq!(
            parse(r#"/open "Book club""#),
            Some(Ok(Command::Open("Book club".into())))
        );
        // Outside quotes, and before anything but a quote or a backslash, `\` is itself.
        assert_eq!(
            parse(r#"/join a\b "c\d""#),
            Some(Ok(Command::Join {
                room: r#"a\b"#.into(),
                password: Some(r#"c\d"#.into())
            }))
        );
        assert_eq!(
            parse(r#"/join "Book club"#),
            Some(Err(CommandError::Unclosed))
        );
        assert_eq!(
            parse(r#"/join "Book"club"#),
            Some(Err(CommandError::Unclosed))
        );
        for bad in [
            "/join Book club now",
            "/join",
            r#"/create """#,
            "/create a b c",
            "/rooms a b",
            "/more x",
            "/leave a b",
        ] {
            assert!(
                matches!(parse(bad), Some(Err(CommandError::Usage(_)))),
                "{bad}"
            );
        }
        assert_eq!(parse("/leave"), Some(Ok(Command::Leave(None))));
        assert_eq!(
            parse(r#"/members "Book club""#),
            Some(Ok(Command::Members(Some("Book club".into()))))
        );
        assert_eq!(parse("/rooms"), Some(Ok(Command::Rooms(None))));
        assert_eq!(
            parse(r#"/rooms "book c""#),
            Some(Ok(Command::Rooms(Some("book c".into()))))
        );
        assert_eq!(parse("/more"), Some(Ok(Command::More)));
    }

    #[test]
    fn seen_takes_a_seq_and_receipts_on_or_off() {
        assert_eq!(parse("/seen 4"), Some(Ok(Command::Seen(4))));
        assert_eq!(parse("/receipts off"), Some(Ok(Command::Receipts(false))));
        assert_eq!(parse("/receipts on"), Some(Ok(Command::Receipts(true))));
        for bad in [
            "/seen",
            "/seen 0",
            "/seen x",
            "/receipts",
            "/receipts maybe",
        ] {
            assert!(
                matches!(parse(bad), Some(Err(CommandError::Usage(_)))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_reply_takes_a_seq_and_the_rest_of_the_line_as_typed() {
        assert_eq!(
            parse(r#"/reply 3 sure, "the usual"  place"#),
            Some(Ok(Command::Reply {
                seq: 3,
                body: r#"sure, "the usual"  place"#.into()
            }))
        );
        for bad in [
            "/reply",
            "/reply 3",
            "/reply 3   ",
            "/reply 0 hi",
            "/reply x hi",
        ] {
            assert!(
                matches!(parse(bad), Some(Err(CommandError::Usage(_)))),
                "{bad}"
            );
        }
    }

    #[test]
    fn edit_takes_a_seq_and_the_rest_of_the_line_as_typed() {
        assert_eq!(
            parse(r#"/edit 4 the "usual"  place"#),
            Some(Ok(Command::Edit {
                seq: 4,
                body: r#"the "usual"  place"#.into()
            }))
        );
        for bad in ["/edit", "/edit 4", "/edit 4  ", "/edit 0 x", "/edit four x"] {
            assert_eq!(
                parse(bad),
                Some(Err(CommandError::Usage(EDIT_USAGE))),
                "{bad}"
            );
        }
    }

    #[test]
    fn react_takes_a_seq_and_one_emoji() {
        assert_eq!(
            parse("/react 4 👍"),
            Some(Ok(Command::React {
                seq: 4,
                emoji: "👍".into()
            }))
        );
        assert_eq!(
            parse(r#"/react  12   "🎉""#),
            Some(Ok(Command::React {
                seq: 12,
                emoji: "🎉".into()
            }))
        );
        for bad in [
            "/react",
            "/react 4",
            "/react 👍 4",
            "/react 0 👍",
            "/react 4 👍 🎉",
        ] {
            assert_eq!(
                parse(bad),
                Some(Err(CommandError::Usage(REACT_USAGE))),
                "{bad}"
            );
        }
    }

    #[test]
    fn delete_with_a_number_deletes_a_message_and_with_anything_else_a_room() {
        assert_eq!(parse("/delete 7"), Some(Ok(Command::DeleteMessage(7))));
        assert_eq!(parse("/delete  7 "), Some(Ok(Command::DeleteMessage(7))));
        assert_eq!(parse("/delete"), Some(Ok(Command::Delete(None))));
        assert_eq!(
            parse("/delete Attic"),
            Some(Ok(Command::Delete(Some("Attic".into()))))
        );
        // A room named by a number is quoted; a room id is never a number.
        assert_eq!(
            parse(r#"/delete "2024""#),
            Some(Ok(Command::Delete(Some("2024".into()))))
        );
        assert_eq!(
            parse("/delete 9e4f6a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b"),
            Some(Ok(Command::Delete(Some(
                "9e4f6a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b".into()
            ))))
        );
        for bad in ["/delete 0", "/delete 99999999999999999999", "/delete 7 8"] {
            assert_eq!(
                parse(bad),
                Some(Err(CommandError::Usage(DELETE_USAGE))),
                "{bad}"
            );
        }
    }
}
