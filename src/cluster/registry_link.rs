//! What the mirror tells this node's PresenceRegistry, and asks of it.
//!
//! The messages are defined here, on the cluster's side, and the registry implements
//! `Handler` for them; the mirror holds them as `Recipient`s ([`RegistryLink`]). So the
//! cluster never names the registry's type and `cluster/` does not depend on `actors/`,
//! while the registry, which reports to the mirror, depends on `cluster/` alone.

use super::event::ClusterEvent;
use crate::domain::User;
use actix::prelude::*;

/// Notification: another node (or Redis, for presence) reports a change.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ClusterEventReceived {
    pub event: ClusterEvent,
}

/// Notification: the cluster mirror rebuilt; this is everyone online now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct OnlineSetReplaced {
    pub users: Vec<User>,
}

/// Query: each announceable local user and their number of sockets on this node.
#[derive(Message)]
#[rtype(result = "Vec<(User, usize)>")]
pub struct GetLocalCounts;

/// Command (of a rebuild): send the mirror every local user, announced or not, as this
/// node's routes ([`ChangeRoutes`](super::ChangeRoutes) with `Exactly`), through the
/// same mailbox as the route changes of arrivals and departures, so they stay in order.
/// `done` is handed on with it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SendRoutes {
    pub done: tokio::sync::oneshot::Sender<bool>,
}

/// Command: events may have been missed (a Redis outage); every UserActor reads what it
/// missed from Postgres.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ResyncUsers;

/// The registry as the mirror sees it: one recipient per message it sends.
#[derive(Clone)]
pub struct RegistryLink {
    /// Events from other nodes, and presence decided by Redis, for the local windows.
    pub(super) events: Recipient<ClusterEventReceived>,
    /// The online set a rebuild reloaded, replacing whatever the registry announced.
    pub(super) online: Recipient<OnlineSetReplaced>,
    /// The local socket counts a rebuild writes back into Redis.
    pub(super) counts: Recipient<GetLocalCounts>,
    /// Asked by a rebuild for the local users it routes to this node.
    pub(super) routes: Recipient<SendRoutes>,
    /// After a rebuild: the UserActors read what the outage made them miss.
    pub(super) resync: Recipient<ResyncUsers>,
}

impl<R> From<Addr<R>> for RegistryLink
where
    R: Actor<Context = Context<R>>
        + Handler<ClusterEventReceived>
        + Handler<OnlineSetReplaced>
        + Handler<GetLocalCounts>
        + Handler<SendRoutes>
        + Handler<ResyncUsers>,
{
    fn from(registry: Addr<R>) -> RegistryLink {
        RegistryLink {
            events: registry.clone().recipient(),
            online: registry.clone().recipient(),
            counts: registry.clone().recipient(),
            routes: registry.clone().recipient(),
            resync: registry.recipient(),
        }
    }
}
