//! `docs/configuration.md` holds the one table of environment variables. This test holds it to
//! what the code reads: every variable read by a configuration helper (`optional`, `required`,
//! `number`, `KeySource::from_names`), by `std::env::var`/`var_os`, by a `clap` flag (`env = "…"`), or named in a
//! configuration module's endpoint and region rules is in the table, and every variable in the
//! table is read somewhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The production sources: every crate's `src/` (tests live in `tests/` or in `#[cfg(test)]`
/// modules, which name variables only to set them).
fn production_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for group in ["shared", "functions"] {
        for krate in std::fs::read_dir(root().join(group)).unwrap().flatten() {
            sources(&krate.path().join("src"), &mut files);
        }
    }
    sources(&root().join("local/src"), &mut files);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            // Drop the unit tests at the end of a file.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            (path, text)
        })
        .collect()
}

fn is_variable(name: &str) -> bool {
    name.len() > 3
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The string literal right after each `prefix` in `text` (skipping white space and an
/// `env,` argument), if it names a variable.
fn literals_after(text: &str, prefix: &str, out: &mut BTreeSet<String>) {
    for (at, _) in text.match_indices(prefix) {
        let rest = text[at + prefix.len()..].trim_start();
        let rest = rest.strip_prefix("env,").map_or(rest, str::trim_start);
        if let Some(rest) = rest.strip_prefix('"')
            && let Some(end) = rest.find('"')
            && is_variable(&rest[..end])
        {
            out.insert(rest[..end].to_owned());
        }
    }
}

/// Every `"AWS_…"` literal in `text`: the configuration modules' endpoint and region rules
/// read these through lists of names.
fn aws_literals(text: &str, out: &mut BTreeSet<String>) {
    for (at, _) in text.match_indices("\"AWS_") {
        let rest = &text[at + 1..];
        if let Some(end) = rest.find('"')
            && is_variable(&rest[..end])
        {
            out.insert(rest[..end].to_owned());
        }
    }
}

fn read_by_code() -> BTreeSet<String> {
    let mut read = BTreeSet::new();
    for (path, text) in production_sources() {
        for prefix in [
            "optional(",
            "required(",
            "number(",
            "env::var(",
            "env::var_os(",
            "env = ",
        ] {
            literals_after(&text, prefix, &mut read);
        }
        if path.file_name().is_some_and(|n| n == "config.rs") {
            aws_literals(&text, &mut read);
        }
        // `KeySource::from_names(env, "INLINE", "ARN")` reads both.
        for (at, _) in text.match_indices("from_names(env,") {
            let call = &text[at..];
            let call = &call[..call.find(')').unwrap_or(call.len())];
            for literal in call.split('"').skip(1).step_by(2) {
                if is_variable(literal) {
                    read.insert(literal.to_owned());
                }
            }
        }
    }
    read
}

fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    doc.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn the_configuration_table_lists_exactly_what_the_code_reads() {
    let read = read_by_code();
    let documented = documented();
    // The scan itself finds what it must: one variable of each way of reading.
    for known in [
        "USERS_TABLE",
        "JWT_LEEWAY_SECONDS",
        "AWS_LAMBDA_LOG_LEVEL",
        "PORT",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_USE_FIPS_ENDPOINT",
    ] {
        assert!(read.contains(known), "the scan misses {known}: {read:?}");
    }
    let undocumented: Vec<_> = read.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "read by the code but not in docs/configuration.md: {undocumented:?}"
    );
    let unread: Vec<_> = documented.difference(&read).collect();
    assert!(
        unread.is_empty(),
        "in docs/configuration.md but read nowhere: {unread:?}"
    );
}
