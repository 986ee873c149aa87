//! A `ready`: the first one prints the snapshot (the count of people online, then the
//! first page of the online list and the partners online); a later one (a reconnect)
//! prints what changed meanwhile in what is tracked, asks again what the old socket left
//! unanswered, starts filling every conversation's gap before pending sends go out
//! again, and catches up on the changes to messages it showed.

use super::people::by_email;
use super::{Chat, Effects, Gap, Purpose};
use crate::output::Line;
use banter_protocol::{ConversationKind, ConversationSummary, Room, User};

/// What a `ready` carries that the client keeps.
pub(super) struct Ready {
    pub me: User,
    /// The first page of the online list.
    pub online: Vec<User>,
    /// How many people online this window may see in all.
    pub online_count: usize,
    /// The online people with a direct conversation with me.
    pub partners: Vec<User>,
    pub blocked: Vec<User>,
    pub conversations: Vec<ConversationSummary>,
    /// The rooms the user is a member of (protocol v3: no others).
    pub rooms: Vec<Room>,
}

impl Chat {
    /// A `ready`: the first one prints the snapshot; a later one (a reconnect) prints
    /// what changed meanwhile and starts filling gaps.
    pub(super) fn on_ready(&mut self, ready: Ready) -> Effects {
        let Ready {
            me,
            online,
            online_count,
            partners,
            blocked,
            conversations,
            rooms,
        } = ready;
        let mut fx = Effects::default();
        let first = self.me.is_none();
        self.people.insert(me.id, me.clone());
        // A new socket tracks the first page and the partners afresh.
        let old_online = std::mem::take(&mut self.online);
        let old_blocked = std::mem::take(&mut self.blocked);
        self.partners = partners.iter().map(|u| u.id).collect();
        self.paged_away = false;
        for u in online.iter().chain(&partners) {
            self.people.insert(u.id, u.clone());
            self.online.insert(u.id, u.clone());
        }
        for u in &blocked {
            self.people.insert(u.id, u.clone());
            self.blocked.insert(u.id, u.clone());
        }
        if first {
            fx.lines.push(Line::Ready {
                me: me.email.clone(),
                online: online_count,
            });
            fx.lines
                .extend(by_email(self.online.values()).map(|u| Line::Online(u.email.clone())));
            fx.lines.push(Line::End("online"));
        } else {
            fx.lines.push(Line::Reconnected);
            for (old, new, online) in [
                (&old_online, &self.online, true),
                (&self.online, &old_online, false),
            ] {
                let changed = new.values().filter(|u| !old.contains_key(&u.id));
                fx.lines.extend(by_email(changed).map(|u| Line::Presence {
                    online,
                    email: u.email.clone(),
                }));
            }
            let now_blocked = self
                .blocked
                .values()
                .filter(|u| !old_blocked.contains_key(&u.id));
            fx.lines
                .extend(by_email(now_blocked).map(|u| Line::Blocked(u.email.clone())));
            let unblocked = old_blocked
                .values()
                .filter(|u| !self.blocked.contains_key(&u.id));
            fx.lines
                .extend(by_email(unblocked).map(|u| Line::Unblocked(u.email.clone())));
        }
        self.me = Some(me);
        self.new_rooms(rooms, first, &mut fx);

        // Requests of the old socket went with it: shown history, members, online and
        // directory pages, edits, deletions and reactions (each idempotent) are asked
        // again, gaps and changes to catch up on are worked out afresh below (what was
        // held for them is in them), room actions are reported unanswered (one may have
        // been carried out: asking again could create a room twice).
        self.gaps.clear();
        self.catching.clear();
        self.held.clear();
        let old = std::mem::take(&mut self.outstanding);
        for (reference, o) in old {
            match &o.purpose {
                Purpose::Show
                | Purpose::Members
                | Purpose::Online
                | Purpose::OnlineFirst
                | Purpose::Rooms { .. }
                | Purpose::Find { .. }
                | Purpose::Change => {
                    fx.frames.push(o.frame.clone());
                    self.outstanding.insert(reference, o);
                }
                Purpose::Gap | Purpose::Changes => {}
                Purpose::Room { what } => fx.lines.push(Line::error(
                    "unanswered",
                    format!(
                        "{what}: the connection dropped before the server answered; /rooms shows where things stand"
                    ),
                )),
            }
        }
        for c in conversations {
            let (id, kind, last_seq, last_change) = (c.id, c.kind, c.last_seq, c.last_change);
            self.know(c);
            let upto = self.seen.get(&id).copied().unwrap_or(0);
            // Before the first `ready` is history; so is a room joined elsewhere while
            // away (as after `joined`). A direct chat begun while away is all missed.
            let start = if first || kind == ConversationKind::Room {
                last_seq
            } else {
                0
            };
            let after = *self.seen.entry(id).or_insert(start);
            if last_seq > after {
                let gap = Gap {
                    target: last_seq,
                    buffered: Vec::new(),
                };
                self.gaps.insert(id, gap);
                self.ask_gap(id, after, &mut fx);
            }
            // Changes to the messages printed before (up to `seq` `upto`) are asked for;
            // the messages after them print as they are now. Before the first `ready`,
            // or with nothing printed, changes are history; a conversation begun since
            // had none yet.
            let known = *self
                .changed
                .entry(id)
                .or_insert(if upto > 0 { 0 } else { last_change });
            if last_change > known {
                match upto {
                    0 => {
                        self.changed.insert(id, last_change);
                    }
                    _ => self.ask_changes(id, known, upto, &mut fx),
                }
            }
        }
        if self.gaps.is_empty() {
            self.resend_pending(&mut fx);
        }
        fx
    }
}
