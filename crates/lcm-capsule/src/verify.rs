//! [`verify_bundle`]: recomputes a whole lifecycle from its bundle.
//!
//! The checks run in an order that makes the first failure point at what was changed:
//!
//! 1. the header's version and policy (everything else is computed under the policy);
//! 2. every sealed record's digest, recomputed. When a digest does not match, the stored
//!    digest is compared with the other places it is referenced from (the header and the
//!    records that link to it): if they agree with the stored digest, the record's content
//!    was changed (the failure names the record's `/record`); if they agree with the
//!    recomputed one, the stored digest was changed (it names `/digest`);
//! 3. the values stored beside the records (split record ids, training metrics, SBOM);
//! 4. the chains (checkpoints, status history, receipts) and the batches;
//! 5. every cross-reference, from the receipts back to the dataset splits, and every root;
//! 6. the policy against the records, the header's age, the header's stages against what
//!    the records give (each differing field named), the policy digest, the key and the
//!    requirements;
//! 7. the signature, which covers every header field: when it alone fails, the header was
//!    altered in a way nothing else shows (its time moved later, or the signature itself).
//!
//! This module holds the entry points and the state of one verification ([`Verifier`]); the
//! steps live in submodules by concern, in pipeline order: `seals` (2), `references` (3 and
//! 5), `chains` (4), `header` (6), with `blame` naming the record and field of a failure and
//! `progress` reporting how far the verification has come.

mod blame;
mod chains;
#[cfg(test)]
mod differential;
mod header;
mod progress;
mod references;
mod scan;
mod seals;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use lcm_crypto::merkle::MerkleTree;
use lcm_crypto::{CommitmentScheme, Digest, VerifyingKey};
use lcm_model::records::{
    DatasetSplit, DeploymentAnchor, DeploymentStatusEvent, InferenceReceipt, TrainingCheckpoint,
    TrainingSession, TrainingSnapshot,
};
use lcm_model::verify::{
    compute_datasets_root, compute_inference_batch, compute_training_session_root,
    model_authorizes_family, verify_claimed_status_history, verify_claimed_training_run,
    verify_receipt_segment, verify_release_root, verify_split_contents, verify_split_records,
    verify_status_history, verify_training_run,
};
use lcm_model::{Claimed, DomainType, Policy, Record, Sealed, Timestamp};
use serde_json::Value;

use crate::bundle::{BUNDLE_VERSION, BatchEvidence, Bundle};
use crate::compliance::policy_checks;
use crate::header::{
    ReceiptsSummary, Stages, digest_and_key_checks, signature_check, version_and_policy_checks,
};
use crate::json::escape_token;
use crate::report::{
    CheckError, Report, Stage, VerificationFailed, mismatch, recomputed, same_value, version_check,
};
use crate::{Error, MerkleLog, PolicyRequirements};

use self::blame::{blame, check_error, error_field, error_index};
use self::progress::{Progress, len_u64};
pub use self::progress::{VerifyProgress, VerifyStage};
pub use self::stream::{
    leading_bundle_header, verify_bundle_reader, verify_bundle_reader_with_progress,
};

const H: &str = "/header";
const L: &str = "/lifecycle";

/// Verifies a bundle offline with the signer's public key: every record digest recomputed,
/// every chain link and root rebuilt, every cross-reference from the receipts back to the
/// dataset splits followed, the header compared with the records and its signature checked,
/// and `requirements` checked. Returns the report of every check.
///
/// Passwords are not needed: the MAC inside a family or model anchor is bound by the
/// anchor's digest, and checking it against a password is the managers' business.
///
/// This does not panic.
///
/// # Errors
///
/// [`VerificationFailed`] with the report when a check fails; its first failure names the
/// stage, the record and the JSON pointer of the field.
///
/// # Examples
///
/// The facade's `lcm::framework::simulate_ai_lifecycle` exports a complete demo bundle; its
/// documentation verifies one. A failure names what was changed:
///
/// ```text
/// verification failed: [G inference] receipt digest: receipt inf_001 at
/// /lifecycle/inference/batches/0/receipts/1/record: expected 93ab…, got add1…
/// ```
pub fn verify_bundle(
    bundle: &Bundle,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    verify_bundle_with_progress(bundle, key, requirements, &mut |_| {})
}

/// [`verify_bundle`], calling `progress` as the verification advances, so that a caller can
/// show a progress bar over a big bundle. The report and the outcome are exactly those of
/// [`verify_bundle`]; see [`VerifyProgress`] for what is reported and how often.
///
/// This does not panic (unless `progress` does).
///
/// # Errors
///
/// As [`verify_bundle`].
///
/// # Examples
///
/// ```
/// use lcm_capsule::{Bundle, PolicyRequirements, VerifyProgress, VerifyStage,
///     verify_bundle_with_progress};
/// use lcm_crypto::VerifyingKey;
///
/// // The committed golden vector: the demo lifecycle's bundle and its signer's public key.
/// let doc: serde_json::Value =
///     serde_json::from_str(include_str!("../../../tests/vectors/lifecycle-bundle.json"))?;
/// let key: VerifyingKey = doc["public_key"].as_str().unwrap_or_default().parse()?;
/// let bundle = Bundle::from_json(&doc["bundle"].to_string())?;
///
/// let mut seen: Vec<VerifyProgress> = Vec::new();
/// let report = verify_bundle_with_progress(&bundle, &key, &PolicyRequirements::default(),
///     &mut |p| seen.push(p))?;
/// assert!(report.is_ok());
/// // A bar of `total` receipts that ends full.
/// let last = seen.last().copied().ok_or("no progress reported")?;
/// assert_eq!((last.stage, last.done, last.total), (VerifyStage::Finished, 4, 4));
/// assert!(seen.windows(2).all(|w| w[0].done <= w[1].done && w[0].stage <= w[1].stage));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_bundle_with_progress(
    bundle: &Bundle,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
) -> Result<Report, VerificationFailed> {
    verify_in_chunks(bundle, key, requirements, progress, PROGRESS_CHUNK)
}

/// How many receipts are checked between two progress reports: about 20 ms of work on the
/// project's machine (1.1 µs per receipt), so that a bar moves smoothly at no measurable cost.
const PROGRESS_CHUNK: usize = 1 << 14;

/// [`verify_bundle_with_progress`] with the receipt chain checked `chunk` receipts at a time
/// (the tests use small chunks to cross their boundaries).
fn verify_in_chunks(
    bundle: &Bundle,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
    chunk: usize,
) -> Result<Report, VerificationFailed> {
    let total = bundle
        .lifecycle
        .inference
        .batches
        .iter()
        .fold(0u64, |n, g| n.saturating_add(len_u64(g.receipts.len())));
    let mut progress = Progress::new(progress, total, chunk);
    progress.stage(VerifyStage::Records);
    let mut v = Verifier {
        report: Report::default(),
        policy: &bundle.header.policy,
        bundle,
        receipts: ReceiptFacts::gather(bundle),
        streamed: None,
        checked: CheckedSeals::default(),
    };
    v.run(key, requirements, &mut progress);
    progress.finish();
    v.report.into_result()
}

/// Parses a bundle (strictly) and verifies it: a document that does not parse fails with one
/// check naming the JSON pointer of the offending value.
///
/// This does not panic.
///
/// # Errors
///
/// As [`verify_bundle`].
pub fn verify_bundle_json(
    input: &str,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    verify_bundle_json_with_progress(input, key, requirements, &mut |_| {})
}

/// [`verify_bundle_json`], calling `progress` as the verification advances: first with
/// [`VerifyStage::Parse`] (and `total` 0, the receipts are not counted yet), then as
/// [`verify_bundle_with_progress`] does. A document that does not parse ends with
/// [`VerifyStage::Finished`] and `done == total == 0`.
///
/// This does not panic (unless `progress` does).
///
/// # Errors
///
/// As [`verify_bundle`].
pub fn verify_bundle_json_with_progress(
    input: &str,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
) -> Result<Report, VerificationFailed> {
    verify_json_in_chunks(input, key, requirements, progress, PROGRESS_CHUNK)
}

fn verify_json_in_chunks(
    input: &str,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
    chunk: usize,
) -> Result<Report, VerificationFailed> {
    Progress::new(progress, 0, chunk).call();
    match Bundle::from_json(input) {
        Ok(bundle) => verify_in_chunks(&bundle, key, requirements, progress, chunk),
        Err(e) => parse_failure(e, &mut Progress::new(progress, 0, chunk)),
    }
}

/// The report of a document that does not parse: one check naming the JSON pointer of the
/// offending value.
fn parse_failure(e: Error, progress: &mut Progress<'_>) -> Result<Report, VerificationFailed> {
    let (path, error) = match e {
        Error::Parse { path, message } => (path, CheckError::Parse { message }),
        Error::Version {
            path,
            expected,
            actual,
        } => (path.to_owned(), CheckError::Version { expected, actual }),
        other => (
            String::new(),
            CheckError::Parse {
                message: other.to_string(),
            },
        ),
    };
    let mut report = Report::default();
    report.push(
        "document parses",
        stage_of_pointer(&path),
        "bundle",
        path,
        Err(error),
    );
    progress.finish();
    report.into_result()
}

/// The stage a JSON pointer of a bundle belongs to.
pub fn stage_of_pointer(pointer: &str) -> Stage {
    let mut parts = pointer.split('/').skip(1);
    match (parts.next(), parts.next()) {
        (Some("header"), Some(field)) => match field {
            "stage_a_dataset" => Stage::Dataset,
            "stage_b_model" => Stage::Model,
            "stage_c_training" => Stage::Training,
            "stage_d_predeployment" => Stage::PreDeployment,
            "stage_e_deployment" => Stage::Deployment,
            "stage_f_test_evaluation" => Stage::TestEvaluation,
            "stage_g_inference" => Stage::Inference,
            "stage_h_roots" => Stage::Roots,
            _ => Stage::Header,
        },
        (Some("header"), None) => Stage::Header,
        (Some("lifecycle"), Some(section)) => match section {
            "dataset" => Stage::Dataset,
            "model" => Stage::Model,
            "training" => Stage::Training,
            "predeployment" => Stage::PreDeployment,
            "deployment" => Stage::Deployment,
            "test_evaluation" => Stage::TestEvaluation,
            "inference" => Stage::Inference,
            "release" => Stage::Roots,
            _ => Stage::Document,
        },
        _ => Stage::Document,
    }
}

struct Verifier<'a> {
    report: Report,
    policy: &'a Policy,
    bundle: &'a Bundle,
    receipts: ReceiptFacts,
    /// The receipts' checks made while streaming the bundle (its groups then hold no
    /// receipts); `None` for a bundle in memory.
    streamed: Option<&'a stream::Streamed>,
    /// The records whose seals [`Verifier::seals`] found matching, sealed, so that the chain
    /// and root checks do not recompute them again.
    checked: CheckedSeals,
}

/// The records of the chains whose seals matched in [`Verifier::seals`], checked once: the
/// run and history checks recompute the claimed seals only when one did not match, so that
/// they then report what they always reported.
#[derive(Default)]
struct CheckedSeals {
    /// The training session.
    session: Option<Sealed<TrainingSession>>,
    /// Every checkpoint, when all matched.
    checkpoints: Option<Vec<Sealed<TrainingCheckpoint>>>,
    /// The training snapshot.
    snapshot: Option<Sealed<TrainingSnapshot>>,
    /// The deployment anchor.
    deployment: Option<Sealed<DeploymentAnchor>>,
    /// Every status event, when all matched.
    status_history: Option<Vec<Sealed<DeploymentStatusEvent>>>,
}

/// A receipt that names another model or deployment than the bundle's.
#[derive(Clone)]
struct ForeignReceipt {
    /// Where it sits.
    at: ReceiptAt,
    /// The receipt's id.
    id: String,
    /// The field naming the other anchor: `model_anchor` or `deployment_anchor`.
    field: &'static str,
    /// The bundle's anchor digest.
    expected: Digest,
    /// The digest the receipt names.
    actual: Digest,
}

/// A receipt with a plaintext commitment.
#[derive(Clone)]
struct PlaintextReceipt {
    /// Where it sits.
    at: ReceiptAt,
    /// The receipt's id.
    id: String,
    /// The commitment's field: `input_commitment` or `output_commitment`.
    field: &'static str,
}

/// What the cross-reference, policy and staleness checks need of the receipts, gathered one
/// receipt at a time (a bundle may hold millions of receipts): a few ids and digests, never
/// the receipts.
#[derive(Default, Clone)]
struct ReceiptFacts {
    /// The first receipt's anchors.
    first: Option<Anchors>,
    /// The first receipt whose anchors are not the first receipt's.
    other: Option<Anchors>,
    /// The first receipt whose commitments are not under the policy's scheme: its id and
    /// its input commitment's scheme.
    other_scheme: Option<(String, CommitmentScheme)>,
    /// The first receipt with a plaintext commitment.
    plaintext: Option<PlaintextReceipt>,
    /// The newest receipt time.
    newest: Option<Timestamp>,
    /// Whether there is any receipt.
    any: bool,
}

/// A receipt's model and deployment anchors, with where it sits.
#[derive(Clone)]
struct Anchors {
    at: ReceiptAt,
    id: String,
    model: Digest,
    deployment: Digest,
}

impl ReceiptFacts {
    fn gather(bundle: &Bundle) -> Self {
        let l = &bundle.lifecycle;
        let scheme = bundle.header.policy.commitments;
        let mut facts = Self::default();
        for (bi, group) in l.inference.batches.iter().enumerate() {
            for (ri, r) in group.receipts.iter().enumerate() {
                let at = ReceiptAt {
                    batch: bi,
                    index: ri,
                };
                facts.observe(scheme, at, r);
            }
        }
        facts
    }

    /// Takes in the receipt `r` at `at` (receipts come in chain order; `scheme` is the
    /// policy's).
    fn observe(&mut self, scheme: CommitmentScheme, at: ReceiptAt, r: &Claimed<InferenceReceipt>) {
        let rec = &r.record;
        self.any = true;
        self.newest = Some(self.newest.map_or(rec.timestamp, |n| n.max(rec.timestamp)));
        let anchors = || Anchors {
            at,
            id: rec.receipt_id.clone(),
            model: rec.model_anchor,
            deployment: rec.deployment_anchor,
        };
        match &self.first {
            None => self.first = Some(anchors()),
            Some(f) => {
                if self.other.is_none()
                    && (f.model != rec.model_anchor || f.deployment != rec.deployment_anchor)
                {
                    self.other = Some(anchors());
                }
            }
        }
        let (input, output) = (&rec.input_commitment, &rec.output_commitment);
        if self.other_scheme.is_none() && (input.scheme != scheme || output.scheme != scheme) {
            self.other_scheme = Some((rec.receipt_id.clone(), input.scheme));
        }
        if self.plaintext.is_none() {
            for (which, c) in [("input_commitment", input), ("output_commitment", output)] {
                if c.scheme == CommitmentScheme::Plaintext || c.plaintext.is_some() {
                    self.plaintext = Some(PlaintextReceipt {
                        at,
                        id: rec.receipt_id.clone(),
                        field: which,
                    });
                    break;
                }
            }
        }
    }

    /// The first receipt not made by the bundle's `model` and `deployment`: the first
    /// receipt if it is not, otherwise the first whose anchors differ from the first's (every
    /// receipt before it has the first's), so that the anchors need not be known while the
    /// receipts are read.
    fn foreign(&self, model: Digest, deployment: Digest) -> Option<ForeignReceipt> {
        let first = self.first.as_ref()?;
        let bad = if first.model != model || first.deployment != deployment {
            first
        } else {
            self.other.as_ref()?
        };
        let (field, expected, actual) = if bad.model != model {
            ("model_anchor", model, bad.model)
        } else {
            ("deployment_anchor", deployment, bad.deployment)
        };
        Some(ForeignReceipt {
            at: bad.at,
            id: bad.id.clone(),
            field,
            expected,
            actual,
        })
    }
}

/// What the header checks need of the tree over every receipt digest.
#[derive(Clone, Copy)]
struct TreeFacts {
    /// Its size.
    len: u64,
    /// Its root.
    root: Digest,
    /// Its root at the size the header signs, when that size is not larger.
    root_at_signed: Option<Digest>,
    /// The last receipt's digest.
    head: Option<Digest>,
}

/// Where a receipt sits: its batch group, its place in the group, its place in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReceiptAt {
    batch: usize,
    index: usize,
}

impl ReceiptAt {
    fn path(self) -> String {
        format!(
            "{L}/inference/batches/{}/receipts/{}",
            self.batch, self.index
        )
    }
}

impl Verifier<'_> {
    fn run(&mut self, key: &VerifyingKey, req: &PolicyRequirements, progress: &mut Progress<'_>) {
        let b = self.bundle;
        self.report.push(
            "bundle version",
            Stage::Document,
            "bundle",
            "/bundle_version",
            version_check(BUNDLE_VERSION, &b.bundle_version),
        );
        if !version_and_policy_checks(&mut self.report, &b.header, H) {
            // Nothing can be recomputed under an unusable policy; the signature still says
            // whether the header is the signed one.
            signature_check(&mut self.report, &b.header, key, H);
            return;
        }
        self.seals();
        self.evidence();
        self.chains(progress);
        progress.stage(VerifyStage::Header);
        self.references();
        self.roots();
        self.policy_against_records();
        let tree = self.tree_facts();
        self.staleness(&tree);
        self.header_stages(&tree);
        digest_and_key_checks(&mut self.report, &b.header, key, H);
        policy_checks(&mut self.report, &b.header, req, H);
        self.requirements_against_records(req);
        signature_check(&mut self.report, &b.header, key, H);
    }
}
