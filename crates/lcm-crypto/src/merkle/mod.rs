//! RFC 9162 (Certificate Transparency 2.0, same tree as RFC 6962) Merkle trees: batch trees
//! with inclusion and consistency proofs, their verifiers, and an append-only accumulator.
//!
//! # The tree
//!
//! For a list of leaves `D[0..n)` and a hash `H` (SHA-256 by default, BLAKE3 selectable):
//!
//! ```text
//! MTH({})       = H("")                               the empty tree
//! MTH({d})      = H(0x00 || d)                        a leaf
//! MTH(D[0..n))  = H(0x01 || MTH(D[0..k)) || MTH(D[k..n)))
//!                 where k is the largest power of two smaller than n
//! ```
//!
//! The `0x00` / `0x01` prefixes ([`LEAF_PREFIX`], [`NODE_PREFIX`]) keep leaves and interior
//! nodes apart, so an interior node can never be passed off as a leaf, and an odd node is
//! never paired with a copy of itself, so `[a, b, c]` and `[a, b, c, c]` have different roots.
//! (The Python reference's tree has both flaws; it lives, for compatibility only, outside the
//! native crates.)
//!
//! # What is here
//!
//! - [`MerkleTree`]: built in one go from leaves ([`MerkleTree::from_leaves`]) or from leaf
//!   hashes ([`MerkleTree::from_leaf_hashes`]), with every level stored. Large trees are built
//!   on the rayon pool when the `parallel` feature is on; the root never depends on it.
//! - [`InclusionProof`], [`ConsistencyProof`] and [`MerkleRoot`] (a root with its size and
//!   algorithm), each with a `verify` method.
//! - The free verifiers [`verify_inclusion`] and [`verify_consistency`] (SHA-256) and their
//!   `_with` forms taking a [`HashAlgorithm`]. They check the proof length against the tree
//!   shape before hashing anything, never panic, and name what was expected in every error.
//! - [`CompactRange`]: an append-only accumulator in `O(log n)` memory whose root equals the
//!   batch tree's root at every size.
//!
//! # Examples
//!
//! ```
//! use lcm_crypto::merkle::{CompactRange, MerkleTree, verify_consistency, verify_inclusion};
//!
//! let records: Vec<String> = (0..10).map(|i| format!("record {i}")).collect();
//! let tree = MerkleTree::from_leaves(&records);
//!
//! // Inclusion of record 7.
//! let proof = tree.inclusion_proof(7)?;
//! verify_inclusion(&tree.leaf_hash(7)?, 7, 10, proof.path(), &tree.root())?;
//!
//! // The first 6 records are a prefix of the 10.
//! let old_root = tree.root_at(6)?;
//! let consistency = tree.consistency_proof(6)?;
//! verify_consistency(6, 10, consistency.path(), &old_root, &tree.root())?;
//!
//! // The accumulator agrees with the batch tree.
//! let mut acc = CompactRange::new();
//! for r in &records {
//!     acc.push(r)?;
//! }
//! assert_eq!(acc.root(), tree.root());
//! # Ok::<(), lcm_crypto::Error>(())
//! ```

/// Deserializes `$ty` through `$raw`, a plain struct of the same fields, and the checking
/// constructor `$ty::$check`: a value that breaks the type's invariants does not deserialize.
/// (A function cannot declare the raw struct that serde needs, hence the macro.)
macro_rules! deserialize_checked {
    ($ty:ident via $raw:ident { $($field:ident: $fty:ty),+ $(,)? } => $check:ident) => {
        #[cfg(feature = "serde")]
        #[derive(serde::Deserialize)]
        struct $raw {
            $($field: $fty),+
        }

        #[cfg(feature = "serde")]
        impl TryFrom<$raw> for $ty {
            type Error = Error;
            fn try_from(raw: $raw) -> Result<Self, Error> {
                Self::$check($(raw.$field),+)
            }
        }
    };
}

mod build;
mod compact;
mod hashing;
mod proof;
mod tree;

pub use self::compact::CompactRange;
pub use self::hashing::{LEAF_PREFIX, NODE_PREFIX};
pub use self::proof::{
    ConsistencyProof, InclusionProof, MAX_CONSISTENCY_PROOF_LEN, MAX_PROOF_LEN, MerkleRoot,
    verify_consistency, verify_consistency_with, verify_inclusion, verify_inclusion_with,
};
pub use self::tree::MerkleTree;

use crate::{Digest, HashAlgorithm};

/// The leaf hash `H(0x00 || leaf)`.
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::{MerkleTree, leaf_hash};
/// use lcm_crypto::HashAlgorithm;
///
/// let tree = MerkleTree::from_leaves([b"x"]);
/// assert_eq!(tree.leaf_hash(0)?, leaf_hash(HashAlgorithm::Sha256, b"x"));
/// assert_eq!(tree.root(), leaf_hash(HashAlgorithm::Sha256, b"x"));
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub fn leaf_hash(algorithm: HashAlgorithm, leaf: &[u8]) -> Digest {
    Digest::from_bytes(hashing::leaf(algorithm, leaf))
}

/// The interior node hash `H(0x01 || left || right)`.
pub fn node_hash(algorithm: HashAlgorithm, left: &Digest, right: &Digest) -> Digest {
    Digest::from_bytes(hashing::node(algorithm, left.as_bytes(), right.as_bytes()))
}

/// The root of the empty tree, `H("")` (RFC 9162 §2.1.1).
pub fn empty_root(algorithm: HashAlgorithm) -> Digest {
    crate::hash(algorithm, b"")
}

/// A slice length as a tree size. `usize` is at most 64 bits on every supported target, so
/// this never saturates in practice.
fn u64_len(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}
