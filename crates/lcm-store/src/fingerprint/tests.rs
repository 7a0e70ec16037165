//! Unit tests of the fingerprints: safetensors parsing, directory digests, the symlink rule,
//! sharded models and manifests.

use lcm_model::Policy;
use lcm_model::records::{ParameterFingerprint, Tensor};

use super::*;

#[path = "../../tests/safetensors_file.rs"]
mod safetensors_file;
use safetensors_file::{file, u8_safetensors};

#[track_caller]
fn check(bytes: &[u8], expected: Result<(), &str>) {
    let got = safetensors_fingerprint(&Policy::default(), Path::new("m.safetensors"), bytes);
    match (got, expected) {
        (Ok(_), Ok(())) => {}
        (Err(e), Err(part)) => assert!(e.to_string().contains(part), "{e}"),
        (got, expected) => panic!("got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn safetensors_valid_and_matches_direct_fingerprint() {
    let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let data: Vec<u8> = (0u8..12).collect();
    let fp = safetensors_fingerprint(&Policy::default(), Path::new("x"), &file(h, &data)).unwrap();
    let direct = ParameterFingerprint::compute(
        &Policy::default(),
        [
            Tensor {
                name: "w",
                dtype: "f32",
                shape: &[2],
                bytes: &data[..8],
            },
            Tensor {
                name: "b",
                dtype: "f32",
                shape: &[1],
                bytes: &data[8..],
            },
        ],
    )
    .unwrap();
    assert_eq!(fp, direct);
    assert_eq!(fp.element_count(), 3);
}

#[test]
fn safetensors_malformed() {
    let ok = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    check(&file(ok, &[0; 8]), Ok(()));
    check(&[1, 2, 3], Err("at least 8 bytes"));
    check(&u64::MAX.to_le_bytes(), Err("exceeds the limit"));
    check(&100u64.to_le_bytes(), Err("exceeds the 0 bytes"));
    check(&file("[1]", &[]), Err("not a JSON object"));
    check(&file(ok, &[0; 7]), Err("outside the 7-byte data section"));
    check(&file(ok, &[0; 9]), Err("cover 8 bytes of a 9-byte"));
    // Headers that are JSON but not a valid safetensors header of 8 data bytes.
    for (header, error) in [
        (
            r#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            "expected 12",
        ),
        (
            r#"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#,
            "unknown dtype",
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
            "starts at 8",
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8]}}"#,
            "overflows",
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            "gap or overlap",
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
            "unknown field",
        ),
    ] {
        check(&file(header, &[0; 8]), Err(error));
    }
    check(&file("{}", &[]), Err("at least one tensor"));
}

proptest::proptest! {
    #[test]
    fn safetensors_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        let _ = safetensors_fingerprint(&Policy::default(), Path::new("x"), &bytes);
    }

    #[test]
    fn safetensors_never_panics_on_mutated_files(
        edits in proptest::collection::vec(
            (0usize..160, proptest::prelude::any::<u8>()), 1..6),
        cut in 0usize..160,
    ) {
        let h = r#"{"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let mut bytes = file(h, &[7; 12]);
        for (at, value) in edits {
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        bytes.truncate(cut.max(1));
        let _ = safetensors_fingerprint(&Policy::default(), Path::new("x"), &bytes);
    }
}

#[test]
fn directory_digest_is_the_documented_encoding() {
    let root = std::env::temp_dir().join(format!("lcm-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(root.join("b.bin"), b"abc").unwrap();
    std::fs::write(root.join("sub/deeper/x"), b"").unwrap();
    std::fs::write(root.join("a"), b"z").unwrap();
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let (got, files) = hash_directory(alg, &root, &mut |_| {}).unwrap();
        assert_eq!(files, 3);
        // Sorted by the bytes of the relative path; the empty directory is not represented.
        let mut expected = DomainHasher::new(alg, DIRECTORY_DOMAIN);
        for (path, content) in [("a", &b"z"[..]), ("b.bin", b"abc"), ("sub/deeper/x", b"")] {
            expected
                .part(path.as_bytes())
                .digest(&lcm_crypto::hash(alg, content));
        }
        assert_eq!(got, expected.finalize());
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn reader_hash_equals_one_shot_hash_at_buffer_boundaries() {
    for len in [
        0,
        1,
        BUFFER_LEN - 1,
        BUFFER_LEN,
        BUFFER_LEN + 1,
        3 * BUFFER_LEN + 7,
    ] {
        let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            let mut last = 0;
            let got = hash_reader(alg, data.as_slice(), &mut |n| last = n).unwrap();
            assert_eq!(got, lcm_crypto::hash(alg, &data), "len {len} {alg}");
            assert_eq!(last, len as u64);
        }
    }
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("lcm-fp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

#[cfg(unix)]
#[test]
fn hugging_face_snapshot_links_are_followed_and_named_by_the_link() {
    use std::os::unix::fs::symlink;
    let repo = scratch("hf").join("models--org--tiny");
    let snap = repo.join("snapshots/0123abcd");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(snap.join("sub")).unwrap();
    std::fs::write(repo.join("blobs/aaa"), b"{}").unwrap();
    std::fs::write(repo.join("blobs/bbb"), u8_safetensors(&[("w", &[1, 2])])).unwrap();
    symlink("../../blobs/aaa", snap.join("config.json")).unwrap();
    symlink("../../../blobs/bbb", snap.join("sub/model.safetensors")).unwrap();
    let names: Vec<String> = walk(&snap).unwrap().into_iter().map(|(r, _)| r).collect();
    assert_eq!(names, ["config.json", "sub/model.safetensors"]);
    // The digest equals that of the same files copied into a plain directory.
    let plain = repo.parent().unwrap().join("plain");
    std::fs::create_dir_all(plain.join("sub")).unwrap();
    std::fs::copy(repo.join("blobs/aaa"), plain.join("config.json")).unwrap();
    std::fs::copy(repo.join("blobs/bbb"), plain.join("sub/model.safetensors")).unwrap();
    let (linked, n) = hash_directory(HashAlgorithm::Sha256, &snap, &mut |_| {}).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        linked,
        hash_directory(HashAlgorithm::Sha256, &plain, &mut |_| {})
            .unwrap()
            .0
    );
    let m = Manifest::build(HashAlgorithm::Sha256, &snap, &mut |_, _| {}).unwrap();
    assert_eq!(m.model.as_deref(), Some("sub/model.safetensors"));
    // A directory inside the snapshot (a component of a pipeline) has the same boundary.
    let names: Vec<String> = walk(&snap.join("sub"))
        .unwrap()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(names, ["model.safetensors"]);
    // Where the snapshot's repository has no blobs directory, the boundary is the snapshot
    // itself: a link into a sibling directory leaves it and is refused.
    let other = repo.parent().unwrap().join("other");
    std::fs::create_dir_all(other.join("snapshots/rev")).unwrap();
    std::fs::create_dir_all(other.join("data")).unwrap();
    std::fs::write(other.join("data/aaa"), b"{}").unwrap();
    symlink("../../data/aaa", other.join("snapshots/rev/config.json")).unwrap();
    let e = walk(&other.join("snapshots/rev")).unwrap_err();
    assert!(matches!(e, Error::LinkOutside { .. }), "{e}");
    // A dangling link names the link.
    std::fs::remove_file(repo.join("blobs/aaa")).unwrap();
    let e = walk(&snap).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains("config.json"), "{e}");
    let _ = std::fs::remove_dir_all(repo.parent().unwrap());
}

#[cfg(unix)]
#[test]
fn links_leaving_the_root_and_cycles_are_refused() {
    use std::os::unix::fs::symlink;
    let base = scratch("links");
    let root = base.join("model");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::write(root.join("d/x"), b"x").unwrap();
    std::fs::write(base.join("secret"), b"s").unwrap();
    // A link inside the root, to a file and to a directory: followed.
    symlink("d/x", root.join("alias")).unwrap();
    symlink("d", root.join("dir-alias")).unwrap();
    let names: Vec<String> = walk(&root).unwrap().into_iter().map(|(r, _)| r).collect();
    assert_eq!(names, ["alias", "d/x", "dir-alias/x"]);
    // A link out of the root: refused, naming the link and the boundary.
    symlink("../secret", root.join("out")).unwrap();
    let e = walk(&root).unwrap_err();
    assert!(matches!(e, Error::LinkOutside { .. }), "{e}");
    assert!(e.to_string().contains("out"), "{e}");
    std::fs::remove_file(root.join("out")).unwrap();
    // A link to an ancestor: a cycle, reported, not walked forever.
    symlink("..", root.join("d/up")).unwrap();
    let e = walk(&root).unwrap_err();
    assert!(matches!(e, Error::SymlinkCycle { .. }), "{e}");
    assert!(e.to_string().contains("cycle"), "{e}");
    std::fs::remove_file(root.join("d/up")).unwrap();
    // Links to each other: a chain that never ends.
    symlink("b", root.join("a")).unwrap();
    symlink("a", root.join("b")).unwrap();
    let e = walk(&root).unwrap_err();
    assert!(matches!(e, Error::SymlinkCycle { .. }), "{e}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn sharded_model_equals_one_file_and_refuses_disagreement() {
    let root = scratch("sharded");
    let whole = u8_safetensors(&[("a", &[1]), ("b", &[2, 3]), ("c", &[4])]);
    let one = safetensors_fingerprint(&Policy::default(), Path::new("w"), &whole).unwrap();
    std::fs::write(
        root.join("s1.safetensors"),
        u8_safetensors(&[("a", &[1]), ("c", &[4])]),
    )
    .unwrap();
    std::fs::write(
        root.join("s2.safetensors"),
        u8_safetensors(&[("b", &[2, 3])]),
    )
    .unwrap();
    let index = root.join("model.safetensors.index.json");
    let write_index = |map: &str| {
        std::fs::write(
            &index,
            format!(r#"{{"metadata":{{"total_size":4}},"weight_map":{map}}}"#),
        )
        .unwrap();
    };
    write_index(r#"{"a":"s1.safetensors","b":"s2.safetensors","c":"s1.safetensors"}"#);
    let sharded = sharded_fingerprint(&Policy::default(), &index).unwrap();
    assert_eq!(sharded, one);
    let m = Manifest::build(HashAlgorithm::Sha256, &root, &mut |_, _| {}).unwrap();
    assert_eq!(m.model.as_deref(), Some("model.safetensors.index.json"));
    assert_eq!(m.model_parameters().unwrap().root, one.root());

    let refused = |map: &str, part: &str| {
        write_index(map);
        let e = sharded_fingerprint(&Policy::default(), &index).unwrap_err();
        assert!(matches!(e, Error::Sharded { .. }), "{e}");
        assert!(e.to_string().contains(part), "{e}");
        let e = Manifest::build(HashAlgorithm::Sha256, &root, &mut |_, _| {}).unwrap_err();
        assert!(e.to_string().contains(part), "{e}");
    };
    refused(
        r#"{"a":"s1.safetensors","b":"s3.safetensors","c":"s1.safetensors"}"#,
        "\"s3.safetensors\" is missing",
    );
    refused(
        r#"{"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"}"#,
        "the index places it in",
    );
    refused(
        r#"{"a":"s1.safetensors","b":"s2.safetensors"}"#,
        "which the index does not name",
    );
    refused(
        r#"{"a":"s1.safetensors","b":"s2.safetensors","c":"s1.safetensors","d":"s2.safetensors"}"#,
        "tensor \"d\" is not in shard",
    );
    refused(r#"{"a":"../s1.safetensors"}"#, "not a file name");
    refused(r#"{}"#, "names no tensor");
    write_index(r#"{"a":"s1.safetensors","a":"s1.safetensors"}"#);
    assert!(sharded_fingerprint(&Policy::default(), &index).is_err());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn manifests_round_trip_and_refuse_every_edit() {
    let root = scratch("manifest");
    std::fs::write(root.join("config.json"), b"{}").unwrap();
    std::fs::write(
        root.join("model.safetensors"),
        u8_safetensors(&[("w", &[1, 2]), ("b", &[3])]),
    )
    .unwrap();
    let m = Manifest::build(HashAlgorithm::Blake3, &root, &mut |_, _| {}).unwrap();
    assert_eq!(m.files.len(), 2);
    assert_eq!(
        m.digest,
        hash_directory(HashAlgorithm::Blake3, &root, &mut |_| {})
            .unwrap()
            .0
    );
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(Manifest::from_json(json.to_string().as_bytes()).unwrap(), m);
    let tamper = |edit: &dyn Fn(&mut serde_json::Value), part: &str| {
        let mut v = json.clone();
        edit(&mut v);
        let e = Manifest::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(e.to_string().contains(part), "{e} (expected {part})");
    };
    let other = "00".repeat(32);
    tamper(
        &|v| v["digest"] = other.clone().into(),
        "not the digest of its files",
    );
    tamper(
        &|v| v["files"][0]["digest"] = other.clone().into(),
        "not the digest of its files",
    );
    tamper(
        &|v| v["files"][0]["path"] = "config.jsoN".into(),
        "not the digest of its files",
    );
    tamper(&|v| v["files"][0]["bytes"] = 3.into(), "not the sum");
    tamper(
        &|v| v["files"][1]["parameters"]["tensors"]["w"] = other.clone().into(),
        "not the root of its tensors",
    );
    tamper(
        &|v| v["files"][1]["parameters"]["root"] = other.clone().into(),
        "not the root of its tensors",
    );
    tamper(
        &|v| v["model"] = "config.json".into(),
        "names no file with parameters",
    );
    tamper(
        &|v| v["format"] = "lcm-fingerprint-manifest/v0".into(),
        "format",
    );
    tamper(&|v| v["extra"] = 1.into(), "unknown field");
    tamper(
        &|v| {
            let files = v["files"].as_array().unwrap().clone();
            v["files"] = serde_json::Value::Array(files.into_iter().rev().collect());
        },
        "not in path order",
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn diff_names_files_and_tensors() {
    let a = scratch("diff-a");
    let b = scratch("diff-b");
    for dir in [&a, &b] {
        std::fs::write(dir.join("config.json"), b"{}").unwrap();
    }
    std::fs::write(a.join("old.txt"), b"o").unwrap();
    std::fs::write(b.join("new.txt"), b"n").unwrap();
    std::fs::write(
        a.join("model.safetensors"),
        u8_safetensors(&[("w", &[1, 2]), ("b", &[3]), ("gone", &[0])]),
    )
    .unwrap();
    std::fs::write(
        b.join("model.safetensors"),
        u8_safetensors(&[("w", &[1, 9]), ("b", &[3]), ("extra", &[0])]),
    )
    .unwrap();
    let ma = Manifest::build(HashAlgorithm::Sha256, &a, &mut |_, _| {}).unwrap();
    let mb = Manifest::build(HashAlgorithm::Sha256, &b, &mut |_, _| {}).unwrap();
    let d = ma.diff(&mb).unwrap();
    assert!(!d.equal);
    assert_eq!(
        d.files,
        [
            Change::Changed("model.safetensors".into()),
            Change::Added("new.txt".into()),
            Change::Removed("old.txt".into()),
        ]
    );
    assert_eq!(
        d.tensors,
        [
            Change::Added("extra".into()),
            Change::Removed("gone".into()),
            Change::Changed("w".into()),
        ]
    );
    assert_eq!(
        d.differ_message(&a, &b),
        format!(
            "{} and {} differ (3 files and 3 tensors)",
            a.display(),
            b.display()
        )
    );
    let same = ma.diff(&ma).unwrap();
    assert!(same.equal && same.files.is_empty() && same.tensors.is_empty());
    let one = first_changes(&d);
    assert_eq!(
        one.differ_message(&a, &b),
        format!(
            "{} and {} differ (1 file and 1 tensor)",
            a.display(),
            b.display()
        )
    );
    // Saved, the manifest reads back as it was; a file that cannot be written is an error.
    let saved = a.join("manifest.json");
    ma.save(&saved).unwrap();
    assert_eq!(
        Manifest::from_json(&std::fs::read(&saved).unwrap()).unwrap(),
        ma
    );
    assert!(ma.save(&a.join("no-such-dir").join("m.json")).is_err());
    // Two single files compare as files whatever their names.
    let fa = Manifest::build(
        HashAlgorithm::Sha256,
        &a.join("model.safetensors"),
        &mut |_, _| {},
    )
    .unwrap();
    let fb = Manifest::build(
        HashAlgorithm::Sha256,
        &b.join("model.safetensors"),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(fa.diff(&fb).unwrap().tensors, d.tensors);
    let blake = Manifest::build(HashAlgorithm::Blake3, &a, &mut |_, _| {}).unwrap();
    assert!(
        ma.diff(&blake)
            .unwrap_err()
            .to_string()
            .contains("same --algorithm")
    );
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

/// `d` with only its first file change and first tensor change.
fn first_changes(d: &ManifestDiff) -> ManifestDiff {
    ManifestDiff {
        equal: false,
        files: d.files[..1].to_vec(),
        tensors: d.tensors[..1].to_vec(),
    }
}
