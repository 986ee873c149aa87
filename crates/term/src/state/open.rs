//! The open chat (`/open`, `/join`, `/create`): what `/open` names, the open room or
//! conversation, and the oldest `seq` shown of it, where `/history` continues from.

use super::{Chat, Chosen};
use crate::output::Line;
use banter_protocol::ConversationId;

impl Chat {
    /// What `/open` names. An id is a room's if it is one of the user's rooms, else a
    /// user's; anything else is a known person's email, else the name of one of the
    /// user's rooms, else an unknown email (with an `@`). What is left is a name the
    /// client does not know: `None`, for the directory to tell a room the user is not
    /// in (`not_member`: only the user's rooms open) from no room (`unknown_room`).
    pub(super) fn resolve_chat(&self, what: &str) -> Result<Option<Chosen>, Line> {
        let id = ConversationId::parse(what);
        let room = match id {
            Some(id) => self.rooms.get(&id),
            None if self.known_email(what) => None,
            None => self.room_named(what),
        };
        match room {
            Some(room) => Ok(Some(Chosen::Room {
                id: room.id,
                name: room.name.clone(),
            })),
            None if id.is_none() && !what.contains('@') && !self.known_email(what) => Ok(None),
            None => self.resolve(what).map(|u| Some(Chosen::Direct(u))),
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

pub(super) fn no_messages() -> Line {
    Line::error("no_messages", "the open chat has no messages yet")
}
