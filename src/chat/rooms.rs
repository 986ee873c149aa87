//! Rooms: creating (at most 10 a minute each person; the password hashed with argon2 on
//! the bounded pool of `passwords.rs`), joining
//! (the password checked, attempts rate-limited per person and per address), leaving,
//! deleting (30 a minute), listing members with their presence, and the directory.

use super::{Action, Chat, ChatError, Internal};
use crate::actors::messages::GetOnlineAmong;
use crate::actors::persist::Origin;
use crate::db::writes::{WriteOp, WriteOutcome, WriteRejection};
use crate::db::{self};
use crate::domain::{
    ConversationId, DirectoryPage, Room, RoomMember, RoomName, RoomPassword, UserId,
};
use std::collections::HashSet;
use std::net::IpAddr;

impl Chat {
    /// Creates a room with `creator` as its first member.
    pub async fn create_room(
        &self,
        creator: UserId,
        name: RoomName,
        password: Option<RoomPassword>,
        origin: Option<Origin>,
    ) -> Result<WriteOutcome, ChatError> {
        self.admit(Action::CreateRoom, creator).wait().await?;
        let password_hash = match password {
            Some(p) => {
                // A taken name is refused before the hash's cost is paid (the unique index
                // still decides races).
                if db::rooms::name_taken(&self.pool, &name).await? {
                    return Err(WriteRejection::Conflict("a room with that name exists").into());
                }
                Some(self.passwords.hash(p).await?)
            }
            None => None,
        };
        let op = WriteOp::CreateRoom {
            creator,
            name,
            password_hash,
        };
        self.write(op, origin).await
    }

    /// Makes `user` a member, with the room's password when it has one. Members join
    /// again without one. Password attempts are limited per person and per address.
    pub async fn join_room(
        &self,
        user: UserId,
        room: ConversationId,
        password: Option<RoomPassword>,
        address: Option<IpAddr>,
        origin: Option<Origin>,
    ) -> Result<WriteOutcome, ChatError> {
        self.admit(Action::JoinOrLeave, user).wait().await?;
        let (_, hash) = db::rooms::find_with_hash(&self.pool, room)
            .await?
            .ok_or(WriteRejection::NotFound("room"))?;
        if let Some(hash) = hash {
            let member = db::conversations::is_member(&self.pool, user, room).await?;
            if !member {
                let password =
                    password.ok_or(WriteRejection::Forbidden("this room needs its password"))?;
                self.check_password_attempt(user, address)?;
                if !self.passwords.verify(password, hash).await? {
                    log::info!("wrong room password user={user} room={room}");
                    return Err(WriteRejection::Forbidden("wrong password").into());
                }
            }
        }
        self.write(WriteOp::JoinRoom { user, room }, origin).await
    }

    fn check_password_attempt(
        &self,
        user: UserId,
        address: Option<IpAddr>,
    ) -> Result<(), ChatError> {
        let limited = || ChatError::PasswordAttempts;
        self.password_attempts_by_user
            .check_key(&user)
            .map_err(|_| limited())?;
        if let Some(address) = address {
            self.password_attempts_by_address
                .check_key(&address)
                .map_err(|_| limited())?;
        }
        Ok(())
    }

    pub async fn leave_room(
        &self,
        user: UserId,
        room: ConversationId,
        origin: Option<Origin>,
    ) -> Result<WriteOutcome, ChatError> {
        self.admit(Action::JoinOrLeave, user).wait().await?;
        self.write(WriteOp::LeaveRoom { user, room }, origin).await
    }

    pub async fn delete_room(
        &self,
        user: UserId,
        room: ConversationId,
        origin: Option<Origin>,
    ) -> Result<WriteOutcome, ChatError> {
        self.admit(Action::DeleteRoom, user).wait().await?;
        self.write(WriteOp::DeleteRoom { user, room }, origin).await
    }

    /// A page of the room directory for `viewer`, and whether more rooms follow: a
    /// query, taking one of the viewer's query allowance.
    pub async fn room_directory(
        &self,
        viewer: UserId,
        page: &DirectoryPage,
    ) -> Result<(Vec<Room>, bool), ChatError> {
        self.check_local(Action::Query, viewer)?;
        Ok(db::rooms::directory(&self.pool, page).await?)
    }

    /// A room's members with their presence as `viewer` may see it (someone hidden by a
    /// block shows as offline). Anyone may look into an open room (they could join it
    /// anyway); a password-protected room's members are for its members only (others
    /// get `forbidden`, as when joining without the password).
    pub async fn room_members(
        &self,
        viewer: UserId,
        room: ConversationId,
    ) -> Result<Vec<RoomMember>, ChatError> {
        self.check_local(Action::Query, viewer)?;
        let (_, hash) = db::rooms::find_with_hash(&self.pool, room)
            .await?
            .ok_or(WriteRejection::NotFound("room"))?;
        let members = db::rooms::members(&self.pool, room, viewer).await?;
        if hash.is_some() && !members.iter().any(|m| m.id == viewer) {
            return Err(WriteRejection::Forbidden(
                "only members see who is in a password-protected room",
            )
            .into());
        }
        let people = members.iter().map(|m| m.id).collect();
        let online: HashSet<UserId> = self
            .registry
            .online
            .send(GetOnlineAmong { viewer, people })
            .await
            .map_err(|source| Internal::Mailbox {
                actor: "PresenceRegistry",
                source,
            })?
            .into_iter()
            .collect();
        Ok(members
            .into_iter()
            .map(|u| RoomMember {
                online: u.id == viewer || online.contains(&u.id),
                id: u.id,
                email: u.email,
                name: u.name,
            })
            .collect())
    }
}
