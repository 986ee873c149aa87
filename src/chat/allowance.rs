//! Per-person allowances: how often one person may do each thing that costs the node,
//! the cluster or other people something (a write, a fan-out to other windows, a query).
//!
//! Every allowance is kept on this node (governor's keyed GCRA, no I/O). The ones that
//! write to Postgres (`shared`) are also kept across the deployment when it has several
//! nodes, through a [`SharedAllowances`] store (Redis, `cluster/allowance_redis.rs`), so
//! opening windows on several nodes does not multiply them. If that store cannot answer,
//! the node's own allowance stands alone (it never blocks a person because Redis is
//! down).

use super::ChatError;
use crate::configuration::Limits;
use crate::domain::UserId;
use futures_util::future::BoxFuture;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// What a person's allowance is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Sending a message (socket or HTTP).
    Send,
    /// Creating a room (a write, and a row in everyone's room directory).
    CreateRoom,
    /// Deleting a room (a write under the room's lock, and a frame to every member).
    DeleteRoom,
    /// Joining or leaving a room (a write, and a `member` frame to every member).
    JoinOrLeave,
    /// Blocking or unblocking (a write, and presence changes both ways on every node).
    Block,
    /// A `typing` frame (a frame to every member of the conversation).
    Typing,
    /// A mirrored UI state (a frame to every other window of the person).
    Ui,
    /// A read of Postgres on the person's behalf: history, members, search.
    Query,
    /// Moving a read position (a write, and a frame to every other window).
    Read,
    /// Changing one's display name (a write, and an event every node reads), or whether
    /// one shares read receipts.
    Rename,
    /// Editing, deleting or reacting to a message (a write under the conversation's
    /// lock, and a frame to every member).
    Change,
}

impl Action {
    const ALL: [Action; 11] = [
        Action::Send,
        Action::CreateRoom,
        Action::DeleteRoom,
        Action::JoinOrLeave,
        Action::Block,
        Action::Typing,
        Action::Ui,
        Action::Query,
        Action::Read,
        Action::Rename,
        Action::Change,
    ];

    /// A stable short name (Redis keys, logs).
    pub fn name(self) -> &'static str {
        match self {
            Action::Send => "send",
            Action::CreateRoom => "create_room",
            Action::DeleteRoom => "delete_room",
            Action::JoinOrLeave => "join_leave",
            Action::Block => "block",
            Action::Typing => "typing",
            Action::Ui => "ui",
            Action::Query => "query",
            Action::Read => "read",
            Action::Rename => "rename",
            Action::Change => "change",
        }
    }

    /// What the person was doing too often, for the error message.
    fn doing(self) -> &'static str {
        match self {
            Action::Send => "sending messages",
            Action::CreateRoom => "creating rooms",
            Action::DeleteRoom => "deleting rooms",
            Action::JoinOrLeave => "joining and leaving rooms",
            Action::Block => "blocking and unblocking",
            Action::Typing => "sending typing notices",
            Action::Ui => "mirroring the UI state",
            Action::Query => "asking for history, members, online pages or search results",
            Action::Read => "moving read positions",
            Action::Rename => "changing your name or your read receipts setting",
            Action::Change => "editing, deleting and reacting to messages",
        }
    }

    /// Kept across the deployment too (it writes to Postgres).
    fn shared(self) -> bool {
        matches!(
            self,
            Action::Send
                | Action::CreateRoom
                | Action::DeleteRoom
                | Action::JoinOrLeave
                | Action::Block
                | Action::Rename
                | Action::Change
        )
    }
}

/// An allowance: `burst` at once, then one every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub every: Duration,
    pub burst: u32,
}

impl Rate {
    fn per_second(n: u32, burst: u32) -> Rate {
        Rate {
            every: Duration::from_secs(1) / n.max(1),
            burst: burst.max(1),
        }
    }

    fn per_minute(n: u32) -> Rate {
        Rate {
            every: Duration::from_secs(60) / n.max(1),
            burst: n.max(1),
        }
    }

    /// Said in an error message: "20 a second", "10 a minute".
    fn said(self) -> String {
        let per_second = Duration::from_secs(1).as_secs_f64() / self.every.as_secs_f64();
        if per_second >= 1.0 {
            format!("{} a second", per_second.round())
        } else {
            format!("{} a minute", (per_second * 60.0).round())
        }
    }

    /// The allowances of each action, from the configured limits.
    pub fn of(action: Action, limits: &Limits) -> Rate {
        match action {
            Action::Send => Rate::per_second(limits.send_rate_per_second, limits.send_burst),
            Action::CreateRoom => Rate::per_minute(limits.room_creations_per_minute),
            Action::DeleteRoom => Rate::per_minute(limits.room_deletions_per_minute),
            Action::JoinOrLeave => Rate::per_minute(limits.joins_and_leaves_per_minute),
            Action::Block => Rate::per_minute(limits.block_toggles_per_minute),
            Action::Typing => Rate::per_second(limits.typing_per_second, limits.typing_burst),
            Action::Ui => Rate::per_second(limits.ui_per_second, limits.ui_burst),
            Action::Query => Rate::per_second(limits.queries_per_second, limits.queries_burst),
            Action::Read => Rate::per_second(limits.reads_per_second, limits.reads_burst),
            Action::Rename => Rate::per_minute(limits.renames_per_minute),
            Action::Change => Rate::per_second(limits.changes_per_second, limits.changes_burst),
        }
    }
}

/// Refused: the person did `action` more often than `rate` allows.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} faster than {}; wait a moment", action.doing(), rate.said())]
pub struct TooFast {
    pub action: Action,
    pub rate: Rate,
    /// How long until the action would pass again: exact for this node's allowance, one
    /// period for the deployment's (its store answers only yes or no).
    pub retry_after: Duration,
}

/// Why the shared store did not answer (the node's allowance then stands alone).
pub type SharedError = Box<dyn std::error::Error + Send + Sync>;

/// A store of allowances shared by every node of the deployment.
pub trait SharedAllowances: Send + Sync {
    /// Takes one of `user`'s allowance for `action`: `Ok(None)` when taken,
    /// `Ok(Some(wait))` when none is left until `wait` has passed.
    fn take(
        &self,
        action: Action,
        user: UserId,
        rate: Rate,
    ) -> BoxFuture<'static, Result<Option<Duration>, SharedError>>;
}

/// What [`Allowances::admit`] decided, at once or once the shared store answers.
pub enum Admission {
    Decided(Result<(), ChatError>),
    Pending(BoxFuture<'static, Result<(), ChatError>>),
}

impl Admission {
    pub async fn wait(self) -> Result<(), ChatError> {
        match self {
            Admission::Decided(result) => result,
            Admission::Pending(future) => future.await,
        }
    }
}

struct Kept {
    rate: Rate,
    local: DefaultKeyedRateLimiter<UserId>,
}

/// Every person's allowances on this node, and the shared store when there is one.
pub struct Allowances {
    kept: Vec<Kept>,
    shared: Option<Arc<dyn SharedAllowances>>,
}

impl Allowances {
    pub fn new(limits: &Limits, shared: Option<Arc<dyn SharedAllowances>>) -> Self {
        let kept = Action::ALL
            .iter()
            .map(|&action| {
                let rate = Rate::of(action, limits);
                let quota = Quota::with_period(rate.every)
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                    .allow_burst(NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN));
                Kept {
                    rate,
                    local: RateLimiter::keyed(quota),
                }
            })
            .collect();
        Allowances { kept, shared }
    }

    fn kept(&self, action: Action) -> &Kept {
        // Built from `Action::ALL` in order.
        &self.kept[Action::ALL.iter().position(|a| *a == action).unwrap_or(0)]
    }

    /// Takes one of this node's allowance for `action`.
    pub fn check_local(&self, action: Action, user: UserId) -> Result<(), ChatError> {
        let kept = self.kept(action);
        kept.local.check_key(&user).map_err(|not_until| {
            ChatError::TooFast(TooFast {
                action,
                rate: kept.rate,
                // The limiter's own clock: another clock's instants are calibrated
                // apart and could say "now" a moment early.
                retry_after: not_until.wait_time_from(kept.local.clock().now()),
            })
        })
    }

    /// Takes one of `user`'s allowance for `action` on this node, then, for a shared
    /// action in a deployment of several nodes, across the deployment.
    pub fn admit(&self, action: Action, user: UserId) -> Admission {
        if let Err(e) = self.check_local(action, user) {
            return Admission::Decided(Err(e));
        }
        let Some(shared) = self.shared.as_ref().filter(|_| action.shared()) else {
            return Admission::Decided(Ok(()));
        };
        let rate = self.kept(action).rate;
        let taking = shared.take(action, user, rate);
        Admission::Pending(Box::pin(async move {
            match taking.await {
                Ok(None) => Ok(()),
                // The store's own wait: this node's allowance may be fuller than the
                // deployment's, so one period could be too short a wait.
                Ok(Some(wait)) => Err(ChatError::TooFast(TooFast {
                    action,
                    rate,
                    retry_after: wait,
                })),
                Err(e) => {
                    // The mirror reports Redis outages; this is their echo, per action.
                    log::debug!(
                        "shared allowance for {} unavailable, this node's stands alone: {e}",
                        action.name()
                    );
                    Ok(())
                }
            }
        }))
    }

    /// Forgets the state of people back at their full allowance.
    pub fn forget_idle(&self) {
        for kept in &self.kept {
            kept.local.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_allows_its_burst_then_refuses_with_a_clear_reason() {
        let limits = Limits::default();
        let allowances = Allowances::new(&limits, None);
        let (me, other) = (UserId::new(), UserId::new());
        for _ in 0..limits.room_creations_per_minute {
            allowances.check_local(Action::CreateRoom, me).unwrap();
        }
        let refused = allowances.check_local(Action::CreateRoom, me).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "creating rooms faster than 10 a minute; wait a moment"
        );
        assert_eq!(refused.code(), crate::protocol::ErrorCode::RateLimited);
        allowances.check_local(Action::CreateRoom, other).unwrap();
        allowances.check_local(Action::Send, me).unwrap();
    }

    #[test]
    fn rates_are_said_per_second_or_per_minute() {
        assert_eq!(Rate::per_second(20, 40).said(), "20 a second");
        assert_eq!(Rate::per_minute(30).said(), "30 a minute");
    }
}
