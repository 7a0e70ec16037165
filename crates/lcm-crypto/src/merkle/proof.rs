//! Proof values ([`InclusionProof`], [`ConsistencyProof`], [`MerkleRoot`]) and the
//! verifiers.

use crate::merkle::hashing::{self, Node};
use crate::{Digest, Error, HashAlgorithm};

/// The longest inclusion proof any tree of up to `u64::MAX` leaves can need.
pub const MAX_PROOF_LEN: usize = 64;

/// The longest consistency proof any pair of trees of up to `u64::MAX` leaves can need: one
/// more than [`MAX_PROOF_LEN`] (for example `3 -> u64::MAX` needs 65 hashes).
pub const MAX_CONSISTENCY_PROOF_LEN: usize = 65;

/// The `path` and `into_path` accessors of a proof, whose hashes `$doc` describes.
macro_rules! path_accessors {
    ($doc:literal) => {
        #[doc = $doc]
        pub fn path(&self) -> &[Digest] {
            &self.path
        }

        /// Consumes the proof, returning the path.
        pub fn into_path(self) -> Vec<Digest> {
            self.path
        }
    };
}

/// A Merkle root together with the size of its tree and its hash algorithm.
///
/// A root alone does not say how many leaves it covers; every proof check needs both, so they
/// travel together. Equality compares all three (the digest in constant time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MerkleRoot {
    algorithm: HashAlgorithm,
    digest: Digest,
    size: u64,
}

impl MerkleRoot {
    /// Wraps a root digest with its tree size and algorithm.
    pub const fn new(algorithm: HashAlgorithm, digest: Digest, size: u64) -> Self {
        Self {
            algorithm,
            digest,
            size,
        }
    }

    /// The hash algorithm of the tree.
    pub const fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The root hash.
    pub const fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The number of leaves of the tree.
    pub const fn size(&self) -> u64 {
        self.size
    }
}

/// The audit path proving that one leaf is in a tree of a given size (RFC 9162 §2.1.3).
///
/// The constructor checks that the path has exactly the length the tree shape needs, so a
/// proof value always has a plausible shape; whether it proves anything is up to
/// [`InclusionProof::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawInclusionProof"))]
pub struct InclusionProof {
    index: u64,
    tree_size: u64,
    path: Vec<Digest>,
}

deserialize_checked!(InclusionProof via RawInclusionProof {
    index: u64,
    tree_size: u64,
    path: Vec<Digest>,
} => new);

impl InclusionProof {
    /// A proof for leaf `index` of a tree of `tree_size` leaves.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index >= tree_size`, [`Error::ProofLength`] if `path`
    /// does not have the length that index and size require.
    pub fn new(index: u64, tree_size: u64, path: Vec<Digest>) -> Result<Self, Error> {
        check_len(&path, inclusion_len(index, tree_size)?)?;
        Ok(Self {
            index,
            tree_size,
            path,
        })
    }

    /// The leaf index.
    pub const fn index(&self) -> u64 {
        self.index
    }

    /// The size of the tree the proof was made for.
    pub const fn tree_size(&self) -> u64 {
        self.tree_size
    }

    path_accessors!("The sibling hashes, from the leaf up.");

    /// Checks that `leaf_hash` is the leaf at [`index`](Self::index) of the tree with `root`.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::TreeSizeMismatch`] if the root is for another size, otherwise as
    /// [`verify_inclusion_with`].
    pub fn verify(&self, leaf_hash: &Digest, root: &MerkleRoot) -> Result<(), Error> {
        same_size(root, self.tree_size)?;
        verify_inclusion_with(
            root.algorithm,
            leaf_hash,
            self.index,
            self.tree_size,
            &self.path,
            &root.digest,
        )
    }
}

/// The proof that a tree of `old_size` leaves is a prefix of a tree of `new_size` leaves
/// (RFC 9162 §2.1.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawConsistencyProof"))]
pub struct ConsistencyProof {
    old_size: u64,
    new_size: u64,
    path: Vec<Digest>,
}

deserialize_checked!(ConsistencyProof via RawConsistencyProof {
    old_size: u64,
    new_size: u64,
    path: Vec<Digest>,
} => new);

impl ConsistencyProof {
    /// A proof between the trees of `old_size` and `new_size` leaves.
    ///
    /// # Errors
    ///
    /// [`Error::ConsistencySizes`] unless `0 < old_size <= new_size`, [`Error::ProofLength`]
    /// if `path` does not have the length the two sizes require.
    pub fn new(old_size: u64, new_size: u64, path: Vec<Digest>) -> Result<Self, Error> {
        check_len(&path, consistency_len(old_size, new_size)?)?;
        Ok(Self {
            old_size,
            new_size,
            path,
        })
    }

    /// The size of the older tree.
    pub const fn old_size(&self) -> u64 {
        self.old_size
    }

    /// The size of the newer tree.
    pub const fn new_size(&self) -> u64 {
        self.new_size
    }

    path_accessors!("The proof hashes.");

    /// Checks that the tree with root `old` is a prefix of the tree with root `new`.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::AlgorithmMismatch`] if the roots use different algorithms,
    /// [`Error::TreeSizeMismatch`] if a root's size is not the proof's, otherwise as
    /// [`verify_consistency_with`].
    pub fn verify(&self, old: &MerkleRoot, new: &MerkleRoot) -> Result<(), Error> {
        if old.algorithm != new.algorithm {
            return Err(Error::AlgorithmMismatch {
                expected: old.algorithm,
                actual: new.algorithm,
            });
        }
        same_size(old, self.old_size)?;
        same_size(new, self.new_size)?;
        verify_consistency_with(
            old.algorithm,
            self.old_size,
            self.new_size,
            &self.path,
            &old.digest,
            &new.digest,
        )
    }
}

/// Checks that `root` is of a tree of the proof's `size` leaves.
fn same_size(root: &MerkleRoot, size: u64) -> Result<(), Error> {
    if root.size == size {
        Ok(())
    } else {
        Err(Error::TreeSizeMismatch {
            expected: root.size,
            actual: size,
        })
    }
}

/// Checks that a proof `path` has the `expected` length (the one its tree sizes need).
fn check_len(path: &[Digest], expected: usize) -> Result<(), Error> {
    if path.len() == expected {
        Ok(())
    } else {
        Err(Error::ProofLength {
            expected,
            actual: path.len(),
        })
    }
}

/// The exact inclusion-path length for `index` in a tree of `size` leaves: one hash per level
/// below the point where the paths to `index` and to the last leaf part (`inner`), plus one
/// per left-hand complete subtree above it (`border`).
fn inclusion_len(index: u64, size: u64) -> Result<usize, Error> {
    if size == 0 {
        return Err(Error::EmptyTree);
    }
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    Ok(inner + border)
}

/// `(inner, border)` as in transparency-dev/merkle `decompInclProof`; `index < size`.
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = u64::BITS - (index ^ size.saturating_sub(1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    // Both are at most 64.
    (inner as usize, border as usize)
}

/// The exact consistency-proof length for sizes `0 < size1 <= size2`.
fn consistency_len(size1: u64, size2: u64) -> Result<usize, Error> {
    if size1 == 0 || size1 > size2 {
        return Err(Error::ConsistencySizes { size1, size2 });
    }
    if size1 == size2 {
        return Ok(0);
    }
    let (inner, border) = decompose(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    // When size1 is a power of two its root is the first hash and is not sent.
    let seed = usize::from(!size1.is_power_of_two());
    Ok(seed + inner.saturating_sub(shift) + border)
}

/// Verifies a SHA-256 inclusion proof (RFC 9162 §2.1.3.2): that `leaf_hash` (already
/// `H(0x00 || leaf)`) is leaf `index` of the tree of `tree_size` leaves with root `root`.
///
/// This does not panic.
///
/// # Errors
///
/// See [`verify_inclusion_with`].
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::{MerkleTree, verify_inclusion};
/// use lcm_crypto::Error;
///
/// let tree = MerkleTree::from_leaves([b"a", b"b", b"c", b"d", b"e"]);
/// let proof = tree.inclusion_proof(4)?;
/// let leaf = tree.leaf_hash(4)?;
/// verify_inclusion(&leaf, 4, 5, proof.path(), &tree.root())?;
/// assert!(matches!(
///     verify_inclusion(&leaf, 3, 5, proof.path(), &tree.root()),
///     Err(Error::ProofLength { .. } | Error::RootMismatch { .. })
/// ));
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub fn verify_inclusion(
    leaf_hash: &Digest,
    index: u64,
    tree_size: u64,
    proof: &[Digest],
    root: &Digest,
) -> Result<(), Error> {
    verify_inclusion_with(
        HashAlgorithm::Sha256,
        leaf_hash,
        index,
        tree_size,
        proof,
        root,
    )
}

/// [`verify_inclusion`] for any hash algorithm.
///
/// The proof length is checked against the tree shape before any hashing, so an oversized
/// proof costs nothing. This does not panic.
///
/// # Errors
///
/// - [`Error::EmptyTree`] if `tree_size == 0`;
/// - [`Error::IndexOutOfRange`] if `index >= tree_size`;
/// - [`Error::ProofLength`] if the proof does not have exactly the length the shape needs
///   (never more than 64);
/// - [`Error::RootMismatch`] if the recomputed root differs from `root`.
pub fn verify_inclusion_with(
    algorithm: HashAlgorithm,
    leaf_hash: &Digest,
    index: u64,
    tree_size: u64,
    proof: &[Digest],
    root: &Digest,
) -> Result<(), Error> {
    check_len(proof, inclusion_len(index, tree_size)?)?;
    let (inner, _) = decompose(index, tree_size);
    let (inner_path, border_path) = proof.split_at(inner);
    let mut acc: Node = leaf_hash.to_bytes();
    for (level, sibling) in inner_path.iter().enumerate() {
        acc = if (index >> level) & 1 == 0 {
            hashing::node(algorithm, &acc, sibling.as_bytes())
        } else {
            hashing::node(algorithm, sibling.as_bytes(), &acc)
        };
    }
    for sibling in border_path {
        acc = hashing::node(algorithm, sibling.as_bytes(), &acc);
    }
    check_root(root, acc)
}

fn check_root(expected: &Digest, computed: Node) -> Result<(), Error> {
    let actual = Digest::from_bytes(computed);
    if bool::from(expected.ct_eq(&actual)) {
        Ok(())
    } else {
        Err(Error::RootMismatch {
            expected: *expected,
            actual,
        })
    }
}

/// Verifies a SHA-256 consistency proof (RFC 9162 §2.1.4.2): that the tree of `size1` leaves
/// with root `root1` is a prefix of the tree of `size2` leaves with root `root2`.
///
/// `size1 == size2` needs an empty proof and equal roots. `size1 == 0` is rejected: RFC 9162
/// defines consistency proofs for `0 < size1`, and an empty old tree has nothing to be
/// consistent with (accepting it would accept any `root1` unchecked).
///
/// This does not panic.
///
/// # Errors
///
/// See [`verify_consistency_with`].
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::{MerkleTree, verify_consistency};
///
/// let leaves: Vec<[u8; 1]> = (0..7u8).map(|i| [i]).collect();
/// let old = MerkleTree::from_leaves(&leaves[..3]);
/// let new = MerkleTree::from_leaves(&leaves);
/// let proof = new.consistency_proof(3)?;
/// verify_consistency(3, 7, proof.path(), &old.root(), &new.root())?;
/// assert!(verify_consistency(3, 7, proof.path(), &new.root(), &old.root()).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> Result<(), Error> {
    verify_consistency_with(HashAlgorithm::Sha256, size1, size2, proof, root1, root2)
}

/// [`verify_consistency`] for any hash algorithm.
///
/// The proof length is checked against the two sizes before any hashing. Then the algorithm
/// of RFC 9162 §2.1.4.2 runs step by step. This does not panic.
///
/// # Errors
///
/// - [`Error::ConsistencySizes`] unless `0 < size1 <= size2`;
/// - [`Error::ProofLength`] if the proof does not have exactly the length the sizes need
///   (empty when `size1 == size2`, never more than [`MAX_CONSISTENCY_PROOF_LEN`]);
/// - [`Error::RootMismatch`] if a recomputed root differs (first `root1`, then `root2`).
pub fn verify_consistency_with(
    algorithm: HashAlgorithm,
    size1: u64,
    size2: u64,
    proof: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> Result<(), Error> {
    let expected = consistency_len(size1, size2)?;
    check_len(proof, expected)?;
    if size1 == size2 {
        // Same tree: the proof is empty and the roots must match.
        return check_root(root2, root1.to_bytes());
    }
    // RFC 9162 §2.1.4.2. Step 1 (empty path fails) cannot happen here: for size1 < size2 the
    // expected length is at least 1. Step 2: a power-of-two size1 is a complete subtree whose
    // root is the seed; otherwise the seed is the first proof hash.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1.to_bytes(), proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first.to_bytes(), rest),
            None => {
                return Err(Error::ProofLength {
                    expected,
                    actual: 0,
                });
            }
        }
    };
    // Step 3.
    let mut fn_ = size1 - 1;
    let mut sn = size2 - 1;
    // Step 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = seed;
    let mut sr = seed;
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(Error::ProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = hashing::node(algorithm, c.as_bytes(), &fr);
            sr = hashing::node(algorithm, c.as_bytes(), &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = hashing::node(algorithm, &sr, c.as_bytes());
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(Error::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    check_root(root1, fr)?;
    check_root(root2, sr)
}

#[cfg(test)]
mod tests;
