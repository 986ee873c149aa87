//! One window's commands, taking effect in the order the window sent them.
//!
//! Writes (`send`, `read`, `block`, `unblock`, `ui`) go through the PersistActor, which
//! commits them in the order they reach it, so a window's writes may overlap: the second
//! is queued for commit before the first is answered. Every other command (a query, a
//! room action, `typing`) runs alone: it starts once everything the window sent before it
//! is done (committed, or answered) and the window's next command waits for it. So a
//! `history` right after a `block` already leaves the blocked person out, and a `send`
//! right after `create_room` finds the room.
//!
//! The queue is bounded: a window past [`MOST_WAITING`] commands behind is answered
//! `rate_limited` for each further one (they are refused, not run late).

use super::cmd::Decoded;
use std::collections::VecDeque;
use std::net::IpAddr;

/// How many commands of one window may wait for the ones before them. A client waiting
/// for replies has a handful in flight; the frame rate limit (burst 200) bounds a flood.
pub const MOST_WAITING: usize = 256;

/// How a command may overlap with its window's others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Committed in arrival order by the PersistActor: may overlap with earlier writes.
    Write,
    /// Starts when everything before it is done, and holds back what follows.
    Alone,
}

/// A command waiting for its turn.
pub struct Waiting {
    pub decoded: Decoded,
    pub kind: Kind,
    /// The client's address (per-address limits).
    pub address: Option<IpAddr>,
}

/// The window's commands in flight and waiting.
#[derive(Default)]
pub struct Line {
    /// Commands started and not yet done.
    running: usize,
    /// One of the running commands is [`Kind::Alone`] (then it is the only one).
    alone: bool,
    /// A running command waits for the deployment's allowance store before it is
    /// queued for commit: nothing may start meanwhile, or a later write would reach the
    /// PersistActor first.
    held: bool,
    waiting: VecDeque<Waiting>,
}

/// The window has [`MOST_WAITING`] commands waiting already; the one with this `ref` is
/// refused.
#[derive(Debug)]
pub struct LineFull {
    pub reference: Option<String>,
}

/// Past this many slots, a queue that drains gives its buffer back (a burst of 256 would
/// otherwise keep ~36 KiB per window for the socket's whole life).
const KEPT_CAPACITY: usize = 8;

impl Line {
    /// A command the window just sent: returned to start at once (it then counts as
    /// running) when nothing holds it back and nothing waits before it, else queued. The
    /// common case, a window with nothing in flight, queues (and allocates) nothing.
    pub fn enter(&mut self, waiting: Waiting) -> Result<Option<Waiting>, LineFull> {
        if self.waiting.is_empty() && self.may_start(waiting.kind) {
            self.start(waiting.kind);
            return Ok(Some(waiting));
        }
        self.push(waiting).map(|()| None)
    }

    /// Queues a command behind the window's others.
    pub fn push(&mut self, waiting: Waiting) -> Result<(), LineFull> {
        if self.waiting.len() >= MOST_WAITING {
            return Err(LineFull {
                reference: waiting.decoded.reference,
            });
        }
        self.waiting.push_back(waiting);
        Ok(())
    }

    /// The next command, if it may start now (it then counts as running).
    pub fn next(&mut self) -> Option<Waiting> {
        let kind = self.waiting.front()?.kind;
        if !self.may_start(kind) {
            return None;
        }
        self.start(kind);
        let next = self.waiting.pop_front();
        if self.waiting.is_empty() && self.waiting.capacity() > KEPT_CAPACITY {
            self.waiting = VecDeque::new();
        }
        next
    }

    /// May a command of `kind` start beside the running ones?
    fn may_start(&self, kind: Kind) -> bool {
        !self.held && (self.running == 0 || (kind == Kind::Write && !self.alone))
    }

    fn start(&mut self, kind: Kind) {
        self.running += 1;
        self.alone = kind == Kind::Alone;
    }

    /// Nothing starts until [`Line::release`]: the running command is not in the
    /// PersistActor's queue yet.
    pub fn hold(&mut self) {
        self.held = true;
    }

    pub fn release(&mut self) {
        self.held = false;
    }

    /// A running command is done.
    pub fn finish(&mut self) {
        self.running = self.running.saturating_sub(1);
        if self.running == 0 {
            self.alone = false;
        }
    }
}

impl std::fmt::Debug for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiting").field("kind", &self.kind).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::user::cmd::{Command, Typing};
    use crate::domain::ConversationId;

    fn command(kind: Kind) -> Waiting {
        Waiting {
            decoded: Decoded {
                reference: None,
                command: Command::Typing(Typing::parse(ConversationId(uuid::Uuid::nil()))),
            },
            kind,
            address: None,
        }
    }

    fn kinds(line: &mut Line) -> Vec<Kind> {
        std::iter::from_fn(|| line.next()).map(|w| w.kind).collect()
    }

    #[test]
    fn writes_overlap_until_a_command_that_runs_alone() {
        let mut line = Line::default();
        for kind in [Kind::Write, Kind::Write, Kind::Alone, Kind::Write] {
            line.push(command(kind)).unwrap();
        }
        assert_eq!(kinds(&mut line), vec![Kind::Write, Kind::Write]);
        line.finish();
        assert!(line.next().is_none(), "one write is still running");
        line.finish();
        assert_eq!(kinds(&mut line), vec![Kind::Alone]);
        assert!(line.next().is_none(), "the write after it waits");
        line.finish();
        assert_eq!(kinds(&mut line), vec![Kind::Write]);
    }

    #[test]
    fn a_command_that_runs_alone_waits_for_writes_before_it() {
        let mut line = Line::default();
        line.push(command(Kind::Write)).unwrap();
        assert_eq!(kinds(&mut line), vec![Kind::Write]);
        line.push(command(Kind::Alone)).unwrap();
        assert!(line.next().is_none());
        line.finish();
        assert_eq!(kinds(&mut line), vec![Kind::Alone]);
    }

    #[test]
    fn nothing_starts_while_a_write_is_held_before_its_queue() {
        let mut line = Line::default();
        for kind in [Kind::Write, Kind::Write] {
            line.push(command(kind)).unwrap();
        }
        assert_eq!(line.next().map(|w| w.kind), Some(Kind::Write));
        line.hold();
        assert!(
            line.next().is_none(),
            "the second write waits for the first's queue"
        );
        line.release();
        assert_eq!(line.next().map(|w| w.kind), Some(Kind::Write));
    }

    #[test]
    fn a_command_with_nothing_before_it_starts_at_once_without_queueing() {
        let mut line = Line::default();
        let started = line.enter(command(Kind::Write)).unwrap();
        assert_eq!(started.map(|w| w.kind), Some(Kind::Write));
        assert_eq!(line.waiting.capacity(), 0, "nothing was queued");
        // A second write overlaps; a query waits for both.
        assert!(line.enter(command(Kind::Write)).unwrap().is_some());
        assert!(line.enter(command(Kind::Alone)).unwrap().is_none());
        line.finish();
        line.finish();
        assert_eq!(kinds(&mut line), vec![Kind::Alone]);
    }

    #[test]
    fn a_queue_that_drains_after_a_burst_gives_its_buffer_back() {
        let mut line = Line::default();
        assert!(line.enter(command(Kind::Alone)).unwrap().is_some());
        for _ in 0..100 {
            assert!(line.enter(command(Kind::Alone)).unwrap().is_none());
        }
        for _ in 0..100 {
            line.finish();
            assert_eq!(kinds(&mut line), vec![Kind::Alone]);
        }
        assert_eq!(line.waiting.capacity(), 0);
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut line = Line::default();
        line.push(command(Kind::Alone)).unwrap();
        assert_eq!(kinds(&mut line), vec![Kind::Alone]);
        for _ in 0..MOST_WAITING {
            line.push(command(Kind::Write)).unwrap();
        }
        assert!(line.push(command(Kind::Write)).is_err());
        line.finish();
        assert_eq!(kinds(&mut line).len(), MOST_WAITING);
        assert!(line.push(command(Kind::Write)).is_ok());
    }
}
