//! The server's own identifier: a window. The protocol's ids (users, conversations,
//! messages, client ids) are in `banter-protocol`.

use std::fmt;

/// One open window (socket) of a user on this node; never leaves the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowId(pub u64);

impl fmt::Display for WindowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "w{}", self.0)
    }
}
