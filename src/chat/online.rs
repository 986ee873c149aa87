//! The online list, a page at a time: what a window's `online` query and the HTTP list
//! read from the PresenceRegistry.

use super::{Action, Chat, ChatError, Internal};
use crate::actors::messages::{GetOnlinePage, OnlinePage};
use crate::domain::UserId;

impl Chat {
    /// `viewer`'s page of the online list: `prefix` lower case (empty: everyone), at
    /// most `limit` people after the first `offset`. A query: it takes one of the
    /// viewer's query allowance.
    pub async fn online_page(
        &self,
        viewer: UserId,
        prefix: String,
        offset: usize,
        limit: usize,
    ) -> Result<OnlinePage, ChatError> {
        self.check_local(Action::Query, viewer)?;
        self.registry
            .pages
            .send(GetOnlinePage {
                viewer,
                prefix,
                offset,
                limit,
            })
            .await
            .map_err(|source| {
                Internal::Mailbox {
                    actor: "PresenceRegistry",
                    source,
                }
                .into()
            })
    }
}
