//! The line format of stdout: one event per line, a keyword first, fields separated by
//! one space, free text (bodies, error messages) last and escaped so that it stays on
//! one line. docs/terminal.md documents every line; this file is its only producer.

use banter_protocol::ConversationId;
use std::fmt;
use std::io::Write;

/// One line of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `ready me=<email> online=<n>`: connected; `n` people online may be seen in all.
    /// The `online` lines of the first page and of conversation partners follow, then
    /// `end online`.
    Ready { me: String, online: usize },
    /// `online <email>`: someone online (after `ready`, and for `/online`).
    Online(String),
    /// `end <what>`: the end of a listing (`online`, `blocked`, `history`, `help`,
    /// `rooms`, `members`).
    End(&'static str),
    /// `opened <email> <conversation|new>`: the chat `/open` opened.
    Opened {
        peer: String,
        conversation: Option<ConversationId>,
    },
    /// `message <conversation> <seq> <sender-email> <body>`: a message arrived.
    Message(Shown),
    /// `history <conversation> <seq> <sender-email> <body>`: an older message, on request.
    History(Shown),
    /// `sent <conversation> <seq> <body>`: the server committed a message typed here.
    Sent {
        conversation: ConversationId,
        seq: i64,
        body: String,
    },
    /// `presence online|offline <email>`: someone came into or left what the client
    /// tracks of the online list (its page of the list and conversation partners).
    Presence { online: bool, email: String },
    /// `blocked <email>`: blocked (here, in another window, or listed by `/blocked`).
    Blocked(String),
    /// `unblocked <email>`.
    Unblocked(String),
    /// `named <email> <name>`: someone's display name is now `name` (you, or someone the
    /// client shows).
    Named { email: String, name: String },
    /// `typing <conversation> <email>`.
    Typing {
        conversation: ConversationId,
        email: String,
    },
    /// `read <conversation> <seq>`: the read position moved (here or in another window).
    Read {
        conversation: ConversationId,
        seq: i64,
    },
    /// `seen <conversation> <seq> <email>`: the other person of a direct chat has read up
    /// to `seq` (a read receipt).
    Seen {
        conversation: ConversationId,
        seq: i64,
        email: String,
    },
    /// `seen-by <conversation> <seq> <count> [email…]`: the answer to `/seen`: how many of
    /// the other members have read up to `seq`, and the first of them.
    SeenBy {
        conversation: ConversationId,
        seq: i64,
        count: i64,
        emails: Vec<String>,
    },
    /// `receipts on|off`: whether you share your read receipts (changed here or in another
    /// window).
    Receipts(bool),
    /// `error <code> <message>`: the server or this client refused something.
    Error { code: String, message: String },
    /// `disconnected <reason>`: the socket dropped; reconnecting.
    Disconnected(String),
    /// `reconnected`: connected again; missed events follow.
    Reconnected,
    /// `help <usage> -- <what it does>`.
    Help {
        usage: &'static str,
        text: &'static str,
    },
    /// `reply-to <conversation> <seq> <quoted-seq> <quoted-sender> <quoted-body>`: right
    /// after the `message`, `history` or `sent` line of a reply.
    ReplyTo(Quoted),
    /// `room <room-id> members=<n> password=yes|no joined=yes|no <name>`: a room of
    /// `/rooms`, or one of yours whose member count changed.
    Room(RoomShown),
    /// `more rooms -- /more lists the next page`: before `end rooms`, when rooms follow.
    MoreRooms,
    /// `room_deleted <room-id>`.
    RoomDeleted(ConversationId),
    /// `joined <room-id> <name>`: you are a member of this room now.
    Joined { room: ConversationId, name: String },
    /// `left <room-id>`: you are no longer a member of this room.
    Left(ConversationId),
    /// `opened room <room-id> <name>`: `/open` opened a room.
    OpenedRoom { room: ConversationId, name: String },
    /// `member joined|left <room-id> <email>`: someone joined or left a room of yours.
    MemberChanged {
        joined: bool,
        room: ConversationId,
        email: String,
    },
    /// `member <email> online|offline`: one line of `/members`.
    Member { email: String, online: bool },
    /// `edited <conversation> <seq> <body>`: message `seq` now reads `body` (its sender
    /// edited it, here or elsewhere).
    Edited {
        conversation: ConversationId,
        seq: i64,
        body: String,
    },
    /// `deleted <conversation> <seq>`: message `seq` was deleted for everyone.
    Deleted {
        conversation: ConversationId,
        seq: i64,
    },
    /// `reaction added|removed <conversation> <seq> <email> <emoji>`: someone put their
    /// reaction on message `seq`, or took it back.
    Reaction {
        added: bool,
        conversation: ConversationId,
        seq: i64,
        email: String,
        emoji: String,
    },
    /// `unchanged <conversation> <seq>`: an `/edit`, `/delete` or `/react` of message
    /// `seq` found it so already.
    Unchanged {
        conversation: ConversationId,
        seq: i64,
    },
    /// `changed <conversation> <seq> <sender-email> <body>`: a message as it is now,
    /// after changes the client was not told of live (a `changes` frame); its `state`
    /// line follows.
    Changed(Shown),
    /// `state <conversation> <seq> [edited|deleted] [<emoji> <count>]...`: right after
    /// the `message`, `history`, `sent` or `changed` line of a message (and its
    /// `reply-to`) that was edited, is deleted or has reactions; after `changed` always.
    State(MessageState),
}

/// What a message became after it was sent, as `state` lines show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub conversation: ConversationId,
    pub seq: i64,
    pub edited: bool,
    /// A tombstone: its text and reactions are gone.
    pub deleted: bool,
    /// Each emoji on it with how many reacted with it, in the order they were first put on.
    pub reactions: Vec<(String, usize)>,
}

/// A room as `room` lines show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomShown {
    pub id: ConversationId,
    pub name: String,
    pub members: i64,
    pub password: bool,
    pub joined: bool,
}

/// What a reply quotes, as `reply-to` lines show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    pub conversation: ConversationId,
    /// The reply's own `seq`.
    pub seq: i64,
    /// The `seq` of the message it answers.
    pub quoted_seq: i64,
    /// Its sender's email (or user id); `None` once that message is gone.
    pub sender: Option<String>,
    /// Its first 200 characters; `None` once it is gone.
    pub body: Option<String>,
}

/// A message with its sender's email, as `message` and `history` lines show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub conversation: ConversationId,
    pub seq: i64,
    pub sender: String,
    pub body: String,
}

impl Line {
    /// An `error` line.
    pub fn error(code: &str, message: impl Into<String>) -> Line {
        Line::Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Ready { me, online } => write!(f, "ready me={} online={online}", word(me)),
            Line::Online(email) => write!(f, "online {}", word(email)),
            Line::End(what) => write!(f, "end {what}"),
            Line::Opened { peer, conversation } => match conversation {
                Some(c) => write!(f, "opened {} {c}", word(peer)),
                None => write!(f, "opened {} new", word(peer)),
            },
            Line::Message(m) => write!(f, "message {m}"),
            Line::History(m) => write!(f, "history {m}"),
            Line::Sent {
                conversation,
                seq,
                body,
            } => write!(f, "sent {conversation} {seq} {}", escape(body)),
            Line::Presence { online, email } => {
                let state = if *online { "online" } else { "offline" };
                write!(f, "presence {state} {}", word(email))
            }
            Line::Blocked(email) => write!(f, "blocked {}", word(email)),
            Line::Unblocked(email) => write!(f, "unblocked {}", word(email)),
            Line::Named { email, name } => write!(f, "named {} {}", word(email), escape(name)),
            Line::Typing {
                conversation,
                email,
            } => write!(f, "typing {conversation} {}", word(email)),
            Line::Read { conversation, seq } => write!(f, "read {conversation} {seq}"),
            Line::Seen {
                conversation,
                seq,
                email,
            } => write!(f, "seen {conversation} {seq} {}", word(email)),
            Line::SeenBy {
                conversation,
                seq,
                count,
                emails,
            } => {
                write!(f, "seen-by {conversation} {seq} {count}")?;
                for email in emails {
                    write!(f, " {}", word(email))?;
                }
                Ok(())
            }
            Line::Receipts(share) => write!(f, "receipts {}", if *share { "on" } else { "off" }),
            Line::Error { code, message } => write!(f, "error {} {}", word(code), escape(message)),
            Line::Disconnected(reason) => write!(f, "disconnected {}", escape(reason)),
            Line::Reconnected => write!(f, "reconnected"),
            Line::Help { usage, text } => write!(f, "help {usage} -- {text}"),
            Line::ReplyTo(q) => {
                let sender = q.sender.as_deref().map_or("unknown".to_owned(), word);
                write!(
                    f,
                    "reply-to {} {} {} {sender}",
                    q.conversation, q.seq, q.quoted_seq
                )?;
                match &q.body {
                    Some(body) => write!(f, " {}", escape(body)),
                    None => Ok(()),
                }
            }
            Line::Room(r) => write!(
                f,
                "room {} members={} password={} joined={} {}",
                r.id,
                r.members,
                yes_no(r.password),
                yes_no(r.joined),
                escape(&r.name)
            ),
            Line::MoreRooms => write!(f, "more rooms -- /more lists the next page"),
            Line::RoomDeleted(room) => write!(f, "room_deleted {room}"),
            Line::Joined { room, name } => write!(f, "joined {room} {}", escape(name)),
            Line::Left(room) => write!(f, "left {room}"),
            Line::OpenedRoom { room, name } => write!(f, "opened room {room} {}", escape(name)),
            Line::MemberChanged {
                joined,
                room,
                email,
            } => {
                let what = if *joined { "joined" } else { "left" };
                write!(f, "member {what} {room} {}", word(email))
            }
            Line::Member { email, online } => {
                let state = if *online { "online" } else { "offline" };
                write!(f, "member {} {state}", word(email))
            }
            Line::Edited {
                conversation,
                seq,
                body,
            } => write!(f, "edited {conversation} {seq} {}", escape(body)),
            Line::Deleted { conversation, seq } => write!(f, "deleted {conversation} {seq}"),
            Line::Reaction {
                added,
                conversation,
                seq,
                email,
                emoji,
            } => {
                let what = if *added { "added" } else { "removed" };
                write!(
                    f,
                    "reaction {what} {conversation} {seq} {} {}",
                    word(email),
                    word(emoji)
                )
            }
            Line::Unchanged { conversation, seq } => write!(f, "unchanged {conversation} {seq}"),
            Line::Changed(m) => write!(f, "changed {m}"),
            Line::State(s) => {
                write!(f, "state {} {}", s.conversation, s.seq)?;
                if s.deleted {
                    write!(f, " deleted")?;
                } else if s.edited {
                    write!(f, " edited")?;
                }
                for (emoji, count) in &s.reactions {
                    write!(f, " {} {count}", word(emoji))?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Shown {
    /// A deleted message's line ends after its sender (a message sent has a body).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.conversation,
            self.seq,
            word(&self.sender)
        )?;
        if self.body.is_empty() {
            return Ok(());
        }
        write!(f, " {}", escape(&self.body))
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Free text on one line: `\` becomes `\\`, newline `\n`, carriage return `\r`, tab `\t`,
/// and any other control character `\u{hex}`, so a reader can split on newlines and
/// undo the escapes exactly.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A field that must stay one word (an email, a code): escaped, and spaces as `\u{20}`
/// (emails come from the identity provider and never should hold one).
fn word(text: &str) -> String {
    escape(text).replace(' ', "\\u{20}")
}

/// Where lines go: stdout, flushed after every batch so a script sees each event at once.
pub struct Output {
    stdout: std::io::Stdout,
}

impl Output {
    pub fn stdout() -> Output {
        Output {
            stdout: std::io::stdout(),
        }
    }

    /// Writes the lines, each followed by a newline, and flushes.
    pub fn write(&self, lines: &[Line]) -> std::io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut out = self.stdout.lock();
        for line in lines {
            writeln!(out, "{line}")?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> ConversationId {
        ConversationId::parse("c3c0ffee-0000-4000-8000-000000000003").unwrap()
    }

    #[test]
    fn bodies_stay_on_one_line_and_the_escapes_are_reversible() {
        assert_eq!(escape("a\nb\\n\tc\r\u{7}"), "a\\nb\\\\n\\tc\\r\\u{7}");
        assert_eq!(escape("héllo /world"), "héllo /world");
    }

    #[test]
    fn each_line_reads_as_documented() {
        let c = conversation();
        let cases = [
            (
                Line::Ready {
                    me: "a@x".into(),
                    online: 2,
                },
                "ready me=a@x online=2".to_owned(),
            ),
            (Line::Online("b@x".into()), "online b@x".into()),
            (Line::End("online"), "end online".into()),
            (
                Line::Opened {
                    peer: "b@x".into(),
                    conversation: None,
                },
                "opened b@x new".into(),
            ),
            (
                Line::Message(Shown {
                    conversation: c,
                    seq: 3,
                    sender: "b@x".into(),
                    body: "two\nlines".into(),
                }),
                format!("message {c} 3 b@x two\\nlines"),
            ),
            (
                Line::Sent {
                    conversation: c,
                    seq: 4,
                    body: "hi there".into(),
                },
                format!("sent {c} 4 hi there"),
            ),
            (
                Line::Presence {
                    online: false,
                    email: "b@x".into(),
                },
                "presence offline b@x".into(),
            ),
            (
                Line::error("blocked", "one of you has blocked the other"),
                "error blocked one of you has blocked the other".into(),
            ),
            (Line::Reconnected, "reconnected".into()),
            (
                Line::ReplyTo(Quoted {
                    conversation: c,
                    seq: 5,
                    quoted_seq: 2,
                    sender: Some("b@x".into()),
                    body: Some("lunch?\nat noon".into()),
                }),
                format!("reply-to {c} 5 2 b@x lunch?\\nat noon"),
            ),
            (
                Line::ReplyTo(Quoted {
                    conversation: c,
                    seq: 5,
                    quoted_seq: 2,
                    sender: None,
                    body: None,
                }),
                format!("reply-to {c} 5 2 unknown"),
            ),
            (
                Line::Room(RoomShown {
                    id: c,
                    name: "Book club".into(),
                    members: 3,
                    password: true,
                    joined: false,
                }),
                format!("room {c} members=3 password=yes joined=no Book club"),
            ),
            (
                Line::MoreRooms,
                "more rooms -- /more lists the next page".into(),
            ),
            (Line::RoomDeleted(c), format!("room_deleted {c}")),
            (
                Line::Joined {
                    room: c,
                    name: "Book club".into(),
                },
                format!("joined {c} Book club"),
            ),
            (Line::Left(c), format!("left {c}")),
            (
                Line::OpenedRoom {
                    room: c,
                    name: "Book club".into(),
                },
                format!("opened room {c} Book club"),
            ),
            (
                Line::MemberChanged {
                    joined: false,
                    room: c,
                    email: "b@x".into(),
                },
                format!("member left {c} b@x"),
            ),
            (
                Line::Member {
                    email: "b@x".into(),
                    online: true,
                },
                "member b@x online".into(),
            ),
            (
                Line::Edited {
                    conversation: c,
                    seq: 4,
                    body: "new\ntext".into(),
                },
                format!("edited {c} 4 new\\ntext"),
            ),
            (
                Line::Deleted {
                    conversation: c,
                    seq: 4,
                },
                format!("deleted {c} 4"),
            ),
            (
                Line::Reaction {
                    added: true,
                    conversation: c,
                    seq: 4,
                    email: "b@x".into(),
                    emoji: "👍".into(),
                },
                format!("reaction added {c} 4 b@x 👍"),
            ),
            (
                Line::Reaction {
                    added: false,
                    conversation: c,
                    seq: 4,
                    email: "b@x".into(),
                    emoji: "👍".into(),
                },
                format!("reaction removed {c} 4 b@x 👍"),
            ),
            (
                Line::Unchanged {
                    conversation: c,
                    seq: 4,
                },
                format!("unchanged {c} 4"),
            ),
            (
                Line::Changed(Shown {
                    conversation: c,
                    seq: 4,
                    sender: "b@x".into(),
                    body: "now this".into(),
                }),
                format!("changed {c} 4 b@x now this"),
            ),
            (
                Line::History(Shown {
                    conversation: c,
                    seq: 5,
                    sender: "b@x".into(),
                    body: String::new(),
                }),
                format!("history {c} 5 b@x"),
            ),
            (
                Line::State(MessageState {
                    conversation: c,
                    seq: 4,
                    edited: true,
                    deleted: false,
                    reactions: vec![("👍".into(), 2), ("🎉".into(), 1)],
                }),
                format!("state {c} 4 edited 👍 2 🎉 1"),
            ),
            (
                Line::State(MessageState {
                    conversation: c,
                    seq: 5,
                    edited: true,
                    deleted: true,
                    reactions: vec![],
                }),
                format!("state {c} 5 deleted"),
            ),
            (
                Line::State(MessageState {
                    conversation: c,
                    seq: 6,
                    edited: false,
                    deleted: false,
                    reactions: vec![],
                }),
                format!("state {c} 6"),
            ),
        ];
        for (line, text) in cases {
            assert_eq!(line.to_string(), text);
        }
    }
}
