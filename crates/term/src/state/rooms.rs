//! Rooms: the user's rooms (from `ready`, kept live by events), naming a room by id or
//! name, room actions sent and answered, and the answer to `/members`.

use super::{Chat, Chosen, Effects, OpenChat, Outstanding, Purpose, RoomAction};
use crate::commands::DEFAULT_HISTORY;
use crate::output::{Line, RoomShown};
use banter_protocol::{ClientFrame, ConversationId, Page, Request, Room, RoomMember, User};

impl Chat {
    /// The user's rooms from a `ready`; after a reconnect, prints what changed meanwhile
    /// as the live events would have: `left` for a room no longer among them (left
    /// elsewhere, or deleted: `ready` cannot tell which, and either way the user is no
    /// longer in it), `joined` for a room joined elsewhere, `room` for a member count
    /// that moved.
    pub(super) fn new_rooms(&mut self, rooms: Vec<Room>, first: bool, fx: &mut Effects) {
        let rooms = rooms.into_iter().map(|r| (r.id, r)).collect();
        let old = std::mem::replace(&mut self.rooms, rooms);
        let mut gone: Vec<ConversationId> = old
            .keys()
            .filter(|id| !self.rooms.contains_key(id))
            .copied()
            .collect();
        gone.sort();
        for id in gone {
            self.not_a_member(id);
            fx.lines.push(Line::Left(id));
        }
        if first {
            return;
        }
        for room in by_name(self.rooms.values()) {
            match old.get(&room.id) {
                None => fx.lines.push(Line::Joined {
                    room: room.id,
                    name: room.name.clone(),
                }),
                Some(was) if was != room => fx.lines.push(self.room_line(room)),
                Some(_) => {}
            }
        }
    }

    /// One of the user's rooms by name, whatever the case (names are unique whatever
    /// the case).
    pub(super) fn room_named(&self, name: &str) -> Option<&Room> {
        let name = name.trim().to_lowercase();
        self.rooms.values().find(|r| r.name.to_lowercase() == name)
    }

    /// `action` on the room named: by id or by the name of one of the user's rooms at
    /// once, by any other name once the directory has found it.
    pub(super) fn on_room(&mut self, room: &str, action: RoomAction, fx: &mut Effects) {
        match ConversationId::parse(room).or_else(|| self.room_named(room).map(|r| r.id)) {
            Some(id) => self.act(id, room, action, fx),
            None => self.find(room.trim().to_owned(), None, action, fx),
        }
    }

    /// `action` on the room named, or else on the open one.
    pub(super) fn on_room_or_open(
        &mut self,
        room: Option<&str>,
        action: RoomAction,
        fx: &mut Effects,
    ) {
        match (room, self.open.as_ref().map(|o| &o.chosen)) {
            (Some(room), _) => self.on_room(room, action, fx),
            (None, None) => fx.lines.push(Line::error(
                "no_chat",
                "no room is open; /open <room> first, or name the room",
            )),
            (None, Some(Chosen::Room { id, name })) => {
                let (id, name) = (*id, name.clone());
                self.act(id, &name, action, fx)
            }
            (None, Some(Chosen::Direct(_))) => fx.lines.push(Line::error(
                "not_room",
                "the open chat is not a room; /open <room> first, or name the room",
            )),
        }
    }

    /// `action` on the room `id`, which the person called `name`.
    pub(super) fn act(
        &mut self,
        id: ConversationId,
        name: &str,
        action: RoomAction,
        fx: &mut Effects,
    ) {
        let (verb, frame) = match action {
            RoomAction::Open => return self.open_if_mine(id, name, fx),
            RoomAction::Members => {
                let reference = self.next_ref("m");
                let frame =
                    Request::with_ref(reference.clone(), ClientFrame::Members { room_id: id });
                return self.ask(reference, frame, Purpose::Members, fx);
            }
            RoomAction::Join { password } => (
                "join",
                ClientFrame::JoinRoom {
                    room_id: id,
                    password,
                },
            ),
            RoomAction::Leave => ("leave", ClientFrame::LeaveRoom { room_id: id }),
            RoomAction::Delete => ("delete", ClientFrame::DeleteRoom { room_id: id }),
        };
        let reference = self.next_ref("r");
        let frame = Request::with_ref(reference.clone(), frame);
        let what = format!("/{verb} {name}");
        self.ask(reference, frame, Purpose::Room { what }, fx);
    }

    /// Opens the room `id` if it is one of the user's (`opened room`, then its last
    /// messages); any other is refused.
    fn open_if_mine(&mut self, id: ConversationId, name: &str, fx: &mut Effects) {
        let Some(room) = self.rooms.get(&id) else {
            return fx.lines.push(Line::error(
                "not_member",
                format!("you are not a member of {name}; /join it first"),
            ));
        };
        let name = room.name.clone();
        fx.lines.push(Line::OpenedRoom {
            room: id,
            name: name.clone(),
        });
        self.open_chat_room(id, name, fx);
    }

    /// Makes the room `id` the open chat and asks for its last messages.
    pub(super) fn open_chat_room(&mut self, id: ConversationId, name: String, fx: &mut Effects) {
        self.open = Some(OpenChat {
            chosen: Chosen::Room { id, name },
            oldest: None,
        });
        self.ask_shown(id, Page::Latest, DEFAULT_HISTORY, fx);
    }

    pub(super) fn room_line(&self, room: &Room) -> Line {
        Line::Room(RoomShown {
            id: room.id,
            name: room.name.clone(),
            members: room.members,
            password: room.has_password,
            joined: self.rooms.contains_key(&room.id),
        })
    }

    /// Sends a request and waits for its answer.
    pub(super) fn ask(
        &mut self,
        reference: String,
        frame: Request,
        purpose: Purpose,
        fx: &mut Effects,
    ) {
        fx.frames.push(frame.clone());
        self.outstanding
            .insert(reference, Outstanding { purpose, frame });
    }

    /// Whether `reference` answers a request of this client (which is then answered).
    pub(super) fn answered(&mut self, reference: Option<&str>) -> bool {
        reference.is_some_and(|r| self.outstanding.remove(r).is_some())
    }

    /// No longer a member of `room` (left or deleted): it is forgotten, it closes if it
    /// was open, and a later join starts from the messages after that join.
    pub(super) fn not_a_member(&mut self, room: ConversationId) {
        self.rooms.remove(&room);
        self.seen.remove(&room);
        self.forget_changes(room);
        if self.open_room() == Some(room) {
            self.open = None;
        }
    }

    /// The answer to `/members`, by email.
    pub(super) fn members(&mut self, mut members: Vec<RoomMember>, fx: &mut Effects) {
        members.sort_by(|a, b| a.email.cmp(&b.email));
        for m in members {
            fx.lines.push(Line::Member {
                email: m.email.clone(),
                online: m.online,
            });
            self.people.entry(m.id).or_insert(User {
                id: m.id,
                email: m.email,
                name: m.name,
            });
        }
        fx.lines.push(Line::End("members"));
    }
}

pub(super) fn unknown_room(name: &str) -> Line {
    Line::error(
        "unknown_room",
        format!("{name} is not a room (/rooms lists them)"),
    )
}

/// Rooms in a stable order: by name, whatever the case.
pub(super) fn by_name<'a>(rooms: impl Iterator<Item = &'a Room>) -> impl Iterator<Item = &'a Room> {
    let mut v: Vec<&Room> = rooms.collect();
    v.sort_by_key(|r| (r.name.to_lowercase(), r.id));
    v.into_iter()
}
