//! `ping`: an application heartbeat (browsers cannot send WebSocket pings). The window
//! hears `ok` with its `ref`, nothing without one. It reads and writes nothing and takes
//! no allowance: it costs what a refused frame costs (one mailbox message, one small
//! reply), and the window's line (at most 256 waiting) bounds a flood.

use crate::actors::persist::Origin;
use crate::actors::user::commands::ok_frame;
use crate::actors::user::UserActor;

#[derive(Debug, Clone)]
pub struct Ping;

impl Ping {
    pub fn parse() -> Self {
        Ping
    }

    /// Answers at once: it started in its turn (after everything the window sent before
    /// it is done), and taking no turn, it is done when it returns, so the window's next
    /// command starts behind its `ok`.
    pub fn apply(self, actor: &mut UserActor, asked: Origin) {
        if let Some(reference) = asked.reference.as_deref() {
            actor.send_to(asked.window, ok_frame(reference));
        }
    }
}
