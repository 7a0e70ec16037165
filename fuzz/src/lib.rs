//! The checks behind lcm's fuzz targets, one function per target.
//!
//! Each function takes the fuzzer's raw bytes, must never panic on its own account, and
//! asserts a property: a round trip, an independent oracle, or `verify(prove(x))` with tamper
//! checks. The targets in `fuzz_targets/` are one-line calls into this file, and the facade's
//! test `tests/fuzz_artifacts.rs` includes this same file (`#[path]`) to replay every committed
//! seed (`fuzz/corpus/<target>/`) and crash input (`fuzz/artifacts/<target>/`) on plain
//! `cargo test`. So this file depends on `lcm_crypto`, `lcm_capsule` and `std` only, and has
//! no inner attributes.
//!
//! The seeds of the Merkle targets are transparency-dev vectors from `tests/vectors/rfc6962`
//! (happy paths and a few tampered cases, named after their source file) written in the
//! target's input layout, so the fuzzer starts from proofs that verify.

use std::sync::OnceLock;

use lcm_capsule::{
    Bundle, Capsule, CapsuleHeader, PolicyRequirements, validate_lcm_policy, verify_bundle,
    verify_bundle_json, verify_bundle_reader, verify_capsule, verify_header,
};
use lcm_crypto::merkle::{self, MerkleRoot, MerkleTree, verify_consistency, verify_inclusion};
use lcm_crypto::{Digest, Error, HashAlgorithm, Seed, SigningKey, VerifyingKey, hex};

/// Target `digest_hex`: [`hex::decode`] and [`Digest::from_hex`] on arbitrary text.
///
/// Properties: decoding succeeds exactly on strict lowercase hex of even length, and then
/// re-encodes to the same text; a failure names the first offending character (or the odd
/// length). `Digest::from_hex` agrees with `hex::decode` on 64-character input and round-trips
/// through `to_hex`, `Display`, `FromStr` and `write_hex`.
pub fn digest_hex(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    // The oracle: the odd length first, then the first byte outside `0-9a-f`. Every byte
    // before that one is ASCII, so the index is a character boundary.
    let first_bad = text
        .bytes()
        .position(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let expected_error = if !text.len().is_multiple_of(2) {
        Some(Error::HexOddLength { actual: text.len() })
    } else {
        first_bad.map(|index| Error::HexCharacter {
            index,
            character: text
                .get(index..)
                .and_then(|t| t.chars().next())
                .unwrap_or_default(),
        })
    };
    let decoded = hex::decode(text);
    assert_eq!(
        decoded.as_ref().err(),
        expected_error.as_ref(),
        "hex::decode({text:?})"
    );
    if let Ok(bytes) = &decoded {
        assert_eq!(
            hex::encode(bytes),
            text,
            "decode then encode must give the input back"
        );
    }

    let digest = Digest::from_hex(text);
    if text.len() == 64 {
        let digest_bytes = digest.clone().map(|d| d.as_bytes().to_vec());
        assert_eq!(digest_bytes, decoded, "Digest::from_hex({text:?})");
    } else {
        let expected = Error::HexLength {
            expected: 64,
            actual: text.len(),
        };
        assert_eq!(
            digest.as_ref().err(),
            Some(&expected),
            "Digest::from_hex({text:?})"
        );
    }
    if let Ok(digest) = &digest {
        assert_eq!(digest.to_hex(), text);
        assert_eq!(digest.to_string(), text);
        assert_eq!(text.parse::<Digest>().as_ref(), Ok(digest));
        let mut buffer = [0u8; 64];
        digest.write_hex(&mut buffer);
        assert_eq!(&buffer[..], text.as_bytes());
    }
}

/// The [`Error::ProofLength`] a proof of `actual` hashes must fail with where `expected`
/// are needed; `None` when the length is right.
fn wrong_length(expected: usize, actual: usize) -> Option<Error> {
    (actual != expected).then_some(Error::ProofLength { expected, actual })
}

/// Target `merkle_inclusion`: [`verify_inclusion`] on arbitrary values, then
/// `verify(prove(x))` on a small tree.
///
/// Input layout for the first part: `index: u64 LE`, `tree_size: u64 LE`, `leaf_hash`,
/// `root`, then the proof, 32 bytes per hash (missing bytes read as zero). Properties: the
/// verifier rejects an empty tree, an index outside the tree and a proof of the wrong length
/// (the RFC 9162 `PATH` length, recomputed here by its recursive definition) with exactly
/// those errors; otherwise it accepts or reports a root mismatch, and the root it computed is
/// one the same proof verifies against.
///
/// The second part reads the same bytes as `count - 1: u8` (modulo 64), `index: u64`,
/// `size: u64`, `flip: u8`, `other: u64`, builds a tree of `count` distinct leaves and checks
/// that the proofs of [`MerkleTree`] verify (against the whole tree and against the tree of
/// the first `size` leaves, whose root must match a tree built from those leaves alone), and
/// that one flipped bit in the proof or the root, another index, another leaf or another tree
/// size is rejected.
pub fn merkle_inclusion(data: &[u8]) {
    let mut input = Input(data);
    let index = input.u64();
    let size = input.u64();
    let leaf = input.digest();
    let root = input.digest();
    let proof = input.digests();
    let result = verify_inclusion(&leaf, index, size, &proof, &root);
    let expected_error = if size == 0 {
        Some(Error::EmptyTree)
    } else if index >= size {
        Some(Error::IndexOutOfRange { index, size })
    } else {
        wrong_length(inclusion_len(index, size), proof.len())
    };
    if let Some(error) = expected_error {
        assert_eq!(
            result,
            Err(error),
            "verify_inclusion(index {index}, size {size})"
        );
    } else {
        match result {
            Err(Error::RootMismatch { expected, actual }) => {
                assert_eq!(expected, root);
                assert_eq!(
                    verify_inclusion(&leaf, index, size, &proof, &actual),
                    Ok(())
                );
            }
            other => assert_eq!(other, Ok(()), "expected success or a root mismatch"),
        }
    }

    let mut input = Input(data);
    let (leaves, tree) = small_tree(&mut input);
    let count = tree.len();
    let index = input.u64() % count;
    let leaf = tree
        .leaf_hash(index)
        .expect("the index is below the tree size");
    assert_eq!(
        leaf,
        merkle::leaf_hash(HashAlgorithm::Sha256, &leaves[to_usize(index)])
    );
    let proof = tree
        .inclusion_proof(index)
        .expect("the index is below the tree size");
    let root = tree.root();
    assert_eq!(proof.path().len(), inclusion_len(index, count));
    assert_eq!(
        verify_inclusion(&leaf, index, count, proof.path(), &root),
        Ok(())
    );
    assert_eq!(proof.verify(&leaf, &tree.merkle_root()), Ok(()));

    // The proof in the tree of the first `size` leaves.
    let size = index + 1 + input.u64() % (count - index);
    let older = tree
        .inclusion_proof_at(index, size)
        .expect("index < size <= count");
    let older_root = tree.root_at(size).expect("size <= count");
    assert_eq!(
        older_root,
        MerkleTree::from_leaves(&leaves[..to_usize(size)]).root()
    );
    assert_eq!(
        verify_inclusion(&leaf, index, size, older.path(), &older_root),
        Ok(())
    );
    if size == count {
        assert_eq!(older, proof);
    }

    // Tampering.
    let flip = input.u8();
    if let Some(path) = path_flipped(proof.path(), flip) {
        let result = verify_inclusion(&leaf, index, count, &path, &root);
        assert_root_mismatch(result, "flipped proof");
    }
    let result = verify_inclusion(&leaf, index, count, proof.path(), &flipped(&root, flip));
    assert_root_mismatch(result, "flipped root");
    let other = input.u64() % count;
    if other != index {
        let result = verify_inclusion(&leaf, other, count, proof.path(), &root);
        assert!(
            result.is_err(),
            "leaf {index}'s proof accepted for index {other}"
        );
        let other_leaf = tree.leaf_hash(other).expect("other < count");
        let result = verify_inclusion(&other_leaf, index, count, proof.path(), &root);
        assert_root_mismatch(result, "other leaf");
    }
    let bigger = MerkleRoot::new(HashAlgorithm::Sha256, root, count + 1);
    let expected = Error::TreeSizeMismatch {
        expected: count + 1,
        actual: count,
    };
    assert_eq!(proof.verify(&leaf, &bigger), Err(expected));
}

/// Target `merkle_consistency`: [`verify_consistency`] on arbitrary values, then
/// `verify(prove(x))` on a small tree.
///
/// Input layout for the first part: `size1: u64 LE`, `size2: u64 LE`, `root1`, `root2`, then
/// the proof, 32 bytes per hash. Properties: sizes outside `0 < size1 <= size2` and a proof of
/// the wrong length (the RFC 9162 `SUBPROOF` length, recomputed here by its recursive
/// definition) are rejected with exactly those errors; equal sizes need equal roots; otherwise
/// the verifier accepts or reports a mismatch of one of the two roots.
///
/// The second part reads the same bytes as `count - 1: u8` (modulo 64), `size2: u64`,
/// `size1: u64`, `flip: u8`, builds a tree of `count` distinct leaves and checks that its
/// consistency proof between the first `size1` and the first `size2` leaves verifies (both
/// roots must match trees built from those leaves alone), and that one flipped bit in the
/// proof or in either root, or swapped roots, are rejected.
pub fn merkle_consistency(data: &[u8]) {
    let mut input = Input(data);
    let size1 = input.u64();
    let size2 = input.u64();
    let root1 = input.digest();
    let root2 = input.digest();
    let proof = input.digests();
    let result = verify_consistency(size1, size2, &proof, &root1, &root2);
    let expected_error = if size1 == 0 || size1 > size2 {
        Some(Error::ConsistencySizes { size1, size2 })
    } else {
        wrong_length(consistency_len(size1, size2), proof.len())
    };
    if let Some(error) = expected_error {
        assert_eq!(result, Err(error), "verify_consistency({size1}, {size2})");
    } else if size1 == size2 {
        let expected = Error::RootMismatch {
            expected: root2,
            actual: root1,
        };
        assert_eq!(
            result,
            if root1 == root2 {
                Ok(())
            } else {
                Err(expected)
            }
        );
    } else {
        match result {
            Err(Error::RootMismatch { expected, .. }) => {
                assert!(
                    expected == root1 || expected == root2,
                    "the mismatch names neither root"
                );
            }
            other => assert_eq!(other, Ok(()), "expected success or a root mismatch"),
        }
    }

    let mut input = Input(data);
    let (leaves, tree) = small_tree(&mut input);
    let size2 = 1 + input.u64() % tree.len();
    let size1 = 1 + input.u64() % size2;
    let proof = tree
        .consistency_proof_between(size1, size2)
        .expect("0 < size1 <= size2 <= count");
    let root1 = tree.root_at(size1).expect("size1 <= count");
    let root2 = tree.root_at(size2).expect("size2 <= count");
    assert_eq!(
        root1,
        MerkleTree::from_leaves(&leaves[..to_usize(size1)]).root()
    );
    assert_eq!(
        root2,
        MerkleTree::from_leaves(&leaves[..to_usize(size2)]).root()
    );
    assert_eq!(proof.path().len(), consistency_len(size1, size2));
    assert_eq!(
        verify_consistency(size1, size2, proof.path(), &root1, &root2),
        Ok(())
    );
    let old = tree.merkle_root_at(size1).expect("size1 <= count");
    let new = tree.merkle_root_at(size2).expect("size2 <= count");
    assert_eq!(proof.verify(&old, &new), Ok(()));
    if size2 == tree.len() {
        assert_eq!(tree.consistency_proof(size1).as_ref(), Ok(&proof));
    }

    // Tampering.
    let flip = input.u8();
    if let Some(path) = path_flipped(proof.path(), flip) {
        let result = verify_consistency(size1, size2, &path, &root1, &root2);
        assert_root_mismatch(result, "flipped proof");
    }
    for (r1, r2) in [
        (flipped(&root1, flip), root2),
        (root1, flipped(&root2, flip)),
    ] {
        let result = verify_consistency(size1, size2, proof.path(), &r1, &r2);
        assert_root_mismatch(result, "flipped root");
    }
    if root1 != root2 {
        let result = verify_consistency(size1, size2, proof.path(), &root2, &root1);
        assert!(
            result.is_err(),
            "swapped roots accepted for {size1} -> {size2}"
        );
    }
}

/// Reads the fuzzer's bytes front to back; past the end it reads zeros, so every input is a
/// complete case.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }

    fn digest(&mut self) -> Digest {
        Digest::from_bytes(self.bytes())
    }

    /// The rest, 32 bytes per digest (the last one zero-padded).
    fn digests(&mut self) -> Vec<Digest> {
        let mut digests = Vec::new();
        while !self.0.is_empty() {
            digests.push(self.digest());
        }
        digests
    }
}

/// A tree of `count` distinct leaves (`0u64.to_le_bytes()`, `1u64.to_le_bytes()`, ...), with
/// `count - 1` read as one byte modulo 64: six levels show every shape of the index math, and
/// small trees keep the fuzzer fast.
fn small_tree(input: &mut Input<'_>) -> (Vec<[u8; 8]>, MerkleTree) {
    let count = u64::from(input.u8() % 64) + 1;
    let leaves: Vec<[u8; 8]> = (0..count).map(u64::to_le_bytes).collect();
    let tree = MerkleTree::from_leaves(&leaves);
    assert_eq!(tree.len(), count);
    (leaves, tree)
}

/// The largest power of two below `n` (`n >= 2`): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The length of RFC 9162 `PATH(index, D[size])`, by its recursive definition
/// (`index < size`).
fn inclusion_len(mut index: u64, mut size: u64) -> usize {
    let mut len = 0;
    while size > 1 {
        let k = split(size);
        if index < k {
            size = k;
        } else {
            index -= k;
            size -= k;
        }
        len += 1;
    }
    len
}

/// The length of RFC 9162 `PROOF(size1, D[size2])` = `SUBPROOF(size1, D[size2], true)`, by its
/// recursive definition (`0 < size1 <= size2`).
fn consistency_len(mut size1: u64, mut size2: u64) -> usize {
    let (mut len, mut complete) = (0, true);
    while size1 != size2 {
        let k = split(size2);
        if size1 <= k {
            size2 = k;
        } else {
            size1 -= k;
            size2 -= k;
            complete = false;
        }
        len += 1;
    }
    if complete { len } else { len + 1 }
}

/// `digest` with one bit flipped, chosen by `flip`.
fn flipped(digest: &Digest, flip: u8) -> Digest {
    let mut bytes = digest.to_bytes();
    bytes[usize::from(flip) % 32] ^= 1 << (flip % 8);
    Digest::from_bytes(bytes)
}

/// `path` with one bit of one of its hashes flipped, both chosen by `flip`; `None` for an empty
/// path.
fn path_flipped(path: &[Digest], flip: u8) -> Option<Vec<Digest>> {
    let at = usize::from(flip).checked_rem(path.len())?;
    let mut path = path.to_vec();
    path[at] = flipped(&path[at], flip);
    Some(path)
}

/// Asserts that a proof or root tampered with as `what` says was refused with
/// [`Error::RootMismatch`].
#[track_caller]
fn assert_root_mismatch(result: Result<(), Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::RootMismatch { .. })),
        "{what}: {result:?}"
    );
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).expect("small trees only")
}

/// The demo bundle of `lcm::framework::simulate_ai_lifecycle(4)` (a seed of
/// `capsule_bundle`, kept current by the facade's test `fuzz_seeds_are_current`).
const DEMO_BUNDLE: &str = include_str!("../corpus/capsule_bundle/demo-bundle.json");

/// The demo's signing key (public half): the demo signs with the seed `[0x4b; 32]`.
fn demo_key() -> VerifyingKey {
    SigningKey::from_seed(&Seed::from_bytes([0x4b; 32])).verifying_key()
}

/// The demo bundle's signed header.
fn demo_header() -> &'static CapsuleHeader {
    static HEADER: OnceLock<CapsuleHeader> = OnceLock::new();
    HEADER.get_or_init(|| {
        Bundle::from_json(DEMO_BUNDLE)
            .expect("the committed demo bundle parses")
            .header
    })
}

/// Requirements that exercise every compliance check.
fn requirements() -> PolicyRequirements {
    PolicyRequirements {
        hash_algorithm: Some(HashAlgorithm::Sha256),
        no_plaintext_with_pii: true,
        commitments: Some(lcm_crypto::CommitmentScheme::Salted),
        min_kdf_iterations: Some(100_000),
        required_frameworks: vec!["HIPAA".to_owned()],
        signing_key: Some(demo_key().key_id()),
    }
}

/// `parse(text)`, or `None` once [`assert_located`] has checked its error.
fn parsed<T>(text: &str, parse: fn(&str) -> Result<T, lcm_capsule::Error>) -> Option<T> {
    match parse(text) {
        Ok(value) => Some(value),
        Err(e) => {
            assert_located(text, &e);
            None
        }
    }
}

/// A parse error of valid JSON must name a value that exists in the document.
fn assert_located(text: &str, error: &lcm_capsule::Error) {
    if let (lcm_capsule::Error::Parse { path, .. }, Ok(value)) =
        (error, serde_json::from_str::<serde_json::Value>(text))
    {
        assert!(
            value.pointer(path).is_some(),
            "the parse error names {path:?}, which is not in the document"
        );
    }
}

/// Target `capsule_header`: [`CapsuleHeader::from_json`], [`verify_header`] and
/// [`validate_lcm_policy`] on arbitrary text.
///
/// Properties: nothing panics; a parse error of valid JSON names a JSON pointer that exists in
/// the document; a parsed header round-trips through compact and pretty JSON; the header
/// verifies under the demo key only if its signature is the demo key's over its canonical
/// bytes, and verifying twice gives the same report.
pub fn capsule_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Some(header) = parsed(&text, CapsuleHeader::from_json) else {
        return;
    };
    for indent in [None, Some(2)] {
        let json = header.to_json(indent).expect("a parsed header encodes");
        assert_eq!(
            CapsuleHeader::from_json(&json).expect("its own JSON parses"),
            header
        );
    }
    let key = demo_key();
    let first = verify_header(&header, &key);
    assert_eq!(
        first,
        verify_header(&header, &key),
        "verification is deterministic"
    );
    if first.is_ok() {
        let msg = header.signing_bytes().expect("a parsed header encodes");
        assert!(key.verify(&msg, &header.signature.signature).is_ok());
    }
    let _ = validate_lcm_policy(&header, &requirements());
}

/// Target `capsule_item`: [`Capsule::from_json`] and [`verify_capsule`] against the demo
/// header, on arbitrary text.
///
/// Properties: nothing panics; parse errors are located as for `capsule_header`; a parsed
/// capsule round-trips; a capsule that verifies is bound to the demo header's digest.
pub fn capsule_item(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Some(capsule) = parsed(&text, Capsule::from_json) else {
        return;
    };
    let json = capsule.to_json(None).expect("a parsed capsule encodes");
    assert_eq!(
        Capsule::from_json(&json).expect("its own JSON parses"),
        capsule
    );
    let header = demo_header();
    if verify_capsule(&capsule, header, &demo_key()).is_ok() {
        assert_eq!(Some(capsule.header_digest), header.digest().ok());
    }
}

/// Target `bundle_stream`: the streamed verifier [`verify_bundle_reader`] against
/// [`verify_bundle_json`] on arbitrary bytes.
///
/// Properties: nothing panics; bytes that are not UTF-8 are refused; what the streamed
/// verifier accepts, the in-memory one accepts with the same report; a document the
/// in-memory verifier cannot parse does not parse streamed either. (The streamed verifier
/// may refuse more: a non-strict value, a `lifecycle` before the `header`, or a record it
/// walks written as the array of its fields.)
pub fn bundle_stream(data: &[u8]) {
    let key = demo_key();
    let req = requirements();
    let streamed = verify_bundle_reader(std::io::Cursor::new(data), &key, &req);
    let parse_failed = |r: &Result<_, lcm_capsule::VerificationFailed>| {
        r.as_ref()
            .err()
            .is_some_and(|f| f.report.checks.iter().any(|c| c.name == "document parses"))
    };
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(
            parse_failed(&streamed),
            "bytes that are not UTF-8 are refused"
        );
        return;
    };
    let in_memory = verify_bundle_json(text, &key, &req);
    if streamed.is_ok() {
        assert_eq!(streamed, in_memory, "what the streamed verifier accepts");
    }
    if parse_failed(&in_memory) {
        assert!(parse_failed(&streamed), "a document that does not parse");
    }
}

/// Target `capsule_bundle`: [`verify_bundle_json`] on arbitrary text.
///
/// Properties: nothing panics; a document that does not parse fails with exactly one check,
/// located as for `capsule_header`; a parsed bundle round-trips, and verifying it from the
/// text and from the value gives the same report.
pub fn capsule_bundle(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let key = demo_key();
    let req = requirements();
    let from_text = verify_bundle_json(&text, &key, &req);
    match Bundle::from_json(&text) {
        Err(e) => {
            assert_located(&text, &e);
            let failed = from_text.expect_err("an unparsable bundle fails");
            assert_eq!(failed.report.checks.len(), 1);
        }
        Ok(bundle) => {
            let json = bundle.to_json(None).expect("a parsed bundle encodes");
            assert_eq!(
                Bundle::from_json(&json).expect("its own JSON parses"),
                bundle
            );
            assert_eq!(verify_bundle(&bundle, &key, &req), from_text);
        }
    }
}

/// Parses `text` as `T`; when that succeeds, the value's text form parses back to the same
/// value, and (for the strict hex forms, `exact`) is the input itself.
fn text_round_trip<T>(text: &str, exact: bool)
where
    T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = text.parse::<T>() {
        let shown = value.to_string();
        let again = shown.parse::<T>();
        assert!(
            again.as_ref().is_ok_and(|v| *v == value),
            "{} must parse back from {shown:?}",
            std::any::type_name::<T>()
        );
        if exact {
            assert_eq!(
                shown,
                text,
                "{} has one text form",
                std::any::type_name::<T>()
            );
        }
    }
}

/// Target `key_decoding`: every other text and byte decoding of `lcm-crypto`'s public values
/// (public keys, signatures, key ids, MAC tags, salts, revealed openings, commitment schemes,
/// hash algorithm names) on arbitrary input.
///
/// Properties: nothing panics; whatever parses round-trips through its text form, and the hex
/// forms accept exactly one spelling; a public key decoded from raw bytes gives those bytes
/// back.
pub fn key_decoding(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    text_round_trip::<VerifyingKey>(text, true);
    text_round_trip::<lcm_crypto::Signature>(text, true);
    text_round_trip::<lcm_crypto::KeyId>(text, true);
    text_round_trip::<lcm_crypto::MacTag>(text, true);
    text_round_trip::<lcm_crypto::Salt>(text, true);
    text_round_trip::<lcm_crypto::RevealedOpening>(text, true);
    text_round_trip::<lcm_crypto::CommitmentScheme>(text, false);
    text_round_trip::<HashAlgorithm>(text, false);
    if let Ok(key) = VerifyingKey::try_from_slice(data) {
        assert_eq!(
            key.as_bytes().as_slice(),
            data,
            "a decoded key keeps its bytes"
        );
    }
}
