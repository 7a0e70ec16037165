//! Keys and trees shared by the tests.

use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{Seed, SigningKey};
use lcm_tlog::note::{KeyName, SignatureType, SignerKey};
use lcm_tlog::{Checkpoint, SignedCheckpoint};

pub(crate) const ORIGIN: &str = "log.example/tlog";

pub(crate) fn signer(name: &str, kind: SignatureType, seed: u8) -> SignerKey {
    SignerKey::new(
        KeyName::new(name).expect("a valid test fixture"),
        kind,
        SigningKey::from_seed(&Seed::from_bytes([seed; 32])),
    )
}

pub(crate) fn log_key() -> SignerKey {
    signer(ORIGIN, SignatureType::Ed25519, 1)
}

pub(crate) fn witness_key(n: u8) -> SignerKey {
    signer(
        &format!("witness.example/w{n}"),
        SignatureType::Cosignature,
        10 + n,
    )
}

pub(crate) fn tree(size: u64) -> MerkleTree {
    MerkleTree::from_leaves((0..size).map(|i| format!("leaf {i}")))
}

/// The log's signed checkpoint of the first `size` leaves of `tree`.
pub(crate) fn checkpoint(tree: &MerkleTree, size: u64) -> SignedCheckpoint {
    Checkpoint::new(
        ORIGIN,
        size,
        tree.root_at(size).expect("a valid test fixture"),
    )
    .expect("a valid test fixture")
    .sign(&log_key())
    .expect("a valid test fixture")
}
