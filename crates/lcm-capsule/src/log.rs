//! [`MerkleLog`]: an append-only RFC 9162 tree over record digests whose complete subtrees are
//! kept, so that registering an item costs its leaf hash and an inclusion proof for any item,
//! at any earlier size, costs `O(log n)`.

use lcm_crypto::merkle::{InclusionProof, MerkleRoot, empty_root, leaf_hash, node_hash};
use lcm_crypto::{Digest, HashAlgorithm};

use crate::Error;

/// What headers and capsules read of a log of items (receipts, checkpoints, dataset record
/// leaves): its size, root and last item, one item's digest, and inclusion proofs.
///
/// [`MerkleLog`] is the in-memory implementation; a store implements it over a log it keeps
/// on disk (`lcm-store` reads its C2SP tiles), so that a header or a capsule of one item
/// costs `O(log n)` reads instead of a rebuild of the tree.
///
/// # Examples
///
/// ```
/// use lcm_capsule::{ItemLog, MerkleLog};
/// use lcm_crypto::{Digest, HashAlgorithm};
///
/// let mut log = MerkleLog::new(HashAlgorithm::Sha256);
/// log.register(Digest::from_bytes([1; 32]))?;
/// log.register(Digest::from_bytes([2; 32]))?;
/// let items: &dyn ItemLog = &log;
/// assert_eq!(items.size(), 2);
/// assert_eq!(items.last_digest(), Some(Digest::from_bytes([2; 32])));
/// assert_eq!(items.item_digest(0)?, Some(Digest::from_bytes([1; 32])));
/// # Ok::<(), lcm_capsule::Error>(())
/// ```
pub trait ItemLog: std::fmt::Debug {
    /// The hash algorithm of the tree.
    fn algorithm(&self) -> HashAlgorithm;
    /// The number of items.
    fn size(&self) -> u64;
    /// The root over every item (`H("")` for the empty log).
    fn tree_root(&self) -> Digest;
    /// The digest of the last item, if any.
    fn last_digest(&self) -> Option<Digest>;
    /// The digest of the item at `index` (`None` past the end).
    ///
    /// # Errors
    ///
    /// [`Error::Read`] when the log's storage fails.
    fn item_digest(&self, index: u64) -> Result<Option<Digest>, Error>;
    /// The inclusion proof of item `index` in the tree of the first `size` items.
    ///
    /// # Errors
    ///
    /// [`Error::Materialize`] when `size` exceeds the log or `index >= size`; [`Error::Read`].
    fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, Error>;
}

impl ItemLog for MerkleLog {
    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    fn size(&self) -> u64 {
        self.len()
    }

    fn tree_root(&self) -> Digest {
        self.root()
    }

    fn last_digest(&self) -> Option<Digest> {
        self.len().checked_sub(1).and_then(|last| self.digest(last))
    }

    fn item_digest(&self, index: u64) -> Result<Option<Digest>, Error> {
        Ok(self.digest(index))
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, Error> {
        self.inclusion_proof_at(index, size)
    }
}

/// An append-only log of record digests (receipts, checkpoints, dataset record leaves) with
/// the RFC 9162 tree over them, built as items arrive.
///
/// Each item is one leaf: the leaf hash is `H(0x00 || digest)`, exactly as the batch roots
/// and the records roots of `lcm` are built, so the log's root at size `n` equals
/// `MerkleTree::from_leaves_with(algorithm, digests[..n])`'s root.
///
/// [`MerkleLog::register`] computes the leaf hash and completes the perfect subtrees that
/// the new leaf closes: one leaf hash and, amortized, one node hash per item — nothing else
/// is computed until an item is materialized. Memory is about 96 bytes per item (the digest,
/// its leaf hash and the interior nodes). [`MerkleLog::inclusion_proof_at`] then reads the
/// stored subtree roots and hashes only along the right edge of the tree: `O(log n)`.
///
/// # Examples
///
/// ```
/// use lcm_capsule::MerkleLog;
/// use lcm_crypto::merkle::MerkleTree;
/// use lcm_crypto::{Digest, HashAlgorithm};
///
/// let digests: Vec<Digest> = (0..10u8).map(|i| Digest::from_bytes([i; 32])).collect();
/// let mut log = MerkleLog::new(HashAlgorithm::Sha256);
/// for d in &digests {
///     log.register(*d)?;
/// }
/// let tree = MerkleTree::from_leaves(digests.iter().map(Digest::as_bytes));
/// assert_eq!(log.root(), tree.root());
/// let proof = log.inclusion_proof_at(7, 10)?;
/// proof.verify(&tree.leaf_hash(7)?, &tree.merkle_root())?;
/// # Ok::<(), lcm_capsule::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MerkleLog {
    algorithm: HashAlgorithm,
    digests: Vec<Digest>,
    /// `levels[k][j]` is the root of the perfect subtree over leaves `j * 2^k .. (j + 1) * 2^k`
    /// (`levels[0]` are the leaf hashes).
    levels: Vec<Vec<Digest>>,
}

impl MerkleLog {
    /// An empty log under `algorithm`.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        Self {
            algorithm,
            digests: Vec::new(),
            levels: vec![Vec::new()],
        }
    }

    /// A log over `digests`, in order.
    ///
    /// # Errors
    ///
    /// As [`MerkleLog::register`].
    pub fn from_digests<I: IntoIterator<Item = Digest>>(
        algorithm: HashAlgorithm,
        digests: I,
    ) -> Result<Self, Error> {
        let mut log = Self::new(algorithm);
        for d in digests {
            log.register(d)?;
        }
        Ok(log)
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The number of items.
    pub fn len(&self) -> u64 {
        u64::try_from(self.digests.len()).unwrap_or(u64::MAX)
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The digest registered at `index`.
    pub fn digest(&self, index: u64) -> Option<Digest> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.digests.get(i))
            .copied()
    }

    /// Appends an item and returns its index: one leaf hash, and the node hashes of the
    /// perfect subtrees it completes (one on average).
    ///
    /// # Errors
    ///
    /// [`Error::Materialize`] past 2^63 items (never in practice).
    pub fn register(&mut self, digest: Digest) -> Result<u64, Error> {
        let index = self.len();
        if index >= 1 << 63 {
            return Err(Error::Materialize {
                what: "log size",
                expected: "fewer than 2^63 items".to_owned(),
                actual: index.to_string(),
            });
        }
        self.digests.push(digest);
        let mut node = leaf_hash(self.algorithm, digest.as_bytes());
        let mut level = 0;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(node);
            if nodes.len() % 2 == 1 {
                break;
            }
            let (Some(right), Some(left)) = (nodes.last(), nodes.get(nodes.len() - 2)) else {
                break;
            };
            node = node_hash(self.algorithm, left, right);
            level += 1;
        }
        Ok(index)
    }

    /// The root over every item (`H("")` for the empty log).
    pub fn root(&self) -> Digest {
        self.root_at(self.len())
            .unwrap_or_else(|_| empty_root(self.algorithm))
    }

    /// The root over the first `size` items.
    ///
    /// # Errors
    ///
    /// [`Error::Materialize`] when `size` exceeds the log.
    pub fn root_at(&self, size: u64) -> Result<Digest, Error> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root(self.algorithm));
        }
        self.subtree(0, size)
    }

    /// The root over every item, with its size and algorithm.
    pub fn merkle_root(&self) -> MerkleRoot {
        MerkleRoot::new(self.algorithm, self.root(), self.len())
    }

    /// The inclusion proof of item `index` in the tree of the first `size` items.
    ///
    /// # Errors
    ///
    /// [`Error::Materialize`] when `size` exceeds the log or `index >= size`.
    pub fn inclusion_proof_at(&self, index: u64, size: u64) -> Result<InclusionProof, Error> {
        self.check_size(size)?;
        if index >= size {
            return Err(Error::Materialize {
                what: "item index",
                expected: format!("an index below {size}"),
                actual: index.to_string(),
            });
        }
        let mut path = Vec::with_capacity(64);
        self.path(index, 0, size, &mut path)?;
        Ok(InclusionProof::new(index, size, path)?)
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        if size > self.len() {
            return Err(Error::Materialize {
                what: "tree size",
                expected: format!("at most {} items", self.len()),
                actual: size.to_string(),
            });
        }
        Ok(())
    }

    /// The root of leaves `lo..hi` (`lo < hi <= len`), from stored perfect subtrees.
    fn subtree(&self, lo: u64, hi: u64) -> Result<Digest, Error> {
        let size = hi.saturating_sub(lo);
        if size.is_power_of_two() && lo.is_multiple_of(size) {
            let level = size.trailing_zeros();
            let node = usize::try_from(level)
                .ok()
                .and_then(|l| self.levels.get(l))
                .and_then(|nodes| usize::try_from(lo >> level).ok().and_then(|j| nodes.get(j)));
            return node.copied().ok_or(Error::Materialize {
                what: "subtree",
                expected: "a stored perfect subtree".to_owned(),
                actual: format!("none for {lo}..{hi}"),
            });
        }
        if size < 2 {
            return Err(Error::Materialize {
                what: "subtree",
                expected: "a non-empty range".to_owned(),
                actual: format!("{lo}..{hi}"),
            });
        }
        let k = split_point(size);
        let left = self.subtree(lo, lo + k)?;
        let right = self.subtree(lo + k, hi)?;
        Ok(node_hash(self.algorithm, &left, &right))
    }

    /// RFC 9162 `PATH(index, D[lo..hi))`, leaf first.
    fn path(&self, index: u64, lo: u64, hi: u64, out: &mut Vec<Digest>) -> Result<(), Error> {
        let size = hi.saturating_sub(lo);
        if size <= 1 {
            return Ok(());
        }
        let k = split_point(size);
        if index < lo + k {
            self.path(index, lo, lo + k, out)?;
            out.push(self.subtree(lo + k, hi)?);
        } else {
            self.path(index, lo + k, hi, out)?;
            out.push(self.subtree(lo, lo + k)?);
        }
        Ok(())
    }
}

/// The largest power of two below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests;
