//! The benchmark's floor (a hello-world Lambda) and micro-benchmarks are built in their own
//! workspace (`bench/rust`); their numbers compare with our functions' only if that workspace's
//! release profile is exactly ours. This test holds the two `[profile.release…]` sections equal.

use std::path::Path;

/// The `[profile.release]` and `[profile.release.package.*]` settings of a `Cargo.toml`, as
/// `section: line` strings, comments and blank lines dropped.
fn release_profile(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest))
        .unwrap_or_else(|e| panic!("{manifest}: {e}"));
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if !line.is_empty()
            && !line.starts_with('#')
            && (section == "[profile.release]" || section.starts_with("[profile.release.package."))
        {
            settings.push(format!("{section}: {}", line.replace(' ', "")));
        }
    }
    settings.sort();
    settings
}

#[test]
fn the_floor_is_built_with_the_functions_release_profile() {
    let ours = release_profile("../../Cargo.toml");
    assert!(
        ours.iter()
            .any(|s| s.starts_with("[profile.release]: opt-level")),
        "{ours:?}"
    );
    assert_eq!(release_profile("../../bench/rust/Cargo.toml"), ours);
}
