//! The Python reference's Merkle tree, reproduced **only** to recompute the reference's roots.
//!
//! <div class="warning">
//!
//! **This tree is insecure. Do not use it for anything new; use `lcm_crypto::merkle`.**
//!
//! It reproduces `MerkleTree` of the Python reference (DenzilGreenwood/pyciaf 1.7.0,
//! `ciaf/core/merkle.py`) bit for bit, so that `lcm` can recompute and check roots that the
//! reference produced. Its construction has known, exploitable weaknesses:
//!
//! - **Duplicate-last ambiguity (CVE-2012-2459 style).** An odd level pairs its last node with
//!   itself, so `root([a, b, c]) == root([a, b, c, c])`: a root does not fix the number of
//!   leaves, and a leaf can be "added" without changing the root.
//! - **No leaf/node domain separation.** Leaves are used as given (not hashed again, no `0x00`
//!   prefix) and nodes are `SHA-256(left || right)` without a `0x01` prefix, so an interior
//!   node can be presented as a leaf: `root([a, b, c, d]) == root([H(a||b), H(c||d)])`, and a
//!   one-step proof for the "leaf" `H(a||b)` verifies against that root.
//! - **Proofs carry no index and no tree size**, only sibling sides, so a proof does not say
//!   where the leaf is or how big the tree was.
//! - **The one-leaf tree's root is the leaf itself**, and the empty tree's root is
//!   `SHA-256("empty_tree")`, a constant anyone can compute.
//!
//! RFC 9162 trees (`lcm_crypto::merkle::MerkleTree`) have none of these problems; the tests show
//! the collisions above happen here and not there.
//!
//! </div>
//!
//! # Examples
//!
//! ```
//! use lcm_pyciaf::tree::DuplicateLastTree;
//! use lcm_crypto::{Digest, HashAlgorithm, hash};
//!
//! let leaves: Vec<Digest> = (0..3).map(|i| hash(HashAlgorithm::Sha256, &[i])).collect();
//! let tree = DuplicateLastTree::from_leaves(leaves.iter().copied());
//! let proof = tree.proof(2)?;
//! lcm_pyciaf::tree::verify_proof(&leaves[2], &proof, &tree.root())?;
//!
//! // The weakness: doubling the last leaf does not change the root.
//! let mut doubled = leaves.clone();
//! doubled.push(leaves[2]);
//! assert_eq!(DuplicateLastTree::from_leaves(doubled).root(), tree.root());
//! # Ok::<(), lcm_crypto::Error>(())
//! ```

use lcm_crypto::{Digest, Error, HashAlgorithm, hash};

/// The root the reference gives the empty tree: `SHA-256("empty_tree")`.
pub fn empty_root() -> Digest {
    hash(HashAlgorithm::Sha256, b"empty_tree")
}

/// `SHA-256(left || right)`, the reference's node rule (no prefix).
fn pair(left: &Digest, right: &Digest) -> Digest {
    let mut input = [0u8; 64];
    input[..32].copy_from_slice(left.as_bytes());
    input[32..].copy_from_slice(right.as_bytes());
    hash(HashAlgorithm::Sha256, &input)
}

/// Which side of the running hash a proof sibling sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Side {
    /// The sibling is the left input: the next hash is `SHA-256(sibling || current)`.
    Left,
    /// The sibling is the right input: the next hash is `SHA-256(current || sibling)`.
    Right,
}

/// One step of a legacy proof: a sibling hash and its side (the reference's
/// `(sibling_hex, "left" | "right")` tuple).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ProofStep {
    /// The sibling hash.
    pub sibling: Digest,
    /// The side the sibling is on.
    pub side: Side,
}

/// The reference's duplicate-last tree over raw 32-byte leaves. **Insecure**: see the
/// [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateLastTree {
    /// `levels[0]` are the leaves as given; each level above pairs its lower level, the last
    /// node of an odd level with itself. Empty for no leaves.
    levels: Vec<Vec<Digest>>,
}

impl DuplicateLastTree {
    /// Builds the tree over `leaves`, used as given (not hashed again).
    pub fn from_leaves(leaves: impl IntoIterator<Item = Digest>) -> Self {
        let mut level: Vec<Digest> = leaves.into_iter().collect();
        let mut levels = Vec::new();
        while level.len() > 1 {
            let next = level
                .chunks(2)
                .map(|c| match c {
                    [l, r] => pair(l, r),
                    [l] => pair(l, l),
                    _ => empty_root(),
                })
                .collect();
            levels.push(std::mem::replace(&mut level, next));
        }
        if !level.is_empty() {
            levels.push(level);
        }
        Self { levels }
    }

    /// The root: the leaf itself for one leaf, [`empty_root`] for none.
    pub fn root(&self) -> Digest {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or_else(empty_root)
    }

    /// All levels, leaves first (as the reference's `tree` attribute).
    pub fn levels(&self) -> &[Vec<Digest>] {
        &self.levels
    }

    /// The number of leaves.
    pub fn len(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reference's proof for the leaf at `index`, bottom-up. A duplicated last node is its
    /// own sibling, on the right. A one-leaf tree has the empty proof.
    ///
    /// (The reference looks the leaf up by value and takes its first occurrence; this takes
    /// the position, which is the same for distinct leaves.)
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index >= len()`.
    pub fn proof(&self, index: usize) -> Result<Vec<ProofStep>, Error> {
        if index >= self.len() {
            return Err(Error::IndexOutOfRange {
                index: u64::try_from(index).unwrap_or(u64::MAX),
                size: u64::try_from(self.len()).unwrap_or(u64::MAX),
            });
        }
        let mut steps = Vec::new();
        let mut i = index;
        for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
            let step = if i.is_multiple_of(2) {
                let sibling = level.get(i + 1).or_else(|| level.get(i));
                sibling.map(|&sibling| ProofStep {
                    sibling,
                    side: Side::Right,
                })
            } else {
                level.get(i - 1).map(|&sibling| ProofStep {
                    sibling,
                    side: Side::Left,
                })
            };
            steps.extend(step);
            i /= 2;
        }
        Ok(steps)
    }
}

/// The reference's proof check: fold the steps from `leaf` and compare with `root` (here in
/// constant time). As in the reference, an empty proof verifies exactly when `leaf == root`.
/// **Insecure**: a proof without index and size proves little; see the [module docs](self).
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::RootMismatch`] if the folded hash is not `root`.
pub fn verify_proof(leaf: &Digest, proof: &[ProofStep], root: &Digest) -> Result<(), Error> {
    let computed = proof.iter().fold(*leaf, |acc, step| match step.side {
        Side::Left => pair(&step.sibling, &acc),
        Side::Right => pair(&acc, &step.sibling),
    });
    if bool::from(computed.ct_eq(root)) {
        Ok(())
    } else {
        Err(Error::RootMismatch {
            expected: *root,
            actual: computed,
        })
    }
}
