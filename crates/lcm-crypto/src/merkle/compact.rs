//! [`CompactRange`]: an append-only Merkle accumulator in `O(log n)` memory.

use crate::merkle::hashing::{self, Node};
use crate::merkle::{empty_root, proof::MerkleRoot};
use crate::{Digest, Error, HashAlgorithm};

/// An append-only RFC 9162 accumulator (a "compact range" over `[0, n)`).
///
/// It keeps one subtree root per set bit of the size `n`: the roots of the complete subtrees
/// that RFC 9162's split produces along the right edge, largest first. That is at most 64
/// digests whatever the size, and appending a leaf merges at most `log2 n` of them. The root at
/// the current size folds them from the right, exactly as the batch tree splits, so it equals
/// [`MerkleTree`](crate::merkle::MerkleTree)'s root at every size.
///
/// # Examples
///
/// ```
/// use lcm_crypto::merkle::{CompactRange, MerkleTree};
///
/// let mut acc = CompactRange::new();
/// for leaf in [b"a", b"b", b"c"] {
///     acc.push(leaf)?;
/// }
/// assert_eq!(acc.len(), 3);
/// assert_eq!(acc.root(), MerkleTree::from_leaves([b"a", b"b", b"c"]).root());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawCompactRange"))]
pub struct CompactRange {
    algorithm: HashAlgorithm,
    size: u64,
    /// One subtree root per set bit of `size`, from the highest bit to the lowest.
    peaks: Vec<Digest>,
}

deserialize_checked!(CompactRange via RawCompactRange {
    algorithm: HashAlgorithm,
    size: u64,
    peaks: Vec<Digest>,
} => from_parts);

impl Default for CompactRange {
    fn default() -> Self {
        Self::new()
    }
}

impl CompactRange {
    /// An empty SHA-256 accumulator.
    pub fn new() -> Self {
        Self::with_algorithm(HashAlgorithm::Sha256)
    }

    /// An empty accumulator for `algorithm`.
    pub fn with_algorithm(algorithm: HashAlgorithm) -> Self {
        Self {
            algorithm,
            size: 0,
            peaks: Vec::new(),
        }
    }

    /// Rebuilds an accumulator from its size and subtree roots (as returned by
    /// [`CompactRange::peaks`]), for example after storing it.
    ///
    /// # Errors
    ///
    /// [`Error::ProofLength`] if there is not exactly one root per set bit of `size`.
    pub fn from_parts(
        algorithm: HashAlgorithm,
        size: u64,
        peaks: Vec<Digest>,
    ) -> Result<Self, Error> {
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(Error::ProofLength {
                expected,
                actual: peaks.len(),
            });
        }
        Ok(Self {
            algorithm,
            size,
            peaks,
        })
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The number of leaves appended so far.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether nothing has been appended.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The roots of the complete subtrees covering `[0, len())`, largest first.
    pub fn peaks(&self) -> &[Digest] {
        &self.peaks
    }

    /// Appends a leaf, hashing it as `H(0x00 || leaf)`.
    ///
    /// # Errors
    ///
    /// [`Error::TreeTooLarge`] if the accumulator already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: impl AsRef<[u8]>) -> Result<(), Error> {
        let hash = hashing::leaf(self.algorithm, leaf.as_ref());
        self.push_node(hash)
    }

    /// Appends a leaf hash that was already computed as `H(0x00 || leaf)`.
    ///
    /// # Errors
    ///
    /// [`Error::TreeTooLarge`] if the accumulator already holds `u64::MAX` leaves.
    pub fn push_leaf_hash(&mut self, leaf_hash: &Digest) -> Result<(), Error> {
        self.push_node(leaf_hash.to_bytes())
    }

    fn push_node(&mut self, mut node: Node) -> Result<(), Error> {
        let new_size = self
            .size
            .checked_add(1)
            .ok_or(Error::TreeTooLarge { max: u64::MAX })?;
        // Each trailing one bit of the old size is a complete subtree of the same height as
        // the one being carried: merge them, as binary addition carries.
        let mut bits = self.size;
        while bits & 1 == 1 {
            match self.peaks.pop() {
                Some(left) => node = hashing::node(self.algorithm, left.as_bytes(), &node),
                None => break,
            }
            bits >>= 1;
        }
        self.peaks.push(Digest::from_bytes(node));
        self.size = new_size;
        Ok(())
    }

    /// The root of the tree of all leaves appended so far (`H("")` when empty).
    pub fn root(&self) -> Digest {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return empty_root(self.algorithm);
        };
        let mut acc = last.to_bytes();
        for left in peaks {
            acc = hashing::node(self.algorithm, left.as_bytes(), &acc);
        }
        Digest::from_bytes(acc)
    }

    /// The root together with the size and algorithm.
    pub fn merkle_root(&self) -> MerkleRoot {
        MerkleRoot::new(self.algorithm, self.root(), self.size)
    }
}
