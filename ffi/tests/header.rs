//! The committed `include/ipcring.h` is what cbindgen makes of the sources now.
//!
//! Run with `IPCRING_BLESS=1` to rewrite the header after changing the API.

use std::path::Path;

#[test]
fn committed_header_is_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses the crate")
        .write(&mut fresh);
    let path = dir.join("include/ipcring.h");
    if std::env::var_os("IPCRING_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/ipcring.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/ipcring.h is stale: regenerate it with \
         `IPCRING_BLESS=1 cargo test -p ipcring-ffi --test header`"
    );
}
