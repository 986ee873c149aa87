//! Rooms: the room list and memberships (from `ready`, kept live by events), finding a
//! room by name or id, room actions sent and answered, and the answer to `/members`.

use super::{Chat, Chosen, Effects, Outstanding, Purpose};
use crate::output::{Line, RoomShown};
use banter_protocol::{
    ConversationId, ConversationKind, ConversationSummary, Request, Room, RoomMember, User,
};

impl Chat {
    /// The room list and memberships of a `ready`; after a reconnect, prints what
    /// changed meanwhile (`room`, `room_deleted`, `joined`, `left` lines).
    pub(super) fn new_rooms(
        &mut self,
        rooms: Vec<Room>,
        conversations: &[ConversationSummary],
        first: bool,
        fx: &mut Effects,
    ) {
        let old_rooms = std::mem::take(&mut self.rooms);
        let old_member_of = std::mem::take(&mut self.member_of);
        self.rooms = rooms.into_iter().map(|r| (r.id, r)).collect();
        self.member_of = conversations
            .iter()
            .filter(|c| c.kind == ConversationKind::Room)
            .map(|c| c.id)
            .collect();
        if self
            .open_room()
            .is_some_and(|r| !self.member_of.contains(&r))
        {
            self.open = None;
        }
        if first {
            return;
        }
        let mut gone: Vec<ConversationId> = old_rooms
            .keys()
            .filter(|id| !self.rooms.contains_key(id))
            .copied()
            .collect();
        gone.sort();
        fx.lines.extend(gone.into_iter().map(Line::RoomDeleted));
        for room in by_name(self.rooms.values()) {
            let member = self.member_of.contains(&room.id);
            let was_member = old_member_of.contains(&room.id);
            if old_rooms.get(&room.id) != Some(room) || member != was_member {
                fx.lines.push(self.room_line(room));
            }
            if member && !was_member {
                fx.lines.push(Line::Joined {
                    room: room.id,
                    name: room.name.clone(),
                });
            } else if was_member && !member {
                fx.lines.push(Line::Left(room.id));
            }
        }
    }

    /// A room by name, whatever the case (names are unique whatever the case).
    pub(super) fn room_named(&self, name: &str) -> Option<&Room> {
        let name = name.trim();
        self.rooms
            .values()
            .find(|r| r.name.to_lowercase() == name.to_lowercase())
    }

    /// A room named by id (sent as it is; the server knows) or by name (from the list).
    pub(super) fn find_room(&self, room: &str) -> Result<ConversationId, Line> {
        match ConversationId::parse(room) {
            Some(id) => Ok(id),
            None => self
                .room_named(room)
                .map(|r| r.id)
                .ok_or_else(|| unknown_room(room)),
        }
    }

    /// The room named, or else the open one.
    pub(super) fn room_or_open(&self, room: Option<&str>) -> Result<ConversationId, Line> {
        match (room, &self.open) {
            (Some(room), _) => self.find_room(room),
            (None, None) => Err(Line::error(
                "no_chat",
                "no room is open; /open <room> first, or name the room",
            )),
            (None, Some(open)) => match &open.chosen {
                Chosen::Room { id, .. } => Ok(*id),
                Chosen::Direct(_) => Err(Line::error(
                    "not_room",
                    "the open chat is not a room; /open <room> first, or name the room",
                )),
            },
        }
    }

    pub(super) fn room_line(&self, room: &Room) -> Line {
        Line::Room(RoomShown {
            id: room.id,
            name: room.name.clone(),
            members: room.members,
            password: room.has_password,
            joined: self.member_of.contains(&room.id),
        })
    }

    /// Sends a room action and waits for its answer.
    pub(super) fn ask(
        &mut self,
        reference: String,
        frame: Request,
        what: String,
        fx: &mut Effects,
    ) {
        fx.frames.push(frame.clone());
        self.outstanding.insert(
            reference,
            Outstanding {
                purpose: Purpose::Room { what },
                frame,
            },
        );
    }

    /// Whether `reference` answers a request of this client (which is then answered).
    pub(super) fn answered(&mut self, reference: Option<&str>) -> bool {
        reference.is_some_and(|r| self.outstanding.remove(r).is_some())
    }

    /// No longer a member of `room` (left or deleted): it closes if it was open, and a
    /// later join starts from the messages after that join.
    pub(super) fn not_a_member(&mut self, room: ConversationId) {
        self.member_of.remove(&room);
        self.seen.remove(&room);
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
