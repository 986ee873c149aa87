//! Delivery: hands frames and committed messages to the windows, an `ack` to the window
//! a message came from, and closes a window that falls too far behind.

use super::window::{FrameKey, Handed};
use super::{
    DeliverChange, DeliverFrame, DeliverIfMember, DeliverMessage, DeliverToWindow, UserActor,
};
use crate::actors::messages::DetachSocket;
use crate::actors::ToSocket;
use crate::chat::ChatError;
use crate::domain::{ConversationId, WindowId};
use crate::protocol::{close, error_frame_retry, ServerEvent, ToFrame};
use actix::prelude::*;
use bytestring::ByteString;
use std::borrow::Cow;

impl UserActor {
    /// Hands a message to the windows: an `ack` to its origin window, the shared
    /// `message` frame to every other.
    fn deliver(&mut self, msg: DeliverMessage) {
        if msg.hidden {
            return;
        }
        let key = FrameKey::Message(msg.message.conversation_id, msg.message.seq);
        let origin = msg.origin.filter(|o| self.windows.contains_key(&o.window));
        if let Some(origin) = &origin {
            let ack = ServerEvent::Ack {
                reference: origin.reference.as_deref().map(Cow::Borrowed),
                message: Cow::Borrowed(&msg.message),
            }
            .to_frame();
            self.send_to(origin.window, ack);
        }
        self.broadcast_keyed(Some(key), &msg.frame, origin.map(|o| o.window));
        if let Some(at) = msg.received_at {
            self.metrics
                .delivery_latency
                .observe(at.elapsed().as_secs_f64());
        }
    }

    /// Whether this user's delivery order tracks `conversation`: they are a member (from
    /// their first snapshot, or a join since). Meaningful once the first snapshot is in.
    pub(super) fn tracks(&self, conversation: ConversationId) -> bool {
        self.sequencer.delivered_of(conversation).is_some()
    }

    /// Offers a committed message to the delivery order, and delivers what it releases.
    /// One sent to every user (the room everyone shares) is dropped if this user is not
    /// a member.
    pub(super) fn offer_message(&mut self, msg: DeliverMessage) {
        let (conversation, seq) = (msg.message.conversation_id, msg.message.seq);
        if msg.members_only && !self.tracks(conversation) {
            return;
        }
        let ready = self.sequencer.offer(conversation, seq, msg);
        self.release(ready);
        if self.sequencer.has_gap_in(conversation) {
            self.watch_soon();
        }
    }

    /// Delivers messages the sequencer released, in order, then the changes that
    /// waited for them.
    pub(super) fn release(&mut self, ready: Vec<DeliverMessage>) {
        let mut reached = Vec::new();
        for message in ready {
            if !self.parked.is_empty() {
                reached.push(message.message.conversation_id);
            }
            self.deliver(message);
        }
        reached.dedup();
        for conversation in reached {
            self.unpark(conversation);
        }
    }

    /// Hands a frame to one window, or queues it behind the window's snapshot.
    pub(super) fn send_to(&mut self, id: WindowId, frame: ByteString) {
        self.send_keyed(id, None, frame);
    }

    /// Like [`Self::send_to`]; a message frame (`key`) its snapshot already counted is
    /// not sent again.
    pub(super) fn send_keyed(&mut self, id: WindowId, key: Option<FrameKey>, frame: ByteString) {
        // Frames a window may fall behind (or queue behind its snapshot) before it closes.
        let bound = self.chat.limits().outbound_queue;
        let Some(window) = self.windows.get_mut(&id) else {
            return;
        };
        match window.hand(key, frame, bound) {
            Handed::Sent => self.watch_soon(), // its bytes wait until the socket takes them
            Handed::Held => {}
            Handed::Full => self.cut_slow_window(id, "too far behind"),
            Handed::Closed => self.drop_window(id),
        }
    }

    /// A window that fell too far behind, or whose socket stopped taking bytes: nothing
    /// more is handed to it and its connection is cut, which frees its memory even when
    /// its socket is no longer polled. Its slot counts towards the window limit until the
    /// socket has really stopped (the socket detaches itself then).
    fn cut_slow_window(&mut self, id: WindowId, why: &str) {
        let Some(window) = self.windows.remove(&id) else {
            return;
        };
        log::warn!("cutting slow window {id} of {}: {why}", self.user.id);
        self.metrics.slow_consumers.inc();
        if !window.outbound.abort() {
            // No connection to cut: ask the socket to close, and free the slot now.
            window.socket.do_send(ToSocket::Close {
                code: close::SLOW_CONSUMER,
                reason: "too far behind; reconnect",
            });
            self.registry.detach.do_send(DetachSocket {
                user: self.user.id,
                window: id,
            });
        }
    }

    /// Cuts every window whose bytes have waited, none leaving, past the stall limit.
    pub(super) fn cut_stalled_windows(&mut self) {
        let limit = self.chat.limits().outbound_stall;
        let stalled: Vec<WindowId> = self
            .windows
            .iter()
            .filter(|(_, w)| w.stalled(limit))
            .map(|(id, _)| *id)
            .collect();
        for id in stalled {
            self.cut_slow_window(id, "its socket stopped taking bytes");
        }
    }

    pub(super) fn drop_window(&mut self, id: WindowId) {
        if self.windows.remove(&id).is_some() {
            self.registry.detach.do_send(DetachSocket {
                user: self.user.id,
                window: id,
            });
        }
    }

    pub(super) fn broadcast(&mut self, frame: &ByteString, except: Option<WindowId>) {
        self.broadcast_keyed(None, frame, except);
    }

    pub(super) fn broadcast_keyed(
        &mut self,
        key: Option<FrameKey>,
        frame: &ByteString,
        except: Option<WindowId>,
    ) {
        let ids: Vec<WindowId> = self
            .windows
            .keys()
            .copied()
            .filter(|w| Some(*w) != except)
            .collect();
        for id in ids {
            self.send_keyed(id, key, frame.clone());
        }
    }

    /// Tells one window that what it asked for failed, and why.
    pub(super) fn send_error(
        &mut self,
        window: WindowId,
        reference: Option<&str>,
        error: &ChatError,
    ) {
        error.log_if_internal();
        self.send_to(
            window,
            error_frame_retry(
                reference,
                error.code(),
                &error.to_string(),
                error.retry_after(),
            ),
        );
    }
}

impl Handler<DeliverFrame> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverFrame, _ctx: &mut Self::Context) {
        self.broadcast(&msg.frame, msg.except);
    }
}

impl Handler<DeliverToWindow> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverToWindow, _ctx: &mut Self::Context) {
        self.send_to(msg.window, msg.frame);
    }
}

impl Handler<DeliverMessage> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverMessage, _ctx: &mut Self::Context) {
        if let Some(early) = &mut self.early {
            early.push(msg);
            return;
        }
        self.offer_message(msg);
    }
}

impl Handler<DeliverIfMember> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverIfMember, _ctx: &mut Self::Context) {
        // Before the first snapshot, membership is not known yet: news that is not
        // stored (typing) is let go.
        if self.early.is_none() && self.tracks(msg.conversation) {
            self.broadcast(&msg.frame, None);
        }
    }
}

impl Handler<DeliverChange> for UserActor {
    type Result = ();

    fn handle(&mut self, msg: DeliverChange, _ctx: &mut Self::Context) {
        if self.early.is_some() {
            self.early_changes.push(msg);
            return;
        }
        self.offer_change(msg);
    }
}
