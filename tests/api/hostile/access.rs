//! Attacks on what a person may see or do: tokens, room membership, blocks.

#[allow(unused_imports)]
use crate::helpers::*;
