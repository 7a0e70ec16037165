//! Unit tests of `lcm_capsule::log`.

use lcm_crypto::merkle::MerkleTree;

use super::*;

#[test]
fn agrees_with_the_batch_tree_at_every_size_and_index() {
    let digests: Vec<Digest> = (0..70u8).map(|i| Digest::from_bytes([i; 32])).collect();
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Blake3] {
        let log = MerkleLog::from_digests(alg, digests.iter().copied()).unwrap();
        for n in 1..=digests.len() {
            let tree = MerkleTree::from_leaves_with(alg, digests[..n].iter().map(Digest::as_bytes));
            let size = n as u64;
            assert_eq!(log.root_at(size).unwrap(), tree.root(), "{n}");
            for i in 0..size {
                let p = log.inclusion_proof_at(i, size).unwrap();
                assert_eq!(p, tree.inclusion_proof(i).unwrap(), "{i} of {n}");
            }
        }
        assert!(log.inclusion_proof_at(70, 70).is_err());
        assert!(log.inclusion_proof_at(0, 71).is_err());
        assert_eq!(log.root_at(0).unwrap(), empty_root(alg));
    }
}
