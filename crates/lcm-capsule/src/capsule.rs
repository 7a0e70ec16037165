//! [`Capsule`]: one item of a lifecycle (an inference receipt, a training checkpoint, a
//! dataset record) with everything needed to check it against a signed header, materialized
//! only when asked.

use lcm_crypto::merkle::{InclusionProof, MerkleRoot, leaf_hash};
use lcm_crypto::{Digest, Opening, RevealedOpening, VerifyingKey};
use lcm_model::records::{
    DatasetSplitAnchor, InferenceCommitment, InferenceReceipt, TrainingCheckpoint,
};
use lcm_model::verify::{record_leaf_digest, verify_commitment, verify_record_inclusion};
use lcm_model::{Claimed, Policy, Record, Seal};
use serde::{Deserialize, Serialize};

use crate::header::header_checks;
use crate::report::{
    CheckError, Report, Stage, VerificationFailed, agree, mismatch, recomputed, same_value,
    version_check,
};
use crate::{CAPSULE_VERSION, CapsuleHeader, Error, ItemLog, json};

/// One materialized item, bound to the header it was made against by the header's digest
/// (the seed's proof capsule, made real).
///
/// # Examples
///
/// See [`materialize_receipt`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capsule {
    /// The schema version, [`CAPSULE_VERSION`].
    pub capsule_version: String,
    /// [`CapsuleHeader::digest`] of the header the proofs lead to.
    pub header_digest: Digest,
    /// The item.
    pub item: CapsuleItem,
}

/// What a capsule holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CapsuleItem {
    /// An inference receipt, proven into stage G's receipts root.
    InferenceReceipt(Box<ReceiptItem>),
    /// A training checkpoint, proven into stage C's checkpoints root.
    TrainingCheckpoint(Box<CheckpointItem>),
    /// A dataset record id, proven into its split's records root.
    DatasetRecord(Box<DatasetRecordItem>),
}

/// A dataset record id with its split anchor and its inclusion proof into the split's records
/// root (leaf: `lcm_model::verify::record_leaf_digest` of the id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetRecordItem {
    /// The split anchor (stage A of the header names its digest).
    pub split_anchor: Claimed<DatasetSplitAnchor>,
    /// The record's id.
    pub record_id: String,
    /// Its inclusion proof.
    #[serde(with = "strict_proof")]
    pub proof: InclusionProof,
}

/// A receipt with its proof, its chain neighbours and, optionally, the opening of its
/// commitments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptItem {
    /// The sealed receipt.
    pub receipt: Claimed<InferenceReceipt>,
    /// Its inclusion proof (leaf = its digest) up to stage G's receipts root.
    #[serde(with = "strict_proof")]
    pub proof: InclusionProof,
    /// The receipt before it in the chain (none for the first).
    pub previous: Option<Neighbour>,
    /// The receipt after it (none for the last one the header covers).
    pub next: Option<Neighbour>,
    /// Disclosed query and output, for selective disclosure.
    pub disclosure: Option<Disclosure>,
}

/// A checkpoint with its proof and chain neighbours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointItem {
    /// The sealed checkpoint.
    pub checkpoint: Claimed<TrainingCheckpoint>,
    /// Its inclusion proof up to stage C's checkpoints root.
    #[serde(with = "strict_proof")]
    pub proof: InclusionProof,
    /// The checkpoint before it (none for the first).
    pub previous: Option<Neighbour>,
    /// The checkpoint after it (none for the last).
    pub next: Option<Neighbour>,
}

/// A neighbouring item of a chain: its digest and its own inclusion proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbour {
    /// The neighbour's digest.
    pub digest: Digest,
    /// Its inclusion proof into the same root.
    #[serde(with = "strict_proof")]
    pub proof: InclusionProof,
}

/// The disclosed values of one receipt's commitments. Only this receipt's openings are
/// revealed: each opening opens one commitment and no other (see
/// [`lcm_crypto::Opening::reveal`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// The query and its opening.
    pub input: Option<DisclosedValue>,
    /// The output and its opening.
    pub output: Option<DisclosedValue>,
}

/// One disclosed value and the opening of its commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosedValue {
    /// The committed text.
    pub data: String,
    /// The opening.
    pub opening: RevealedOpening,
}

impl Capsule {
    /// The capsule as JSON: compact for `None`, pretty with `Some(indent)`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if encoding fails.
    pub fn to_json(&self, indent: Option<usize>) -> Result<String, Error> {
        json::to_json(self, indent)
    }

    /// Parses a capsule strictly (unknown fields and other versions are errors).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] naming the JSON pointer of the offending value; [`Error::Version`].
    pub fn from_json(input: &str) -> Result<Self, Error> {
        let capsule: Self = json::parse_strict(input)?;
        crate::error::version(
            "/capsule_version",
            CAPSULE_VERSION,
            &capsule.capsule_version,
        )?;
        Ok(capsule)
    }
}

/// Wraps a materialized item into a capsule bound to `header` (the seed's
/// `create_capsule_from_header`).
///
/// # Errors
///
/// As [`CapsuleHeader::digest`].
pub fn create_capsule_from_header(
    header: &CapsuleHeader,
    item: CapsuleItem,
) -> Result<Capsule, Error> {
    Ok(Capsule {
        capsule_version: CAPSULE_VERSION.to_owned(),
        header_digest: header.digest()?,
        item,
    })
}

fn neighbour(log: &dyn ItemLog, index: u64, size: u64) -> Result<Option<Neighbour>, Error> {
    if index >= size {
        return Ok(None);
    }
    let digest = log.item_digest(index)?.ok_or(Error::Materialize {
        what: "neighbour",
        expected: format!("an item at {index}"),
        actual: "none".to_owned(),
    })?;
    Ok(Some(Neighbour {
        digest,
        proof: log.inclusion_proof(index, size)?,
    }))
}

/// The item `digest` at `index` of a log of `size`, once checked to be the one registered
/// there: its inclusion proof and its previous and next neighbours.
fn placed(
    log: &dyn ItemLog,
    index: u64,
    digest: Digest,
    size: u64,
) -> Result<(InclusionProof, Option<Neighbour>, Option<Neighbour>), Error> {
    registered(log, index, digest)?;
    let previous = match index.checked_sub(1) {
        Some(p) => neighbour(log, p, size)?,
        None => None,
    };
    let next = neighbour(log, index.saturating_add(1), size)?;
    Ok((log.inclusion_proof(index, size)?, previous, next))
}

/// The [`Error::Inconsistent`] of a header without the `stage` (header `field`) an item needs.
fn no_stage(stage: &'static str, field: &'static str, kind: &str) -> Error {
    Error::Inconsistent {
        stage,
        field,
        expected: format!("a header with {kind} stage"),
        actual: "none".to_owned(),
    }
}

fn registered(log: &dyn ItemLog, index: u64, digest: Digest) -> Result<(), Error> {
    match log.item_digest(index)? {
        Some(d) if d == digest => Ok(()),
        other => Err(Error::Materialize {
            what: "registered digest",
            expected: other.map_or_else(|| "an item at this index".to_owned(), |d| d.to_string()),
            actual: digest.to_string(),
        }),
    }
}

/// Materializes one receipt against `header`: its inclusion proof into stage G's receipts
/// root, its neighbours' digests with their proofs, and the disclosure if one is given. Only
/// this receipt's openings may be passed; nothing of any other receipt is read besides the
/// two neighbour digests.
///
/// `log` holds every receipt digest in chain order (a [`crate::MerkleLog`], or any
/// [`ItemLog`], such as a store's log tiles); the header may cover fewer receipts than the
/// log (an older header), and the proofs are made for the header's size. Cost: `O(log n)`
/// hashes (and reads, for a stored log).
///
/// # Errors
///
/// [`Error::Inconsistent`] when the header has no stage G; [`Error::Materialize`] when the
/// receipt is not the one registered at its sequence number or is beyond the header.
///
/// # Examples
///
/// ```
/// # use lcm_capsule::{InferenceRecords, LifecycleRecords, MerkleLog, create_capsule_header,
/// #     materialize_receipt, verify_capsule};
/// # use lcm_crypto::{Digest, Seed, SigningKey};
/// # use lcm_model::records::{InferenceCommitment, InferenceReceipt};
/// # use lcm_model::{Policy, Sealed, Timestamp};
/// # let policy = Policy::default();
/// # let commitment = InferenceCommitment {
/// #     scheme: lcm_crypto::CommitmentScheme::Salted, value: Digest::from_bytes([3; 32]),
/// #     metadata: Default::default(), plaintext: None };
/// let mut log = MerkleLog::new(policy.hash_algorithm);
/// let mut receipts = Vec::new();
/// for i in 0..100u64 {
///     let r = InferenceReceipt {
///         receipt_id: format!("inf_{i}"), sequence: i,
///         model_anchor: Digest::from_bytes([1; 32]), deployment_anchor: Digest::from_bytes([2; 32]),
///         request_id: format!("req_{i}"),
///         input_commitment: commitment.clone(), output_commitment: commitment.clone(),
///         explanation_digests: vec![], prev_receipt: receipts.last().map(|r: &Sealed<_>| r.digest()),
///         timestamp: Timestamp::from_unix_micros(0),
///     };
///     let sealed = Sealed::seal(r, &policy)?;
///     log.register(sealed.digest())?; // one leaf hash
///     receipts.push(sealed);
/// }
/// let key = SigningKey::from_seed(&Seed::from_bytes([7; 32]));
/// let records = LifecycleRecords {
///     inference: Some(InferenceRecords { receipts: &log, batches: &[] }),
///     ..LifecycleRecords::default()
/// };
/// let header = create_capsule_header(&policy, &records, Timestamp::from_unix_micros(1), &key)?;
/// let capsule = materialize_receipt(&header, &log, &receipts[42], None)?;
/// let report = verify_capsule(&capsule, &header, &key.verifying_key())?;
/// assert!(report.is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn materialize_receipt(
    header: &CapsuleHeader,
    log: &dyn ItemLog,
    receipt: &impl Seal<Record = InferenceReceipt>,
    disclosure: Option<Disclosure>,
) -> Result<Capsule, Error> {
    Materializer::new(header)?.receipt(log, receipt, disclosure)
}

fn receipt_item(
    header: &CapsuleHeader,
    log: &dyn ItemLog,
    receipt: &impl Seal<Record = InferenceReceipt>,
    disclosure: Option<Disclosure>,
) -> Result<CapsuleItem, Error> {
    let g = header
        .stage_g_inference
        .as_ref()
        .ok_or_else(|| no_stage("G inference", "stage_g_inference", "an inference"))?;
    let index = receipt.record().sequence;
    let (proof, previous, next) = placed(log, index, receipt.digest(), g.receipt_count)?;
    let item = ReceiptItem {
        receipt: receipt.to_claimed(),
        proof,
        previous,
        next,
        disclosure,
    };
    Ok(CapsuleItem::InferenceReceipt(Box::new(item)))
}

/// Materializes one training checkpoint against `header`: its inclusion proof into stage C's
/// checkpoints root and its neighbours. `log` holds the session's checkpoint digests in chain
/// order.
///
/// # Errors
///
/// [`Error::Inconsistent`] when the header has no stage C; [`Error::Materialize`] when the
/// checkpoint is not the one registered at its index.
pub fn materialize_checkpoint(
    header: &CapsuleHeader,
    log: &dyn ItemLog,
    checkpoint: &impl Seal<Record = TrainingCheckpoint>,
) -> Result<Capsule, Error> {
    Materializer::new(header)?.checkpoint(log, checkpoint)
}

fn checkpoint_item(
    header: &CapsuleHeader,
    log: &dyn ItemLog,
    checkpoint: &impl Seal<Record = TrainingCheckpoint>,
) -> Result<CapsuleItem, Error> {
    let c = header
        .stage_c_training
        .as_ref()
        .ok_or_else(|| no_stage("C training", "stage_c_training", "a training"))?;
    let index = checkpoint.record().index;
    let (proof, previous, next) = placed(log, index, checkpoint.digest(), c.checkpoint_count)?;
    let item = CheckpointItem {
        checkpoint: checkpoint.to_claimed(),
        proof,
        previous,
        next,
    };
    Ok(CapsuleItem::TrainingCheckpoint(Box::new(item)))
}

/// Materializes one dataset record against `header`: its inclusion proof into the split's
/// records root. `log` holds [`record_leaf_digest`]s of the split's record ids in sorted id
/// order (which is how the records root is built); `index` is the record's position there.
///
/// # Errors
///
/// [`Error::Materialize`] when the record is not the one registered at `index`.
pub fn materialize_dataset_record(
    header: &CapsuleHeader,
    log: &dyn ItemLog,
    split_anchor: &impl Seal<Record = DatasetSplitAnchor>,
    record_id: &str,
    index: u64,
) -> Result<Capsule, Error> {
    Materializer::new(header)?.dataset_record(log, split_anchor, record_id, index)
}

fn dataset_record_item(
    policy: &Policy,
    log: &dyn ItemLog,
    split_anchor: &impl Seal<Record = DatasetSplitAnchor>,
    record_id: &str,
    index: u64,
) -> Result<CapsuleItem, Error> {
    registered(log, index, record_leaf_digest(policy, record_id))?;
    let item = DatasetRecordItem {
        split_anchor: split_anchor.to_claimed(),
        record_id: record_id.to_owned(),
        proof: log.inclusion_proof(index, split_anchor.record().sample_count)?,
    };
    Ok(CapsuleItem::DatasetRecord(Box::new(item)))
}

/// Materializes items against one header, whose digest it computes once: the way to serve
/// many capsules (each then costs only its proofs, `O(log n)`).
///
/// # Examples
///
/// See [`materialize_receipt`], which is `Materializer::new(header)?.receipt(..)`.
#[derive(Debug, Clone, Copy)]
pub struct Materializer<'a> {
    header: &'a CapsuleHeader,
    header_digest: Digest,
}

impl<'a> Materializer<'a> {
    /// A materializer for `header`.
    ///
    /// # Errors
    ///
    /// As [`CapsuleHeader::digest`].
    pub fn new(header: &'a CapsuleHeader) -> Result<Self, Error> {
        Ok(Self {
            header,
            header_digest: header.digest()?,
        })
    }

    fn capsule(&self, item: CapsuleItem) -> Capsule {
        Capsule {
            capsule_version: CAPSULE_VERSION.to_owned(),
            header_digest: self.header_digest,
            item,
        }
    }

    /// As [`materialize_receipt`].
    ///
    /// # Errors
    ///
    /// As [`materialize_receipt`].
    pub fn receipt(
        &self,
        log: &dyn ItemLog,
        receipt: &impl Seal<Record = InferenceReceipt>,
        disclosure: Option<Disclosure>,
    ) -> Result<Capsule, Error> {
        Ok(self.capsule(receipt_item(self.header, log, receipt, disclosure)?))
    }

    /// As [`materialize_checkpoint`].
    ///
    /// # Errors
    ///
    /// As [`materialize_checkpoint`].
    pub fn checkpoint(
        &self,
        log: &dyn ItemLog,
        checkpoint: &impl Seal<Record = TrainingCheckpoint>,
    ) -> Result<Capsule, Error> {
        Ok(self.capsule(checkpoint_item(self.header, log, checkpoint)?))
    }

    /// As [`materialize_dataset_record`].
    ///
    /// # Errors
    ///
    /// As [`materialize_dataset_record`].
    pub fn dataset_record(
        &self,
        log: &dyn ItemLog,
        split_anchor: &impl Seal<Record = DatasetSplitAnchor>,
        record_id: &str,
        index: u64,
    ) -> Result<Capsule, Error> {
        let policy = &self.header.policy;
        Ok(self.capsule(dataset_record_item(
            policy,
            log,
            split_anchor,
            record_id,
            index,
        )?))
    }
}

/// Inclusion proofs parsed strictly: unknown fields are refused (the proof type itself
/// accepts them), and the path length is checked against the index and size.
mod strict_proof {
    use lcm_crypto::Digest;
    use lcm_crypto::merkle::InclusionProof;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        index: u64,
        tree_size: u64,
        path: Vec<Digest>,
    }

    pub(super) fn serialize<S: Serializer>(p: &InclusionProof, s: S) -> Result<S::Ok, S::Error> {
        p.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InclusionProof, D::Error> {
        let raw = Raw::deserialize(d)?;
        InclusionProof::new(raw.index, raw.tree_size, raw.path).map_err(serde::de::Error::custom)
    }
}

mod verify;

pub use self::verify::verify_capsule;
