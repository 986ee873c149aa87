//! Reacting to the person's commands: [`Chat::on_command`] turns each decoded line of
//! input into frames to send and lines to print (lists, refusals, help).

use super::open::{no_chat, no_messages};
use super::people::by_email;
use super::{Chat, Chosen, Effects, OpenChat, Outstanding, Purpose, RoomAction};
use crate::commands::{Command, DEFAULT_HISTORY, HELP};
use crate::output::Line;
use banter_protocol::{ClientFrame, Page, Request};

impl Chat {
    /// A decoded line of input. (`/quit` is the caller's: it ends the session.)
    pub fn on_command(&mut self, command: Command) -> Effects {
        let mut fx = Effects::default();
        match command {
            Command::Say(body) => self.say(body, None, &mut fx),
            Command::Reply { seq, body } => self.say(body, Some(seq), &mut fx),
            Command::Edit { seq, body } => self.ask_change(
                |_, conversation_id| ClientFrame::Edit {
                    conversation_id,
                    seq,
                    body,
                },
                &mut fx,
            ),
            Command::DeleteMessage(seq) => self.ask_change(
                |_, conversation_id| ClientFrame::Delete {
                    conversation_id,
                    seq,
                },
                &mut fx,
            ),
            // A toggle: off if this client knows the reaction is on.
            Command::React { seq, emoji } => self.ask_change(
                |chat, conversation_id| ClientFrame::React {
                    conversation_id,
                    seq,
                    add: !chat.reacted(conversation_id, seq, &emoji),
                    emoji,
                },
                &mut fx,
            ),
            // The first page is tracked: listed as it stands. After a search, the first
            // page is asked for again (which makes it the tracked range again).
            Command::Online(None) if !self.paged_away => self.list_online(&mut fx),
            Command::Online(None) => self.ask_online(None, Purpose::OnlineFirst, &mut fx),
            Command::Online(Some(prefix)) => {
                self.ask_online(Some(prefix), Purpose::Online, &mut fx)
            }
            Command::Seen(seq) => match self.open_conversation() {
                Some(conversation_id) => fx.frames.push(Request::with_ref(
                    self.next_ref("w"),
                    ClientFrame::Seen {
                        conversation_id,
                        seq,
                    },
                )),
                None if self.open.is_none() => fx.lines.push(super::open::no_chat()),
                None => fx.lines.push(super::open::no_messages()),
            },
            Command::Receipts(share) => fx.frames.push(Request::with_ref(
                self.next_ref("p"),
                ClientFrame::SetReceipts { share },
            )),
            Command::Name(name) => fx.frames.push(Request::with_ref(
                self.next_ref("n"),
                ClientFrame::SetName { name },
            )),
            Command::Blocked => {
                fx.lines.extend(
                    by_email(self.blocked.values()).map(|u| Line::Blocked(u.email.clone())),
                );
                fx.lines.push(Line::End("blocked"));
            }
            Command::Open(what) => match self.resolve_chat(&what) {
                Err(line) => fx.lines.push(line),
                Ok(None) => self.find(what.trim().to_owned(), None, RoomAction::Open, &mut fx),
                Ok(Some(Chosen::Room { id, name })) => {
                    self.act(id, &name, RoomAction::Open, &mut fx)
                }
                Ok(Some(Chosen::Direct(peer)))
                    if Some(peer.id) == self.me.as_ref().map(|m| m.id) =>
                {
                    fx.lines.push(Line::error(
                        "bad_request",
                        "that is you; open someone else's chat",
                    ))
                }
                Ok(Some(Chosen::Direct(peer))) => {
                    let conversation = self.direct_with(peer.id);
                    fx.lines.push(Line::Opened {
                        peer: peer.email.clone(),
                        conversation,
                    });
                    self.open = Some(OpenChat {
                        chosen: Chosen::Direct(peer),
                        oldest: None,
                    });
                    match conversation {
                        Some(c) => self.ask_shown(c, Page::Latest, DEFAULT_HISTORY, &mut fx),
                        None => fx.lines.push(Line::End("history")),
                    }
                }
            },
            Command::History(n) => match self.open.as_ref().map(|o| o.oldest) {
                None => fx.lines.push(no_chat()),
                Some(oldest) => match self.open_conversation() {
                    None => fx.lines.push(Line::End("history")),
                    Some(c) => {
                        let page = oldest.map(Page::Before).unwrap_or(Page::Latest);
                        self.ask_shown(c, page, n, &mut fx);
                    }
                },
            },
            Command::Read => {
                let conversation = self.open_conversation();
                let seen = conversation.and_then(|c| self.seen.get(&c)).copied();
                match (&self.open, conversation, seen) {
                    (None, _, _) => fx.lines.push(no_chat()),
                    (Some(_), Some(conversation), Some(seq)) if seq > 0 => {
                        fx.frames.push(Request::new(ClientFrame::Read {
                            conversation_id: conversation,
                            seq,
                        }));
                        fx.lines.push(Line::Read { conversation, seq });
                    }
                    _ => fx.lines.push(no_messages()),
                }
            }
            Command::Rooms(query) => self.list_rooms(query, &mut fx),
            Command::More => self.more_rooms(&mut fx),
            Command::Create { name, password } => {
                let reference = self.next_ref("r");
                let frame = Request::with_ref(
                    reference.clone(),
                    ClientFrame::CreateRoom {
                        name: name.clone(),
                        password,
                    },
                );
                let what = format!("/create {name}");
                self.ask(reference, frame, Purpose::Room { what }, &mut fx);
            }
            Command::Join { room, password } => {
                self.on_room(&room, RoomAction::Join { password }, &mut fx)
            }
            Command::Leave(room) => {
                self.on_room_or_open(room.as_deref(), RoomAction::Leave, &mut fx)
            }
            Command::Delete(room) => {
                self.on_room_or_open(room.as_deref(), RoomAction::Delete, &mut fx)
            }
            Command::Members(room) => {
                self.on_room_or_open(room.as_deref(), RoomAction::Members, &mut fx)
            }
            Command::Block(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::with_ref(
                        self.next_ref("b"),
                        ClientFrame::Block { user_id: user.id },
                    ));
                    fx.lines.push(Line::Blocked(user.email.clone()));
                    self.blocked.insert(user.id, user);
                }
            },
            Command::Unblock(who) => match self.resolve(&who) {
                Err(line) => fx.lines.push(line),
                Ok(user) => {
                    fx.frames.push(Request::with_ref(
                        self.next_ref("b"),
                        ClientFrame::Unblock { user_id: user.id },
                    ));
                    fx.lines.push(Line::Unblocked(user.email.clone()));
                    self.blocked.remove(&user.id);
                }
            },
            Command::Help => {
                fx.lines
                    .extend(HELP.iter().map(|&(usage, text)| Line::Help { usage, text }));
                fx.lines.push(Line::End("help"));
            }
            Command::Quit => {}
        }
        fx
    }

    /// Everyone tracked online, by email, then `end online`.
    pub(super) fn list_online(&self, fx: &mut Effects) {
        fx.lines
            .extend(by_email(self.online.values()).map(|u| Line::Online(u.email.clone())));
        fx.lines.push(Line::End("online"));
    }

    /// An `online` request: the people whose email starts with `prefix`, or the first
    /// page. Its answer replaces the range the window tracks.
    fn ask_online(&mut self, prefix: Option<String>, purpose: Purpose, fx: &mut Effects) {
        let reference = self.next_ref("o");
        let limit = match prefix {
            Some(_) => crate::frames::SEARCH_PAGE,
            None => banter_protocol::ONLINE_PAGE as i64,
        };
        let frame = Request::with_ref(
            reference.clone(),
            ClientFrame::Online {
                prefix,
                offset: None,
                limit: Some(limit),
            },
        );
        fx.frames.push(frame.clone());
        self.outstanding
            .insert(reference, Outstanding { purpose, frame });
    }
}
