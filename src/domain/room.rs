//! Room names and passwords, validated (the room itself is `banter_protocol::Room`).

use std::fmt;

/// A room name: 1..=80 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

pub const MAX_ROOM_NAME_CHARS: usize = 80;

impl RoomName {
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        let name = name.trim();
        if name.is_empty() {
            return Err("a room needs a name");
        }
        if name.chars().count() > MAX_ROOM_NAME_CHARS {
            return Err("a room name is at most 80 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("a room name cannot hold control characters");
        }
        Ok(RoomName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page of the room directory asked for (`rooms` frame, `GET /api/rooms`), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPage {
    /// Only rooms whose name contains this, without case; trimmed, never empty.
    pub query: Option<String>,
    /// Only rooms after this name, without case: the last one of the previous page.
    pub after: Option<String>,
    /// How many rooms at most (1..=100).
    pub limit: usize,
}

impl DirectoryPage {
    pub fn parse(
        query: Option<String>,
        after: Option<String>,
        limit: Option<i64>,
    ) -> Result<Self, String> {
        use banter_protocol::{ROOMS_PAGE, ROOMS_PAGE_MAX};
        // Postgres text cannot hold NUL: refused here, not failed there.
        let checked = |what: &str, text: Option<String>| match text {
            Some(t) if t.chars().count() > MAX_ROOM_NAME_CHARS => Err(format!(
                "{what} must be at most {MAX_ROOM_NAME_CHARS} characters"
            )),
            Some(t) if t.contains('\0') => Err(format!(
                "{what} must not contain the NUL character (U+0000)"
            )),
            other => Ok(other),
        };
        let query = checked("query", query)?
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        let after = checked("after", after)?.filter(|a| !a.is_empty());
        let limit = limit.unwrap_or(ROOMS_PAGE as i64);
        if !(1..=ROOMS_PAGE_MAX as i64).contains(&limit) {
            return Err(format!("limit must be between 1 and {ROOMS_PAGE_MAX}"));
        }
        Ok(DirectoryPage {
            query,
            after,
            limit: limit as usize,
        })
    }
}

/// A room password as typed: never logged or shown (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct RoomPassword(String);

pub const MAX_ROOM_PASSWORD_CHARS: usize = 200;

impl RoomPassword {
    /// `None` for an absent or empty password (an open room).
    pub fn parse(password: Option<String>) -> Result<Option<Self>, &'static str> {
        match password {
            None => Ok(None),
            Some(p) if p.is_empty() => Ok(None),
            Some(p) if p.chars().count() > MAX_ROOM_PASSWORD_CHARS => {
                Err("a room password is at most 200 characters")
            }
            Some(p) if p.contains('\0') => {
                Err("a room password must not contain the NUL character (U+0000)")
            }
            Some(p) => Ok(Some(RoomPassword(p))),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RoomPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomPassword(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_page_is_checked_and_its_query_trimmed() {
        let page = DirectoryPage::parse(Some("  book ".into()), Some("Art".into()), None).unwrap();
        assert_eq!(page.query.as_deref(), Some("book"));
        assert_eq!(page.after.as_deref(), Some("Art"));
        assert_eq!(page.limit, 50);
        let empty = DirectoryPage::parse(Some("   ".into()), Some(String::new()), Some(1)).unwrap();
        assert_eq!((empty.query, empty.after), (None, None));
        for limit in [0, 101, -1] {
            assert!(
                DirectoryPage::parse(None, None, Some(limit)).is_err(),
                "{limit}"
            );
        }
        assert!(DirectoryPage::parse(Some("x".repeat(81)), None, None).is_err());
        assert!(DirectoryPage::parse(None, Some("a\0b".into()), None).is_err());
        assert!(DirectoryPage::parse(Some("\0".into()), None, None).is_err());
    }

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(RoomName::parse("  general ").unwrap().as_str(), "general");
        assert!(RoomName::parse("   ").is_err());
        assert!(RoomName::parse(&"x".repeat(81)).is_err());
        assert!(RoomName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn an_empty_password_means_an_open_room_and_passwords_never_print() {
        assert_eq!(RoomPassword::parse(Some(String::new())).unwrap(), None);
        let secret = RoomPassword::parse(Some("hunter2".into()))
            .unwrap()
            .unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(RoomPassword::parse(Some("x".repeat(201))).is_err());
        assert!(RoomPassword::parse(Some("a\0b".into())).is_err());
    }
}
