//! Who is who: people's emails, conversations' kinds and peers, the HTTP lookups that
//! learn what an event needs before it prints ([`Chat::lookup`]), and naming someone
//! by email or id.
//!
//! Who is online (protocol v2): the server keeps a window posted about one range of the
//! online list (the first page `ready` carries, until an `online_page` replaces it) and
//! about the online conversation partners, whatever the range. `online_changes` says
//! who came into that and who went out of it (offline, hidden by a block, or out of the
//! range), and the client mirrors it in `online`; everyone else moves only the count.

use super::{Chat, Effects, Known, Lookup};
use crate::output::Line;
use banter_protocol::{
    ConversationId, ConversationKind, ConversationSummary, Message, ServerEvent, User, UserId,
};
use std::collections::HashSet;

impl Chat {
    /// What printing this event needs to look up first, if anything: a conversation
    /// this client has not heard of (someone's first message, a room joined elsewhere),
    /// or the email of someone writing or reacting in a room. The caller fetches it, hands it to
    /// [`Chat::learn`] or [`Chat::learn_people`], and asks again; each lookup is made once.
    pub fn lookup(&self, event: &ServerEvent<'_>) -> Option<Lookup> {
        let needs = |conversation: ConversationId, user: UserId| {
            let lookup = match self.conversations.get(&conversation) {
                None => Lookup::Conversations(conversation),
                Some(_) if self.people.contains_key(&user) => return None,
                Some(k) if k.kind == ConversationKind::Room => Lookup::Members {
                    room: conversation,
                    user,
                },
                Some(_) => return None,
            };
            (!self.looked_up.contains(&lookup)).then_some(lookup)
        };
        // The sender of a message, and of the one it quotes.
        let quoted = |m: &Message| {
            m.reply_to
                .as_ref()
                .and_then(|q| q.sender_id)
                .and_then(|s| needs(m.conversation_id, s))
        };
        let message_needs =
            |m: &Message| needs(m.conversation_id, m.sender_id).or_else(|| quoted(m));
        match event {
            ServerEvent::Message { message } => message_needs(message),
            // Our own message, in a conversation we wrote to: only a quote may be new.
            ServerEvent::Ack { message, .. } => quoted(message),
            ServerEvent::History { messages, .. } => messages.iter().find_map(message_needs),
            ServerEvent::Typing {
                conversation_id,
                user_id,
            }
            | ServerEvent::Reaction {
                conversation_id,
                user_id,
                ..
            } => needs(*conversation_id, *user_id),
            // `changed` lines name senders (and print no quotes).
            ServerEvent::Changes { messages, .. } => messages
                .iter()
                .find_map(|m| needs(m.conversation_id, m.sender_id)),
            _ => None,
        }
    }

    /// Records that `lookup` was made (so it is not made again, whatever it found).
    pub fn looked_up(&mut self, lookup: Lookup) {
        self.looked_up.insert(lookup);
    }

    /// Learns conversations' kinds and peers (from `GET /api/conversations`).
    pub fn learn(&mut self, conversations: Vec<ConversationSummary>) {
        for c in conversations {
            self.know(c);
        }
    }

    /// Learns people's emails (a room's members).
    pub fn learn_people(&mut self, people: Vec<User>) {
        for p in people {
            self.people.entry(p.id).or_insert(p);
        }
    }

    pub(super) fn know(&mut self, c: ConversationSummary) {
        let peer = c.peer.map(|p| {
            let id = p.id;
            self.people.insert(id, p);
            id
        });
        self.conversations
            .insert(c.id, Known { kind: c.kind, peer });
    }

    /// An `online_changes`: `presence online` for each person who came, `presence
    /// offline` for each who went. A `went` for someone not tracked (and a `came` for
    /// someone tracked already) changes nothing and prints nothing.
    pub(super) fn online_changes(&mut self, came: Vec<User>, went: &[UserId], fx: &mut Effects) {
        let mut arrived = Vec::new();
        for user in came {
            self.people.insert(user.id, user.clone());
            if self.online.insert(user.id, user.clone()).is_none() {
                arrived.push(user);
            }
        }
        let left: Vec<User> = went
            .iter()
            .filter_map(|id| self.online.remove(id))
            .collect();
        for (users, online) in [(&arrived, true), (&left, false)] {
            fx.lines
                .extend(by_email(users.iter()).map(|u| Line::Presence {
                    online,
                    email: u.email.clone(),
                }));
        }
    }

    /// An `online_page` (asked for, or sent when the server re-pages the range): the
    /// window tracks these people's stretch of the list now instead of the one before;
    /// conversation partners stay tracked. `first` says it is the list's first page.
    pub(super) fn track_page(&mut self, people: &[User], first: bool) {
        let partners: HashSet<UserId> = self
            .partners
            .iter()
            .copied()
            .chain(self.conversations.values().filter_map(|k| k.peer))
            .collect();
        self.online.retain(|id, _| partners.contains(id));
        for u in people {
            self.online.insert(u.id, u.clone());
            self.people.entry(u.id).or_insert_with(|| u.clone());
        }
        self.paged_away = !first;
    }

    pub(super) fn email_of(&self, id: UserId) -> String {
        self.people
            .get(&id)
            .map(|u| u.email.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The direct chat with `peer`, if it exists yet.
    pub(super) fn direct_with(&self, peer: UserId) -> Option<ConversationId> {
        self.conversations
            .iter()
            .find(|(_, k)| k.peer == Some(peer))
            .map(|(id, _)| *id)
    }

    /// Someone named by email (any case) or user id.
    pub(super) fn resolve(&self, who: &str) -> Result<User, Line> {
        if let Some(id) = UserId::parse(who) {
            return Ok(self.people.get(&id).cloned().unwrap_or(User {
                id,
                email: who.to_owned(),
                name: None,
            }));
        }
        self.people
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(who))
            .cloned()
            .ok_or_else(|| {
                Line::error(
                    "unknown_user",
                    format!("{who} is not online, blocked or in one of your chats"),
                )
            })
    }

    pub(super) fn known_email(&self, email: &str) -> bool {
        self.people
            .values()
            .any(|u| u.email.eq_ignore_ascii_case(email))
    }
}

/// People in a stable order: by email.
pub(super) fn by_email<'a>(
    people: impl Iterator<Item = &'a User>,
) -> impl Iterator<Item = &'a User> {
    let mut v: Vec<&User> = people.collect();
    v.sort_by(|a, b| a.email.cmp(&b.email));
    v.into_iter()
}
