//! Dataset records: family metadata, the family anchor, splits and split anchors.
//!
//! A dataset *family* is one versioned dataset (`medical_images v1.0`) described by
//! [`DatasetFamilyMetadata`] and anchored by a [`DatasetFamilyAnchor`]: a MAC over the
//! metadata digest under a key derived from a master password (the salt and the KDF cost are
//! stored in the anchor, so the password can be checked again later). Its *splits* (train,
//! validation, test) are [`DatasetSplitAnchor`]s, each referencing the family anchor by its
//! full digest and committing to its record ids twice: a flat assignment digest (a set
//! commitment) and an RFC 9162 Merkle root (which allows inclusion proofs per record).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use lcm_crypto::{Digest, MacTag, Salt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::non_empty;
use crate::{Error, Record, Timestamp};

/// One of the three splits of a dataset family (the seed's `DatasetSplit`).
///
/// The wire names are the seed's enum values: `"train"`, `"val"`, `"test"`. The order
/// (`Train < Validation < Test`) is the seed's and fixes the order of every per-split list,
/// for example the leaves of the datasets root.
///
/// # Examples
///
/// ```
/// use lcm_model::records::DatasetSplit;
///
/// assert_eq!(DatasetSplit::Validation.as_str(), "val");
/// assert_eq!("test".parse::<DatasetSplit>()?, DatasetSplit::Test);
/// assert_eq!(serde_json::to_string(&DatasetSplit::Train).unwrap(), "\"train\"");
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum DatasetSplit {
    /// The training split (`"train"`).
    #[serde(rename = "train")]
    Train,
    /// The validation split (`"val"`).
    #[serde(rename = "val")]
    Validation,
    /// The held-out test split (`"test"`).
    #[serde(rename = "test")]
    Test,
}

impl DatasetSplit {
    /// Every split, in the fixed order.
    pub const ALL: [Self; 3] = [Self::Train, Self::Validation, Self::Test];

    /// The wire name (`"train"`, `"val"`, `"test"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Validation => "val",
            Self::Test => "test",
        }
    }
}

/// Read from its wire name as a string (not as an enum), so that an error inside a map keyed
/// by split can name the split (`splits.test.record_ids`).
impl<'de> Deserialize<'de> for DatasetSplit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format_args!(
                    "unknown split {name:?}, expected one of \"train\", \"val\", \"test\""
                ))
            })
    }
}

impl fmt::Display for DatasetSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetSplit {
    type Err = Error;

    /// Parses a wire name. Unlike the Python reference, an unknown name is an error, never
    /// silently the training split.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "train" => Ok(Self::Train),
            "val" => Ok(Self::Validation),
            "test" => Ok(Self::Test),
            _ => Err(Error::InvalidField {
                record: "dataset-split-anchor",
                field: "split",
                expected: "one of \"train\", \"val\", \"test\"",
                actual: format!("{:?}", s.chars().take(64).collect::<String>()),
            }),
        }
    }
}

/// The description of a dataset family (the seed's `DatasetFamilyMetadata`).
///
/// `name`, `version`, `owner` and `license` are required and must not be empty. Every field
/// enters the family anchor (the Python reference leaves out tags and compliance frameworks).
/// The creation time is not a field here: the family anchor records it from the manager's
/// clock (`created_at`), so that user input never carries a host-dependent value.
///
/// # Examples
///
/// ```
/// use lcm_model::records::DatasetFamilyMetadata;
///
/// let mut m = DatasetFamilyMetadata::new("medical_images", "v1.0", "hospital_ai_team", "custom");
/// m.contains_pii = true;
/// m.compliance_frameworks.push("HIPAA".into());
/// m.validate()?;
/// # Ok::<(), lcm_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DatasetFamilyMetadata {
    /// The dataset's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Who owns it.
    pub owner: String,
    /// Its license.
    pub license: String,
    /// A free-text description.
    pub description: String,
    /// Free-form tags, in the given order.
    pub tags: Vec<String>,
    /// Whether records contain personal data.
    pub contains_pii: bool,
    /// The privacy level, for example `"public"` or `"restricted"`.
    pub privacy_level: String,
    /// Compliance frameworks that apply, for example `"HIPAA"`.
    pub compliance_frameworks: Vec<String>,
}

impl DatasetFamilyMetadata {
    /// Metadata with the four required fields; the rest take the seed's defaults (empty
    /// description and lists, no PII, privacy level `"public"`).
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        owner: impl Into<String>,
        license: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            owner: owner.into(),
            license: license.into(),
            description: String::new(),
            tags: Vec::new(),
            contains_pii: false,
            privacy_level: "public".to_owned(),
            compliance_frameworks: Vec::new(),
        }
    }

    /// Checks the required fields.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyField`] naming the first empty one of `name`, `version`, `owner`,
    /// `license`.
    pub fn validate(&self) -> Result<(), Error> {
        for (field, value) in [
            ("name", &self.name),
            ("version", &self.version),
            ("owner", &self.owner),
            ("license", &self.license),
        ] {
            non_empty(Self::KIND, field, value)?;
        }
        Ok(())
    }
}

impl Record for DatasetFamilyMetadata {
    const KIND: &'static str = "dataset-family-metadata";
}

/// The anchor of a dataset family (the seed's `LCMDatasetFamilyAnchor`).
///
/// `anchor` is `MAC(K, metadata digest)`, where `K` is the sub-key labelled
/// `"dataset-family-anchor:" + family_id` of the master key
/// `PBKDF2-HMAC-SHA256(password, salt, kdf_iterations)`, and the MAC is the policy's
/// (HMAC-SHA256 or keyed BLAKE3). The label binds the family id, the message binds every
/// metadata field, and the salt and cost are stored so that the password can be verified
/// again. The record's own digest (see [`crate::Sealed`]) is what other records reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFamilyAnchor {
    /// The family id, for lookup and display (for example `"med_img_v1"`).
    pub family_id: String,
    /// The metadata.
    pub metadata: DatasetFamilyMetadata,
    /// The digest of `metadata` (the MAC's message).
    pub metadata_digest: Digest,
    /// The PBKDF2 iteration count the master key was derived with.
    pub kdf_iterations: u32,
    /// The PBKDF2 salt (public; needed to derive the key again).
    pub salt: Salt,
    /// The anchor value: the MAC over `metadata_digest`.
    pub anchor: MacTag,
    /// When the anchor was created (the manager's clock).
    pub created_at: Timestamp,
}

impl Record for DatasetFamilyAnchor {
    const KIND: &'static str = "dataset-family-anchor";
}

/// What a caller supplies for one split (the values of the seed's `splits_info`).
///
/// # Examples
///
/// ```
/// use lcm_model::records::SplitInfo;
///
/// let info = SplitInfo::new(vec!["r001".into(), "r002".into()]);
/// assert_eq!(info.sample_count, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SplitInfo {
    /// The number of records; must equal `record_ids.len()` (the seed states both, so a
    /// mismatch is a caller error worth reporting).
    pub sample_count: u64,
    /// The ids of the records in this split (unique, non-empty strings).
    pub record_ids: Vec<String>,
    /// The seed of the random split assignment, if one was used.
    #[serde(default)]
    pub rng_seed: Option<u64>,
    /// How the records were selected, free-form.
    #[serde(default)]
    pub selection_rules: Map<String, Value>,
    /// The columns the split was stratified by, if any.
    #[serde(default)]
    pub stratify_by: Vec<String>,
    /// The digest of each record's content, by record id (the seed's sample hashes). Empty
    /// when only the ids are anchored; otherwise exactly one per record id, and the split
    /// anchor's `contents_root` binds them, so a record changed under the same id is detected.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "BTreeMap<String, crate::schema::InputDigest>")
    )]
    pub content_digests: BTreeMap<String, Digest>,
}

impl SplitInfo {
    /// A split of `record_ids`, with `sample_count` set to their number and no seed, rules,
    /// stratification or content digests.
    pub fn new(record_ids: Vec<String>) -> Self {
        Self {
            sample_count: u64::try_from(record_ids.len()).unwrap_or(u64::MAX),
            record_ids,
            rng_seed: None,
            selection_rules: Map::new(),
            stratify_by: Vec::new(),
            content_digests: BTreeMap::new(),
        }
    }
}

/// The anchor of one split of a dataset family (the seed's `LCMDatasetSplitAnchor` with its
/// `SplitMetadata`).
///
/// `assignment_digest` is `hash_domain("lcm/<v>/split-assignment", sorted ids)`: every id is
/// one length-prefixed part, so no two id lists collide (the reference joins them without a
/// separator). `records_root` is the RFC 9162 root over the per-record leaf digests
/// `hash_domain("lcm/<v>/dataset-record", [id])` in sorted id order. `contents_root`, present
/// when content digests were supplied, is the RFC 9162 root over
/// `hash_domain("lcm/<v>/dataset-record-content", [id, content digest])` in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSplitAnchor {
    /// The family id, for display.
    pub family_id: String,
    /// The full digest of the family anchor this split belongs to.
    pub family_anchor: Digest,
    /// Which split.
    pub split: DatasetSplit,
    /// The number of records.
    pub sample_count: u64,
    /// The flat, injective digest of the sorted record ids.
    pub assignment_digest: Digest,
    /// The Merkle root over the records.
    pub records_root: Digest,
    /// The Merkle root over the records' content digests, if they were supplied.
    pub contents_root: Option<Digest>,
    /// The seed of the random split assignment, if one was used.
    pub rng_seed: Option<u64>,
    /// How the records were selected, free-form.
    pub selection_rules: Map<String, Value>,
    /// The columns the split was stratified by.
    pub stratify_by: Vec<String>,
    /// When the split anchor was created.
    pub created_at: Timestamp,
}

impl Record for DatasetSplitAnchor {
    const KIND: &'static str = "dataset-split-anchor";
}

#[cfg(test)]
mod tests;
