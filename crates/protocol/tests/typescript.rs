//! The web client's protocol types are generated from this crate: this test fails when
//! the committed file is stale. `UPDATE_TYPESCRIPT=1 cargo test -p banter-protocol`
//! rewrites it.

use banter_protocol::typescript::{declarations, GENERATED_PATH};
use std::path::PathBuf;

#[test]
fn the_committed_typescript_matches_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(GENERATED_PATH);
    let generated = declarations();
    if std::env::var_os("UPDATE_TYPESCRIPT").is_some() {
        std::fs::write(&path, &generated).expect("write the generated TypeScript");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{GENERATED_PATH} is stale: run `UPDATE_TYPESCRIPT=1 cargo test -p banter-protocol` \
         and commit the result"
    );
}
