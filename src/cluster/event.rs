//! What nodes tell each other over Redis pub/sub: every committed change another node's
//! windows may need to show, and presence transitions decided by the Redis scripts.

use crate::domain::{
    Change, ConversationId, ConversationSummary, Message, Room, UiState, User, UserId,
};
use serde::{Deserialize, Serialize};

/// One event, tagged `type` like the protocol's frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClusterEvent {
    /// Decided by a Redis script: `user` came online (first window anywhere) or went
    /// offline (last window anywhere, or their node died).
    Presence { user: User, online: bool },
    /// A committed message, for the members' windows on every node.
    Message {
        message: Message,
        recipients: Vec<UserId>,
        /// Members who blocked the sender (see `WriteOutcome::MessageStored`).
        #[serde(default)]
        hidden_from: Vec<UserId>,
        /// A direct conversation's message (see `WriteOutcome::MessageStored`); absent
        /// from an older node's events, which only delays partner tracking to the next
        /// connect.
        #[serde(default)]
        direct: bool,
        /// The room everyone shares: no `recipients`, every node's UserActors that track
        /// the room deliver it (see `WriteOutcome::MessageStored`). A node that predates
        /// it delivers nothing of it: its windows read it in their next history.
        #[serde(default)]
        everyone: bool,
    },
    /// A committed edit, deletion or reaction, for the members' windows on every node.
    Changed {
        change: Change,
        recipients: Vec<UserId>,
        /// Members who do not see it (see `WriteOutcome::MessageChanged`).
        hidden_from: Vec<UserId>,
        /// As for `Message`.
        #[serde(default)]
        everyone: bool,
    },
    /// A committed block or unblock.
    Block {
        blocker: User,
        blocked: User,
        active: bool,
    },
    /// A committed read position, for the user's windows on every node, and as a read
    /// receipt for `receipt_to`'s (a direct chat's other person).
    Read {
        user: UserId,
        conversation: ConversationId,
        seq: i64,
        #[serde(default)]
        receipt_to: Option<UserId>,
    },
    /// Whether the user shares read receipts now, for their windows on every node.
    Receipts { user: UserId, share: bool },
    /// Committed UI state, for the user's windows on every node.
    Ui { user: UserId, state: UiState },
    Typing {
        sender: UserId,
        conversation: ConversationId,
        /// Empty when `everyone`.
        members: Vec<UserId>,
        /// As for `Message`.
        #[serde(default)]
        everyone: bool,
    },
    /// A committed new room and its creator's membership (the creator's windows).
    RoomCreated {
        room: Room,
        creator: User,
        conversation: ConversationSummary,
    },
    /// A committed join: the joiner's windows and the other members.
    RoomJoined {
        user: User,
        room: Room,
        conversation: ConversationSummary,
        members: Vec<UserId>,
    },
    /// A committed leave; `members` are those who remain.
    RoomLeft {
        user: User,
        room: Room,
        members: Vec<UserId>,
    },
    /// A committed deletion: the windows of its `members` drop the room. `None` comes
    /// from a node of protocol v2, which sent no members: then every window hears of it,
    /// as v2 did, so a rolling deploy loses no deletion.
    RoomDeleted {
        room: ConversationId,
        #[serde(default)]
        members: Option<Vec<UserId>>,
    },
    /// A committed display name: the person's windows, and the windows of the people who
    /// show them, on every node (any online list may show anyone).
    Renamed { user: User },
}

/// Events concerning more people than this go to every node: looking up where that many
/// people have windows would cost Redis more than the few nodes of a deployment decoding
/// it (see `scripts::DELIVER`).
pub const ROUTED_AUDIENCE_MAX: usize = 256;

impl ClusterEvent {
    /// The people whose windows this event concerns, where its routing looks them up;
    /// `None` for every node (presence, which every online list may show, the room
    /// everyone shares, and a v2 deletion that did not say its members).
    pub fn audience(&self) -> Option<Vec<UserId>> {
        let with = |people: &[UserId], one: UserId| {
            let mut all = people.to_vec();
            all.push(one);
            all
        };
        match self {
            ClusterEvent::Presence { .. }
            | ClusterEvent::Renamed { .. }
            | ClusterEvent::RoomDeleted { members: None, .. }
            | ClusterEvent::Message { everyone: true, .. }
            | ClusterEvent::Changed { everyone: true, .. }
            | ClusterEvent::Typing { everyone: true, .. } => None,
            ClusterEvent::Message {
                recipients,
                hidden_from,
                ..
            }
            | ClusterEvent::Changed {
                recipients,
                hidden_from,
                ..
            } => Some(recipients.iter().chain(hidden_from).copied().collect()),
            ClusterEvent::Block {
                blocker, blocked, ..
            } => Some(vec![blocker.id, blocked.id]),
            ClusterEvent::Read {
                user, receipt_to, ..
            } => Some(std::iter::once(*user).chain(*receipt_to).collect()),
            ClusterEvent::Ui { user, .. } | ClusterEvent::Receipts { user, .. } => {
                Some(vec![*user])
            }
            ClusterEvent::Typing { members, .. } => Some(members.clone()),
            ClusterEvent::RoomCreated { creator, .. } => Some(vec![creator.id]),
            ClusterEvent::RoomJoined { user, members, .. }
            | ClusterEvent::RoomLeft { user, members, .. } => Some(with(members, user.id)),
            ClusterEvent::RoomDeleted {
                members: Some(members),
                ..
            } => Some(members.clone()),
        }
    }
}

/// An event and the node that published it (a node skips its own, except presence,
/// which no node applies before Redis decides it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub node: String,
    pub event: ClusterEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presence_envelope_the_reap_script_writes_by_hand_decodes() {
        // Must match the JSON assembled in scripts::REAP.
        let text = r#"{"node":"n1","event":{"type":"presence","user":{"id":"5b0a4e0e-6a3b-4a53-9b7f-0b1f9b2f2a11","email":"a@b.c"},"online":false}}"#;
        let envelope: Envelope = serde_json::from_str(text).unwrap();
        assert!(matches!(
            envelope.event,
            ClusterEvent::Presence { online: false, .. }
        ));
    }
}
