//! People as clients see them.

use super::ids::UserId;
use serde::{Deserialize, Serialize};

/// `{"id", "email"}`: the shape every list and event uses for a person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
}
