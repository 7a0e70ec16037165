//! RFC 6962 / RFC 9162 proof vectors from transparency-dev/merkle (`tests/vectors/rfc6962`):
//! every happy path verifies, every other file is rejected with an error, never a panic.

use std::path::{Path, PathBuf};

use lcm::crypto::merkle::{verify_consistency, verify_inclusion};
use lcm::crypto::{Digest, Error};
use serde_json::Value;

/// Standard base64 (with `=` padding), strict: anything else is `None`.
fn base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.as_bytes().chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?
            };
            acc = (acc << 6) | v;
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad.min(2)]);
    }
    Some(out)
}

/// A vector hash: base64 of exactly 32 bytes. Anything else (the "garbage" entries are empty
/// strings, the "wrong root" entries 12 characters) is the error the verifier's input
/// parsing reports.
fn digest(value: &Value) -> Result<Digest, Error> {
    let text = value.as_str().unwrap_or_default();
    let bytes = base64(text).unwrap_or_default();
    Digest::try_from_slice(&bytes)
}

fn proof(value: &Value) -> Result<Vec<Digest>, Error> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(digest).collect(),
        // Not a list of hashes at all: as malformed as a hash of the wrong length.
        _ => Err(Error::Length {
            what: "a proof array",
            expected: 32,
            actual: 0,
        }),
    }
}

fn u64_field(v: &Value, name: &str) -> u64 {
    v[name].as_u64().expect("size and index fields are u64")
}

fn check_inclusion(v: &Value) -> Result<(), Error> {
    let leaf = digest(&v["leafHash"])?;
    let root = digest(&v["root"])?;
    let path = proof(&v["proof"])?;
    verify_inclusion(
        &leaf,
        u64_field(v, "leafIdx"),
        u64_field(v, "treeSize"),
        &path,
        &root,
    )
}

fn check_consistency(v: &Value) -> Result<(), Error> {
    let root1 = digest(&v["root1"])?;
    let root2 = digest(&v["root2"])?;
    let path = proof(&v["proof"])?;
    verify_consistency(
        u64_field(v, "size1"),
        u64_field(v, "size2"),
        &path,
        &root1,
        &root2,
    )
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the vector folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[track_caller]
fn run(kind: &str, check: fn(&Value) -> Result<(), Error>) -> (usize, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/rfc6962")
        .join(kind);
    let mut paths = Vec::new();
    files(&root, &mut paths);
    paths.sort();
    let (mut accepted, mut rejected) = (0, 0);
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("the vector file is readable");
        let v: Value = serde_json::from_str(&text).expect("the vector file is JSON");
        let want_err = v["wantErr"].as_bool().expect("wantErr is a bool");
        let happy = path.file_name().is_some_and(|n| n == "happy-path.json")
            || path.ends_with("single-entry/matching-root-and-leaf.json");
        assert_eq!(want_err, !happy, "{}", path.display());
        let result = check(&v);
        if want_err {
            assert!(result.is_err(), "{} was accepted", path.display());
            rejected += 1;
        } else {
            assert_eq!(result, Ok(()), "{}", path.display());
            accepted += 1;
        }
    }
    (accepted, rejected)
}

#[test]
fn inclusion_vectors() {
    // 5 numbered trees and the single-entry set: 6 happy paths, the rest tampered.
    assert_eq!(run("inclusion", check_inclusion), (6, 80));
}

#[test]
fn consistency_vectors() {
    assert_eq!(run("consistency", check_consistency), (5, 79));
}

#[test]
fn base64_decoder() {
    assert_eq!(base64(""), Some(vec![]));
    assert_eq!(base64("YQ=="), Some(b"a".to_vec()));
    assert_eq!(base64("YWI="), Some(b"ab".to_vec()));
    assert_eq!(base64("YWJj"), Some(b"abc".to_vec()));
    assert_eq!(base64("YWJ"), None);
    assert_eq!(base64("Y!=="), None);
    assert_eq!(
        digest(&Value::from("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="))
            .unwrap()
            .to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        digest(&Value::from("")),
        Err(Error::Length {
            what: "a digest",
            expected: 32,
            actual: 0
        })
    );
}
