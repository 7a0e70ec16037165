//! Dataset splits: assignment digests, records and contents roots, the datasets root, and the
//! checks of a split anchor against its record ids, their contents or one inclusion proof.

use std::collections::{BTreeMap, BTreeSet};

use lcm_crypto::merkle::{InclusionProof, MerkleRoot, MerkleTree, leaf_hash};
use lcm_crypto::{Digest, DomainHasher, hash_domain};

use super::agree;
use crate::records::{DatasetSplit, DatasetSplitAnchor};
use crate::{Error, Policy};

/// The kind name of a split in error messages.
const SPLIT: &str = "dataset split";
/// The record kind of a per-record leaf digest.
const RECORD_KIND: &str = "dataset-record";
/// The record kind of a split assignment digest.
const ASSIGNMENT_KIND: &str = "split-assignment";
/// The record kind of a per-record content leaf (id and content digest).
const CONTENT_KIND: &str = "dataset-record-content";
/// The record kind of [`record_content_digest`].
const CONTENT_BYTES_KIND: &str = "dataset-record-bytes";

/// The split assignment digest of sorted, unique record ids: `hash_domain` under
/// `lcm/<v>/split-assignment` with each id as one length-prefixed part, which makes the
/// encoding injective.
pub fn compute_split_assignment_digest(policy: &Policy, sorted_ids: &[String]) -> Digest {
    let mut h = DomainHasher::new(policy.hash_algorithm, &policy.domain_tag(ASSIGNMENT_KIND));
    for id in sorted_ids {
        h.part(id.as_bytes());
    }
    h.finalize()
}

/// The leaf digest of one record id in a split's Merkle tree:
/// `hash_domain("lcm/<v>/dataset-record", [id])`.
pub fn record_leaf_digest(policy: &Policy, record_id: &str) -> Digest {
    hash_domain(
        policy.hash_algorithm,
        &policy.domain_tag(RECORD_KIND),
        &[record_id.as_bytes()],
    )
}

/// The Merkle tree of a split's sorted, unique record ids: one [`record_leaf_digest`] per id,
/// in that order. Its root is [`compute_records_root`]; its inclusion proofs are checked by
/// [`verify_record_inclusion`].
pub fn records_tree(policy: &Policy, sorted_ids: &[String]) -> MerkleTree {
    // The tag is built once, not per record.
    let tag = policy.domain_tag(RECORD_KIND);
    let leaves: Vec<Digest> = sorted_ids
        .iter()
        .map(|id| hash_domain(policy.hash_algorithm, &tag, &[id.as_bytes()]))
        .collect();
    MerkleTree::from_leaves_with(policy.hash_algorithm, leaves.iter().map(Digest::as_bytes))
}

/// The records root of sorted, unique record ids: the RFC 9162 root over their
/// [`record_leaf_digest`]s in that order.
pub fn compute_records_root(policy: &Policy, sorted_ids: &[String]) -> Digest {
    records_tree(policy, sorted_ids).root()
}

/// The datasets root over a family's split anchors: the RFC 9162 root over their full digests
/// in the fixed split order (train, validation, test), under the policy's hash algorithm.
pub fn compute_datasets_root(
    policy: &Policy,
    split_anchors: &BTreeMap<DatasetSplit, Digest>,
) -> Digest {
    MerkleTree::from_leaves_with(
        policy.hash_algorithm,
        split_anchors.values().map(Digest::as_bytes),
    )
    .root()
}

/// The digest of one record's content bytes, for
/// [`SplitInfo::content_digests`](crate::records::SplitInfo::content_digests):
/// `hash_domain("lcm/<v>/dataset-record-bytes", [content])`. Any other full digest of the
/// content (for example of a file) may be used instead, as long as verifiers use the same.
pub fn record_content_digest(policy: &Policy, content: &[u8]) -> Digest {
    hash_domain(
        policy.hash_algorithm,
        &policy.domain_tag(CONTENT_BYTES_KIND),
        &[content],
    )
}

/// The Merkle tree of a split's content digests: one leaf
/// `hash_domain("lcm/<v>/dataset-record-content", [id, content digest])` per pair of
/// `sorted_ids` and `contents`, in that order. The two lists are paired up to the shorter one;
/// callers pass lists of equal length (the ids and digests of one map, as
/// [`compute_contents_root`] does).
pub fn contents_tree(policy: &Policy, sorted_ids: &[String], contents: &[Digest]) -> MerkleTree {
    let tag = policy.domain_tag(CONTENT_KIND);
    let leaves: Vec<Digest> = sorted_ids
        .iter()
        .zip(contents)
        .map(|(id, c)| hash_domain(policy.hash_algorithm, &tag, &[id.as_bytes(), c.as_bytes()]))
        .collect();
    MerkleTree::from_leaves_with(policy.hash_algorithm, leaves.iter().map(Digest::as_bytes))
}

/// The contents root of a split's content digests: the RFC 9162 root over
/// `hash_domain("lcm/<v>/dataset-record-content", [id, content digest])` in id order.
pub fn compute_contents_root(policy: &Policy, contents: &BTreeMap<String, Digest>) -> Digest {
    let ids: Vec<String> = contents.keys().cloned().collect();
    let digests: Vec<Digest> = contents.values().copied().collect();
    contents_tree(policy, &ids, &digests).root()
}

/// Checks a split anchor against the content digests of its records: the ids must be the
/// anchored ones and the contents root must match.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::UnexpectedValue`] naming `contents_root` for an anchor made without content
/// digests; [`Error::RootMismatch`] naming `assignment_digest` when the ids differ, or
/// `contents_root` when a content digest differs.
pub fn verify_split_contents(
    policy: &Policy,
    anchor: &DatasetSplitAnchor,
    contents: &BTreeMap<String, Digest>,
) -> Result<(), Error> {
    let id = format!("{}/{}", anchor.family_id, anchor.split);
    let Some(stored) = anchor.contents_root else {
        return Err(Error::UnexpectedValue {
            kind: SPLIT,
            id,
            field: "contents_root",
            expected: "an anchor made with content digests".to_owned(),
            actual: "none".to_owned(),
        });
    };
    let ids: Vec<String> = contents.keys().cloned().collect();
    same_assignment(policy, anchor, &id, &ids)?;
    let digests: Vec<Digest> = contents.values().copied().collect();
    let root = contents_tree(policy, &ids, &digests).root();
    same_root("split contents_root", id, stored, root)
}

/// `Ok` when the split's assignment digest is the one recomputed from its (sorted) record
/// ids, else [`Error::RootMismatch`].
fn same_assignment(
    policy: &Policy,
    anchor: &DatasetSplitAnchor,
    id: &str,
    sorted_ids: &[String],
) -> Result<(), Error> {
    let assignment = compute_split_assignment_digest(policy, sorted_ids);
    same_root(
        "split assignment_digest",
        id.to_owned(),
        anchor.assignment_digest,
        assignment,
    )
}

/// `Ok` when the `root` the split `id` stores is the one recomputed, else
/// [`Error::RootMismatch`].
fn same_root(
    root: &'static str,
    id: String,
    stored: Digest,
    recomputed: Digest,
) -> Result<(), Error> {
    agree(stored, recomputed, |stored, recomputed| {
        Error::RootMismatch {
            root,
            id,
            stored,
            recomputed,
        }
    })
}

/// Checks a split anchor against a list of record ids: the count, the assignment digest and
/// the records root are recomputed.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::UnexpectedValue`] naming `sample_count` for a different count or a duplicate id;
/// [`Error::RootMismatch`] naming `assignment_digest` or `records_root` when the ids are not
/// the anchored ones.
pub fn verify_split_records(
    policy: &Policy,
    anchor: &DatasetSplitAnchor,
    record_ids: &[String],
) -> Result<(), Error> {
    let id = format!("{}/{}", anchor.family_id, anchor.split);
    let mut sorted = record_ids.to_vec();
    sorted.sort_unstable();
    let unique: BTreeSet<&String> = sorted.iter().collect();
    let count = u64::try_from(record_ids.len()).unwrap_or(u64::MAX);
    if unique.len() != sorted.len() || anchor.sample_count != count {
        return Err(Error::UnexpectedValue {
            kind: SPLIT,
            id,
            field: "sample_count",
            expected: format!("{} unique record ids", anchor.sample_count),
            actual: format!("{count} ids, {} unique", unique.len()),
        });
    }
    same_assignment(policy, anchor, &id, &sorted)?;
    let root = compute_records_root(policy, &sorted);
    same_root("split records_root", id, anchor.records_root, root)
}

/// Checks an inclusion proof of `record_id` in the split of `anchor`.
///
/// This does not panic.
///
/// # Errors
///
/// [`Error::Crypto`] when the proof does not lead to the anchor's records root.
pub fn verify_record_inclusion(
    policy: &Policy,
    anchor: &DatasetSplitAnchor,
    record_id: &str,
    proof: &InclusionProof,
) -> Result<(), Error> {
    let leaf = leaf_hash(
        policy.hash_algorithm,
        record_leaf_digest(policy, record_id).as_bytes(),
    );
    let root = MerkleRoot::new(
        policy.hash_algorithm,
        anchor.records_root,
        anchor.sample_count,
    );
    proof.verify(&leaf, &root)?;
    Ok(())
}

#[cfg(test)]
mod tests;
