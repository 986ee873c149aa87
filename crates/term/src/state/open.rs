//! The open chat (`/open`, `/join`, `/create`): what `/open` names, the open room or
//! conversation, and the oldest `seq` shown of it, where `/history` continues from.

use super::rooms::unknown_room;
use super::{Chat, Chosen};
use crate::output::Line;
use banter_protocol::ConversationId;

impl Chat {
    /// What `/open` names. An id is a room's if it is in the room list, else a user's;
    /// anything else is a known person's email, else a room's name, else an unknown
    /// email (with an `@`) or an unknown room. A room is opened only by its members.
    pub(super) fn resolve_chat(&self, what: &str) -> Result<Chosen, Line> {
        let id = ConversationId::parse(what);
        let room = match id {
            Some(id) => self.rooms.get(&id),
            None if self.known_email(what) => None,
            None => self.room_named(what),
        };
        match room {
            Some(room) if self.member_of.contains(&room.id) => Ok(Chosen::Room {
                id: room.id,
                name: room.name.clone(),
            }),
            Some(room) => Err(Line::error(
                "not_member",
                format!("you are not a member of {}; /join it first", room.name),
            )),
            None if id.is_none() && !what.contains('@') && !self.known_email(what) => {
                Err(unknown_room(what))
            }
            None => self.resolve(what).map(Chosen::Direct),
        }
    }

    /// The open room, if a room is open.
    pub(super) fn open_room(&self) -> Option<ConversationId> {
        match self.open.as_ref().map(|o| &o.chosen) {
            Some(Chosen::Room { id, .. }) => Some(*id),
            _ => None,
        }
    }

    /// The open chat's conversation, if it exists yet.
    pub(super) fn open_conversation(&self) -> Option<ConversationId> {
        match self.open.as_ref().map(|o| &o.chosen) {
            None => None,
            Some(Chosen::Direct(peer)) => self.direct_with(peer.id),
            Some(Chosen::Room { id, .. }) => Some(*id),
        }
    }

    /// Remembers the oldest `seq` shown of the open chat, for `/history`.
    pub(super) fn note_shown(&mut self, conversation: ConversationId, seq: i64) {
        if self.open_conversation() == Some(conversation) {
            if let Some(open) = &mut self.open {
                open.oldest = Some(open.oldest.map_or(seq, |o| o.min(seq)));
            }
        }
    }
}

pub(super) fn no_chat() -> Line {
    Line::error("no_chat", "no chat is open; /open <email> first")
}
