//! [`MerkleTree`]: a batch-built RFC 9162 tree with stored levels.

use std::fmt;

use crate::merkle::build::{self, Built};
use crate::merkle::hashing::{self, Node};
use crate::merkle::proof::{ConsistencyProof, InclusionProof, MerkleRoot};
use crate::merkle::{empty_root, u64_len};
use crate::{Digest, Error, HashAlgorithm};

/// An RFC 9162 Merkle tree over a list of leaves, with every level stored.
///
/// Leaf hashes are `H(0x00 || leaf)`, interior nodes `H(0x01 || left || right)`, and a tree of
/// `n > 1` leaves splits at the largest power of two `k < n` (no duplication of odd nodes).
/// The tree of no leaves has the root `H("")` (RFC 9162 §2.1.1: the hash of an empty list is
/// the hash of the empty string).
///
/// All levels are kept (about `2n` digests, 64 bytes per leaf), so the root is free, an
/// inclusion proof is a few memory reads, and roots, inclusion proofs and consistency proofs
/// for any older size `m <= n` cost `O(log n)` hashes.
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::{MerkleTree, verify_inclusion};
///
/// let tree = MerkleTree::from_leaves([b"alpha".as_slice(), b"beta", b"gamma"]);
/// assert_eq!(tree.len(), 3);
///
/// let proof = tree.inclusion_proof(1)?;
/// verify_inclusion(&tree.leaf_hash(1)?, 1, 3, proof.path(), &tree.root())?;
/// proof.verify(&tree.leaf_hash(1)?, &tree.merkle_root())?;
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone)]
pub struct MerkleTree {
    algorithm: HashAlgorithm,
    /// `levels[0]` are the leaf hashes; see the `build` module for the layout. Empty for the
    /// empty tree; otherwise the last level has exactly one node, the root.
    levels: Vec<Vec<Node>>,
}

impl MerkleTree {
    /// Builds a SHA-256 tree; each item is one leaf and is hashed as `H(0x00 || leaf)`.
    ///
    /// Large inputs (at least 2^14 leaves, an exact size hint, and the `parallel` feature with
    /// more than one rayon thread) are hashed on the rayon pool; the root is the same either
    /// way.
    pub fn from_leaves<I>(leaves: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        Self::from_leaves_with(HashAlgorithm::Sha256, leaves)
    }

    /// Builds a tree with the given hash algorithm; see [`MerkleTree::from_leaves`].
    pub fn from_leaves_with<I>(algorithm: HashAlgorithm, leaves: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let iter = leaves.into_iter();
        match iter.size_hint() {
            (lower, Some(upper)) if lower == upper => {
                match build::from_exact_iter(algorithm, lower, iter) {
                    Built::Done(levels) => Self { algorithm, levels },
                    Built::Miscounted(hashes) => Self::from_nodes(algorithm, hashes),
                }
            }
            _ => {
                let hashes = iter
                    .map(|leaf| hashing::leaf(algorithm, leaf.as_ref()))
                    .collect();
                Self::from_nodes(algorithm, hashes)
            }
        }
    }

    /// Builds a SHA-256 tree over leaf hashes that were already computed (each must be
    /// `H(0x00 || leaf)`, for example from [`leaf_hash`](crate::merkle::leaf_hash)); they are
    /// not hashed again. From 2^14 leaves on, the levels are built on the rayon pool (feature
    /// `parallel`), splitting at the largest power of two below the size as RFC 9162 does; the
    /// root is the same either way.
    pub fn from_leaf_hashes<I>(leaf_hashes: I) -> Self
    where
        I: IntoIterator<Item = Digest>,
    {
        Self::from_leaf_hashes_with(HashAlgorithm::Sha256, leaf_hashes)
    }

    /// Builds a tree over leaf hashes with the given algorithm; see
    /// [`MerkleTree::from_leaf_hashes`].
    pub fn from_leaf_hashes_with<I>(algorithm: HashAlgorithm, leaf_hashes: I) -> Self
    where
        I: IntoIterator<Item = Digest>,
    {
        Self::from_nodes(
            algorithm,
            leaf_hashes.into_iter().map(Digest::to_bytes).collect(),
        )
    }

    fn from_nodes(algorithm: HashAlgorithm, hashes: Vec<Node>) -> Self {
        if hashes.is_empty() {
            return Self {
                algorithm,
                levels: Vec::new(),
            };
        }
        Self {
            algorithm,
            levels: build::from_leaf_hashes(algorithm, hashes),
        }
    }

    /// The hash algorithm of this tree.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        u64_len(self.leaves().len())
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaves().is_empty()
    }

    fn leaves(&self) -> &[Node] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The root hash (`H("")` for the empty tree).
    pub fn root(&self) -> Digest {
        match self.levels.last().and_then(|top| top.first()) {
            Some(root) => Digest::from_bytes(*root),
            None => empty_root(self.algorithm),
        }
    }

    /// The root together with the tree size and algorithm.
    pub fn merkle_root(&self) -> MerkleRoot {
        MerkleRoot::new(self.algorithm, self.root(), self.len())
    }

    /// The leaf hash `H(0x00 || leaf)` at `index`.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index >= len()`.
    pub fn leaf_hash(&self, index: u64) -> Result<Digest, Error> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.leaves().get(i))
            .map(|h| Digest::from_bytes(*h))
            .ok_or(Error::IndexOutOfRange {
                index,
                size: self.len(),
            })
    }

    /// All leaf hashes, in leaf order.
    pub fn leaf_hashes(&self) -> impl ExactSizeIterator<Item = Digest> + '_ {
        self.leaves().iter().map(|h| Digest::from_bytes(*h))
    }

    /// The root of the tree made of the first `size` leaves (`H("")` for size 0).
    ///
    /// # Errors
    ///
    /// [`Error::TreeSizeMismatch`] if `size > len()`.
    pub fn root_at(&self, size: u64) -> Result<Digest, Error> {
        let end = self.check_size(size)?;
        if end == 0 {
            return Ok(empty_root(self.algorithm));
        }
        Ok(Digest::from_bytes(self.range_hash(0, end)))
    }

    /// [`MerkleTree::root_at`] with its size and algorithm.
    ///
    /// # Errors
    ///
    /// As [`MerkleTree::root_at`].
    pub fn merkle_root_at(&self, size: u64) -> Result<MerkleRoot, Error> {
        Ok(MerkleRoot::new(self.algorithm, self.root_at(size)?, size))
    }

    /// The audit path of leaf `index` in the whole tree (RFC 9162 §2.1.3.1), bottom-up.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index >= len()` (including the empty tree).
    pub fn inclusion_proof(&self, index: u64) -> Result<InclusionProof, Error> {
        let size = self.len();
        let leaf = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.leaves().len())
            .ok_or(Error::IndexOutOfRange { index, size })?;
        let mut path = Vec::with_capacity(self.levels.len());
        let mut k = leaf;
        for level in &self.levels[..self.levels.len().saturating_sub(1)] {
            // The sibling is missing only for a promoted lone last node.
            if let Some(sibling) = level.get(k ^ 1) {
                path.push(Digest::from_bytes(*sibling));
            }
            k >>= 1;
        }
        InclusionProof::new(index, size, path)
    }

    /// The audit path of leaf `index` in the tree of the first `tree_size` leaves.
    ///
    /// # Errors
    ///
    /// [`Error::TreeSizeMismatch`] if `tree_size > len()`, [`Error::IndexOutOfRange`] if
    /// `index >= tree_size`.
    pub fn inclusion_proof_at(&self, index: u64, tree_size: u64) -> Result<InclusionProof, Error> {
        let end = self.check_size(tree_size)?;
        let leaf =
            usize::try_from(index)
                .ok()
                .filter(|&i| i < end)
                .ok_or(Error::IndexOutOfRange {
                    index,
                    size: tree_size,
                })?;
        // RFC 9162 PATH(m, D[start:end]), collected top-down, then reversed.
        let mut path = Vec::new();
        let (mut start, mut stop) = (0usize, end);
        while stop - start > 1 {
            let k = split(stop - start);
            let mid = start + k;
            if leaf < mid {
                path.push(Digest::from_bytes(self.range_hash(mid, stop)));
                stop = mid;
            } else {
                path.push(Digest::from_bytes(self.range_hash(start, mid)));
                start = mid;
            }
        }
        path.reverse();
        InclusionProof::new(index, tree_size, path)
    }

    /// The consistency proof from the tree of the first `old_size` leaves to this tree
    /// (RFC 9162 §2.1.4.1).
    ///
    /// # Errors
    ///
    /// [`Error::ConsistencySizes`] unless `0 < old_size <= len()`.
    pub fn consistency_proof(&self, old_size: u64) -> Result<ConsistencyProof, Error> {
        self.consistency_proof_between(old_size, self.len())
    }

    /// The consistency proof between the trees of the first `old_size` and the first
    /// `new_size` leaves.
    ///
    /// # Errors
    ///
    /// [`Error::ConsistencySizes`] unless `0 < old_size <= new_size`, and
    /// [`Error::TreeSizeMismatch`] if `new_size > len()`.
    pub fn consistency_proof_between(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, Error> {
        if old_size == 0 || old_size > new_size {
            return Err(Error::ConsistencySizes {
                size1: old_size,
                size2: new_size,
            });
        }
        let end = self.check_size(new_size)?;
        // old_size <= new_size = end, so it fits in usize.
        let mut m = usize::try_from(old_size).map_err(|_| Error::ConsistencySizes {
            size1: old_size,
            size2: new_size,
        })?;
        // RFC 9162 SUBPROOF(m, D[start:end], b), iteratively, collected top-down.
        let mut path = Vec::new();
        let (mut start, mut stop, mut complete) = (0usize, end, true);
        loop {
            let n = stop - start;
            if m == n {
                if !complete {
                    path.push(Digest::from_bytes(self.range_hash(start, stop)));
                }
                break;
            }
            let k = split(n);
            if m <= k {
                path.push(Digest::from_bytes(self.range_hash(start + k, stop)));
                stop = start + k;
            } else {
                path.push(Digest::from_bytes(self.range_hash(start, start + k)));
                start += k;
                m -= k;
                complete = false;
            }
        }
        path.reverse();
        ConsistencyProof::new(old_size, new_size, path)
    }

    fn check_size(&self, size: u64) -> Result<usize, Error> {
        usize::try_from(size)
            .ok()
            .filter(|&s| s <= self.leaves().len())
            .ok_or(Error::TreeSizeMismatch {
                expected: self.len(),
                actual: size,
            })
    }

    /// `MTH(D[start:end])` for a range that RFC 9162's recursion produces: `start` is a multiple
    /// of the largest power of two `<= end - start`, and `0 < end - start`, `end <= len()`.
    /// Complete aligned subtrees are read from the stored levels; the ragged right edge costs
    /// one node hash per level.
    fn range_hash(&self, start: usize, end: usize) -> Node {
        let n = end - start;
        if n.is_power_of_two() {
            let j = n.trailing_zeros() as usize;
            if let Some(node) = self.levels.get(j).and_then(|l| l.get(start >> j)) {
                return *node;
            }
        }
        let k = split(n);
        let left = self.range_hash(start, start + k);
        let right = self.range_hash(start + k, end);
        hashing::node(self.algorithm, &left, &right)
    }
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 9162's split point,
/// where the parallel build also divides its jobs.
pub(super) fn split(n: usize) -> usize {
    let below = n.saturating_sub(1).max(1);
    1 << (usize::BITS - 1 - below.leading_zeros())
}

impl fmt::Debug for MerkleTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerkleTree")
            .field("algorithm", &self.algorithm)
            .field("len", &self.len())
            .field("root", &self.root())
            .finish_non_exhaustive()
    }
}

impl PartialEq for MerkleTree {
    /// Equal when the algorithm, the size and the root are equal (the root commits to every
    /// leaf). The root comparison is constant-time.
    fn eq(&self, other: &Self) -> bool {
        self.merkle_root() == other.merkle_root()
    }
}

impl Eq for MerkleTree {}

#[cfg(test)]
mod tests;
