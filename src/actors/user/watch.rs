//! The watch: a UserActor's periodic look at what cannot announce itself. A window whose
//! socket stopped taking bytes (its peer does not read, so its own actor is no longer
//! polled), a gap in a conversation's order that no live event fills, changes parked
//! behind a message that has not come, a catch-up owed after a failed read.
//!
//! It ticks only while one of those may be there, and stops itself on the first tick that
//! finds none: a person online with nothing moving costs no timer and no wakeup. Without
//! that, every UserActor woke every half a gap timeout whatever it was doing, and the
//! ticks of 15,000 idle people took a fifth of a core (`bench idle`, decision 0031).
//! What may make one (a frame handed to a window, a message or change offered to the
//! order, a resync) calls [`UserActor::watch_soon`], which is cheap while the watch runs;
//! a socket that writes a reply of its own sends it [`StartWatch`].

use super::UserActor;
use actix::prelude::*;
use std::time::Duration;

/// The watch's shortest period, whatever the gap timeout.
const SHORTEST: Duration = Duration::from_millis(50);

/// Where a UserActor's watch stands.
#[derive(Default)]
pub(super) enum Watch {
    /// Nothing to watch, and no timer.
    #[default]
    Idle,
    /// [`StartWatch`] is on its way to the actor's mailbox.
    Asked,
    /// Ticking; the handle cancels it.
    Ticking(SpawnHandle),
}

/// Command: start the watch's timer: bytes may now wait towards a socket. Sent by the
/// actor to itself from code that has no context (a frame handed to a window), and by a
/// socket that wrote a reply of its own (bytes the UserActor did not hand over); once per
/// start from the actor itself, since `watch_soon` remembers it asked.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StartWatch;

impl UserActor {
    /// Makes sure the watch runs: something it must look at may be there now.
    pub(super) fn watch_soon(&mut self) {
        if !matches!(self.watch, Watch::Idle) {
            return;
        }
        if let Some(me) = self.me.as_ref().and_then(actix::WeakAddr::upgrade) {
            self.watch = Watch::Asked;
            me.do_send(StartWatch);
        }
    }

    /// Whether anything is left for the watch: bytes waiting towards a socket, a gap or
    /// parked changes, a catch-up in flight or owed.
    fn needs_watching(&self) -> bool {
        self.resync_owed
            || self.catching_up
            || !self.parked.is_empty()
            || self.sequencer.has_gaps()
            || self.change_order.has_gaps()
            || self.windows.values().any(|w| w.bytes_waiting())
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.cut_stalled_windows();
        self.catch_up(self.resync_owed, ctx);
        if self.needs_watching() {
            return;
        }
        if let Watch::Ticking(handle) = std::mem::take(&mut self.watch) {
            ctx.cancel_future(handle);
            self.metrics.user_watches.dec();
        }
    }

    /// The actor stops: its watch's timer goes with it, and so does its count.
    pub(super) fn watch_stopped(&mut self) {
        if let Watch::Ticking(_) = std::mem::take(&mut self.watch) {
            self.metrics.user_watches.dec();
        }
    }
}

impl Handler<StartWatch> for UserActor {
    type Result = ();

    fn handle(&mut self, _msg: StartWatch, ctx: &mut Self::Context) {
        if matches!(self.watch, Watch::Ticking(_)) {
            return;
        }
        let every = (self.chat.limits().gap_timeout / 2).max(SHORTEST);
        let handle = ctx.run_interval(every, |act, ctx| act.tick(ctx));
        self.watch = Watch::Ticking(handle);
        self.metrics.user_watches.inc();
    }
}
