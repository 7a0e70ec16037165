//! Shared proptest strategies.

use lcm_crypto::HashAlgorithm;
use proptest::prelude::*;

/// Either hash algorithm.
pub(crate) fn algorithm() -> impl Strategy<Value = HashAlgorithm> {
    prop_oneof![Just(HashAlgorithm::Sha256), Just(HashAlgorithm::Blake3)]
}

/// Up to `max` leaves of 0 to 80 bytes (short leaves take the one-block path, long ones the
/// streaming path, 32-byte ones the fixed-size path).
pub(crate) fn leaves(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let leaf = prop_oneof![
        proptest::collection::vec(any::<u8>(), 32),
        proptest::collection::vec(any::<u8>(), 0..80),
    ];
    proptest::collection::vec(leaf, 0..=max)
}

prop_compose! {
    /// A non-empty list of leaves and an index into it.
    pub(crate) fn leaves_and_index(max: usize)
        (leaves in leaves(max).prop_filter("non-empty", |l| !l.is_empty()))
        (index in 0..leaves.len(), leaves in Just(leaves))
        -> (Vec<Vec<u8>>, usize)
    {
        (leaves, index)
    }
}
