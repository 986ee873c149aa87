//! Block sets: whom each local user blocked and who blocked them, so every viewer's
//! online list and presence frames are block-filtered.
//!
//! A user's sets load when their UserActor is spawned (they are announced only once
//! loaded; changes arriving meanwhile are replayed over the read), and are re-read after
//! a Redis outage, when block events may have been missed.

use super::entry::{BlockChange, Phase};
use super::PresenceRegistry;
use crate::actors::persist::Origin;
use crate::actors::user::DeliverFrame;
use crate::db::{self, batch::ReadError};
use crate::domain::{User, UserId};
use crate::protocol::{ServerEvent, ToFrame};
use actix::prelude::*;
use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

/// Notification: a user's block sets finished loading (or failed to, and are retried).
/// Sent by the registry to itself, since the read runs off its mailbox.
#[derive(Message)]
#[rtype(result = "()")]
struct BlockSetsLoaded {
    user: UserId,
    /// The incarnation of the user's entry that asked: a late answer for an earlier one
    /// is dropped.
    generation: u64,
    result: Result<db::blocks::BlockSets, ReadError>,
}

impl PresenceRegistry {
    /// Reads `user`'s block sets after `delay`, in whichever batch they join (a connect
    /// storm reads them a thousand people per query); [`BlockSetsLoaded`] brings them back.
    pub(super) fn load_block_sets(
        &self,
        user: UserId,
        generation: u64,
        delay: Duration,
        ctx: &mut Context<Self>,
    ) {
        let reader = self.block_sets.clone();
        let me = ctx.address();
        let routed = self.users.get(&user).map(|e| e.routed.clone());
        actix::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(routed) = routed {
                routed.await;
            }
            let result = reader.read(user).await;
            me.do_send(BlockSetsLoaded {
                user,
                generation,
                result,
            });
        });
    }

    /// Applies a block change to the local parties: their block sets, presence both ways,
    /// and the blocker's other windows.
    pub(super) fn block_changed(
        &mut self,
        blocker: &User,
        blocked: &User,
        active: bool,
        origin: Option<&Origin>,
    ) {
        // The blocker's other windows hear of it first, then presence changes both ways.
        if let Some(entry) = self.users.get(&blocker.id) {
            let frame = if active {
                ServerEvent::Blocked {
                    reference: None,
                    user: Cow::Borrowed(blocked),
                }
            } else {
                ServerEvent::Unblocked {
                    reference: None,
                    user: Cow::Borrowed(blocked),
                }
            }
            .to_frame();
            entry.actor.do_send(DeliverFrame {
                frame,
                except: origin.map(|o| o.window),
            });
        }
        let parties = [
            (
                blocker,
                blocked,
                BlockChange::Outgoing {
                    other: blocked.id,
                    active,
                },
            ),
            (
                blocked,
                blocker,
                BlockChange::Incoming {
                    other: blocker.id,
                    active,
                },
            ),
        ];
        for (me, other, change) in parties {
            let Some(entry) = self.users.get_mut(&me.id) else {
                continue;
            };
            let hidden_before = entry.hides(other.id);
            entry.record(change);
            if let Phase::Loading { changes, .. } = &mut entry.phase {
                changes.push(change);
                continue;
            }
            let hidden_after = entry.hides(other.id);
            // Whether or not either is online: a window's pending changes may still name
            // the other (online at the last flush, gone since), and must be told as they
            // were shown then.
            if hidden_before != hidden_after {
                self.show_to(me.id, other.id, hidden_before);
            }
        }
    }
}

impl Handler<BlockSetsLoaded> for PresenceRegistry {
    type Result = ();

    fn handle(&mut self, msg: BlockSetsLoaded, ctx: &mut Self::Context) {
        let Some(entry) = self.users.get_mut(&msg.user) else {
            return;
        };
        if entry.generation != msg.generation || (entry.is_online() && entry.reloading.is_none()) {
            return;
        }
        let sets = match msg.result {
            Ok(sets) => sets,
            Err(e) => {
                log::error!(
                    "loading blocks of {} failed, retrying: {}",
                    msg.user,
                    crate::error_chain(&e)
                );
                self.load_block_sets(msg.user, msg.generation, Duration::from_secs(1), ctx);
                return;
            }
        };
        if let Some(changes) = entry.reloading.take() {
            return self.block_sets_reloaded(msg.user, sets, changes);
        }
        let Phase::Loading {
            changes,
            waiting,
            held,
            renamed,
        } = std::mem::replace(&mut entry.phase, Phase::Online)
        else {
            return;
        };
        // Announced under the name Postgres has now (the session token has none).
        if !renamed {
            entry.user.name = sets.name;
        }
        entry.blocks_out = sets.outgoing.into_iter().collect();
        entry.blocks_in = sets.incoming.into_iter().collect();
        // Partners of a direct message committed meanwhile are kept.
        entry.partners.extend(sets.partners);
        for change in changes {
            entry.apply(change);
        }
        for delivery in held {
            entry.release(delivery);
        }
        let (user, count) = (entry.user.clone(), entry.windows.len());
        let partners: Vec<UserId> = entry.partners.iter().copied().collect();
        self.views.watch(msg.user, partners);
        for question in waiting {
            self.answer(msg.user, question);
        }
        self.local_count_changed(user, count);
    }
}

impl PresenceRegistry {
    /// Replaces an online user's block sets with a fresh read (plus what changed since)
    /// and tells their windows whose visibility changed.
    fn block_sets_reloaded(
        &mut self,
        user: UserId,
        sets: db::blocks::BlockSets,
        changes: Vec<BlockChange>,
    ) {
        let Some(entry) = self.users.get_mut(&user) else {
            return;
        };
        // Only people in the old or the new sets can change visibility: the work follows
        // the person's blocks, not the population.
        let concerned: HashSet<UserId> = entry
            .blocks_out
            .iter()
            .chain(&entry.blocks_in)
            .chain(&sets.outgoing)
            .chain(&sets.incoming)
            .chain(changes.iter().map(BlockChange::other))
            .copied()
            .filter(|u| *u != user)
            .collect();
        let before: HashSet<UserId> = concerned
            .iter()
            .copied()
            .filter(|u| entry.hides(*u))
            .collect();
        entry.blocks_out = sets.outgoing.into_iter().collect();
        entry.blocks_in = sets.incoming.into_iter().collect();
        // New partners join after the flips are told, which are judged as they were.
        let new_partners: Vec<UserId> = sets
            .partners
            .into_iter()
            .filter(|p| !entry.partners.contains(p))
            .collect();
        for change in changes {
            entry.apply(change);
        }
        let flipped: Vec<(UserId, bool)> = concerned
            .into_iter()
            .filter(|other| before.contains(other) != entry.hides(*other))
            .map(|other| (other, before.contains(&other)))
            .collect();
        for (other, hidden_before) in flipped {
            self.show_to(user, other, hidden_before);
        }
        if let Some(entry) = self.users.get_mut(&user) {
            entry.partners.extend(new_partners.iter().copied());
        }
        self.views.watch(user, new_partners.iter().copied());
        for partner in new_partners {
            self.track_partner(user, partner);
        }
        // A rename this node missed while Redis was away.
        if let Some(entry) = self.users.get(&user) {
            if entry.user.name != sets.name {
                let renamed = User {
                    name: sets.name,
                    ..entry.user.clone()
                };
                self.renamed(&renamed);
            }
        }
    }
}
