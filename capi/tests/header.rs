//! `include/fusedrnn.h` is what cbindgen makes of `capi/src/lib.rs` with `capi/cbindgen.toml`:
//! the committed header cannot drift from the code. After changing the API, regenerate it with
//!
//! ```sh
//! FUSEDRNN_BLESS=1 cargo test -p fusedrnn-capi --test header
//! ```

use std::path::Path;

#[test]
fn committed_header_matches_the_code() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../include/fusedrnn.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    // Only this crate's source: the header declares nothing from fusedrnn itself.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen parses capi/src/lib.rs");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    if std::env::var_os("FUSEDRNN_BLESS").is_some() {
        std::fs::write(&header, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/fusedrnn.h is out of date with capi/src/lib.rs; regenerate it with\n    \
         FUSEDRNN_BLESS=1 cargo test -p fusedrnn-capi --test header\n--- generated ---\n{generated}"
    );
}
