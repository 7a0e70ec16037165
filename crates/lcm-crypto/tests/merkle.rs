//! Merkle trees: differential tests against a tiny recursive RFC 9162 reference, proof
//! round-trips with tampering, the accumulator and bad input.

use lcm_crypto::merkle::{
    CompactRange, ConsistencyProof, InclusionProof, MAX_CONSISTENCY_PROOF_LEN, MAX_PROOF_LEN,
    MerkleRoot, MerkleTree, empty_root, leaf_hash, verify_consistency, verify_consistency_with,
    verify_inclusion, verify_inclusion_with,
};
use lcm_crypto::{Digest, Error, HashAlgorithm, hash};
use proptest::prelude::*;

use crate::strategies;

// ----- the reference: RFC 9162 §2.1.1, written as plainly as possible -----

fn ref_leaf(alg: HashAlgorithm, data: &[u8]) -> Digest {
    let mut input = vec![0x00];
    input.extend_from_slice(data);
    hash(alg, &input)
}

fn ref_node(alg: HashAlgorithm, left: &Digest, right: &Digest) -> Digest {
    let mut input = vec![0x01];
    input.extend_from_slice(left.as_bytes());
    input.extend_from_slice(right.as_bytes());
    hash(alg, &input)
}

fn ref_mth_hashes(alg: HashAlgorithm, hashes: &[Digest]) -> Digest {
    match hashes.len() {
        0 => hash(alg, b""),
        1 => hashes[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            ref_node(
                alg,
                &ref_mth_hashes(alg, &hashes[..k]),
                &ref_mth_hashes(alg, &hashes[k..]),
            )
        }
    }
}

fn ref_mth(alg: HashAlgorithm, leaves: &[Vec<u8>]) -> Digest {
    let hashes: Vec<Digest> = leaves.iter().map(|l| ref_leaf(alg, l)).collect();
    ref_mth_hashes(alg, &hashes)
}

fn flip(d: &Digest, bit: usize) -> Digest {
    let mut b = d.to_bytes();
    b[(bit / 8) % 32] ^= 1 << (bit % 8);
    Digest::from_bytes(b)
}

/// A small test size as an index.
fn idx(x: u64) -> usize {
    usize::try_from(x).expect("test sizes fit in usize")
}

fn numbered(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
}

/// Every single change to a valid inclusion claim must be rejected. `sized` holds the
/// roots of the trees of every size `0..=n + 1` over the same leaves (`n + 1` has one more).
#[track_caller]
fn check_inclusion_tampering(
    alg: HashAlgorithm,
    tree: &MerkleTree,
    index: u64,
    bit: usize,
    sized: &[Digest],
) {
    let n = tree.len();
    let root = tree.root();
    let leaf = tree.leaf_hash(index).expect("index < n");
    let proof = tree.inclusion_proof(index).expect("index < n");
    let path = proof.path();
    assert_eq!(
        verify_inclusion_with(alg, &leaf, index, n, path, &root),
        Ok(())
    );

    for i in 0..path.len() {
        let mut p = path.to_vec();
        p[i] = flip(&p[i], bit);
        assert!(
            verify_inclusion_with(alg, &leaf, index, n, &p, &root).is_err(),
            "bit in {i}"
        );
    }
    // Another index: rejected unless the leaf really is there too (equal leaves).
    for other in [index.wrapping_sub(1), index.wrapping_add(1)] {
        if tree.leaf_hash(other).is_ok_and(|h| h == leaf) {
            continue;
        }
        assert!(
            verify_inclusion_with(alg, &leaf, other, n, path, &root).is_err(),
            "{other}"
        );
    }
    // Another size, checked against the trusted root of that size. (Against the root of
    // size n, a path can coincide: leaf 0 of sizes 3 and 4 has paths of the same shape. The
    // trusted input is the (root, size) pair, so that is the claim to tamper with.)
    let n_usize = idx(n);
    for other in [n - 1, n + 1] {
        let other_root = sized[idx(other)];
        assert!(
            verify_inclusion_with(alg, &leaf, index, other, path, &other_root).is_err(),
            "size {other}"
        );
    }
    // An element added (front, back) or removed (each position).
    for pos in [0, path.len()] {
        let mut p = path.to_vec();
        p.insert(pos, leaf);
        assert!(matches!(
            verify_inclusion_with(alg, &leaf, index, n, &p, &root),
            Err(Error::ProofLength { .. })
        ));
    }
    for pos in 0..path.len() {
        let mut p = path.to_vec();
        p.remove(pos);
        assert!(matches!(
            verify_inclusion_with(alg, &leaf, index, n, &p, &root),
            Err(Error::ProofLength { .. })
        ));
    }
    // Another root: of the previous size, and a flipped bit.
    if n_usize > 1 {
        assert!(verify_inclusion_with(alg, &leaf, index, n, path, &sized[n_usize - 1]).is_err());
    }
    assert!(matches!(
        verify_inclusion_with(alg, &leaf, index, n, path, &flip(&root, bit)),
        Err(Error::RootMismatch { .. })
    ));
    // Another leaf.
    assert!(verify_inclusion_with(alg, &flip(&leaf, bit), index, n, path, &root).is_err());
}

proptest! {
    // Case counts come from PROPTEST_CASES (default 256); failures are kept in
    // proptest-regressions/merkle.txt at the crate root.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/merkle.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn roots_equal_the_reference(alg in strategies::algorithm(), leaves in strategies::leaves(70)) {
        let tree = MerkleTree::from_leaves_with(alg, &leaves);
        let expected = ref_mth(alg, &leaves);
        prop_assert_eq!(tree.root(), expected);
        prop_assert_eq!(tree.len(), leaves.len() as u64);
        prop_assert_eq!(tree.is_empty(), leaves.is_empty());
        // The same tree from leaf hashes, and from an iterator without a size hint.
        let hashes: Vec<Digest> = leaves.iter().map(|l| leaf_hash(alg, l)).collect();
        prop_assert_eq!(MerkleTree::from_leaf_hashes_with(alg, hashes.clone()).root(), expected);
        let unsized_iter = leaves.iter().filter(|_| true);
        prop_assert_eq!(MerkleTree::from_leaves_with(alg, unsized_iter).root(), expected);
        // Every older root.
        for m in 0..=leaves.len() {
            prop_assert_eq!(tree.root_at(m as u64)?, ref_mth(alg, &leaves[..m]));
        }
        prop_assert_eq!(tree.leaf_hashes().collect::<Vec<_>>(), hashes);
    }

    #[test]
    fn inclusion_proofs_verify_and_every_change_fails(
        alg in strategies::algorithm(),
        (leaves, index) in strategies::leaves_and_index(40),
        bit in 0usize..256,
    ) {
        let mut longer = leaves.clone();
        longer.push(b"one more".to_vec());
        let big = MerkleTree::from_leaves_with(alg, &longer);
        let sized: Vec<Digest> =
            (0..=longer.len() as u64).map(|m| big.root_at(m).unwrap()).collect();
        let tree = MerkleTree::from_leaves_with(alg, &leaves);
        let index = index as u64;
        check_inclusion_tampering(alg, &tree, index, bit, &sized);

        // The typed form agrees, and a proof for an older size verifies against that root.
        let proof = tree.inclusion_proof(index)?;
        proof.verify(&tree.leaf_hash(index)?, &tree.merkle_root())?;
        let n = tree.len();
        let at = big.inclusion_proof_at(index, n)?;
        prop_assert_eq!(&at, &proof);
        at.verify(&tree.leaf_hash(index)?, &big.merkle_root_at(n)?)?;
        prop_assert_eq!(
            proof.verify(&tree.leaf_hash(index)?, &big.merkle_root()),
            Err(Error::TreeSizeMismatch { expected: n + 1, actual: n })
        );
    }

    #[test]
    fn accumulator_equals_batch_root_at_every_size(
        alg in strategies::algorithm(),
        leaves in strategies::leaves(70),
    ) {
        let tree = MerkleTree::from_leaves_with(alg, &leaves);
        let mut acc = CompactRange::with_algorithm(alg);
        let mut by_hash = CompactRange::with_algorithm(alg);
        prop_assert_eq!(acc.root(), empty_root(alg));
        for (i, leaf) in leaves.iter().enumerate() {
            acc.push(leaf)?;
            by_hash.push_leaf_hash(&leaf_hash(alg, leaf))?;
            let size = i as u64 + 1;
            prop_assert_eq!(acc.len(), size);
            prop_assert!(acc.peaks().len() <= 64);
            prop_assert_eq!(acc.root(), tree.root_at(size)?);
            prop_assert_eq!(&acc, &by_hash);
            prop_assert_eq!(acc.merkle_root(), tree.merkle_root_at(size)?);
        }
        let rebuilt = CompactRange::from_parts(alg, acc.len(), acc.peaks().to_vec())?;
        prop_assert_eq!(rebuilt.root(), tree.root());
    }
}

#[test]
fn consistency_proofs_for_all_sizes_up_to_64() {
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let leaves = numbered(65);
        let big = MerkleTree::from_leaves_with(alg, &leaves);
        let roots: Vec<Digest> = (0..=65).map(|m| big.root_at(m).unwrap()).collect();
        for (m, root) in roots.iter().enumerate() {
            assert_eq!(*root, ref_mth(alg, &leaves[..m]), "root at {m}");
        }
        for n in 1..=64u64 {
            let tree_n = MerkleTree::from_leaves_with(alg, &leaves[..idx(n)]);
            for m in 1..=n {
                let proof = big.consistency_proof_between(m, n).unwrap();
                assert_eq!(proof, tree_n.consistency_proof(m).unwrap(), "{m} -> {n}");
                let path = proof.path();
                let (r1, r2) = (&roots[idx(m)], &roots[idx(n)]);
                assert_eq!(
                    verify_consistency_with(alg, m, n, path, r1, r2),
                    Ok(()),
                    "{m}->{n}"
                );
                proof
                    .verify(
                        &big.merkle_root_at(m).unwrap(),
                        &big.merkle_root_at(n).unwrap(),
                    )
                    .unwrap();
                if m == n {
                    assert!(path.is_empty());
                }
                check_consistency_tampering(alg, m, n, path, &roots);
            }
        }
    }
}

#[track_caller]
fn check_consistency_tampering(
    alg: HashAlgorithm,
    m: u64,
    n: u64,
    path: &[Digest],
    roots: &[Digest],
) {
    let root = |s: u64| roots[idx(s)];
    let (r1, r2) = (root(m), root(n));
    let fails = |s1: u64, s2: u64, p: &[Digest], a: &Digest, b: &Digest| {
        verify_consistency_with(alg, s1, s2, p, a, b).is_err()
    };
    for i in 0..path.len() {
        for bit in [0, 77, 255] {
            let mut p = path.to_vec();
            p[i] = flip(&p[i], bit);
            assert!(fails(m, n, &p, &r1, &r2), "{m}->{n} bit {bit} in {i}");
        }
    }
    assert!(fails(m, n, path, &flip(&r1, 3), &r2), "{m}->{n} root1");
    assert!(fails(m, n, path, &r1, &flip(&r2, 200)), "{m}->{n} root2");
    if r1 != r2 {
        assert!(fails(m, n, path, &r2, &r1), "{m}->{n} swapped");
    }
    // Sizes off by one, against the trusted roots of those sizes.
    for (s1, s2) in [(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)] {
        if s1 == m && s2 == n {
            continue;
        }
        assert!(
            fails(s1, s2, path, &root(s1), &root(s2)),
            "{m}->{n} as {s1}->{s2}"
        );
    }
    // An element added or removed.
    for pos in [0, path.len()] {
        let mut p = path.to_vec();
        p.insert(pos, r1);
        assert!(fails(m, n, &p, &r1, &r2), "{m}->{n} inserted at {pos}");
    }
    for pos in 0..path.len() {
        let mut p = path.to_vec();
        p.remove(pos);
        assert!(fails(m, n, &p, &r1, &r2), "{m}->{n} removed {pos}");
    }
}

#[test]
fn empty_tree_root_is_the_hash_of_the_empty_string() {
    let tree = MerkleTree::from_leaves(Vec::<Vec<u8>>::new());
    assert!(tree.is_empty());
    assert_eq!(tree.len(), 0);
    assert_eq!(
        tree.root().to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let b3 = MerkleTree::from_leaves_with(HashAlgorithm::Blake3, Vec::<Vec<u8>>::new());
    assert_eq!(b3.root(), hash(HashAlgorithm::Blake3, b""));
    assert_eq!(
        tree.inclusion_proof(0),
        Err(Error::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        tree.leaf_hash(0),
        Err(Error::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        tree.consistency_proof(0),
        Err(Error::ConsistencySizes { size1: 0, size2: 0 })
    );
    assert_eq!(tree.root_at(0), Ok(tree.root()));
    assert_eq!(
        tree.root_at(1),
        Err(Error::TreeSizeMismatch {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(CompactRange::new().root(), tree.root());
}

#[test]
fn known_answer_single_leaf_and_rfc6962_example_tree() {
    // The leaf hash of the empty leaf (RFC 6962 test data, transparency-dev single-entry).
    assert_eq!(
        leaf_hash(HashAlgorithm::Sha256, b"").to_hex(),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    );
    // The 8-leaf tree of the RFC 6962 reference test data (the transparency-dev vectors'
    // `inclusion/1` root).
    let leaves: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let tree = MerkleTree::from_leaves(leaves);
    assert_eq!(
        tree.root().to_hex(),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
}

#[test]
fn parallel_and_serial_builds_agree() {
    // Large enough for the parallel paths (2^14 leaves and up) when `parallel` is on; the
    // reference is strictly serial.
    for n in [(1u64 << 14) + 3, 40_000] {
        let leaves: Vec<[u8; 32]> = (0..n)
            .map(|i| {
                let mut l = [0u8; 32];
                l[..8].copy_from_slice(&i.to_le_bytes());
                l
            })
            .collect();
        for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
            let hashes: Vec<Digest> = leaves.iter().map(|l| ref_leaf(alg, l)).collect();
            let expected = ref_mth_hashes(alg, &hashes);
            let tree = MerkleTree::from_leaves_with(alg, &leaves);
            assert_eq!(tree.root(), expected, "{alg} {n}");
            assert_eq!(
                MerkleTree::from_leaf_hashes_with(alg, hashes.clone()).root(),
                expected
            );
            // No size hint: hashed serially, then built from the hashes.
            let no_hint = MerkleTree::from_leaves_with(alg, leaves.iter().filter(|_| true));
            assert_eq!(no_hint.root(), expected);
            let mut acc = CompactRange::with_algorithm(alg);
            for h in &hashes {
                acc.push_leaf_hash(h).unwrap();
            }
            assert_eq!(acc.root(), expected);
            for index in [0, 1, n / 2, n - 1] {
                let proof = tree.inclusion_proof(index).unwrap();
                let leaf = tree.leaf_hash(index).unwrap();
                verify_inclusion_with(alg, &leaf, index, n, proof.path(), &expected).unwrap();
            }
        }
    }
}

#[test]
fn iterators_with_wrong_size_hints_cannot_change_the_root() {
    struct Liar<I>(I, usize);
    impl<I: Iterator> Iterator for Liar<I> {
        type Item = I::Item;
        fn next(&mut self) -> Option<I::Item> {
            self.0.next()
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (self.1, Some(self.1))
        }
    }
    let leaves = numbered(20_000);
    for (take, claim) in [(20_000, 17_000), (17_000, 20_000), (5, 20_000), (20_000, 5)] {
        let expected = MerkleTree::from_leaves(&leaves[..take]).root();
        assert_eq!(expected, ref_mth(HashAlgorithm::Sha256, &leaves[..take]));
        let lying = MerkleTree::from_leaves(Liar(leaves[..take].iter(), claim));
        assert_eq!(lying.root(), expected, "{take} items claiming {claim}");
        assert_eq!(lying.len(), take as u64);
    }
}

#[test]
fn bad_inclusion_input_gives_typed_errors() {
    let leaf = leaf_hash(HashAlgorithm::Sha256, b"x");
    let root = leaf;
    let check = |index: u64, size: u64, proof: &[Digest], expected: Error| {
        assert_eq!(
            verify_inclusion(&leaf, index, size, proof, &root),
            Err(expected)
        );
    };
    check(0, 0, &[], Error::EmptyTree);
    check(1, 1, &[], Error::IndexOutOfRange { index: 1, size: 1 });
    check(
        u64::MAX,
        1,
        &[],
        Error::IndexOutOfRange {
            index: u64::MAX,
            size: 1,
        },
    );
    check(
        u64::MAX,
        u64::MAX,
        &[],
        Error::IndexOutOfRange {
            index: u64::MAX,
            size: u64::MAX,
        },
    );
    let huge = vec![leaf; 1000];
    check(
        0,
        1,
        &huge,
        Error::ProofLength {
            expected: 0,
            actual: 1000,
        },
    );
    check(
        0,
        8,
        &huge[..65],
        Error::ProofLength {
            expected: 3,
            actual: 65,
        },
    );
    check(
        0,
        1,
        &[leaf],
        Error::ProofLength {
            expected: 0,
            actual: 1,
        },
    );
    // Sizes near u64::MAX: well-formed proofs are hashed and rejected, never a panic.
    check(
        0,
        u64::MAX,
        &huge[..63],
        Error::ProofLength {
            expected: 64,
            actual: 63,
        },
    );
    check(
        u64::MAX - 1,
        u64::MAX,
        &huge[..64],
        Error::ProofLength {
            expected: 63,
            actual: 64,
        },
    );
    for (index, size, len) in [
        (0, u64::MAX, 64),
        (u64::MAX - 1, u64::MAX, 63),
        (1 << 63, u64::MAX, 64),
    ] {
        assert!(matches!(
            verify_inclusion(&leaf, index, size, &huge[..len], &root),
            Err(Error::RootMismatch { .. })
        ));
    }
    // The typed constructor applies the same rules.
    assert_eq!(
        InclusionProof::new(3, 2, vec![]),
        Err(Error::IndexOutOfRange { index: 3, size: 2 })
    );
    assert_eq!(
        InclusionProof::new(0, 2, vec![]),
        Err(Error::ProofLength {
            expected: 1,
            actual: 0
        })
    );
    assert_eq!(InclusionProof::new(0, 0, vec![]), Err(Error::EmptyTree));
    assert_eq!((MAX_PROOF_LEN, MAX_CONSISTENCY_PROOF_LEN), (64, 65));
}

#[test]
fn bad_consistency_input_gives_typed_errors() {
    let a = leaf_hash(HashAlgorithm::Sha256, b"a");
    let b = leaf_hash(HashAlgorithm::Sha256, b"b");
    let check = |s1: u64, s2: u64, proof: &[Digest], r1: &Digest, r2: &Digest, expected: Error| {
        assert_eq!(
            verify_consistency(s1, s2, proof, r1, r2),
            Err(expected),
            "{s1} {s2}"
        );
    };
    check(
        0,
        0,
        &[],
        &a,
        &a,
        Error::ConsistencySizes { size1: 0, size2: 0 },
    );
    check(
        0,
        5,
        &[],
        &a,
        &b,
        Error::ConsistencySizes { size1: 0, size2: 5 },
    );
    check(
        5,
        4,
        &[],
        &a,
        &b,
        Error::ConsistencySizes { size1: 5, size2: 4 },
    );
    check(
        u64::MAX,
        1,
        &[],
        &a,
        &b,
        Error::ConsistencySizes {
            size1: u64::MAX,
            size2: 1,
        },
    );
    check(
        3,
        3,
        &[a],
        &a,
        &a,
        Error::ProofLength {
            expected: 0,
            actual: 1,
        },
    );
    check(
        3,
        3,
        &[],
        &a,
        &b,
        Error::RootMismatch {
            expected: b,
            actual: a,
        },
    );
    assert_eq!(verify_consistency(3, 3, &[], &a, &a), Ok(()));
    assert_eq!(verify_consistency(u64::MAX, u64::MAX, &[], &a, &a), Ok(()));
    check(
        1,
        2,
        &[],
        &a,
        &b,
        Error::ProofLength {
            expected: 1,
            actual: 0,
        },
    );
    let huge = vec![a; 1000];
    check(
        1,
        2,
        &huge,
        &a,
        &b,
        Error::ProofLength {
            expected: 1,
            actual: 1000,
        },
    );
    // Near u64::MAX: the right length is hashed and rejected, never a panic.
    for (s1, s2) in [
        (1, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (1 << 63, u64::MAX),
        (3, u64::MAX),
    ] {
        let ConsistencyProof { .. } = match ConsistencyProof::new(s1, s2, vec![]) {
            Err(Error::ProofLength {
                expected,
                actual: 0,
            }) => {
                assert!(expected <= MAX_CONSISTENCY_PROOF_LEN);
                let r = verify_consistency(s1, s2, &huge[..expected], &a, &b);
                assert!(
                    matches!(r, Err(Error::RootMismatch { .. })),
                    "{s1} {s2}: {r:?}"
                );
                continue;
            }
            other => panic!("{other:?}"),
        };
    }
}

#[test]
fn typed_values_check_sizes_and_algorithms() {
    let leaves = numbered(9);
    let sha = MerkleTree::from_leaves(&leaves);
    let b3 = MerkleTree::from_leaves_with(HashAlgorithm::Blake3, &leaves);
    assert_ne!(sha.root(), b3.root());
    let proof = sha.consistency_proof(4).unwrap();
    assert_eq!(
        proof.verify(&sha.merkle_root_at(4).unwrap(), &b3.merkle_root()),
        Err(Error::AlgorithmMismatch {
            expected: HashAlgorithm::Sha256,
            actual: HashAlgorithm::Blake3
        })
    );
    assert_eq!(
        proof.verify(&sha.merkle_root_at(5).unwrap(), &sha.merkle_root()),
        Err(Error::TreeSizeMismatch {
            expected: 5,
            actual: 4
        })
    );
    assert_eq!(
        proof.verify(
            &sha.merkle_root_at(4).unwrap(),
            &sha.merkle_root_at(8).unwrap()
        ),
        Err(Error::TreeSizeMismatch {
            expected: 8,
            actual: 9
        })
    );
    // A BLAKE3 proof does not verify as SHA-256.
    let p = b3.inclusion_proof(2).unwrap();
    let leaf = b3.leaf_hash(2).unwrap();
    p.verify(&leaf, &b3.merkle_root()).unwrap();
    assert!(verify_inclusion(&leaf, 2, 9, p.path(), &b3.root()).is_err());
    // Roots compare size and algorithm too.
    let r = sha.merkle_root();
    assert_ne!(r, MerkleRoot::new(HashAlgorithm::Sha256, sha.root(), 8));
    assert_ne!(r, MerkleRoot::new(HashAlgorithm::Blake3, sha.root(), 9));
    assert_eq!(r, MerkleRoot::new(HashAlgorithm::Sha256, sha.root(), 9));
    assert_eq!(
        sha.inclusion_proof_at(0, 10),
        Err(Error::TreeSizeMismatch {
            expected: 9,
            actual: 10
        })
    );
    assert_eq!(
        sha.inclusion_proof_at(4, 4),
        Err(Error::IndexOutOfRange { index: 4, size: 4 })
    );
    assert_eq!(
        sha.consistency_proof(10),
        Err(Error::ConsistencySizes {
            size1: 10,
            size2: 9
        })
    );
    assert_eq!(
        CompactRange::from_parts(HashAlgorithm::Sha256, 3, vec![]).map(|c| c.len()),
        Err(Error::ProofLength {
            expected: 2,
            actual: 0
        })
    );
}

#[cfg(feature = "serde")]
#[test]
fn proofs_round_trip_through_serde_and_reject_bad_shapes() {
    let tree = MerkleTree::from_leaves(numbered(11));
    let proof = tree.inclusion_proof(6).unwrap();
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        serde_json::from_str::<InclusionProof>(&json).unwrap(),
        proof
    );
    let consistency = tree.consistency_proof(5).unwrap();
    let json_c = serde_json::to_string(&consistency).unwrap();
    assert_eq!(
        serde_json::from_str::<ConsistencyProof>(&json_c).unwrap(),
        consistency
    );
    let root = tree.merkle_root();
    let json_r = serde_json::to_string(&root).unwrap();
    assert_eq!(serde_json::from_str::<MerkleRoot>(&json_r).unwrap(), root);
    // A path of the wrong length, and an index outside the tree, do not deserialize.
    let short = json.replacen(&format!("\"{}\",", proof.path()[0]), "", 1);
    assert!(serde_json::from_str::<InclusionProof>(&short).is_err());
    let outside = json.replace("\"index\":6", "\"index\":11");
    assert!(serde_json::from_str::<InclusionProof>(&outside).is_err());
    let mut acc = CompactRange::new();
    for l in numbered(11) {
        acc.push(l).unwrap();
    }
    let json_a = serde_json::to_string(&acc).unwrap();
    assert_eq!(serde_json::from_str::<CompactRange>(&json_a).unwrap(), acc);
    let bad = json_a.replace("\"size\":11", "\"size\":12");
    assert!(serde_json::from_str::<CompactRange>(&bad).is_err());
}
