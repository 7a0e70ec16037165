//! [`DatasetFamilyManager`]: dataset family anchors, their splits, the datasets root, and the
//! seeded split assignment helper [`assign_splits`].
//!
//! What the Python reference only promises, checked here:
//!
//! - the family anchor is a MAC under a key derived from the master password with a random
//!   salt that is **stored** in the anchor, so [`DatasetFamilyManager::verify_password`] can
//!   check a password later (the reference discards the salt);
//! - a split commits to its record ids with an injective assignment digest (the reference
//!   joins ids without a separator, so `["ab","c"]` and `["a","bc"]` collide) and an RFC 9162
//!   Merkle root with per-record inclusion proofs;
//! - **a record in two splits is an error** ([`Error::OverlappingSplits`]) naming the record,
//!   because train/test leakage silently invalidates every evaluation;
//! - split assignment is reproducible from a seed on every machine (the reference derives its
//!   seeds from Python's per-process `hash()`).
//!
//! - a split can also bind the *content* of its records (the seed's sample hashes): with
//!   [`SplitInfo::content_digests`] the split anchor carries a contents root, so a record
//!   replaced under the same id is detected ([`verify_split_contents`]).
//!
//! The seed's second dataset manager (`LCMDatasetManager`, one password anchor per split) maps
//! onto this one: its `create_dataset_splits` is
//! [`DatasetFamilyManager::create_dataset_family_anchor`] followed by
//! [`DatasetFamilyManager::add_dataset_splits`], its `add_samples_to_split` is
//! [`SplitInfo::content_digests`], and its `get_datasets_root_anchor` is
//! [`DatasetFamilyManager::datasets_root_anchor`].

use std::collections::BTreeMap;

use lcm_crypto::merkle::InclusionProof;
use lcm_crypto::{Digest, HashAlgorithm, hash_domain};
use lcm_model::records::{
    DatasetFamilyAnchor, DatasetFamilyMetadata, DatasetSplit, DatasetSplitAnchor, SplitInfo,
};
use lcm_model::verify::{
    compute_datasets_root, compute_records_root, compute_split_assignment_digest, contents_tree,
    records_tree, verify_split_contents, verify_split_records,
};
use lcm_model::{Claimed, DomainType, Policy, Record, Seal, Sealed};

use crate::deployment::non_empty;
use crate::password::PasswordAnchor;
use crate::restore::{check_kdf_iterations, check_seal, fresh_id, new_id, same_digest};
use crate::{Context, Error};

/// The kind names used in error messages.
const FAMILY: &str = "dataset family";
const SPLIT: &str = "dataset split";

/// Whether the policy allows dataset records of the `specific` kind: the general
/// [`DomainType::Dataset`] (the seed's `DomainType.DATASET`, as in its example policy
/// `[DATASET, MODEL, TRAINING]`) covers families and splits.
fn dataset_domain_allowed(policy: &Policy, specific: DomainType) -> bool {
    policy.allows(DomainType::Dataset) || policy.allows(specific)
}

/// The sub-key label of a family anchor's MAC key. The family id follows the colon.
fn family_key_label(family_id: &str) -> String {
    format!("dataset-family-anchor:{family_id}")
}

/// The family anchors and split anchors of one lifecycle (the seed's
/// `LCMDatasetFamilyManager`).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use lcm_crypto::{Seed, SeededRandom};
/// use lcm_managers::{
///     Context, DatasetFamilyManager, assign_splits, compute_datasets_root,
///     verify_family_password, verify_record_inclusion, verify_split_records,
/// };
/// use lcm_model::records::{DatasetFamilyMetadata, DatasetSplit, SplitInfo};
/// use lcm_model::{FixedClock, Policy, Timestamp};
///
/// let policy = Policy { kdf_iterations: 100_000, ..Policy::default() };
/// let clock = Arc::new(FixedClock::new(Timestamp::from_unix_micros(0), 1));
/// let ctx = Context::new(policy, clock, SeededRandom::new(&Seed::from_bytes([1; 32])))?;
/// let mut datasets = DatasetFamilyManager::new(ctx);
///
/// let metadata = DatasetFamilyMetadata::new("medical_images", "v1.0", "hospital", "custom");
/// let family = datasets.create_dataset_family_anchor("med_img_v1", metadata, "family password")?;
/// datasets.verify_password("med_img_v1", "family password")?;
///
/// let ids: Vec<String> = (0..100).map(|i| format!("r{i:03}")).collect();
/// let ratios = BTreeMap::from([
///     (DatasetSplit::Train, 8),
///     (DatasetSplit::Validation, 1),
///     (DatasetSplit::Test, 1),
/// ]);
/// let assigned = assign_splits(&ids, &ratios, 42)?;
/// let splits_info = assigned
///     .into_iter()
///     .map(|(split, ids)| (split, SplitInfo { rng_seed: Some(42), ..SplitInfo::new(ids) }))
///     .collect();
/// let splits = datasets.add_dataset_splits(&family, splits_info)?;
/// assert_eq!(splits[&DatasetSplit::Train].record().sample_count, 80);
///
/// // The root the training session will reference: RFC 9162 over the split anchor digests.
/// let root = datasets.datasets_root_anchor("med_img_v1")?;
/// let digests = splits.iter().map(|(s, a)| (*s, a.digest())).collect();
/// assert_eq!(root, compute_datasets_root(datasets.context().policy(), &digests));
///
/// // An auditor holding the records re-checks a split, one record, and the password.
/// let policy = datasets.context().policy();
/// let test = &splits[&DatasetSplit::Test].record();
/// let test_ids = datasets.split_records("med_img_v1", DatasetSplit::Test).unwrap_or_default();
/// verify_split_records(policy, test, test_ids)?;
/// let proof = datasets.record_inclusion_proof("med_img_v1", DatasetSplit::Test, &test_ids[0])?;
/// verify_record_inclusion(policy, test, &test_ids[0], &proof)?;
/// verify_family_password(policy, &family.record(), "family password")?;
/// assert!(verify_family_password(policy, &family.record(), "guess").is_err());
/// # Ok::<(), lcm_managers::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct DatasetFamilyManager {
    ctx: Context,
    families: BTreeMap<String, FamilyEntry>,
}

#[derive(Debug)]
struct FamilyEntry {
    anchor: Sealed<DatasetFamilyAnchor>,
    splits: BTreeMap<DatasetSplit, SplitEntry>,
}

#[derive(Debug)]
struct SplitEntry {
    anchor: Sealed<DatasetSplitAnchor>,
    /// Sorted, unique.
    records: Vec<String>,
    /// The content digests, aligned with `records`, if supplied.
    contents: Option<Vec<Digest>>,
}

/// A split anchor read back from storage, with the record ids (and content digests) it
/// anchors: the input of [`DatasetFamilyManager::restore_family`].
///
/// `record_ids` and `content_digests` are what [`DatasetFamilyManager::split_records`] and
/// [`DatasetFamilyManager::split_contents`] return for the split when it is made:
/// `content_digests` is empty when only the ids were anchored (the anchor has no
/// `contents_root`).
#[derive(Debug, Clone, PartialEq)]
pub struct RestoredSplit {
    /// The split anchor, with the seal it claims (checked on restore).
    pub anchor: Claimed<DatasetSplitAnchor>,
    /// The record ids the anchor commits to, in any order.
    pub record_ids: Vec<String>,
    /// Their content digests by record id (empty when the anchor binds no contents).
    pub content_digests: BTreeMap<String, Digest>,
}

impl DatasetFamilyManager {
    /// A manager working under `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            families: BTreeMap::new(),
        }
    }

    /// The context (policy, clock, randomness).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// A family id that is not empty and not held yet.
    fn check_new_family_id(&self, family_id: &str) -> Result<(), Error> {
        new_id(FAMILY, "family_id", family_id, &self.families)
    }

    /// Creates and stores the anchor of a dataset family (the seed's
    /// `create_dataset_family_anchor`).
    ///
    /// Draws a 16-byte salt from the context, derives the master key with PBKDF2 at the
    /// policy's `kdf_iterations`, and MACs the metadata digest with the sub-key labelled
    /// `"dataset-family-anchor:" + family_id` (see [`DatasetFamilyAnchor`]). The keys are
    /// zeroized when they go out of scope; the password is not kept.
    ///
    /// # Errors
    ///
    /// [`Error::DomainNotAllowed`] when the policy excludes dataset families;
    /// [`Error::Empty`] for an empty family id, password or required metadata field;
    /// [`lcm_model::Error::DuplicateId`] for a family id already in use; [`Error::Crypto`] when the
    /// random source fails.
    pub fn create_dataset_family_anchor(
        &mut self,
        family_id: &str,
        metadata: DatasetFamilyMetadata,
        master_password: &str,
    ) -> Result<Sealed<DatasetFamilyAnchor>, Error> {
        let policy = self.ctx.policy();
        if !dataset_domain_allowed(policy, DomainType::DatasetFamily) {
            return Err(Error::DomainNotAllowed {
                domain: "dataset_family",
            });
        }
        self.check_new_family_id(family_id)?;
        non_empty(FAMILY, family_id, "master_password", master_password)?;
        metadata
            .validate()
            .map_err(|e| empty_field(FAMILY, family_id, e))?;
        let metadata_digest = metadata.digest(policy)?;
        let PasswordAnchor {
            salt,
            kdf_iterations,
            anchor,
        } = PasswordAnchor::new(
            &self.ctx,
            master_password,
            &family_key_label(family_id),
            &metadata_digest,
        )?;
        let record = DatasetFamilyAnchor {
            family_id: family_id.to_owned(),
            metadata,
            metadata_digest,
            kdf_iterations,
            salt,
            anchor,
            created_at: self.ctx.now(),
        };
        let sealed = Sealed::seal(record, policy)?;
        self.families.insert(
            family_id.to_owned(),
            FamilyEntry {
                anchor: sealed.clone(),
                splits: BTreeMap::new(),
            },
        );
        Ok(sealed)
    }

    /// Checks `master_password` against the stored anchor of `family_id`: derives the key
    /// again with the stored salt and cost and compares the MAC in constant time.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown family; [`Error::WrongPassword`] when the password
    /// does not reproduce the anchor; [`Error::Crypto`] for a stored KDF cost below the floor.
    pub fn verify_password(&self, family_id: &str, master_password: &str) -> Result<(), Error> {
        let entry = self.family(family_id)?;
        verify_family_password(self.ctx.policy(), entry.anchor.record(), master_password)
    }

    /// Adds splits to a family (the seed's `add_dataset_splits`) and returns their anchors.
    ///
    /// Each split's record ids must be non-empty, unique within the split, and as many as its
    /// `sample_count`; no record may be in two splits of the family (including splits added
    /// earlier); a split can be added only once. Nothing is stored unless every split passes.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownReference`] when `family_anchor` is not an anchor this manager made
    /// (or was altered); [`lcm_model::Error::EmptyCollection`] for no splits or a split without records;
    /// [`Error::Empty`] for an empty record id; [`lcm_model::Error::UnexpectedValue`] for a `sample_count` that
    /// is not the number of ids; [`Error::DuplicateRecord`] for an id listed twice in a split;
    /// [`lcm_model::Error::DuplicateId`] for a split the family already has;
    /// [`Error::OverlappingSplits`] naming a record found in two splits;
    /// [`Error::DomainNotAllowed`] when the policy excludes dataset splits.
    pub fn add_dataset_splits(
        &mut self,
        family_anchor: &Sealed<DatasetFamilyAnchor>,
        splits_info: BTreeMap<DatasetSplit, SplitInfo>,
    ) -> Result<BTreeMap<DatasetSplit, Sealed<DatasetSplitAnchor>>, Error> {
        let policy = self.ctx.policy();
        if !dataset_domain_allowed(policy, DomainType::DatasetSplit) {
            return Err(Error::DomainNotAllowed {
                domain: "dataset_split",
            });
        }
        let family_id = family_anchor.record().family_id.as_str();
        let entry = match self.families.get(family_id) {
            Some(e) if e.anchor == *family_anchor => e,
            _ => {
                return Err(Error::unknown_reference(
                    FAMILY,
                    family_id,
                    "family_anchor",
                    family_anchor.digest().to_hex(),
                ));
            }
        };
        if splits_info.is_empty() {
            return Err(Error::Model(lcm_model::Error::EmptyCollection {
                kind: FAMILY,
                id: family_id.to_owned(),
                field: "splits_info",
            }));
        }

        // Check every split on its own, sorting its ids.
        let mut prepared = BTreeMap::new();
        for (split, mut info) in splits_info {
            let split_id = format!("{family_id}/{split}");
            fresh_id(SPLIT, &split_id, entry.splits.contains_key(&split))?;
            let (records, contents) = check_split(family_id, split, &split_id, &mut info)?;
            prepared.insert(split, (info, records, contents));
        }

        // No record may be in two splits, old or new.
        let mut all: BTreeMap<DatasetSplit, &[String]> = entry
            .splits
            .iter()
            .map(|(s, e)| (*s, e.records.as_slice()))
            .collect();
        for (split, (_, records, _)) in &prepared {
            all.insert(*split, records.as_slice());
        }
        check_overlap(family_id, all)?;

        // Build the anchors.
        let family_digest = family_anchor.digest();
        let mut out = BTreeMap::new();
        let mut entries = Vec::with_capacity(prepared.len());
        for (split, (info, records, contents)) in prepared {
            let record = DatasetSplitAnchor {
                family_id: family_id.to_owned(),
                family_anchor: family_digest,
                split,
                sample_count: info.sample_count,
                assignment_digest: compute_split_assignment_digest(policy, &records),
                records_root: compute_records_root(policy, &records),
                contents_root: contents
                    .as_ref()
                    .map(|c| contents_tree(policy, &records, c).root()),
                rng_seed: info.rng_seed,
                selection_rules: info.selection_rules,
                stratify_by: info.stratify_by,
                created_at: self.ctx.now(),
            };
            let sealed = Sealed::seal(record, policy)?;
            out.insert(split, sealed.clone());
            entries.push((
                split,
                SplitEntry {
                    anchor: sealed,
                    records,
                    contents,
                },
            ));
        }
        let entry = self.families.get_mut(family_id).ok_or(Error::NotFound {
            kind: FAMILY,
            id: family_id.to_owned(),
        })?;
        entry.splits.extend(entries);
        Ok(out)
    }
    /// The anchor of `family_id` (the seed's `get_dataset_family`).
    pub fn dataset_family(&self, family_id: &str) -> Option<&Sealed<DatasetFamilyAnchor>> {
        self.families.get(family_id).map(|e| &e.anchor)
    }

    /// The ids of the families this manager holds, in order.
    pub fn family_ids(&self) -> impl Iterator<Item = &str> {
        self.families.keys().map(String::as_str)
    }

    /// The anchor of one split (the seed's `get_split_anchor`).
    pub fn split_anchor(
        &self,
        family_id: &str,
        split: DatasetSplit,
    ) -> Option<&Sealed<DatasetSplitAnchor>> {
        self.families
            .get(family_id)?
            .splits
            .get(&split)
            .map(|e| &e.anchor)
    }

    /// All split anchors of a family, in split order (the seed's `get_all_splits`; empty for
    /// an unknown family).
    pub fn split_anchors(
        &self,
        family_id: &str,
    ) -> BTreeMap<DatasetSplit, &Sealed<DatasetSplitAnchor>> {
        self.families
            .get(family_id)
            .map(|e| e.splits.iter().map(|(s, x)| (*s, &x.anchor)).collect())
            .unwrap_or_default()
    }

    /// The sorted record ids of one split.
    pub fn split_records(&self, family_id: &str, split: DatasetSplit) -> Option<&[String]> {
        self.families
            .get(family_id)?
            .splits
            .get(&split)
            .map(|e| e.records.as_slice())
    }

    /// The content digests of one split by record id, if they were supplied.
    pub fn split_contents(
        &self,
        family_id: &str,
        split: DatasetSplit,
    ) -> Option<BTreeMap<&str, Digest>> {
        let entry = self.families.get(family_id)?.splits.get(&split)?;
        let contents = entry.contents.as_ref()?;
        Some(
            entry
                .records
                .iter()
                .map(String::as_str)
                .zip(contents.iter().copied())
                .collect(),
        )
    }

    /// The family anchor whose digest is `digest`, if this manager made it.
    pub fn find_family_anchor(&self, digest: &Digest) -> Option<&Sealed<DatasetFamilyAnchor>> {
        self.families
            .values()
            .map(|e| &e.anchor)
            .find(|a| a.digest() == *digest)
    }

    /// The split anchor whose digest is `digest`, if this manager made it.
    pub fn find_split_anchor(&self, digest: &Digest) -> Option<&Sealed<DatasetSplitAnchor>> {
        self.families
            .values()
            .flat_map(|e| e.splits.values())
            .map(|e| &e.anchor)
            .find(|a| a.digest() == *digest)
    }

    /// The datasets root of a family (the seed's `get_datasets_root_anchor`): see
    /// [`compute_datasets_root`]. It changes when a split is added.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown family; [`lcm_model::Error::EmptyCollection`] when it has no
    /// splits yet.
    pub fn datasets_root_anchor(&self, family_id: &str) -> Result<Digest, Error> {
        let entry = self.family(family_id)?;
        if entry.splits.is_empty() {
            return Err(Error::Model(lcm_model::Error::EmptyCollection {
                kind: FAMILY,
                id: family_id.to_owned(),
                field: "splits",
            }));
        }
        let digests: BTreeMap<DatasetSplit, Digest> = entry
            .splits
            .iter()
            .map(|(s, e)| (*s, e.anchor.digest()))
            .collect();
        Ok(compute_datasets_root(self.ctx.policy(), &digests))
    }

    /// An RFC 9162 inclusion proof that `record_id` is in a split: the proof is for the leaf
    /// [`record_leaf_digest`](crate::record_leaf_digest) at the record's position in sorted id
    /// order; check it with [`verify_record_inclusion`](crate::verify_record_inclusion).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown family, split or record; [`Error::Crypto`] only on
    /// an internal inconsistency.
    pub fn record_inclusion_proof(
        &self,
        family_id: &str,
        split: DatasetSplit,
        record_id: &str,
    ) -> Result<InclusionProof, Error> {
        let entry = self
            .family(family_id)?
            .splits
            .get(&split)
            .ok_or_else(|| Error::NotFound {
                kind: SPLIT,
                id: format!("{family_id}/{split}"),
            })?;
        let index = entry
            .records
            .binary_search_by(|r| r.as_str().cmp(record_id))
            .map_err(|_| Error::NotFound {
                kind: "dataset record",
                id: format!("{family_id}/{split}/{record_id}"),
            })?;
        let tree = records_tree(self.ctx.policy(), &entry.records);
        let index = u64::try_from(index).map_err(|_| lcm_crypto::Error::IndexOutOfRange {
            index: u64::MAX,
            size: tree.len(),
        })?;
        Ok(tree.inclusion_proof(index)?)
    }

    fn family(&self, family_id: &str) -> Result<&FamilyEntry, Error> {
        self.families.get(family_id).ok_or_else(|| Error::NotFound {
            kind: FAMILY,
            id: family_id.to_owned(),
        })
    }
}

/// Checks `master_password` against a family anchor (for anchors read back from storage):
/// the same check as [`DatasetFamilyManager::verify_password`], under `policy`'s MAC. The
/// metadata digest is recomputed from the metadata, so an anchor whose metadata was changed
/// fails even with the right password.
///
/// This does not panic.
///
/// # Errors
///
/// [`lcm_model::Error::SealMismatch`] when the metadata does not match `metadata_digest`;
/// [`Error::WrongPassword`] when the password does not reproduce the anchor; [`Error::Empty`]
/// for an empty password; [`Error::Crypto`] for a stored KDF cost below the floor.
pub fn verify_family_password(
    policy: &Policy,
    anchor: &DatasetFamilyAnchor,
    master_password: &str,
) -> Result<(), Error> {
    let id = anchor.family_id.as_str();
    PasswordAnchor {
        salt: anchor.salt,
        kdf_iterations: anchor.kdf_iterations,
        anchor: anchor.anchor,
    }
    .check_stored(
        policy.hash_algorithm,
        master_password,
        &family_key_label(id),
        (FAMILY, id),
        ("dataset family metadata_digest", anchor.metadata_digest),
        || Ok(anchor.metadata.digest(policy)?),
    )
}

/// Maps a metadata validation error to the manager's [`Error::Empty`] naming the record id.
pub(crate) fn empty_field(kind: &'static str, id: &str, e: lcm_model::Error) -> Error {
    match e {
        lcm_model::Error::EmptyField { field, .. } => Error::Empty {
            kind,
            id: id.to_owned(),
            field,
        },
        other => Error::Model(other),
    }
}

/// A split's checked ids (sorted) and, if supplied, their content digests in the same order.
type CheckedSplit = (Vec<String>, Option<Vec<Digest>>);

/// Checks one split's input and moves its ids (sorted) and content digests out.
fn check_split(
    family_id: &str,
    split: DatasetSplit,
    split_id: &str,
    info: &mut SplitInfo,
) -> Result<CheckedSplit, Error> {
    if info.record_ids.is_empty() {
        return Err(Error::Model(lcm_model::Error::EmptyCollection {
            kind: SPLIT,
            id: split_id.to_owned(),
            field: "record_ids",
        }));
    }
    let count = u64::try_from(info.record_ids.len()).unwrap_or(u64::MAX);
    if info.sample_count != count {
        return Err(Error::unexpected(
            SPLIT,
            split_id.to_owned(),
            "sample_count",
            format!("the number of record ids, {count}"),
            info.sample_count.to_string(),
        ));
    }
    if info.record_ids.iter().any(String::is_empty) {
        return Err(Error::Empty {
            kind: SPLIT,
            id: split_id.to_owned(),
            field: "record_ids",
        });
    }
    let mut records = std::mem::take(&mut info.record_ids);
    records.sort_unstable();
    if let Some(w) = records.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::DuplicateRecord {
            family: family_id.to_owned(),
            split: split.to_string(),
            record: w[0].clone(),
        });
    }
    if info.content_digests.is_empty() {
        return Ok((records, None));
    }
    let contents = std::mem::take(&mut info.content_digests);
    // Both sides are sorted and unique: the first difference names the offending id.
    let mut ids = records.iter();
    let mut keys = contents.keys();
    loop {
        let problem = match (ids.next(), keys.next()) {
            (None, None) => break,
            (Some(id), Some(key)) if id == key => continue,
            (Some(id), Some(key)) if id < key => format!("no digest for {id:?}"),
            (_, Some(key)) => format!("a digest for {key:?}, which is not a record id"),
            (Some(id), None) => format!("no digest for {id:?}"),
        };
        return Err(Error::unexpected(
            SPLIT,
            split_id.to_owned(),
            "content_digests",
            "one content digest per record id".to_owned(),
            problem,
        ));
    }
    Ok((records, Some(contents.into_values().collect())))
}

/// No record may be in two splits: the pairwise leak check of the create and restore paths,
/// over each split's sorted, unique ids.
fn check_overlap(family_id: &str, all: BTreeMap<DatasetSplit, &[String]>) -> Result<(), Error> {
    let lists: Vec<(DatasetSplit, &[String])> = all.into_iter().collect();
    for (i, (first, a)) in lists.iter().enumerate() {
        for (second, b) in lists.iter().skip(i.saturating_add(1)) {
            if let Some(record) = first_common(a, b) {
                return Err(Error::OverlappingSplits {
                    family: family_id.to_owned(),
                    record: record.to_owned(),
                    first: first.to_string(),
                    second: second.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The smallest string in both sorted lists.
fn first_common<'a>(a: &'a [String], b: &[String]) -> Option<&'a str> {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i = i.saturating_add(1),
            std::cmp::Ordering::Greater => j = j.saturating_add(1),
            std::cmp::Ordering::Equal => return Some(x),
        }
    }
    None
}

mod assign;
mod restore;
#[cfg(test)]
pub(crate) mod tests;

pub use self::assign::assign_splits;
