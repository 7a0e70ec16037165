//! Unit tests of `lcm_managers::dataset`.

use lcm_model::verify::{
    compute_contents_root, record_content_digest, verify_record_inclusion, verify_split_contents,
    verify_split_records,
};
use std::sync::Arc;

use lcm_crypto::{Salt, Seed, SeededRandom};
use lcm_model::{FixedClock, Timestamp};

use super::*;
use crate::test_support::{
    Tamper, check_tampers, empty_field, only, overlap, password_refusal, root_mismatch,
    unexpected_value, unknown_reference,
};

/// A reproducible context: SHA-256, the KDF floor, a fixed clock and a seeded stream.
pub(crate) fn ctx(seed: u8) -> Context {
    let policy = Policy {
        kdf_iterations: 100_000,
        ..Policy::default()
    };
    ctx_with(policy, seed)
}

/// As [`ctx`] with another policy.
pub(crate) fn ctx_with(policy: Policy, seed: u8) -> Context {
    let clock = Arc::new(FixedClock::new(
        Timestamp::from_unix_micros(1_700_000_000_000_000),
        1_000,
    ));
    Context::new(
        policy,
        clock,
        SeededRandom::new(&Seed::from_bytes([seed; 32])),
    )
    .unwrap()
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

fn metadata() -> DatasetFamilyMetadata {
    DatasetFamilyMetadata::new("medical_images", "v1.0", "hospital", "custom")
}

fn three_splits() -> BTreeMap<DatasetSplit, SplitInfo> {
    BTreeMap::from([
        (DatasetSplit::Train, SplitInfo::new(ids("a", 8))),
        (DatasetSplit::Validation, SplitInfo::new(ids("b", 1))),
        (DatasetSplit::Test, SplitInfo::new(ids("c", 1))),
    ])
}

/// A manager under `ctx(seed)` holding the family `fam` (password `pw`), and its anchor.
fn family(seed: u8) -> (DatasetFamilyManager, Sealed<DatasetFamilyAnchor>) {
    let mut m = DatasetFamilyManager::new(ctx(seed));
    let fam = m
        .create_dataset_family_anchor("fam", metadata(), "pw")
        .unwrap();
    (m, fam)
}

#[test]
fn family_anchor_and_password() {
    let (m, a) = family(1);
    a.to_claimed().verify(m.context().policy()).unwrap();
    assert_eq!(a.record().kdf_iterations, 100_000);
    m.verify_password("fam", "pw").unwrap();
    assert_matches!(
        m.verify_password("fam", "pW"),
        Err(Error::WrongPassword { .. })
    );
    empty_field(m.verify_password("fam", ""), "master_password");
    assert_matches!(m.verify_password("nope", "pw"), Err(Error::NotFound { .. }));

    // Tampering with any input of the MAC makes the right password fail.
    let p = m.context().policy().clone();
    let tampers: [(Tamper<DatasetFamilyAnchor>, &str); 5] = [
        (|t| t.salt = Salt::from_bytes([0; 16]), "wrong password"),
        (|t| t.family_id = "fam2".into(), "wrong password"),
        (
            |t| t.metadata_digest = Digest::from_bytes([0; 32]),
            "seal mismatch",
        ),
        (|t| t.metadata.owner = "mallory".into(), "seal mismatch"),
        (|t| t.kdf_iterations = 100_001, "wrong password"),
    ];
    check_tampers(a.record(), &tampers, |t| {
        password_refusal(verify_family_password(&p, t, "pw"))
    });
    let mut t = a.into_record();
    t.kdf_iterations = 1;
    assert_matches!(verify_family_password(&p, &t, "pw"), Err(Error::Crypto(_)));
}

#[test]
fn family_anchor_rejects_bad_input() {
    let mut m = DatasetFamilyManager::new(ctx(1));
    let e = m.create_dataset_family_anchor("", metadata(), "pw");
    empty_field(e, "family_id");
    let e = m.create_dataset_family_anchor("f", metadata(), "");
    empty_field(e, "master_password");
    let bad = DatasetFamilyMetadata {
        license: String::new(),
        ..metadata()
    };
    match m.create_dataset_family_anchor("f", bad, "pw") {
        Err(Error::Empty {
            kind: "dataset family",
            id,
            field: "license",
        }) => assert_eq!(id, "f"),
        other => panic!("{other:?}"),
    }
    m.create_dataset_family_anchor("f", metadata(), "pw")
        .unwrap();
    let e = m.create_dataset_family_anchor("f", metadata(), "pw");
    assert_matches!(e, Err(Error::Model(lcm_model::Error::DuplicateId { .. })));

    let only_models = only(&[DomainType::Model]);
    let mut m = DatasetFamilyManager::new(Context::with_policy(only_models).unwrap());
    let e = m.create_dataset_family_anchor("f", metadata(), "pw");
    assert_matches!(e, Err(Error::DomainNotAllowed { .. }));
    // The seed's example policy lists the general dataset domain: families and splits pass.
    let seed_policy = only(&[DomainType::Dataset, DomainType::Model, DomainType::Training]);
    let mut m = DatasetFamilyManager::new(ctx_with(seed_policy, 1));
    let fam = m
        .create_dataset_family_anchor("f", metadata(), "pw")
        .unwrap();
    m.add_dataset_splits(&fam, three_splits()).unwrap();
    // Families only: splits are refused.
    let families_only = only(&[DomainType::DatasetFamily]);
    let mut m = DatasetFamilyManager::new(ctx_with(families_only, 1));
    let fam = m
        .create_dataset_family_anchor("f", metadata(), "pw")
        .unwrap();
    let e = m.add_dataset_splits(&fam, three_splits());
    assert_matches!(
        e,
        Err(Error::DomainNotAllowed {
            domain: "dataset_split"
        })
    );
}

#[test]
fn salts_differ_and_are_stored() {
    let mut m = DatasetFamilyManager::new(ctx(1));
    let a = m
        .create_dataset_family_anchor("f1", metadata(), "pw")
        .unwrap();
    let b = m
        .create_dataset_family_anchor("f2", metadata(), "pw")
        .unwrap();
    assert_ne!(a.record().salt, b.record().salt);
    assert_ne!(a.record().anchor, b.record().anchor);
    assert_eq!(a.record().metadata_digest, b.record().metadata_digest);
}

#[test]
fn splits_are_anchored_and_verifiable() {
    let (mut m, fam) = family(2);
    let splits = m.add_dataset_splits(&fam, three_splits()).unwrap();
    let p = m.context().policy().clone();
    assert_eq!(splits.len(), 3);
    for (split, a) in &splits {
        a.to_claimed().verify(&p).unwrap();
        assert_eq!(a.record().split, *split);
        assert_eq!(a.record().family_anchor, fam.digest());
        assert_eq!(m.split_anchor("fam", *split), Some(a));
        assert_eq!(m.find_split_anchor(&a.digest()), Some(a));
        let records = m.split_records("fam", *split).unwrap();
        verify_split_records(&p, a.record(), records).unwrap();
        for r in records {
            let proof = m.record_inclusion_proof("fam", *split, r).unwrap();
            verify_record_inclusion(&p, a.record(), r, &proof).unwrap();
        }
    }
    let train = splits[&DatasetSplit::Train].record();
    // Tamper twins of the record checks.
    let mut fewer = ids("a", 8);
    fewer.pop();
    unexpected_value(verify_split_records(&p, train, &fewer), "sample_count");
    let mut other = ids("a", 8);
    other[3] = "zzz".into();
    root_mismatch(
        verify_split_records(&p, train, &other),
        "split assignment_digest",
    );
    let mut forged = train.clone();
    let mut sorted_other = other.clone();
    sorted_other.sort();
    forged.assignment_digest = compute_split_assignment_digest(&p, &sorted_other);
    root_mismatch(
        verify_split_records(&p, &forged, &other),
        "split records_root",
    );
    let proof = m
        .record_inclusion_proof("fam", DatasetSplit::Train, "a003")
        .unwrap();
    assert!(verify_record_inclusion(&p, train, "a004", &proof).is_err());
    assert!(
        verify_record_inclusion(&p, splits[&DatasetSplit::Test].record(), "a003", &proof).is_err()
    );
    assert_matches!(
        m.record_inclusion_proof("fam", DatasetSplit::Train, "b000"),
        Err(Error::NotFound { .. })
    );

    // Root: fixed order, changes with any split.
    let root = m.datasets_root_anchor("fam").unwrap();
    let digests: BTreeMap<_, _> = splits.iter().map(|(s, a)| (*s, a.digest())).collect();
    assert_eq!(root, compute_datasets_root(&p, &digests));
    let mut swapped = digests.clone();
    let (t, v) = (
        swapped[&DatasetSplit::Train],
        swapped[&DatasetSplit::Validation],
    );
    swapped.insert(DatasetSplit::Train, v);
    swapped.insert(DatasetSplit::Validation, t);
    assert_ne!(root, compute_datasets_root(&p, &swapped));
    let mut fewer = digests;
    fewer.remove(&DatasetSplit::Test);
    assert_ne!(root, compute_datasets_root(&p, &fewer));
}

#[test]
fn content_digests_are_bound() {
    let p = ctx(9).policy().clone();
    let train_ids = ids("a", 4);
    let contents: BTreeMap<String, Digest> = train_ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                record_content_digest(&p, format!("pixels of {id}").as_bytes()),
            )
        })
        .collect();
    let make = |contents: BTreeMap<String, Digest>| {
        let (mut m, fam) = family(9);
        let info = BTreeMap::from([
            (
                DatasetSplit::Train,
                SplitInfo {
                    content_digests: contents,
                    ..SplitInfo::new(ids("a", 4))
                },
            ),
            (DatasetSplit::Test, SplitInfo::new(ids("c", 2))),
        ]);
        let out = m.add_dataset_splits(&fam, info);
        (m, out)
    };
    let (m, out) = make(contents.clone());
    let splits = out.unwrap();
    let train = splits[&DatasetSplit::Train].record();
    assert_eq!(
        train.contents_root,
        Some(compute_contents_root(&p, &contents))
    );
    assert_eq!(splits[&DatasetSplit::Test].record().contents_root, None);
    let stored = m.split_contents("fam", DatasetSplit::Train).unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored["a002"], contents["a002"]);
    assert!(m.split_contents("fam", DatasetSplit::Test).is_none());
    verify_split_contents(&p, train, &contents).unwrap();

    // Tamper twins.
    let mut changed = contents.clone();
    changed.insert("a002".into(), record_content_digest(&p, b"other pixels"));
    let e = verify_split_contents(&p, train, &changed);
    root_mismatch(e, "split contents_root");
    let mut fewer = contents.clone();
    fewer.remove("a000");
    let e = verify_split_contents(&p, train, &fewer);
    root_mismatch(e, "split assignment_digest");
    let e = verify_split_contents(&p, splits[&DatasetSplit::Test].record(), &contents);
    unexpected_value(e, "contents_root");
    // One changed content digest changes the split anchor.
    let (_, other) = make(changed);
    assert_ne!(
        other.unwrap()[&DatasetSplit::Train].digest(),
        splits[&DatasetSplit::Train].digest()
    );

    // Content digests must match the ids one for one.
    let (_, e) = make(fewer);
    let (_, actual) = unexpected_value(e, "content_digests");
    assert_eq!(actual, "no digest for \"a000\"");
    let mut extra = contents.clone();
    extra.insert("zz".into(), Digest::from_bytes([0; 32]));
    let (_, e) = make(extra);
    let (_, actual) = unexpected_value(e, "content_digests");
    assert_eq!(actual, "a digest for \"zz\", which is not a record id");
    let mut renamed = contents;
    let d = renamed.remove("a001").unwrap();
    renamed.insert("a0010".into(), d);
    let (_, e) = make(renamed);
    unexpected_value(e, "content_digests");
}

#[test]
fn overlapping_splits_name_the_record() {
    let (mut m, fam) = family(3);
    let mut info = three_splits();
    info.insert(
        DatasetSplit::Test,
        SplitInfo::new(vec!["c000".into(), "a005".into()]),
    );
    assert_eq!(
        overlap(m.add_dataset_splits(&fam, info)),
        ["fam", "a005", "train", "test"]
    );
    // Nothing was stored; a clean batch then works.
    assert!(m.split_anchors("fam").is_empty());
    let mut two = three_splits();
    two.remove(&DatasetSplit::Test);
    m.add_dataset_splits(&fam, two).unwrap();
    // A later split overlapping an earlier one is caught too.
    let later = BTreeMap::from([(DatasetSplit::Test, SplitInfo::new(vec!["b000".into()]))]);
    assert_eq!(
        overlap(m.add_dataset_splits(&fam, later)),
        ["fam", "b000", "val", "test"]
    );
    let again = BTreeMap::from([(DatasetSplit::Train, SplitInfo::new(vec!["x".into()]))]);
    assert_matches!(
        m.add_dataset_splits(&fam, again),
        Err(Error::Model(lcm_model::Error::DuplicateId { .. }))
    );
    let root_before = m.datasets_root_anchor("fam").unwrap();
    let test = BTreeMap::from([(DatasetSplit::Test, SplitInfo::new(vec!["c000".into()]))]);
    m.add_dataset_splits(&fam, test).unwrap();
    assert_ne!(root_before, m.datasets_root_anchor("fam").unwrap());
}

#[test]
fn split_input_errors() {
    let (mut m, fam) = family(4);
    let one = |info: SplitInfo| BTreeMap::from([(DatasetSplit::Train, info)]);

    let e = m.add_dataset_splits(&fam, BTreeMap::new());
    assert_matches!(
        e,
        Err(Error::Model(lcm_model::Error::EmptyCollection {
            field: "splits_info",
            ..
        }))
    );
    let e = m.add_dataset_splits(&fam, one(SplitInfo::new(vec![])));
    assert_matches!(
        e,
        Err(Error::Model(lcm_model::Error::EmptyCollection {
            field: "record_ids",
            ..
        }))
    );
    let e = m.add_dataset_splits(
        &fam,
        one(SplitInfo {
            sample_count: 8000,
            ..SplitInfo::new(ids("a", 3))
        }),
    );
    let (id, actual) = unexpected_value(e, "sample_count");
    assert_eq!((id.as_str(), actual.as_str()), ("fam/train", "8000"));
    let e = m.add_dataset_splits(&fam, one(SplitInfo::new(vec!["x".into(), String::new()])));
    empty_field(e, "record_ids");
    let e = m.add_dataset_splits(
        &fam,
        one(SplitInfo::new(vec!["x".into(), "y".into(), "x".into()])),
    );
    match e {
        Err(Error::DuplicateRecord { record, split, .. }) => {
            assert_eq!((record.as_str(), split.as_str()), ("x", "train"));
        }
        other => panic!("{other:?}"),
    }

    // An anchor this manager did not make, or an altered one, is refused.
    let (_, foreign) = family(5);
    let e = m.add_dataset_splits(&foreign, three_splits());
    unknown_reference(e, "family_anchor");
    // A validly sealed family that is not the one this manager anchored.
    let mut altered = fam.record().clone();
    altered.metadata.owner = "mallory".into();
    let altered = Sealed::seal(altered, m.context().policy()).unwrap();
    let e = m.add_dataset_splits(&altered, three_splits());
    assert_matches!(e, Err(Error::UnknownReference { .. }));
    assert_matches!(
        m.datasets_root_anchor("fam"),
        Err(Error::Model(lcm_model::Error::EmptyCollection {
            field: "splits",
            ..
        }))
    );
    assert_matches!(m.datasets_root_anchor("x"), Err(Error::NotFound { .. }));
}

#[test]
fn assign_splits_is_reproducible_and_exact() {
    let all = ids("r", 101);
    let ratios = BTreeMap::from([
        (DatasetSplit::Train, 70),
        (DatasetSplit::Validation, 15),
        (DatasetSplit::Test, 15),
    ]);
    let a = assign_splits(&all, &ratios, 42).unwrap();
    // 70.7, 15.15, 15.15 -> 70 + 15 + 15 = 100, the leftover goes to train (0.7 largest).
    let sizes: Vec<usize> = a.values().map(Vec::len).collect();
    assert_eq!(sizes, vec![71, 15, 15]);
    let mut union: Vec<String> = a.values().flatten().cloned().collect();
    union.sort();
    assert_eq!(union, all);
    // Same seed, any input order: same assignment.
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(assign_splits(&reversed, &ratios, 42).unwrap(), a);
    // Another seed: another assignment.
    assert_ne!(assign_splits(&all, &ratios, 43).unwrap(), a);
    // Pinned: the first test ids for seed 42 never change across runs or machines.
    let pinned: Vec<&str> = a[&DatasetSplit::Test]
        .iter()
        .take(3)
        .map(String::as_str)
        .collect();
    assert_eq!(pinned, PINNED_TEST_IDS);

    let e = assign_splits(&all, &BTreeMap::from([(DatasetSplit::Train, 0)]), 1);
    unexpected_value(e, "ratios");
    let e = assign_splits::<String>(&[], &ratios, 1);
    assert_matches!(
        e,
        Err(Error::Model(lcm_model::Error::EmptyCollection { .. }))
    );
    let e = assign_splits(&["a", "b", "a"], &ratios, 1);
    unexpected_value(e, "record_ids");
    let e = assign_splits(&["a", ""], &ratios, 1);
    assert_matches!(e, Err(Error::Empty { .. }));
    let zero_test = BTreeMap::from([(DatasetSplit::Train, 1), (DatasetSplit::Test, 0)]);
    let z = assign_splits(&["a", "b"], &zero_test, 1).unwrap();
    assert_eq!(
        (z[&DatasetSplit::Train].len(), z[&DatasetSplit::Test].len()),
        (2, 0)
    );
}

const PINNED_TEST_IDS: [&str; 3] = ["r004", "r025", "r031"];

/// A small deterministic generator for the randomized tests below.
struct Gen(SeededRandom);

impl Gen {
    fn new(seed: u8) -> Self {
        Self(SeededRandom::new(&Seed::from_bytes([seed; 32])))
    }

    fn below(&mut self, n: u64) -> u64 {
        let mut b = [0u8; 8];
        lcm_crypto::RandomSource::fill(&mut self.0, &mut b).unwrap();
        u64::from_le_bytes(b) % n.max(1)
    }
}

#[test]
fn assign_splits_partitions_exactly_for_random_inputs() {
    let mut g = Gen::new(40);
    for case in 0..200 {
        let n = usize::try_from(g.below(60)).unwrap() + 1;
        let all: Vec<String> = (0..n)
            .map(|i| format!("id{}", g.below(1000) * 100 + i as u64))
            .collect();
        let weights: Vec<u32> = (0..3).map(|_| u32::try_from(g.below(5)).unwrap()).collect();
        if weights.iter().all(|&w| w == 0) {
            continue;
        }
        let ratios: BTreeMap<DatasetSplit, u32> = DatasetSplit::ALL
            .into_iter()
            .zip(weights.iter().copied())
            .collect();
        let seed = g.below(u64::MAX);
        let a = assign_splits(&all, &ratios, seed).unwrap();
        // A partition of the input.
        let mut union: Vec<&String> = a.values().flatten().collect();
        union.sort();
        let mut expected: Vec<&String> = all.iter().collect();
        expected.sort();
        assert_eq!(union, expected, "case {case}");
        // Sizes: floor(n w / W) or one more, the extras going to the largest remainders.
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let n64 = n as u64;
        let mut extras = Vec::new();
        for (split, &w) in DatasetSplit::ALL.iter().zip(&weights) {
            let floor = n64 * u64::from(w) / total;
            let got = a[split].len() as u64;
            assert!(
                got == floor || got == floor + 1,
                "case {case}: {split} got {got}, floor {floor}"
            );
            extras.push((n64 * u64::from(w) % total, got - floor));
        }
        for x in &extras {
            for y in &extras {
                assert!(
                    !(x.0 > y.0 && x.1 < y.1),
                    "case {case}: extras out of remainder order {extras:?}"
                );
            }
        }
        // Reproducible, and independent of the input order.
        let mut shuffled = all.clone();
        shuffled.rotate_left(usize::try_from(g.below(n as u64)).unwrap());
        assert_eq!(
            assign_splits(&shuffled, &ratios, seed).unwrap(),
            a,
            "case {case}"
        );
    }
}

#[test]
fn overlap_detection_matches_a_brute_force_oracle() {
    let mut g = Gen::new(41);
    let (mut clean, mut overlapping) = (0, 0);
    for case in 0..25 {
        // Ids drawn from a small pool, so that some cases overlap and some do not.
        let mut info = BTreeMap::new();
        let mut lists = BTreeMap::new();
        for split in DatasetSplit::ALL {
            let mut ids: Vec<String> = (0..4).map(|_| format!("r{}", g.below(40))).collect();
            ids.sort();
            ids.dedup();
            lists.insert(split, ids.clone());
            info.insert(split, SplitInfo::new(ids));
        }
        let mut shared = Vec::new();
        for (i, a) in DatasetSplit::ALL.iter().enumerate() {
            for b in DatasetSplit::ALL.iter().skip(i + 1) {
                for r in &lists[a] {
                    if lists[b].contains(r) {
                        shared.push((r.clone(), a.to_string(), b.to_string()));
                    }
                }
            }
        }
        let (mut m, fam) = family(42);
        match m.add_dataset_splits(&fam, info) {
            Ok(_) => {
                assert!(shared.is_empty(), "case {case}: missed {shared:?}");
                clean += 1;
            }
            Err(Error::OverlappingSplits {
                record,
                first,
                second,
                ..
            }) => {
                assert!(
                    shared.contains(&(record, first, second)),
                    "case {case}: {shared:?}"
                );
                overlapping += 1;
            }
            Err(e) => panic!("case {case}: {e:?}"),
        }
    }
    // Both outcomes occurred, so neither branch is vacuous.
    assert!(
        clean > 0 && overlapping > 0,
        "{clean} clean, {overlapping} overlapping"
    );
}
