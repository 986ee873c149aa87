//! What a line of stdin means: decoded into a [`Command`] here, executed by
//! [`super::state::Chat`]. Anything not starting with `/` is a message.

/// How many messages `/open` shows, and `/history` without a number.
pub const DEFAULT_HISTORY: i64 = 20;

/// One decoded line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send this text to the open chat.
    Say(String),
    /// `/online` (or `/who`): list who is online.
    Online,
    /// `/open <email>`: open the direct chat with this person (an email or a user id).
    Open(String),
    /// `/history [n]`: show up to `n` messages older than those shown.
    History(i64),
    /// `/block <email>`.
    Block(String),
    /// `/unblock <email>`.
    Unblock(String),
    /// `/blocked`: list whom you blocked.
    Blocked,
    /// `/read`: mark the open chat read up to its last message.
    Read,
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
}

/// Every command with its usage, for `/help` and for usage errors.
pub const HELP: &[(&str, &str)] = &[
    (
        "/open <email>",
        "open the direct chat with someone and show its last messages",
    ),
    ("<text>", "send text to the open chat (//text sends /text)"),
    (
        "/history [n]",
        "show up to n (default 20) older messages of the open chat",
    ),
    ("/online", "list who is online (also /who)"),
    ("/read", "mark the open chat read"),
    ("/block <email>", "block someone"),
    ("/unblock <email>", "unblock someone"),
    ("/blocked", "list whom you blocked"),
    ("/help", "this list"),
    (
        "/quit",
        "leave once every message is acknowledged (also end of input)",
    ),
];

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
    let mut words = rest.split_whitespace();
    let name = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    Some(command(name, &args))
}

fn command(name: &str, args: &[&str]) -> Result<Command, CommandError> {
    let one = |usage: &'static str| match args {
        [who] => Ok((*who).to_owned()),
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
        "open" => one("/open <email>").map(Command::Open),
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
        "online" | "who" => none(Command::Online, "/online"),
        "blocked" => none(Command::Blocked, "/blocked"),
        "read" => none(Command::Read, "/read"),
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
        assert_eq!(parse("/who"), Some(Ok(Command::Online)));
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
}
