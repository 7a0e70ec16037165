//! The reference's dataset family manager (`LCMDatasetFamilyManager`) and dataset manager
//! (`LCMDatasetManager`).

use crate as rules;
use lcm_crypto::{Seed, hex};

use super::{
    Error, PyciafContext, canonical_object, entry, find_in, find_in_mut, jobj, jstr, listed,
    member, sha256_hex, short, string_value, upsert,
};
use super::{find_keyed, upsert_keyed};

/// The splits of a dataset family (`ciaf.lcm.DatasetSplit`, the family module's enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FamilySplit {
    /// `"test"`.
    Test,
    /// `"train"`.
    Train,
    /// `"val"`.
    Validation,
}

impl FamilySplit {
    /// The reference's value: `"train"`, `"val"` or `"test"`.
    pub const fn value(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Train => "train",
            Self::Validation => "val",
        }
    }

    /// The record-id range `create_dataset_family` simulates for this split.
    const fn record_range(self) -> std::ops::Range<u32> {
        match self {
            Self::Train => 0..100,
            Self::Validation => 100..120,
            Self::Test => 120..140,
        }
    }
}

/// The splits of a dataset anchor (`dataset_manager.DatasetSplit`, a different enum in the
/// reference, with `FULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DatasetSplit {
    /// `"full"`, ids `f_…`.
    Full,
    /// `"test"`, ids `x_…`.
    Test,
    /// `"train"`, ids `t_…`.
    Train,
    /// `"val"`, ids `v_…`.
    Validation,
}

impl DatasetSplit {
    /// The reference's value: `"train"`, `"val"`, `"test"` or `"full"`.
    pub const fn value(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Test => "test",
            Self::Train => "train",
            Self::Validation => "val",
        }
    }

    /// The anchor id prefix: `t_`, `v_`, `x_` or `f_`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Full => "f_",
            Self::Test => "x_",
            Self::Train => "t_",
            Self::Validation => "v_",
        }
    }
}

/// An `LCMDatasetFamilyAnchor`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FamilyAnchor {
    /// The id the manager stores it under.
    pub dataset_id: String,
    /// The `DatasetFamilyMetadata`, as canonical JSON.
    pub family_metadata: String,
    /// `dataset_content_root` (hex text, concatenated into the anchor as given).
    pub dataset_content_root: String,
    /// `family_anchor`: `sha256("CIAF|dataset|family" || canon(meta7) || content_root)`.
    pub family_anchor: String,
    /// `anchor_id`: `d_f_` + 8 hex + `...`.
    pub anchor_id: String,
}

impl FamilyAnchor {
    /// `to_dict()` as canonical JSON: `name`, `version`, `family_anchor` (the display id),
    /// `content_root` (8 hex + `...`), `owner`, `license`.
    ///
    /// # Errors
    ///
    /// A rule's error, which the stored metadata never causes.
    pub fn to_dict(&self) -> Result<String, Error> {
        let m = |k: &str| {
            member(&self.family_metadata, k)
                .unwrap_or("null")
                .to_owned()
        };
        Ok(rules::canonical_json(&jobj(&[
            ("name", m("name")),
            ("version", m("version")),
            ("family_anchor", jstr(&self.anchor_id)),
            ("content_root", jstr(&short(&self.dataset_content_root))),
            ("owner", m("owner")),
            ("license", m("license")),
        ]))?)
    }
}

/// An `LCMDatasetSplitAnchor`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SplitAnchor {
    /// The split it is stored under.
    pub split: FamilySplit,
    /// The `SplitMetadata`, as canonical JSON.
    pub split_metadata: String,
    /// `split_content_root`.
    pub split_content_root: String,
    /// `split_anchor`: `sha256("CIAF|dataset|split" || canon(meta) || split_content_root)`.
    pub split_anchor: String,
    /// `anchor_id`: `d_s_<split_name>_` + 8 hex + `...`.
    pub anchor_id: String,
    /// `sample_hashes`, in the order added (not deduplicated, as in the reference).
    pub sample_hashes: Vec<String>,
}

impl SplitAnchor {
    fn new(split: FamilySplit, metadata_json: &str, content_root: &str) -> Result<Self, Error> {
        let split_metadata = canonical_object(metadata_json, "the split metadata")?;
        let split_anchor = rules::split_anchor(&split_metadata, content_root)?;
        let name = member(&split_metadata, "split_name").unwrap_or("null");
        let name = string_value(name, "split_name")?;
        Ok(Self {
            split,
            anchor_id: rules::display_id(&format!("d_s_{name}_"), &split_anchor),
            split_metadata,
            split_content_root: content_root.to_owned(),
            split_anchor,
            sample_hashes: Vec::new(),
        })
    }

    /// `get_merkle_root()`: `None` without samples, else the reference's tree over the sample
    /// hashes.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when two or more sample hashes are not hex.
    pub fn merkle_root(&self) -> Result<Option<String>, Error> {
        merkle_of(&self.sample_hashes)
    }

    /// The JSON text of `split_assignment_digest` (`null` when absent).
    fn assignment_json(&self) -> &str {
        member(&self.split_metadata, "split_assignment_digest").unwrap_or("null")
    }
}

fn merkle_of(hashes: &[String]) -> Result<Option<String>, Error> {
    if hashes.is_empty() {
        return Ok(None);
    }
    let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
    Ok(Some(rules::merkle_root(&refs)?))
}

/// One split of [`DatasetFamilyManager::create_dataset_family`].
#[derive(Debug, Clone, Copy)]
pub struct FamilySplitConfig<'a> {
    /// The split.
    pub split: FamilySplit,
    /// Its configuration object (the reference's `split_configs[split]`), as JSON; it becomes
    /// `split_selection_rules`, and its `ratio` and `stratify_by` are copied.
    pub config_json: &'a str,
    /// The seed the reference used: `42 + hash(split.value) % 10000` with Python's per-process
    /// string hash, so it must be taken from the record being reproduced.
    pub rng_seed: i64,
}

impl FamilySplitConfig<'static> {
    /// The reference's default configurations (`ratio` 0.7 / 0.15 / 0.15, `selection`
    /// `"random"`), with the seeds the reproduced run used for train, val and test.
    pub const fn defaults(seeds: [i64; 3]) -> [Self; 3] {
        [
            Self {
                split: FamilySplit::Train,
                config_json: r#"{"ratio": 0.7, "selection": "random"}"#,
                rng_seed: seeds[0],
            },
            Self {
                split: FamilySplit::Validation,
                config_json: r#"{"ratio": 0.15, "selection": "random"}"#,
                rng_seed: seeds[1],
            },
            Self {
                split: FamilySplit::Test,
                config_json: r#"{"ratio": 0.15, "selection": "random"}"#,
                rng_seed: seeds[2],
            },
        ]
    }
}

/// The reference's `LCMDatasetFamilyManager`: family anchors and their split anchors, by
/// dataset id.
#[derive(Debug)]
pub struct DatasetFamilyManager {
    ctx: PyciafContext,
    families: Vec<FamilyAnchor>,
    splits: Vec<(String, Vec<SplitAnchor>)>,
}

impl DatasetFamilyManager {
    /// A manager with no families.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            families: Vec::new(),
            splits: Vec::new(),
        }
    }

    /// The context.
    pub fn context(&self) -> &PyciafContext {
        &self.ctx
    }

    /// `LCMDatasetFamilyAnchor(family_metadata, dataset_content_root)`, stored under
    /// `dataset_id` (replacing one stored there, as the reference's dict does).
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when the metadata is not an object with `name`, `version`, `owner` and
    /// `license`.
    pub fn create_dataset_family_anchor(
        &mut self,
        dataset_id: &str,
        family_metadata_json: &str,
        dataset_content_root: &str,
    ) -> Result<&FamilyAnchor, Error> {
        let family_metadata = canonical_object(family_metadata_json, "the family metadata")?;
        let family_anchor = rules::family_anchor(&family_metadata, dataset_content_root)?;
        let anchor = FamilyAnchor {
            dataset_id: dataset_id.to_owned(),
            family_metadata,
            dataset_content_root: dataset_content_root.to_owned(),
            anchor_id: rules::display_id("d_f_", &family_anchor),
            family_anchor,
        };
        Ok(upsert_keyed(&mut self.families, anchor))
    }

    /// `LCMDatasetSplitAnchor(split_metadata, split_content_root)`, stored as `split` of
    /// `dataset_id` (replacing one stored there).
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when the metadata is not an object with `dataset_id` and `split_name`,
    /// [`Error::Field`] when `split_name` is not a string.
    pub fn create_split_anchor(
        &mut self,
        dataset_id: &str,
        split: FamilySplit,
        split_metadata_json: &str,
        split_content_root: &str,
    ) -> Result<&SplitAnchor, Error> {
        let anchor = SplitAnchor::new(split, split_metadata_json, split_content_root)?;
        let splits = self.splits_entry(dataset_id);
        Ok(upsert(splits, |s| s.split == split, anchor))
    }

    fn splits_entry(&mut self, dataset_id: &str) -> &mut Vec<SplitAnchor> {
        entry(&mut self.splits, dataset_id)
    }

    /// `split_anchor.add_sample_hash(h)`: appends (no deduplication, as in the reference).
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] when the split was not created.
    pub fn add_sample_hash(
        &mut self,
        dataset_id: &str,
        split: FamilySplit,
        sample_hash: &str,
    ) -> Result<(), Error> {
        let anchor = find_in_mut(&mut self.splits, dataset_id, |a| a.split == split)
            .ok_or_else(|| unknown_split(dataset_id, split.value()))?;
        anchor.sample_hashes.push(sample_hash.to_owned());
        Ok(())
    }

    /// `create_dataset_family(dataset_id, family_metadata, split_configs)`, the reference's
    /// simulation: content root `sha256(f"{dataset_id}_{version}_content")`; per split, record
    /// ids `f"{dataset_id}_record_{i}"` (0–99 train, 100–119 val, 120–139 test), their
    /// assignment digest, `split_stats = {"ratio": config.get("ratio", 0.0)}`, `rng_source`
    /// `"random"`, content root `sha256(f"{dataset_id}_{split}_content")` and sample hashes
    /// `sha256(f"{record_id}_data")`. The split anchors of `dataset_id` are replaced.
    ///
    /// # Errors
    ///
    /// [`Error::Field`] when the metadata's `version` is not a string, and the rules' errors.
    pub fn create_dataset_family(
        &mut self,
        dataset_id: &str,
        family_metadata_json: &str,
        split_configs: &[FamilySplitConfig<'_>],
    ) -> Result<&FamilyAnchor, Error> {
        let meta = canonical_object(family_metadata_json, "the family metadata")?;
        let version = string_value(member(&meta, "version").unwrap_or("null"), "version")?;
        let content_root = sha256_hex(&format!("{dataset_id}_{version}_content"));
        let mut anchors = Vec::with_capacity(split_configs.len());
        for cfg in split_configs {
            let config = canonical_object(cfg.config_json, "the split configuration")?;
            let ids: Vec<String> = cfg
                .split
                .record_range()
                .map(|i| format!("{dataset_id}_record_{i}"))
                .collect();
            let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let assignment = rules::split_assignment_digest(&id_refs, None);
            let metadata = jobj(&[
                ("dataset_id", jstr(dataset_id)),
                ("split_name", jstr(cfg.split.value())),
                ("split_selection_rules", config.clone()),
                (
                    "split_stats",
                    jobj(&[(
                        "ratio",
                        member(&config, "ratio").unwrap_or("0.0").to_owned(),
                    )]),
                ),
                ("sample_count", "0".to_owned()),
                ("rng_seed", cfg.rng_seed.to_string()),
                ("rng_source", jstr("random")),
                (
                    "stratify_by",
                    member(&config, "stratify_by").unwrap_or("null").to_owned(),
                ),
                ("split_assignment_digest", jstr(&assignment)),
            ]);
            let split_root = sha256_hex(&format!("{dataset_id}_{}_content", cfg.split.value()));
            let mut anchor = SplitAnchor::new(cfg.split, &metadata, &split_root)?;
            anchor.sample_hashes = ids
                .iter()
                .map(|id| sha256_hex(&format!("{id}_data")))
                .collect();
            match anchors
                .iter()
                .position(|a: &SplitAnchor| a.split == cfg.split)
            {
                Some(i) => anchors[i] = anchor,
                None => anchors.push(anchor),
            }
        }
        self.create_dataset_family_anchor(dataset_id, &meta, &content_root)?;
        *self.splits_entry(dataset_id) = anchors;
        self.get_dataset_family(dataset_id)
            .ok_or_else(|| Error::Unknown {
                kind: "dataset family",
                id: dataset_id.to_owned(),
            })
    }

    /// `get_dataset_family(dataset_id)`.
    pub fn get_dataset_family(&self, dataset_id: &str) -> Option<&FamilyAnchor> {
        find_keyed(&self.families, dataset_id)
    }

    /// `get_split_anchor(dataset_id, split)`.
    pub fn get_split_anchor(&self, dataset_id: &str, split: FamilySplit) -> Option<&SplitAnchor> {
        find_in(&self.splits, dataset_id, |a| a.split == split)
    }

    /// `get_all_splits(dataset_id)`, in creation order (empty when unknown).
    pub fn get_all_splits(&self, dataset_id: &str) -> &[SplitAnchor] {
        listed(&self.splits, dataset_id)
    }

    /// `compute_split_map_digest(dataset_id)`: `canonical_hash({split: {"anchor": split_anchor,
    /// "assignment": split_assignment_digest}})`. An unknown id gives the digest of `{}`, as in
    /// the reference.
    ///
    /// # Errors
    ///
    /// A rule's error, which stored anchors never cause.
    pub fn compute_split_map_digest(&self, dataset_id: &str) -> Result<String, Error> {
        split_map_digest(
            self.get_all_splits(dataset_id)
                .iter()
                .map(|a| (a.split.value(), &*a.split_anchor, a.assignment_json())),
        )
    }
}

/// An `LCMDatasetAnchor`.
///
/// It holds the reference's dataset anchor, `HMAC-SHA256(master_anchor, utf8(dataset_hash))`,
/// as a secret (zeroized on drop, redacted in `Debug`): the reference uses it as the key of its
/// HMAC commitments. The master anchor itself is not kept.
#[derive(Debug)]
#[non_exhaustive]
pub struct DatasetAnchor {
    /// `dataset_id`.
    pub dataset_id: String,
    /// The split.
    pub split: DatasetSplit,
    /// The `DatasetMetadata`, as canonical JSON.
    pub metadata: String,
    /// `dataset_hash`: the canonical hash of the 17 fields of section 3.2.
    pub dataset_hash: String,
    /// `anchor_id`: the split's prefix + 8 hex of the dataset anchor + `...`.
    pub anchor_id: String,
    /// `master_salt` (the reference draws it at random and never stores it; it is kept here
    /// so the anchor can be derived again).
    pub master_salt: Vec<u8>,
    /// `sample_hashes`, deduplicated, in the order added.
    pub sample_hashes: Vec<String>,
    anchor: Seed,
}

impl DatasetAnchor {
    /// The dataset anchor as hex, **a secret of the reference's scheme** (the key of its HMAC
    /// commitments). It is exposed because the reference's vectors record it and its display
    /// id is its first 8 hex characters.
    pub fn expose_dataset_anchor_hex(&self) -> String {
        hex::encode(self.anchor.expose_secret())
    }

    /// `get_merkle_root()`: `None` without samples.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] when two or more sample hashes are not hex.
    pub fn merkle_root(&self) -> Result<Option<String>, Error> {
        merkle_of(&self.sample_hashes)
    }

    /// `split_type`: the split's value.
    pub fn split_type(&self) -> &'static str {
        self.split.value()
    }

    fn assignment_json(&self) -> &str {
        member(&self.metadata, "split_assignment_digest").unwrap_or("null")
    }
}

/// The reference's `LCMDatasetManager`: dataset anchors by dataset id and split.
#[derive(Debug)]
pub struct DatasetManager {
    ctx: PyciafContext,
    anchors: Vec<(String, Vec<DatasetAnchor>)>,
}

impl DatasetManager {
    /// A manager with no anchors.
    pub fn new(ctx: PyciafContext) -> Self {
        Self {
            ctx,
            anchors: Vec::new(),
        }
    }

    /// `LCMDatasetAnchor(dataset_id, split, metadata, master_password, salt=salt)`, stored as
    /// `split` of `dataset_id`: `dataset_hash` from the metadata, the master anchor
    /// `PBKDF2-HMAC-SHA256(password, salt, 100000)`, the dataset anchor `HMAC(master,
    /// utf8(dataset_hash))`. Without a salt (or with an empty one, which Python treats as
    /// absent) 16 bytes are drawn from the context's randomness, as the reference draws them.
    ///
    /// # Errors
    ///
    /// [`Error::Rule`] for metadata the reference refuses, [`Error::Crypto`] when randomness
    /// fails.
    pub fn create_dataset_anchor(
        &mut self,
        dataset_id: &str,
        split: DatasetSplit,
        metadata_json: &str,
        master_password: &str,
        salt: Option<&[u8]>,
    ) -> Result<&DatasetAnchor, Error> {
        let metadata = canonical_object(metadata_json, "the dataset metadata")?;
        let dataset_hash = rules::dataset_hash(dataset_id, split.value(), &metadata)?;
        let master_salt = match salt {
            Some(s) if !s.is_empty() => s.to_vec(),
            _ => self.ctx.random_bytes(16)?,
        };
        let master = Seed::from_bytes(rules::master_anchor(master_password, &master_salt));
        let anchor = Seed::from_bytes(rules::hmac_anchor(master.expose_secret(), &dataset_hash));
        let record = DatasetAnchor {
            dataset_id: dataset_id.to_owned(),
            split,
            anchor_id: rules::display_id(split.prefix(), &hex::encode(anchor.expose_secret())),
            metadata,
            dataset_hash,
            master_salt,
            sample_hashes: Vec::new(),
            anchor,
        };
        let splits = entry(&mut self.anchors, dataset_id);
        Ok(upsert(splits, |a| a.split == split, record))
    }

    fn anchor_mut(
        &mut self,
        dataset_id: &str,
        split: DatasetSplit,
    ) -> Result<&mut DatasetAnchor, Error> {
        find_in_mut(&mut self.anchors, dataset_id, |a| a.split == split)
            .ok_or_else(|| unknown_split(dataset_id, split.value()))
    }

    /// `anchor.add_sample_hash(h)`: appends unless already present.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] when the split was not created.
    pub fn add_sample_hash(
        &mut self,
        dataset_id: &str,
        split: DatasetSplit,
        sample_hash: &str,
    ) -> Result<(), Error> {
        let anchor = self.anchor_mut(dataset_id, split)?;
        if !anchor.sample_hashes.iter().any(|h| h == sample_hash) {
            anchor.sample_hashes.push(sample_hash.to_owned());
        }
        Ok(())
    }

    /// `add_samples_to_split(dataset_id, split, samples)`: each sample's hash is
    /// `sha256(json.dumps(sample, sort_keys=True))` with the default separators.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] when the split was not created, [`Error::Rule`] for a sample that
    /// is not JSON.
    pub fn add_samples_to_split(
        &mut self,
        dataset_id: &str,
        split: DatasetSplit,
        samples_json: &[&str],
    ) -> Result<(), Error> {
        let hashes = samples_json
            .iter()
            .map(|s| rules::sample_hash(s))
            .collect::<Result<Vec<_>, _>>()?;
        for h in hashes {
            self.add_sample_hash(dataset_id, split, &h)?;
        }
        Ok(())
    }

    /// `anchor.create_commitment(data)` with the policy's kind: `str(data)`, a salted tag (the
    /// salt drawn from the context and not kept, as in the reference) or an HMAC tag keyed by
    /// the dataset anchor.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown split, [`Error::Rule`] for data that is not JSON.
    pub fn create_commitment(
        &self,
        dataset_id: &str,
        split: DatasetSplit,
        data_json: &str,
    ) -> Result<String, Error> {
        let anchor = self
            .get_dataset_anchor(dataset_id, split)
            .ok_or_else(|| unknown_split(dataset_id, split.value()))?;
        self.ctx
            .commitment(data_json, anchor.anchor.expose_secret())
    }

    /// `get_dataset_anchor(dataset_id, split)`.
    pub fn get_dataset_anchor(
        &self,
        dataset_id: &str,
        split: DatasetSplit,
    ) -> Option<&DatasetAnchor> {
        find_in(&self.anchors, dataset_id, |a| a.split == split)
    }

    /// `get_all_splits(dataset_id)`, in creation order.
    pub fn get_all_splits(&self, dataset_id: &str) -> &[DatasetAnchor] {
        listed(&self.anchors, dataset_id)
    }

    /// `get_datasets_root_anchor(dataset_id)`: the reference's tree over the `dataset_hash` of
    /// train, val and test, in that order, those present.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown id or one without train, val or test (the reference
    /// raises `ValueError`).
    pub fn get_datasets_root_anchor(&self, dataset_id: &str) -> Result<String, Error> {
        let leaves: Vec<&str> = [
            DatasetSplit::Train,
            DatasetSplit::Validation,
            DatasetSplit::Test,
        ]
        .into_iter()
        .filter_map(|s| self.get_dataset_anchor(dataset_id, s))
        .map(|a| a.dataset_hash.as_str())
        .collect();
        if leaves.is_empty() {
            return Err(Error::Unknown {
                kind: "dataset with train, val or test splits",
                id: dataset_id.to_owned(),
            });
        }
        Ok(rules::merkle_root(&leaves)?)
    }

    /// `compute_enhanced_split_map_digest(dataset_id)`: `canonical_hash({split: {"anchor":
    /// dataset_hash, "assignment": split_assignment_digest}})`.
    ///
    /// # Errors
    ///
    /// [`Error::Unknown`] for an unknown id.
    pub fn compute_enhanced_split_map_digest(&self, dataset_id: &str) -> Result<String, Error> {
        let splits = self.get_all_splits(dataset_id);
        if splits.is_empty() {
            return Err(Error::Unknown {
                kind: "dataset",
                id: dataset_id.to_owned(),
            });
        }
        split_map_digest(
            splits
                .iter()
                .map(|a| (a.split.value(), &*a.dataset_hash, a.assignment_json())),
        )
    }
}

/// `canonical_hash({split: {"anchor": anchor, "assignment": assignment}})` over `(split,
/// anchor, assignment JSON)` in the given order: the reference's split map digests.
fn split_map_digest<'a>(
    splits: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Result<String, Error> {
    let entries: Vec<(&str, String)> = splits
        .map(|(split, anchor, assignment)| {
            (
                split,
                jobj(&[
                    ("anchor", jstr(anchor)),
                    ("assignment", assignment.to_owned()),
                ]),
            )
        })
        .collect();
    Ok(rules::canonical_hash(&jobj(&entries))?)
}

/// The error for a split `split` of `dataset_id` that was not created.
fn unknown_split(dataset_id: &str, split: &str) -> Error {
    Error::Unknown {
        kind: "dataset split",
        id: format!("{dataset_id}/{split}"),
    }
}
