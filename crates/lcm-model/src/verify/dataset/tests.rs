//! Unit tests of `lcm_model::verify::dataset`.

use lcm_crypto::merkle::MerkleTree;
use serde_json::Map;

use super::*;
use crate::Timestamp;

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i:02}")).collect()
}

/// A split anchor over `ids` (sorted), with contents when given.
fn anchor(
    p: &Policy,
    ids: &[String],
    contents: Option<&BTreeMap<String, Digest>>,
) -> DatasetSplitAnchor {
    DatasetSplitAnchor {
        family_id: "fam".into(),
        family_anchor: Digest::from_bytes([1; 32]),
        split: DatasetSplit::Train,
        sample_count: u64::try_from(ids.len()).unwrap(),
        assignment_digest: compute_split_assignment_digest(p, ids),
        records_root: compute_records_root(p, ids),
        contents_root: contents.map(|c| compute_contents_root(p, c)),
        rng_seed: None,
        selection_rules: Map::new(),
        stratify_by: Vec::new(),
        created_at: Timestamp::from_unix_micros(0),
    }
}

#[test]
fn split_records_and_inclusion_tamper_twins() {
    let p = Policy::default();
    let ids = ids(7);
    let a = anchor(&p, &ids, None);
    verify_split_records(&p, &a, &ids).unwrap();
    let mut shuffled = ids.clone();
    shuffled.reverse();
    verify_split_records(&p, &a, &shuffled).unwrap();
    let tree = records_tree(&p, &ids);
    for (i, id) in ids.iter().enumerate() {
        let proof = tree.inclusion_proof(u64::try_from(i).unwrap()).unwrap();
        verify_record_inclusion(&p, &a, id, &proof).unwrap();
        assert_matches!(
            verify_record_inclusion(&p, &a, "other", &proof),
            Err(Error::Crypto(_))
        );
    }
    let e = verify_split_records(&p, &a, &ids[1..]);
    assert_matches!(
        e,
        Err(Error::UnexpectedValue {
            field: "sample_count",
            ..
        })
    );
    let mut dup = ids.clone();
    dup[1] = dup[0].clone();
    let e = verify_split_records(&p, &a, &dup);
    assert_matches!(
        e,
        Err(Error::UnexpectedValue {
            field: "sample_count",
            ..
        })
    );
    let mut other = ids;
    other[3] = "zz".into();
    let e = verify_split_records(&p, &a, &other);
    assert_matches!(
        e,
        Err(Error::RootMismatch {
            root: "split assignment_digest",
            ..
        })
    );
    let mut forged = a.clone();
    let mut sorted = other.clone();
    sorted.sort();
    forged.assignment_digest = compute_split_assignment_digest(&p, &sorted);
    let e = verify_split_records(&p, &forged, &other);
    assert_matches!(
        e,
        Err(Error::RootMismatch {
            root: "split records_root",
            ..
        })
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        format!(
            "split records_root \"fam/train\": digest mismatch: stored {}, recomputed {}",
            a.records_root,
            compute_records_root(&p, &sorted)
        )
    );
}

#[test]
fn split_contents_tamper_twins() {
    let p = Policy::default();
    let ids = ids(5);
    let contents: BTreeMap<String, Digest> = ids
        .iter()
        .map(|id| (id.clone(), record_content_digest(&p, id.as_bytes())))
        .collect();
    let a = anchor(&p, &ids, Some(&contents));
    verify_split_contents(&p, &a, &contents).unwrap();
    let mut changed = contents.clone();
    changed.insert("r02".into(), record_content_digest(&p, b"other"));
    let e = verify_split_contents(&p, &a, &changed);
    assert_matches!(
        e,
        Err(Error::RootMismatch {
            root: "split contents_root",
            ..
        })
    );
    let mut fewer = contents.clone();
    fewer.remove("r00");
    let e = verify_split_contents(&p, &a, &fewer);
    assert_matches!(
        e,
        Err(Error::RootMismatch {
            root: "split assignment_digest",
            ..
        })
    );
    let e = verify_split_contents(&p, &anchor(&p, &ids, None), &contents);
    assert_matches!(
        e,
        Err(Error::UnexpectedValue {
            field: "contents_root",
            ..
        })
    );
}

#[test]
fn datasets_root_is_the_root_over_split_digests_in_split_order() {
    let p = Policy::default();
    let splits = BTreeMap::from([
        (DatasetSplit::Test, Digest::from_bytes([3; 32])),
        (DatasetSplit::Train, Digest::from_bytes([1; 32])),
        (DatasetSplit::Validation, Digest::from_bytes([2; 32])),
    ]);
    let expected = MerkleTree::from_leaves([[1u8; 32], [2; 32], [3; 32]]).root();
    assert_eq!(compute_datasets_root(&p, &splits), expected);
}

#[test]
fn assignment_digest_is_injective() {
    let p = Policy::default();
    let a = compute_split_assignment_digest(&p, &["ab".into(), "c".into()]);
    let b = compute_split_assignment_digest(&p, &["a".into(), "bc".into()]);
    assert_ne!(a, b);
    assert_ne!(
        compute_records_root(&p, &["ab".into(), "c".into()]),
        compute_records_root(&p, &["a".into(), "bc".into()])
    );
}
