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
