//! The reference's duplicate-last tree: its proofs, its vectors and the weaknesses that RFC 9162
//! trees do not have (moved here from `lcm-crypto`'s Merkle tests with the tree).

use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{Digest, Error};
use lcm_pyciaf::tree::{DuplicateLastTree, ProofStep, Side, empty_root, verify_proof};

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/pyciaf/reference-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("the vector file is readable");
    serde_json::from_str(&text).expect("the vector file is JSON")
}

fn digest(v: &serde_json::Value) -> Digest {
    Digest::from_hex(v.as_str().expect("a string")).expect("64 hex characters")
}

fn digests(v: &serde_json::Value) -> Vec<Digest> {
    v.as_array().expect("an array").iter().map(digest).collect()
}

#[test]
fn reference_roots_levels_and_proofs() {
    let v = vectors();
    let cases = v["merkle_roots"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let n = usize::try_from(case["n"].as_u64().unwrap()).unwrap();
        let leaves = digests(&case["leaves"]);
        assert_eq!(leaves.len(), n);
        let tree = DuplicateLastTree::from_leaves(leaves.iter().copied());
        assert_eq!(tree.root(), digest(&case["root_MerkleTree"]), "n = {n}");
        let levels: Vec<Vec<Digest>> = case["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(digests)
            .collect();
        assert_eq!(tree.levels(), levels.as_slice(), "n = {n}");
        for (index, proof) in case["proofs"].as_object().unwrap() {
            let index: usize = index.parse().unwrap();
            let expected: Vec<ProofStep> = proof
                .as_array()
                .unwrap()
                .iter()
                .map(|step| ProofStep {
                    sibling: digest(&step[0]),
                    side: match step[1].as_str().unwrap() {
                        "left" => Side::Left,
                        "right" => Side::Right,
                        other => panic!("side {other}"),
                    },
                })
                .collect();
            assert_eq!(
                tree.proof(index).unwrap(),
                expected,
                "n = {n}, index {index}"
            );
            verify_proof(&leaves[index], &expected, &tree.root()).unwrap();
            if let Some(first) = expected.first() {
                let mut bad = expected.clone();
                bad[0].sibling = Digest::from_bytes([first.sibling.as_bytes()[0] ^ 1; 32]);
                assert!(matches!(
                    verify_proof(&leaves[index], &bad, &tree.root()),
                    Err(Error::RootMismatch { .. })
                ));
            }
        }
        assert!(tree.proof(n).is_err());
    }
    assert_eq!(DuplicateLastTree::from_leaves([]).root(), empty_root());
    assert_eq!(
        empty_root().to_hex(),
        v["merkle_weaknesses"]["empty_tree"]["sha256('empty_tree')"]
            .as_str()
            .unwrap()
    );
}

/// The weaknesses of the reference tree happen in the legacy tree and not in RFC 9162
/// trees built over the same leaves.
#[test]
fn weaknesses_happen_in_legacy_only() {
    let v = vectors();
    let w = &v["merkle_weaknesses"];
    // Duplicate-last: [a, b, c] and [a, b, c, c].
    let dup = &w["duplicate_last_collision"];
    let (l3, l4) = (digests(&dup["leaves_3"]), digests(&dup["leaves_4"]));
    let legacy3 = DuplicateLastTree::from_leaves(l3.iter().copied()).root();
    let legacy4 = DuplicateLastTree::from_leaves(l4.iter().copied()).root();
    assert_eq!(legacy3, legacy4);
    assert_eq!(legacy3, digest(&dup["root_3"]));
    assert_ne!(
        MerkleTree::from_leaves(l3.iter().map(Digest::as_bytes)).root(),
        MerkleTree::from_leaves(l4.iter().map(Digest::as_bytes)).root()
    );
    assert_ne!(
        MerkleTree::from_leaf_hashes(l3.iter().copied()).root(),
        MerkleTree::from_leaf_hashes(l4.iter().copied()).root()
    );
    // Interior node as a leaf: [a, b, c, d] and [H(a||b), H(c||d)].
    let inner = &w["interior_node_as_leaf"];
    let (l4, l2) = (digests(&inner["leaves_4"]), digests(&inner["leaves_2"]));
    let legacy4 = DuplicateLastTree::from_leaves(l4.iter().copied());
    let legacy2 = DuplicateLastTree::from_leaves(l2.iter().copied());
    assert_eq!(legacy4.root(), legacy2.root());
    assert_eq!(legacy4.root(), digest(&inner["root_4"]));
    let forged = [ProofStep {
        sibling: l2[1],
        side: Side::Right,
    }];
    assert_eq!(verify_proof(&l2[0], &forged, &legacy4.root()), Ok(()));
    let rfc4 = MerkleTree::from_leaves(l4.iter().map(Digest::as_bytes));
    let rfc2 = MerkleTree::from_leaves(l2.iter().map(Digest::as_bytes));
    assert_ne!(rfc4.root(), rfc2.root());
    // In RFC 9162 an interior node presented as leaf data is hashed as a leaf, with the
    // 0x00 prefix, so it does not reproduce the node: the forged proof fails.
    let node01 = rfc4.root_at(2).unwrap();
    let as_leaf =
        lcm_crypto::merkle::leaf_hash(lcm_crypto::HashAlgorithm::Sha256, node01.as_bytes());
    let path = [rfc4.inclusion_proof(0).unwrap().path()[1]];
    for size in [2, 4] {
        assert!(
            lcm_crypto::merkle::verify_inclusion(&as_leaf, 0, size, &path, &rfc4.root()).is_err()
        );
    }
}
