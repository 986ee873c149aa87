//! Attacks on the write path: races, malformed input reaching Postgres, slow queries.

#[allow(unused_imports)]
use crate::helpers::*;
