//! The online list, a page at a time: what a window's `online` request asks of the
//! PresenceRegistry.

use super::{Action, Chat, ChatError, Internal};
use crate::actors::messages::ShowOnlinePage;

impl Chat {
    /// Asks for `request`'s page of the viewer's online list, which the registry sends
    /// to the asking window and makes the range it tracks. A query: it takes one of the
    /// viewer's query allowance.
    pub async fn online_page(&self, request: ShowOnlinePage) -> Result<(), ChatError> {
        self.check_local(Action::Query, request.viewer)?;
        self.registry.pages.send(request).await.map_err(|source| {
            Internal::Mailbox {
                actor: "PresenceRegistry",
                source,
            }
            .into()
        })
    }
}
