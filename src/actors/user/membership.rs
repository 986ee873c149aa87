//! Where this user's conversations start and end for delivery: a room joined or left (on
//! any node) sets or drops its place in both orders (messages by `seq`, changes by change
//! number). Every node hears of a join from the registry, so a UserActor whose person
//! joined elsewhere starts the room where the joining window's `joined` frame did.

use super::UserActor;
use crate::domain::ConversationId;
use actix::prelude::*;

/// Command: the user is a member of `conversation` from here on; its windows know it up
/// to `last_seq` and change `last_change` (the `joined` frame's summary).
#[derive(Message)]
#[rtype(result = "()")]
pub struct TrackConversation {
    pub conversation: ConversationId,
    pub last_seq: i64,
    pub last_change: i64,
}

/// Command: the user is no longer a member of `conversation` (left, or it was deleted).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ForgetConversation {
    pub conversation: ConversationId,
}

impl UserActor {
    /// Messages after `last_seq` and changes after `last_change` are delivered from now
    /// on (never moving a place back: a later position already reached stays).
    pub(super) fn track(&mut self, conversation: ConversationId, last_seq: i64, last_change: i64) {
        let ready = self.sequencer.known_up_to(conversation, last_seq);
        self.release(ready);
        self.changes_known_up_to(conversation, last_change, None);
    }

    pub(super) fn forget(&mut self, conversation: ConversationId) {
        self.sequencer.forget(conversation);
        self.forget_changes(conversation);
    }
}

impl Handler<TrackConversation> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: TrackConversation, _ctx: &mut Self::Context) {
        if self.early.is_some() {
            return; // the first snapshot, still being read, sets every place
        }
        self.track(msg.conversation, msg.last_seq, msg.last_change);
    }
}

impl Handler<ForgetConversation> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: ForgetConversation, _ctx: &mut Self::Context) {
        self.forget(msg.conversation);
    }
}
