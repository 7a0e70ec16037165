//! Replays the committed fuzz seeds and crash inputs through the fuzz targets' checks.
//!
//! The checks are `fuzz/src/lib.rs`, included here as a module: a crash input that libFuzzer
//! found and that was committed under `fuzz/artifacts/<target>/` stays fixed on plain
//! `cargo test`, without cargo-fuzz or a nightly compiler. The seeds in `fuzz/corpus/<target>/`
//! run through the same checks, so the replay is never vacuous.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

#[expect(
    unreachable_pub,
    reason = "the functions are the public interface of the fuzz crate, and private here"
)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

/// What a fuzz target runs on each input.
type Check = fn(&[u8]);

/// Every fuzz target and the check it runs.
const TARGETS: &[(&str, Check)] = &[
    ("bundle_stream", checks::bundle_stream),
    ("capsule_bundle", checks::capsule_bundle),
    ("capsule_header", checks::capsule_header),
    ("capsule_item", checks::capsule_item),
    ("digest_hex", checks::digest_hex),
    ("key_decoding", checks::key_decoding),
    ("merkle_consistency", checks::merkle_consistency),
    ("merkle_inclusion", checks::merkle_inclusion),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted (none when it does not exist), skipping hidden ones such as
/// `.gitkeep`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| !name.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_is_replayed() {
    let targets: Vec<PathBuf> = files(&fuzz_dir().join("fuzz_targets"));
    let names: Vec<String> = targets
        .iter()
        .filter_map(|path| path.file_stem())
        .map(|stem| stem.to_string_lossy().into_owned())
        .collect();
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (path, name) in targets.iter().zip(&names) {
        let source = fs::read_to_string(path).unwrap();
        let call = format!("lcm_fuzz::{name}(data)");
        assert!(
            source.contains(&call),
            "{} must call `{call}`",
            path.display()
        );
        let bin = format!("name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"");
        assert!(
            manifest.contains(&bin),
            "fuzz/Cargo.toml needs a [[bin]] with {bin}"
        );
    }
    let replayed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names, replayed,
        "fuzz/fuzz_targets/*.rs and TARGETS must list the same targets"
    );
}

#[test]
fn seeds_and_artifacts_pass_the_checks() {
    let mut failures = Vec::new();
    for &(target, check) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            seeds.len() >= 3,
            "expected at least 3 seeds in fuzz/corpus/{target}"
        );
        let artifacts = files(&fuzz_dir().join("artifacts").join(target));
        for path in seeds.iter().chain(&artifacts) {
            let data = fs::read(path).unwrap();
            if panic::catch_unwind(|| check(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz inputs that fail their target's check: {failures:#?}"
    );
}
