//! `online`: a page of the people online the asker may see (optionally those whose email
//! starts with a prefix), answered to the asking window as `online_page`; the page
//! becomes the stretch of the list the window gets `online_changes` for.

use super::refusal::Refusal;
use crate::actors::messages::ShowOnlinePage;
use crate::actors::persist::Origin;
use crate::actors::user::UserActor;
use actix::Context;

/// How many people a page holds when the client does not say.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most a page may hold.
pub const MAX_LIMIT: i64 = 200;
/// The largest offset (far past any online list).
pub const MAX_OFFSET: i64 = u32::MAX as i64;
/// The longest prefix, in characters (an email is at most 254).
pub const MAX_PREFIX_CHARS: usize = 254;

#[derive(Debug, Clone, PartialEq)]
pub struct Online {
    /// As sent (at most [`MAX_PREFIX_CHARS`]); empty for everyone. The list is searched
    /// with it lower-cased ([`Online::folded_prefix`]).
    pub prefix: String,
    pub offset: usize,
    pub limit: usize,
}

impl Online {
    pub fn parse(
        prefix: Option<String>,
        offset: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Self, Refusal> {
        // The limit holds for what was sent, as the HTTP schema says it. Folding may
        // lengthen it (at most twice: 'İ' is two characters lower-cased), which bounds the
        // work; a prefix longer than any email matches nobody.
        let prefix = prefix.unwrap_or_default();
        if prefix.chars().count() > MAX_PREFIX_CHARS {
            return Err(Refusal::bad_request(format!(
                "prefix must be at most {MAX_PREFIX_CHARS} characters"
            )));
        }
        let offset = offset.unwrap_or(0);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(Refusal::bad_request(format!(
                "offset must be between 0 and {MAX_OFFSET}"
            )));
        }
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Refusal::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        Ok(Online {
            prefix,
            offset: offset as usize,
            limit: limit as usize,
        })
    }

    /// The prefix as the list is searched with it: lower case.
    pub fn folded_prefix(&self) -> String {
        self.prefix.to_lowercase()
    }

    /// Asks the registry for the page: it sends `online_page` to the asking window
    /// itself (ordered with the window's `online_changes`) and makes the page's stretch of
    /// the list the window's range. Only a refusal is answered here.
    pub fn apply(self, actor: &mut UserActor, asked: Origin, ctx: &mut Context<UserActor>) {
        let (chat, me) = (actor.chat.clone(), actor.user.id);
        let prefix = self.folded_prefix();
        let Online { offset, limit, .. } = self;
        let request = ShowOnlinePage {
            viewer: me,
            window: asked.window,
            reference: asked.reference.clone(),
            prefix,
            offset,
            limit,
        };
        let query = async move { chat.online_page(request).await };
        actor.answer(asked, query, |_, ()| None, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_request_is_checked_and_its_prefix_folded() {
        assert_eq!(
            Online::parse(Some("Bo".into()), None, None).unwrap(),
            Online {
                prefix: "Bo".into(),
                offset: 0,
                limit: 100
            }
        );
        let page = Online::parse(Some("Bo".into()), None, None).unwrap();
        assert_eq!(page.folded_prefix(), "bo");
        for (offset, limit) in [
            (Some(-1), None),
            (Some(MAX_OFFSET + 1), None),
            (None, Some(0)),
            (None, Some(201)),
        ] {
            let refused = Online::parse(None, offset, limit).unwrap_err();
            assert_eq!(
                refused.code,
                crate::protocol::ErrorCode::BadRequest,
                "{offset:?} {limit:?}"
            );
        }
        assert!(Online::parse(Some("x".repeat(255)), None, None).is_err());
        // 'İ' folds to two characters: the limit holds for what was sent.
        assert!(Online::parse(Some("İ".repeat(200)), None, None).is_ok());
        assert!(Online::parse(Some("İ".repeat(255)), None, None).is_err());
        assert!(Online::parse(None, Some(5_000), Some(200)).is_ok());
    }
}
