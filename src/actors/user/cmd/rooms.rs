//! `rooms`: a page of the room directory (every room, by name; those whose name contains
//! a query), answered to the asking window as `rooms`. Unlike the online list, the
//! directory is asked, not tracked: no changes follow a page.

use super::refusal::Refusal;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use crate::domain::DirectoryPage;
use crate::protocol::{ServerEvent, ToFrame};
use actix::Context;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub struct Rooms {
    pub page: DirectoryPage,
}

impl Rooms {
    pub fn parse(
        query: Option<String>,
        after: Option<String>,
        limit: Option<i64>,
    ) -> Result<Self, Refusal> {
        let page = DirectoryPage::parse(query, after, limit).map_err(Refusal::bad_request)?;
        Ok(Rooms { page })
    }

    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me) = (actor.chat.clone(), actor.user.id);
        let page = self.page;
        let query = page.query.clone();
        let read = async move { chat.room_directory(me, &page).await };
        actor.answer(
            asked,
            read,
            move |reference, (rooms, more)| {
                let page = ServerEvent::Rooms {
                    reference: reference.map(Cow::Borrowed),
                    query: query.as_deref().map(Cow::Borrowed),
                    rooms: Cow::Borrowed(&rooms),
                    more,
                };
                Some(page.to_frame())
            },
            ctx,
        );
    }
}
