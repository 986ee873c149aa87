//! The UserActor directory: a user's first window spawns their UserActor, their last
//! window's detach stops it, and commands for every local user go through here.

use super::entry::{Entry, Phase};
use super::{AttachRefused, AttachSocket, CloseAllWindows, PresenceRegistry, ResyncUsers};
use crate::actors::messages::DetachSocket;
use crate::actors::user::{
    routed_now, routed_when, AddWindow, CloseWindows, RegistryLink, RemoveWindow, Resync, Routed,
    StopUser, UserActor,
};
use crate::cluster::{ChangeRoutes, RouteChange, SendRoutes};
use crate::domain::UserId;
use actix::prelude::*;
use std::collections::HashSet;
use std::time::Duration;

impl Handler<AttachSocket> for PresenceRegistry {
    type Result = Result<Addr<UserActor>, AttachRefused>;

    fn handle(&mut self, msg: AttachSocket, ctx: &mut Self::Context) -> Self::Result {
        let id = msg.user.id;
        if !self.users.contains_key(&id) {
            self.next_generation += 1;
            let generation = self.next_generation;
            let routed = self.route(id);
            let actor = UserActor::new(
                msg.user.clone(),
                RegistryLink {
                    detach: ctx.address().recipient(),
                    views: ctx.address().recipient(),
                },
                self.chat.clone(),
                routed.clone(),
                self.metrics.clone(),
            )
            .start();
            self.users.insert(
                id,
                Entry {
                    user: msg.user.clone(),
                    actor,
                    windows: HashSet::new(),
                    phase: Phase::loading(),
                    blocks_out: HashSet::new(),
                    blocks_in: HashSet::new(),
                    partners: HashSet::new(),
                    generation,
                    reloading: None,
                    routed,
                },
            );
            self.metrics.users_online.inc();
            self.load_block_sets(id, generation, Duration::ZERO, ctx);
        }
        let entry = self.users.get_mut(&id).expect("inserted above");
        if entry.windows.len() >= self.max_windows {
            return Err(AttachRefused::TooManyWindows);
        }
        entry.windows.insert(msg.window);
        self.metrics.sockets_open.inc();
        entry.actor.do_send(AddWindow {
            window: msg.window,
            socket: msg.socket,
            outbound: msg.outbound,
            expires_at: msg.expires_at,
            admitted: msg.admitted,
            reference: msg.reference,
        });
        let (actor, user, count, announceable) = (
            entry.actor.clone(),
            entry.user.clone(),
            entry.windows.len(),
            entry.is_online(),
        );
        if announceable {
            self.local_count_changed(user, count);
        }
        Ok(actor)
    }
}

impl PresenceRegistry {
    /// In a cluster, has events for `user` routed to this node from their first window
    /// here on; the first window's snapshot waits for the returned [`Routed`].
    fn route(&self, user: UserId) -> Routed {
        let Some(cluster) = &self.cluster else {
            return routed_now();
        };
        let (done, routed) = tokio::sync::oneshot::channel();
        cluster.routes.do_send(ChangeRoutes {
            change: RouteChange::Here(user),
            done: Some(done),
        });
        routed_when(routed)
    }

    /// `user`'s last window here closed: their events are no longer routed here.
    fn unroute(&self, user: UserId) {
        if let Some(cluster) = &self.cluster {
            cluster.routes.do_send(ChangeRoutes {
                change: RouteChange::Gone(user),
                done: None,
            });
        }
    }
}

impl Handler<SendRoutes> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: SendRoutes, _ctx: &mut Self::Context) {
        if let Some(cluster) = &self.cluster {
            cluster.routes.do_send(ChangeRoutes {
                change: RouteChange::Exactly(self.users.keys().copied().collect()),
                done: Some(msg.done),
            });
        }
    }
}

impl Handler<DetachSocket> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: DetachSocket, _ctx: &mut Self::Context) {
        let Some(entry) = self.users.get_mut(&msg.user) else {
            return;
        };
        if !entry.windows.remove(&msg.window) {
            return;
        }
        self.metrics.sockets_open.dec();
        entry.actor.do_send(RemoveWindow { window: msg.window });
        self.views.remove((msg.user, msg.window));
        let (user, count, announceable) =
            (entry.user.clone(), entry.windows.len(), entry.is_online());
        if count == 0 {
            let entry = self.users.remove(&msg.user).expect("present above");
            self.metrics.users_online.dec();
            self.views.unwatch(msg.user, entry.partners.iter().copied());
            entry.actor.do_send(StopUser);
            self.unroute(msg.user);
        }
        if announceable {
            self.local_count_changed(user, count);
        }
    }
}

impl Handler<ResyncUsers> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, _msg: ResyncUsers, ctx: &mut Self::Context) {
        let mut reload = Vec::new();
        for (id, entry) in self.users.iter_mut() {
            entry.actor.do_send(Resync);
            // Block events may have been missed too: re-read the sets of the announced.
            if entry.is_online() && entry.reloading.is_none() {
                entry.reloading = Some(Vec::new());
                reload.push((*id, entry.generation));
            }
        }
        for (id, generation) in reload {
            self.load_block_sets(id, generation, Duration::ZERO, ctx);
        }
    }
}

impl Handler<CloseAllWindows> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: CloseAllWindows, _ctx: &mut Self::Context) {
        for entry in self.users.values() {
            entry.actor.do_send(CloseWindows {
                code: msg.code,
                reason: msg.reason,
            });
        }
    }
}
