//! The room directory (protocol v3): every room, by name without case, asked a page at
//! a time with `rooms`. `/rooms [query]` prints a page and `/more` the next one; a room
//! named by a name that is not one of the user's rooms is looked up here before a
//! command acts on it. The directory is asked, not tracked: nothing keeps a page live.

use super::rooms::unknown_room;
use super::{Chat, Effects, Purpose, RoomAction};
use crate::output::Line;
use banter_protocol::{ClientFrame, Request, Room, ROOMS_PAGE_MAX};

impl Chat {
    /// `/rooms [query]`: the first page of the rooms whose name contains `query`, or of
    /// every room.
    pub(super) fn list_rooms(&mut self, query: Option<String>, fx: &mut Effects) {
        self.next_rooms = None;
        self.ask_rooms(query, None, fx);
    }

    /// `/more`: the page after the last one `/rooms` or `/more` printed.
    pub(super) fn more_rooms(&mut self, fx: &mut Effects) {
        match self.next_rooms.take() {
            Some((query, after)) => self.ask_rooms(query, Some(after), fx),
            None => fx.lines.push(Line::error(
                "no_more",
                "no more rooms to list; /rooms [query] lists rooms",
            )),
        }
    }

    /// A page of the directory for `/rooms` or `/more`, of the server's default size.
    fn ask_rooms(&mut self, query: Option<String>, after: Option<String>, fx: &mut Effects) {
        let reference = self.next_ref("d");
        let frame = Request::with_ref(
            reference.clone(),
            ClientFrame::Rooms {
                query: query.clone(),
                after,
                limit: None,
            },
        );
        self.ask(reference, frame, Purpose::Rooms { query }, fx);
    }

    /// Looks for the room called `name` in the directory (the rooms whose name contains
    /// it, from after `after`), to do `action` on it.
    pub(super) fn find(
        &mut self,
        name: String,
        after: Option<String>,
        action: RoomAction,
        fx: &mut Effects,
    ) {
        let reference = self.next_ref("d");
        let frame = Request::with_ref(
            reference.clone(),
            ClientFrame::Rooms {
                query: Some(name.clone()),
                after,
                limit: Some(ROOMS_PAGE_MAX as i64),
            },
        );
        self.ask(reference, frame, Purpose::Find { name, action }, fx);
    }

    /// A page of the directory answering a request made for `purpose`.
    pub(super) fn directory(
        &mut self,
        purpose: Purpose,
        rooms: Vec<Room>,
        more: bool,
        fx: &mut Effects,
    ) {
        match purpose {
            Purpose::Rooms { query } => {
                let lines: Vec<Line> = rooms.iter().map(|r| self.room_line(r)).collect();
                fx.lines.extend(lines);
                self.next_rooms = rooms
                    .last()
                    .filter(|_| more)
                    .map(|last| (query, last.name.clone()));
                if self.next_rooms.is_some() {
                    fx.lines.push(Line::MoreRooms);
                }
                fx.lines.push(Line::End("rooms"));
            }
            Purpose::Find { name, action } => self.found(name, action, &rooms, more, fx),
            _ => {}
        }
    }

    /// A page of the rooms whose name contains `name`: `action` goes ahead on the one
    /// called exactly that (whatever the case). Pages run by lowercased name, byte by
    /// byte (as Rust compares strings), so while a page ends before `name` the room may
    /// be on the next one, which is asked for ("A book" sorts before "book"); past it,
    /// there is no such room.
    fn found(
        &mut self,
        name: String,
        action: RoomAction,
        rooms: &[Room],
        more: bool,
        fx: &mut Effects,
    ) {
        let called = |n: &str| {
            rooms
                .iter()
                .find(|r| r.name.to_lowercase() == n.to_lowercase())
        };
        if let Some(room) = called(&name) {
            return self.act(room.id, &room.name, action, fx);
        }
        match rooms.last() {
            Some(last) if more && last.name.to_lowercase() < name.to_lowercase() => {
                let after = last.name.clone();
                self.find(name, Some(after), action, fx)
            }
            _ => {
                // `/join Book club`: the name with spaces, unquoted.
                let whole = match &action {
                    RoomAction::Join {
                        password: Some(password),
                    } => called(&format!("{name} {password}")),
                    _ => None,
                };
                fx.lines.push(match whole {
                    Some(r) => Line::error(
                        "usage",
                        format!(r#"quote a name with spaces: /join "{}" [password]"#, r.name),
                    ),
                    None => unknown_room(&name),
                });
            }
        }
    }
}
