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
use crate::report::{CheckError, Report, Stage, VerificationFailed};
use crate::{Error, MerkleLog, PolicyRequirements};

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
        checked: CheckedSeals::default(),
    };
    v.run(key, requirements, &mut progress);
    progress.finish();
    v.report.into_result()
}

/// How far a bundle verification has come: reported by [`verify_bundle_with_progress`] and
/// [`verify_bundle_json_with_progress`].
///
/// The unit is the receipt, as receipts are the bulk of a big bundle: `total` is the number
/// of receipts in the bundle and `done` the number whose chain check (digest recomputed,
/// sequence, link, repeats) and batch check are finished. The other records are few, so they
/// are not counted; their checks are announced by `stage`.
///
/// Over one verification, `stage` and `done` never go back and `total` does not change
/// (except from 0 while a JSON document is parsed, when it is not known yet). The first call
/// comes before any work, a call follows every 16,384 receipts or so (never more than one per
/// receipt batch of that size, however the receipts are grouped), and the last call has
/// stage [`VerifyStage::Finished`] with `done == total`, whether the bundle verified or not
/// (a verification that stops early, for example on an unusable policy, jumps to the end).
/// The receipt stage is the bulk of the time: at 10^6 receipts, the chain check alone takes
/// about 0.85 s of 1.0 s (`cargo bench --bench capsule`). The [`VerifyStage::Header`] stage
/// that follows (the tree over every receipt digest, the header against the records, the
/// signature) is most of the rest, with `done == total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyProgress {
    /// What is being checked.
    pub stage: VerifyStage,
    /// Receipts checked so far.
    pub done: u64,
    /// Receipts in the bundle (0 while a JSON document is parsed).
    pub total: u64,
}

/// The stages of a bundle verification, in the order they come ([`VerifyProgress::stage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum VerifyStage {
    /// The JSON document is parsed ([`verify_bundle_json_with_progress`] only).
    Parse,
    /// Every record other than the receipts: digests, stored values, the checkpoint chain and
    /// the status history.
    Records,
    /// The receipt chain and the batches; `done` counts the receipts.
    Receipts,
    /// The cross-references and roots, the tree over every receipt digest, the header against
    /// the records, the policy, the key and the signature.
    Header,
    /// Done: `done == total`.
    Finished,
}

impl VerifyStage {
    /// A lowercase name for a progress bar's label (`"receipts"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Parse => "parse",
            Self::Records => "records",
            Self::Receipts => "receipts",
            Self::Header => "header",
            Self::Finished => "finished",
        }
    }
}

/// The progress callback with what it has been told, so that it is called a bounded number
/// of times and never goes back.
struct Progress<'p> {
    report: &'p mut dyn FnMut(VerifyProgress),
    stage: VerifyStage,
    done: u64,
    /// `done` when the callback was last called.
    reported: u64,
    total: u64,
    chunk: usize,
}

impl<'p> Progress<'p> {
    fn new(report: &'p mut dyn FnMut(VerifyProgress), total: u64, chunk: usize) -> Self {
        Self {
            report,
            stage: VerifyStage::Parse,
            done: 0,
            reported: 0,
            total,
            chunk: chunk.max(1),
        }
    }

    fn call(&mut self) {
        self.reported = self.done;
        (self.report)(VerifyProgress {
            stage: self.stage,
            done: self.done,
            total: self.total,
        });
    }

    /// Enters `stage`, if it comes later than the current one, and says so.
    fn stage(&mut self, stage: VerifyStage) {
        if stage > self.stage {
            self.stage = stage;
            self.call();
        }
    }

    /// `n` more receipts are checked; reports when a chunk's worth has gathered since the
    /// last report.
    fn advance(&mut self, n: usize) {
        self.done = self.done.saturating_add(len_u64(n)).min(self.total);
        if self.done.saturating_sub(self.reported) >= len_u64(self.chunk) {
            self.call();
        }
    }

    /// The last call: `done == total`.
    fn finish(&mut self) {
        self.done = self.total;
        self.stage = VerifyStage::Finished;
        self.call();
    }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
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
        Err(e) => {
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
            Progress::new(progress, 0, chunk).finish();
            report.into_result()
        }
    }
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
    receipts: ReceiptFacts<'a>,
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

/// What the cross-reference, policy and staleness checks need of the receipts, gathered in
/// one pass over the chain (a bundle may hold millions of receipts).
#[derive(Default)]
struct ReceiptFacts<'a> {
    /// The first receipt not made by the bundle's model and deployment, with the field.
    foreign: Option<(
        ReceiptAt,
        &'a Claimed<InferenceReceipt>,
        &'static str,
        Digest,
        Digest,
    )>,
    /// The first receipt whose commitments are not under the policy's scheme.
    other_scheme: Option<&'a Claimed<InferenceReceipt>>,
    /// The first receipt with a plaintext commitment, with the commitment's field.
    plaintext: Option<(ReceiptAt, &'a Claimed<InferenceReceipt>, &'static str)>,
    /// The newest receipt time.
    newest: Option<Timestamp>,
    /// Whether there is any receipt.
    any: bool,
}

impl<'a> ReceiptFacts<'a> {
    fn gather(bundle: &'a Bundle) -> Self {
        let l = &bundle.lifecycle;
        let (model, deployment) = (l.model.digest, l.deployment.anchor.digest);
        let scheme = bundle.header.policy.commitments;
        let mut facts = Self::default();
        for (bi, group) in l.inference.batches.iter().enumerate() {
            for (ri, r) in group.receipts.iter().enumerate() {
                let at = ReceiptAt {
                    batch: bi,
                    index: ri,
                };
                let rec = &r.record;
                facts.any = true;
                facts.newest = Some(facts.newest.map_or(rec.timestamp, |n| n.max(rec.timestamp)));
                if facts.foreign.is_none() {
                    if rec.model_anchor != model {
                        facts.foreign = Some((at, r, "model_anchor", model, rec.model_anchor));
                    } else if rec.deployment_anchor != deployment {
                        let actual = rec.deployment_anchor;
                        facts.foreign = Some((at, r, "deployment_anchor", deployment, actual));
                    }
                }
                let (input, output) = (&rec.input_commitment, &rec.output_commitment);
                if facts.other_scheme.is_none()
                    && (input.scheme != scheme || output.scheme != scheme)
                {
                    facts.other_scheme = Some(r);
                }
                if facts.plaintext.is_none() {
                    for (which, c) in [("input_commitment", input), ("output_commitment", output)] {
                        if c.scheme == CommitmentScheme::Plaintext || c.plaintext.is_some() {
                            facts.plaintext = Some((at, r, which));
                            break;
                        }
                    }
                }
            }
        }
        facts
    }
}

/// A batch check to report: its name, record, field and outcome.
type BatchCheck = (&'static str, String, String, Result<(), CheckError>);

/// Where a receipt sits: its batch group, its place in the group, its place in the chain.
#[derive(Clone, Copy)]
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

fn mismatch(expected: Digest, actual: Digest) -> Result<(), CheckError> {
    if expected == actual {
        Ok(())
    } else {
        Err(CheckError::DigestMismatch { expected, actual })
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
            if b.bundle_version == BUNDLE_VERSION {
                Ok(())
            } else {
                Err(CheckError::Version {
                    expected: BUNDLE_VERSION,
                    actual: b.bundle_version.chars().take(64).collect(),
                })
            },
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
        let tree = self.receipt_tree();
        self.staleness(&tree);
        self.header_stages(&tree);
        digest_and_key_checks(&mut self.report, &b.header, key, H);
        policy_checks(&mut self.report, &b.header, req, H);
        self.requirements_against_records(req);
        signature_check(&mut self.report, &b.header, key, H);
    }

    /// Recomputes one claimed record's digest; on a mismatch, decides from `refs` (the other
    /// places its digest appears) whether the content or the stored digest was changed.
    fn seal<T: Record>(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        claimed: &Claimed<T>,
        refs: &[Option<Digest>],
    ) -> bool {
        let outcome = claimed.verify(self.policy);
        self.push_seal(stage, record, path, outcome, refs)
    }

    /// [`Verifier::seal`], keeping the record sealed when its seal matches.
    fn sealed<T: Record + Clone>(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        claimed: &Claimed<T>,
        refs: &[Option<Digest>],
    ) -> Option<Sealed<T>> {
        match claimed.check_ref(self.policy) {
            Ok(sealed) => {
                self.push_seal(stage, record, path, Ok(()), refs);
                Some(sealed)
            }
            Err(e) => {
                self.push_seal(stage, record, path, Err(e), refs);
                None
            }
        }
    }

    fn push_seal(
        &mut self,
        stage: Stage,
        record: String,
        path: &str,
        outcome: Result<(), lcm_model::Error>,
        refs: &[Option<Digest>],
    ) -> bool {
        let (field, outcome) = match outcome {
            Ok(()) => (path.to_owned(), Ok(())),
            Err(lcm_model::Error::DigestMismatch {
                stored, recomputed, ..
            }) => (
                blame(path, stored, recomputed, refs),
                mismatch(recomputed, stored),
            ),
            Err(e) => (
                format!("{path}/record"),
                Err(CheckError::Record(e.to_string())),
            ),
        };
        self.report
            .push("record digest", stage, record, field, outcome)
    }

    fn seals(&mut self) {
        let b = self.bundle;
        let h = &b.header;
        let l = &b.lifecycle;
        let a = h.stage_a_dataset.as_ref();
        let first_receipt = l.inference.receipts().next().map(|r| &r.record);
        let fam = &l.dataset.family;
        let mut refs = vec![a.map(|a| a.family_anchor)];
        refs.extend(
            l.dataset
                .splits
                .iter()
                .map(|s| Some(s.anchor.record.family_anchor)),
        );
        refs.extend(
            l.model
                .record
                .description
                .authorized_datasets
                .values()
                .map(|d| Some(*d)),
        );
        self.seal(
            Stage::Dataset,
            format!("dataset family {}", fam.record.family_id),
            &format!("{L}/dataset/family"),
            fam,
            &refs,
        );
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let split = s.anchor.record.split;
            let refs = [
                a.and_then(|a| a.splits.get(&split)).map(|x| x.anchor),
                l.training.session.record.data_splits.get(&split).copied(),
                (split == DatasetSplit::Test).then_some(l.test_evaluation.record.test_dataset),
            ];
            self.seal(
                Stage::Dataset,
                format!("{split} split of {}", s.anchor.record.family_id),
                &format!("{L}/dataset/splits/{i}/anchor"),
                &s.anchor,
                &refs,
            );
        }
        let m = &l.model;
        let d = &m.record.description;
        self.seal(
            Stage::Model,
            format!("model {}@{}", d.model_name, d.version),
            &format!("{L}/model"),
            m,
            &[
                h.stage_b_model.as_ref().map(|b| b.anchor),
                Some(l.training.session.record.model_anchor),
                Some(l.training.snapshot.record.model_anchor),
                Some(l.predeployment.anchor.record.model_anchor),
                first_receipt.map(|r| r.model_anchor),
            ],
        );
        let t = &l.training;
        let c = h.stage_c_training.as_ref();
        let sid = &t.session.record.session_id;
        self.checked.session = self.sealed(
            Stage::Training,
            format!("training session {sid}"),
            &format!("{L}/training/session"),
            &t.session,
            &[
                c.map(|c| c.session),
                Some(t.snapshot.record.session),
                t.checkpoints.first().map(|c| c.record.session),
            ],
        );
        let n = t.checkpoints.len();
        let mut checkpoints = Some(Vec::with_capacity(n));
        for (i, cp) in t.checkpoints.iter().enumerate() {
            let next = t.checkpoints.get(i + 1).map(|c| c.record.previous);
            let last = i + 1 == n;
            let sealed = self.sealed(
                Stage::Training,
                format!("checkpoint {sid}/{}", cp.record.checkpoint_id),
                &format!("{L}/training/checkpoints/{i}"),
                cp,
                &[
                    next,
                    last.then_some(t.snapshot.record.checkpoint_head),
                    c.filter(|_| last).map(|c| c.checkpoint_head),
                ],
            );
            checkpoints = checkpoints.zip(sealed).map(|(mut all, one)| {
                all.push(one);
                all
            });
        }
        self.checked.checkpoints = checkpoints;
        self.checked.snapshot = self.sealed(
            Stage::Training,
            format!("training snapshot {sid}"),
            &format!("{L}/training/snapshot"),
            &t.snapshot,
            &[
                c.map(|c| c.snapshot),
                Some(l.predeployment.anchor.record.training_snapshot),
            ],
        );
        let pre = &l.predeployment.anchor;
        self.seal(
            Stage::PreDeployment,
            format!("predeployment {}", pre.record.predeployment_id),
            &format!("{L}/predeployment/anchor"),
            pre,
            &[
                h.stage_d_predeployment.as_ref().map(|d| d.anchor),
                Some(l.deployment.anchor.record.predeployment),
                Some(l.release.record.predeployment),
            ],
        );
        let dep = &l.deployment.anchor;
        let e = h.stage_e_deployment.as_ref();
        let dep_id = &dep.record.deployment_id;
        self.checked.deployment = self.sealed(
            Stage::Deployment,
            format!("deployment {dep_id}"),
            &format!("{L}/deployment/anchor"),
            dep,
            &[
                e.map(|e| e.anchor),
                l.deployment
                    .status_history
                    .first()
                    .map(|s| s.record.deployment),
                Some(l.release.record.deployment),
                first_receipt.map(|r| r.deployment_anchor),
            ],
        );
        let events = &l.deployment.status_history;
        let mut history = Some(Vec::with_capacity(events.len()));
        for (i, ev) in events.iter().enumerate() {
            let last = i + 1 == events.len();
            let sealed = self.sealed(
                Stage::Deployment,
                format!("status event {i} of {dep_id}"),
                &format!("{L}/deployment/status_history/{i}"),
                ev,
                &[
                    events.get(i + 1).and_then(|n| n.record.prev_event),
                    e.filter(|_| last).and_then(|e| e.status_head),
                ],
            );
            history = history.zip(sealed).map(|(mut all, one)| {
                all.push(one);
                all
            });
        }
        self.checked.status_history = history;
        let te = &l.test_evaluation;
        self.seal(
            Stage::TestEvaluation,
            format!("test evaluation {}", te.record.test_id),
            &format!("{L}/test_evaluation"),
            te,
            &[
                h.stage_f_test_evaluation.as_ref().map(|f| f.anchor),
                Some(l.release.record.test_evaluation),
            ],
        );
        let g = h.stage_g_inference.as_ref();
        let mut sealed_index = 0usize;
        for (i, group) in l.inference.batches.iter().enumerate() {
            if let Some(batch) = &group.batch {
                let summary = g.and_then(|g| g.batches.get(sealed_index));
                sealed_index += 1;
                self.seal(
                    Stage::Inference,
                    format!("batch {}", batch.record.window_id),
                    &format!("{L}/inference/batches/{i}/batch"),
                    batch,
                    &[summary.map(|s| s.batch)],
                );
            }
        }
        self.seal(
            Stage::Roots,
            "release root".to_owned(),
            &format!("{L}/release"),
            &l.release,
            &[h.stage_h_roots.as_ref().map(|r| r.release)],
        );
    }
}

/// Which part of a sealed record to blame for a digest mismatch.
fn blame(path: &str, stored: Digest, recomputed: Digest, refs: &[Option<Digest>]) -> String {
    let seen = |d: Digest| refs.iter().flatten().any(|r| *r == d);
    if seen(stored) {
        format!("{path}/record")
    } else if seen(recomputed) {
        format!("{path}/digest")
    } else {
        path.to_owned()
    }
}

impl Verifier<'_> {
    /// Values stored next to the records: the training metrics and the SBOM, recomputed
    /// against the digests the sealed records hold, and the test metrics digest.
    fn evidence(&mut self) {
        let l = &self.bundle.lifecycle;
        self.split_evidence();
        let t = &l.training;
        let outcome = match t.metrics.compute_metrics_digest(self.policy) {
            Ok(d) => mismatch(t.snapshot.record.metrics_digest, d),
            Err(e) => Err(CheckError::Record(e.to_string())),
        };
        self.report.push(
            "training metrics digest",
            Stage::Training,
            format!("training session {}", t.session.record.session_id),
            format!("{L}/training/metrics"),
            outcome,
        );
        let pre = &l.predeployment;
        let outcome = match pre.sbom.compute_sbom_digest(self.policy) {
            Ok(d) => mismatch(pre.anchor.record.sbom_digest, d),
            Err(e) => Err(CheckError::Record(e.to_string())),
        };
        self.report.push(
            "sbom digest",
            Stage::PreDeployment,
            format!("predeployment {}", pre.anchor.record.predeployment_id),
            format!("{L}/predeployment/sbom"),
            outcome,
        );
        let te = &l.test_evaluation;
        self.report.push(
            "test metrics digest",
            Stage::TestEvaluation,
            format!("test evaluation {}", te.record.test_id),
            format!("{L}/test_evaluation/record/metrics_digest"),
            te.record
                .verify_metrics_digest(self.policy)
                .map_err(|e| CheckError::Record(e.to_string())),
        );
    }

    /// The tree over every receipt digest, in chain order (built like a batch root, on the
    /// rayon pool for large chains).
    fn receipt_tree(&self) -> MerkleTree {
        let digests: Vec<Digest> = self
            .bundle
            .lifecycle
            .inference
            .receipts()
            .map(|r| r.digest)
            .collect();
        MerkleTree::from_leaves_with(
            self.policy.hash_algorithm,
            digests.iter().map(Digest::as_bytes),
        )
    }

    /// The check of group `gi`'s batch: a sealed batch must be the batch of exactly the
    /// receipts grouped under it, and only the last group may be open.
    fn batch(&self, gi: usize, group: &BatchEvidence) -> BatchCheck {
        let groups = &self.bundle.lifecycle.inference.batches;
        let path = format!("{L}/inference/batches/{gi}");
        let Some(batch) = &group.batch else {
            let outcome = if gi + 1 == groups.len() {
                Ok(())
            } else {
                Err(CheckError::Missing {
                    what: "a sealed batch (only the last group may be open)",
                })
            };
            return (
                "batch closed",
                format!("group {gi}"),
                format!("{path}/batch"),
                outcome,
            );
        };
        let b = &batch.record;
        let detail = match compute_inference_batch(self.policy, &b.window_id, &group.receipts) {
            Err(e) => Some(e.to_string()),
            Ok(actual) if actual == *b => None,
            Ok(actual) if actual.count != b.count => Some(format!(
                "sealed over {} receipts, grouped with {}",
                b.count, actual.count
            )),
            Ok(actual) if actual.root != b.root => Some(format!(
                "root {} of the grouped receipts, sealed {}",
                actual.root, b.root
            )),
            Ok(_) => Some("first or last receipt or window times differ".to_owned()),
        };
        (
            "batch membership",
            format!("batch {}", b.window_id),
            format!("{path}/receipts"),
            match detail {
                None => Ok(()),
                Some(detail) => Err(CheckError::BatchMembership {
                    window_id: b.window_id.clone(),
                    detail,
                }),
            },
        )
    }

    /// Every reference between records, named by the referencing field.
    fn references(&mut self) {
        let l = &self.bundle.lifecycle;
        let fam = &l.dataset.family;
        let mut splits: BTreeMap<DatasetSplit, Digest> = BTreeMap::new();
        // Each split once: the header signs one anchor per split, so a second anchor for
        // the same split would be evidence nothing signed.
        let mut repeated: Option<usize> = None;
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let a = &s.anchor.record;
            if splits.insert(a.split, s.anchor.digest).is_some() && repeated.is_none() {
                repeated = Some(i);
            }
            self.reference(
                Stage::Dataset,
                format!("{} split of {}", a.split, a.family_id),
                format!("{L}/dataset/splits/{i}/anchor/record/family_anchor"),
                fam.digest,
                a.family_anchor,
            );
        }
        self.report.push(
            "split listed once",
            Stage::Dataset,
            format!("dataset family {}", fam.record.family_id),
            match repeated {
                Some(i) => format!("{L}/dataset/splits/{i}"),
                None => format!("{L}/dataset/splits"),
            },
            match repeated {
                Some(i) => Err(CheckError::Duplicate { index: i as u64 }),
                None => Ok(()),
            },
        );
        let m = &l.model;
        let d = &m.record.description;
        let model_label = format!("model {}@{}", d.model_name, d.version);
        let authorized = model_authorizes_family(&m.record, &fam.digest);
        self.report.push(
            "reference",
            Stage::Model,
            model_label,
            format!("{L}/model/record/description/authorized_datasets"),
            if authorized {
                Ok(())
            } else {
                Err(CheckError::ValueMismatch {
                    expected: format!("an authorization of dataset family {}", fam.digest),
                    actual: format!("{:?}", d.authorized_datasets.keys().collect::<Vec<_>>()),
                })
            },
        );
        let t = &l.training;
        let s = &t.session.record;
        let session_label = format!("training session {}", s.session_id);
        self.reference(
            Stage::Training,
            session_label.clone(),
            format!("{L}/training/session/record/model_anchor"),
            m.digest,
            s.model_anchor,
        );
        for (split, digest) in &s.data_splits {
            let outcome = match splits.get(split) {
                Some(expected) => mismatch(*expected, *digest),
                None => Err(CheckError::Missing {
                    what: "the split anchor the session trained on",
                }),
            };
            self.report.push(
                "reference",
                Stage::Training,
                session_label.clone(),
                format!(
                    "{L}/training/session/record/data_splits/{}",
                    escape_token(split.as_str())
                ),
                outcome,
            );
        }
        let test_split = splits.get(&DatasetSplit::Test).copied();
        let te = &l.test_evaluation;
        self.report.push(
            "reference",
            Stage::TestEvaluation,
            format!("test evaluation {}", te.record.test_id),
            format!("{L}/test_evaluation/record/test_dataset"),
            match test_split {
                Some(expected) => mismatch(expected, te.record.test_dataset),
                None => Err(CheckError::Missing {
                    what: "the test split anchor",
                }),
            },
        );
        let pre = &l.predeployment.anchor;
        let pre_label = format!("predeployment {}", pre.record.predeployment_id);
        self.reference(
            Stage::PreDeployment,
            pre_label.clone(),
            format!("{L}/predeployment/anchor/record/model_anchor"),
            m.digest,
            pre.record.model_anchor,
        );
        self.reference(
            Stage::PreDeployment,
            pre_label,
            format!("{L}/predeployment/anchor/record/training_snapshot"),
            t.snapshot.digest,
            pre.record.training_snapshot,
        );
        let dep = &l.deployment.anchor;
        let dep_label = format!("deployment {}", dep.record.deployment_id);
        self.reference(
            Stage::Deployment,
            dep_label.clone(),
            format!("{L}/deployment/anchor/record/predeployment"),
            pre.digest,
            dep.record.predeployment,
        );
        self.report.push(
            "reference",
            Stage::Deployment,
            dep_label,
            format!("{L}/deployment/anchor/record/predeployment_id"),
            if dep.record.predeployment_id == pre.record.predeployment_id {
                Ok(())
            } else {
                Err(CheckError::ValueMismatch {
                    expected: pre.record.predeployment_id.clone(),
                    actual: dep.record.predeployment_id.clone(),
                })
            },
        );
        // Every receipt was served by this deployment of this model: one check for the
        // whole chain, naming the first receipt that is not.
        let bad = self.receipts.foreign;
        match bad {
            None => {
                self.report.push(
                    "receipt references",
                    Stage::Inference,
                    "every receipt",
                    format!("{L}/inference/batches"),
                    Ok(()),
                );
            }
            Some((at, r, field, expected, actual)) => {
                self.reference(
                    Stage::Inference,
                    format!("receipt {}", r.record.receipt_id),
                    format!("{}/record/{field}", at.path()),
                    expected,
                    actual,
                );
            }
        }
        let rel = &l.release.record;
        for (field, expected, actual) in [
            ("predeployment", pre.digest, rel.predeployment),
            ("deployment", dep.digest, rel.deployment),
            ("test_evaluation", te.digest, rel.test_evaluation),
        ] {
            self.reference(
                Stage::Roots,
                "release root".to_owned(),
                format!("{L}/release/record/{field}"),
                expected,
                actual,
            );
        }
    }

    fn reference(
        &mut self,
        stage: Stage,
        record: String,
        field: String,
        expected: Digest,
        actual: Digest,
    ) {
        self.report.push(
            "reference",
            stage,
            record,
            field,
            mismatch(expected, actual),
        );
    }

    /// The policy against the records: the anchors' KDF cost, the receipts' commitment
    /// scheme, and the record kinds the policy allows.
    fn policy_against_records(&mut self) {
        let l = &self.bundle.lifecycle;
        let p = self.policy;
        for (label, cost) in [
            ("dataset family", l.dataset.family.record.kdf_iterations),
            ("model", l.model.record.kdf_iterations),
        ] {
            self.report.push(
                "policy kdf cost",
                Stage::Header,
                label,
                format!("{H}/policy/kdf_iterations"),
                if cost == p.kdf_iterations {
                    Ok(())
                } else {
                    Err(CheckError::ValueMismatch {
                        expected: cost.to_string(),
                        actual: p.kdf_iterations.to_string(),
                    })
                },
            );
        }
        let other = self.receipts.other_scheme;
        self.report.push(
            "policy commitment scheme",
            Stage::Header,
            "every receipt",
            format!("{H}/policy/commitments"),
            match other {
                None => Ok(()),
                Some(r) => Err(CheckError::ValueMismatch {
                    expected: format!(
                        "{} (receipt {})",
                        r.record.input_commitment.scheme, r.record.receipt_id
                    ),
                    actual: p.commitments.to_string(),
                }),
            },
        );
        let has_receipts = self.receipts.any;
        let used = [
            (DomainType::DatasetFamily, true),
            (DomainType::DatasetSplit, !l.dataset.splits.is_empty()),
            (DomainType::Model, true),
            (DomainType::Training, true),
            (DomainType::Deployment, true),
            (DomainType::Inference, has_receipts),
        ];
        let refused = used
            .iter()
            .find(|(d, used)| *used && !allows(p, *d))
            .map(|(d, _)| *d);
        self.report.push(
            "policy domains",
            Stage::Header,
            "policy",
            format!("{H}/policy/domains"),
            match refused {
                None => Ok(()),
                Some(d) => Err(CheckError::ValueMismatch {
                    expected: format!("a policy that allows {d:?} records"),
                    actual: format!("{:?}", p.domains),
                }),
            },
        );
    }

    /// A header older than the records, or signed over fewer receipts than the bundle holds.
    fn staleness(&mut self, tree: &MerkleTree) {
        let b = self.bundle;
        let l = &b.lifecycle;
        let mut newest: Option<Timestamp> = None;
        let mut see = |t: Timestamp| newest = Some(newest.map_or(t, |n| n.max(t)));
        see(l.dataset.family.record.created_at);
        for s in &l.dataset.splits {
            see(s.anchor.record.created_at);
        }
        see(l.model.record.created_at);
        see(l.training.snapshot.record.completed_at);
        for c in &l.training.checkpoints {
            see(c.record.created_at);
        }
        see(l.predeployment.anchor.record.created_at);
        see(l.deployment.anchor.record.deployed_at);
        for e in &l.deployment.status_history {
            see(e.record.at);
        }
        see(l.test_evaluation.record.created_at);
        if let Some(t) = self.receipts.newest {
            see(t);
        }
        let generated_at = b.header.generated_at;
        self.report.push(
            "header is current",
            Stage::Header,
            "capsule header",
            format!("{H}/generated_at"),
            match newest {
                Some(n) if n > generated_at => Err(CheckError::StaleHeader {
                    generated_at,
                    newest: n,
                }),
                _ => Ok(()),
            },
        );
        if let Some(g) = &b.header.stage_g_inference {
            let actual = tree.len();
            let stale = g.receipt_count < actual
                && tree.root_at(g.receipt_count).ok() == Some(g.receipts_root);
            self.report.push(
                "header covers every receipt",
                Stage::Inference,
                "capsule header",
                format!("{H}/stage_g_inference/receipt_count"),
                if stale {
                    Err(CheckError::StaleChain {
                        signed: g.receipt_count,
                        actual,
                    })
                } else {
                    Ok(())
                },
            );
        }
    }

    /// The header's stages against the stages the records give, field by field.
    fn header_stages(&mut self, tree: &MerkleTree) {
        let b = self.bundle;
        let batches = b.lifecycle.inference.sealed_batches();
        let count = tree.len();
        let summary = ReceiptsSummary {
            count,
            root: tree.root(),
            head: b.lifecycle.inference.receipts().last().map(|r| r.digest),
        };
        let no_log = MerkleLog::new(self.policy.hash_algorithm);
        let expected = b.lifecycle.with_records(&no_log, &batches, |r| {
            Stages::build_with(self.policy, r, Some(summary))
        });
        let (Ok(expected), Ok(Value::Object(actual))) = (
            serde_json::to_value(&expected),
            serde_json::to_value(&b.header),
        ) else {
            self.report.push(
                "header stages",
                Stage::Header,
                "capsule header",
                H,
                Err(CheckError::Record(
                    "the header cannot be encoded".to_owned(),
                )),
            );
            return;
        };
        let Value::Object(expected) = expected else {
            return;
        };
        for (stage_key, want) in &expected {
            let got = actual.get(stage_key).unwrap_or(&Value::Null);
            let mut diffs = Vec::new();
            diff(want, got, &format!("{H}/{stage_key}"), &mut diffs);
            let stage = stage_of_pointer(&format!("{H}/{stage_key}"));
            if diffs.is_empty() {
                self.report.push(
                    "header stage matches the records",
                    stage,
                    "capsule header",
                    format!("{H}/{stage_key}"),
                    Ok(()),
                );
            }
            for (path, want, got) in diffs {
                self.report.push(
                    "header stage matches the records",
                    stage,
                    "capsule header",
                    path,
                    Err(CheckError::ValueMismatch {
                        expected: want,
                        actual: got,
                    }),
                );
            }
        }
    }

    /// Requirements that need the records: no plaintext receipt commitment for a dataset
    /// with personal data, and the anchors' KDF cost.
    fn requirements_against_records(&mut self, req: &PolicyRequirements) {
        let l = &self.bundle.lifecycle;
        if req.no_plaintext_with_pii && l.dataset.family.record.metadata.contains_pii {
            let found = self.receipts.plaintext;
            let (field, record, outcome) = match found {
                None => (
                    format!("{L}/inference/batches"),
                    "every receipt".to_owned(),
                    Ok(()),
                ),
                Some((at, r, which)) => (
                    format!("{}/record/{which}", at.path()),
                    format!("receipt {}", r.record.receipt_id),
                    Err(CheckError::Policy {
                        requirement: "no_plaintext_with_pii",
                        expected: "no plaintext commitment for a dataset with personal data"
                            .to_owned(),
                        actual: "a plaintext commitment".to_owned(),
                    }),
                ),
            };
            self.report.push(
                "no plaintext receipts with personal data",
                Stage::Inference,
                record,
                field,
                outcome,
            );
        }
    }
}

/// Whether the policy allows a record kind (an empty list allows all).
fn allows(p: &Policy, d: DomainType) -> bool {
    p.allows(d)
}

/// Every leaf where `want` and `got` differ, as (pointer, wanted, found).
fn diff(want: &Value, got: &Value, path: &str, out: &mut Vec<(String, String, String)>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let p = format!("{path}/{}", escape_token(k));
                match g.get(k) {
                    Some(gv) => diff(wv, gv, &p, out),
                    None => out.push((p, wv.to_string(), "nothing".to_owned())),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    let p = format!("{path}/{}", escape_token(k));
                    out.push((p, "nothing".to_owned(), gv.to_string()));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff(wv, gv, &format!("{path}/{i}"), out);
            }
        }
        _ if want != got => out.push((path.to_owned(), want.to_string(), got.to_string())),
        _ => {}
    }
}

/// A record-layer verification error as a check error.
fn check_error(e: &lcm_model::Error) -> CheckError {
    use lcm_model::Error as M;
    match e {
        M::ChainOrder {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainOrder {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::ChainGap {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainGap {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::ChainLink {
            index,
            expected,
            actual,
            ..
        } => CheckError::ChainLink {
            index: *index,
            expected: *expected,
            actual: *actual,
        },
        M::SealMismatch {
            stored, recomputed, ..
        }
        | M::RootMismatch {
            stored, recomputed, ..
        }
        | M::DigestMismatch {
            stored, recomputed, ..
        } => CheckError::DigestMismatch {
            expected: *recomputed,
            actual: *stored,
        },
        M::UnexpectedValue {
            expected, actual, ..
        } => CheckError::ValueMismatch {
            expected: expected.clone(),
            actual: actual.clone(),
        },
        M::EmptyCollection { .. } => CheckError::Missing {
            what: "records in a list that must not be empty",
        },
        other => CheckError::Record(other.to_string()),
    }
}

/// The field an error of a record-layer verifier names, if any.
fn error_field(e: &lcm_model::Error) -> Option<&'static str> {
    use lcm_model::Error as M;
    match e {
        M::UnexpectedValue { field, .. } => Some(field),
        M::RootMismatch { root, .. } => Some(root),
        _ => None,
    }
}

/// The position an error of a chain verifier names, if any.
fn error_index(e: &lcm_model::Error) -> Option<usize> {
    use lcm_model::Error as M;
    match e {
        M::ChainOrder { index, .. } | M::ChainGap { index, .. } | M::ChainLink { index, .. } => {
            usize::try_from(*index).ok()
        }
        _ => None,
    }
}

impl Verifier<'_> {
    /// Each split's record ids (and content digests) against its anchor's roots.
    fn split_evidence(&mut self) {
        let l = &self.bundle.lifecycle;
        for (i, s) in l.dataset.splits.iter().enumerate() {
            let a = &s.anchor.record;
            let label = format!("{} split of {}", a.split, a.family_id);
            let path = format!("{L}/dataset/splits/{i}");
            self.report.push(
                "split records",
                Stage::Dataset,
                label.clone(),
                format!("{path}/record_ids"),
                verify_split_records(self.policy, a, &s.record_ids).map_err(|e| check_error(&e)),
            );
            let outcome = match a.contents_root {
                Some(_) => verify_split_contents(self.policy, a, &s.content_digests)
                    .map_err(|e| check_error(&e)),
                None if s.content_digests.is_empty() => Ok(()),
                None => Err(CheckError::ValueMismatch {
                    expected: "no content digests (the anchor has no contents root)".to_owned(),
                    actual: format!("{} content digests", s.content_digests.len()),
                }),
            };
            self.report.push(
                "split contents",
                Stage::Dataset,
                label,
                format!("{path}/content_digests"),
                outcome,
            );
        }
    }

    /// The checkpoint chain, the status history, the receipt chain and the batches.
    fn chains(&mut self, progress: &mut Progress<'_>) {
        let l = &self.bundle.lifecycle;
        let t = &l.training;
        let c = &self.checked;
        let outcome = match (&c.session, &c.checkpoints, &c.snapshot) {
            (Some(session), Some(checkpoints), Some(snapshot)) => {
                verify_training_run(self.policy, session, checkpoints, &t.metrics, snapshot)
            }
            _ => verify_claimed_training_run(
                self.policy,
                &t.session,
                &t.checkpoints,
                &t.metrics,
                &t.snapshot,
            ),
        };
        let field = match &outcome {
            Ok(()) => format!("{L}/training"),
            Err(e) => match (error_index(e), error_field(e)) {
                (Some(i), _) => format!("{L}/training/checkpoints/{i}"),
                (None, Some(f)) if e.to_string().starts_with("training snapshot") => {
                    format!("{L}/training/snapshot/record/{f}")
                }
                _ => format!("{L}/training/checkpoints"),
            },
        };
        self.report.push(
            "checkpoint chain",
            Stage::Training,
            format!("training session {}", t.session.record.session_id),
            field,
            outcome.map_err(|e| check_error(&e)),
        );
        let d = &l.deployment;
        let outcome = match (&self.checked.deployment, &self.checked.status_history) {
            (Some(anchor), Some(history)) => verify_status_history(self.policy, anchor, history),
            _ => verify_claimed_status_history(self.policy, &d.anchor, &d.status_history),
        };
        let field = match &outcome {
            Ok(()) => format!("{L}/deployment/status_history"),
            Err(e) => match error_index(e) {
                Some(i) => format!("{L}/deployment/status_history/{i}"),
                None => format!("{L}/deployment/status_history"),
            },
        };
        self.report.push(
            "status history",
            Stage::Deployment,
            format!("deployment {}", d.anchor.record.deployment_id),
            field,
            outcome.map_err(|e| check_error(&e)),
        );
        progress.stage(VerifyStage::Receipts);
        self.receipts_and_batches(progress);
    }

    /// The receipt chain, group by group (every digest recomputed, sequences, links and
    /// repeats), then the batches: each group's batch is checked right after its receipts,
    /// so that the receipts counted as done are done, and the checks are reported in the
    /// order of a chain check followed by a batch check.
    fn receipts_and_batches(&mut self, progress: &mut Progress<'_>) {
        let l = &self.bundle.lifecycle;
        let groups = &l.inference.batches;
        let mut after: Option<(Digest, u64)> = None;
        let mut failed: Option<(usize, lcm_model::Error)> = None;
        let mut batches = Vec::with_capacity(groups.len());
        for (gi, group) in groups.iter().enumerate() {
            if failed.is_none() && !group.receipts.is_empty() {
                match self.segment(after, &group.receipts, progress) {
                    Ok(()) => after = group.receipts.last().map(|r| (r.digest, r.record.sequence)),
                    Err(e) => failed = Some((gi, e)),
                }
            } else {
                progress.advance(group.receipts.len());
            }
            batches.push(self.batch(gi, group));
        }
        match failed {
            Some((gi, e)) => self.receipt_failure(gi, &e),
            None => {
                self.report.push(
                    "receipt chain",
                    Stage::Inference,
                    "every receipt",
                    format!("{L}/inference/batches"),
                    Ok(()),
                );
            }
        }
        for (name, record, field, outcome) in batches {
            self.report
                .push(name, Stage::Inference, record, field, outcome);
        }
    }

    /// One group's receipts after `after`, `progress.chunk` at a time. When a chunk fails,
    /// the whole group is checked again, so that the error is the one of the group as a
    /// whole (its index counts from the group's start, and a receipt repeated across two
    /// chunks is a repeat, not a sequence going back): checking a chunk after its
    /// predecessor's last receipt is part of checking the group, so the group fails too.
    fn segment(
        &self,
        after: Option<(Digest, u64)>,
        receipts: &[Claimed<InferenceReceipt>],
        progress: &mut Progress<'_>,
    ) -> Result<(), lcm_model::Error> {
        let mut link = after;
        let mut checked = 0usize;
        for chunk in receipts.chunks(progress.chunk) {
            if verify_receipt_segment(self.policy, link, chunk).is_err() {
                let whole = verify_receipt_segment(self.policy, after, receipts);
                progress.advance(receipts.len().saturating_sub(checked));
                return whole;
            }
            link = chunk.last().map(|r| (r.digest, r.record.sequence));
            checked = checked.saturating_add(chunk.len());
            progress.advance(chunk.len());
        }
        Ok(())
    }

    fn receipt_failure(&mut self, gi: usize, e: &lcm_model::Error) {
        use lcm_model::Error as M;
        let l = &self.bundle.lifecycle;
        let groups = &l.inference.batches;
        let receipts = &groups[gi].receipts;
        let (index, error) = match e {
            M::SealMismatch {
                id,
                stored,
                recomputed,
                ..
            } => {
                let j = receipts
                    .iter()
                    .position(|r| r.record.receipt_id == *id && r.digest == *stored)
                    .unwrap_or(0);
                let next = receipts
                    .get(j + 1)
                    .or_else(|| groups.get(gi + 1).and_then(|g| g.receipts.first()))
                    .and_then(|r| r.record.prev_receipt);
                let head = self
                    .bundle
                    .header
                    .stage_g_inference
                    .as_ref()
                    .and_then(|g| g.chain_head);
                let at = ReceiptAt {
                    batch: gi,
                    index: j,
                };
                let field = blame(&at.path(), *stored, *recomputed, &[next, head]);
                self.report.push(
                    "receipt digest",
                    Stage::Inference,
                    format!("receipt {id}"),
                    field,
                    Err(check_error(e)),
                );
                return;
            }
            M::DuplicateId { .. } => {
                let mut seen = std::collections::HashSet::new();
                let j = receipts
                    .iter()
                    .position(|r| !seen.insert(r.digest))
                    .unwrap_or(0);
                (j, CheckError::Duplicate { index: j as u64 })
            }
            M::ChainOrder { .. } | M::ChainGap { .. } => {
                let j = error_index(e).unwrap_or(0);
                (j, self.classify_order(check_error(e)))
            }
            _ => (error_index(e).unwrap_or(0), check_error(e)),
        };
        let id = receipts
            .get(index)
            .map_or_else(String::new, |r| r.record.receipt_id.clone());
        let at = ReceiptAt { batch: gi, index };
        self.report.push(
            "receipt chain",
            Stage::Inference,
            format!("receipt {id}"),
            at.path(),
            Err(error),
        );
    }

    /// A sequence that does not come next is a reordering when the chain's sequence numbers
    /// are exactly 0..n in another order, and a gap otherwise.
    fn classify_order(&self, error: CheckError) -> CheckError {
        let mut seqs: Vec<u64> = self
            .bundle
            .lifecycle
            .inference
            .receipts()
            .map(|r| r.record.sequence)
            .collect();
        let in_order = seqs.clone();
        seqs.sort_unstable();
        let permutation = seqs.iter().zip(0u64..).all(|(s, i)| *s == i);
        match error {
            CheckError::ChainGap {
                index,
                expected,
                actual,
            }
            | CheckError::ChainOrder {
                index,
                expected,
                actual,
            } => {
                if permutation {
                    let first = in_order
                        .iter()
                        .zip(0u64..)
                        .position(|(s, i)| *s != i)
                        .and_then(|p| u64::try_from(p).ok())
                        .unwrap_or(index);
                    CheckError::ChainOrder {
                        index: first,
                        expected,
                        actual,
                    }
                } else if actual < expected {
                    CheckError::ChainOrder {
                        index,
                        expected,
                        actual,
                    }
                } else {
                    CheckError::ChainGap {
                        index,
                        expected,
                        actual,
                    }
                }
            }
            other => other,
        }
    }

    /// The datasets root, the training session root and the release root, recomputed.
    fn roots(&mut self) {
        let l = &self.bundle.lifecycle;
        let splits: BTreeMap<DatasetSplit, Digest> = l
            .dataset
            .splits
            .iter()
            .map(|s| (s.anchor.record.split, s.anchor.digest))
            .collect();
        let s = &l.training.session.record;
        self.report.push(
            "datasets root",
            Stage::Training,
            format!("training session {}", s.session_id),
            format!("{L}/training/session/record/datasets_root"),
            mismatch(compute_datasets_root(self.policy, &splits), s.datasets_root),
        );
        let rel = &l.release.record;
        let snapshot = &l.training.snapshot;
        let root = match &self.checked.snapshot {
            Some(snapshot) => Ok(compute_training_session_root(self.policy, snapshot)),
            None => snapshot
                .clone()
                .check_named(
                    self.policy,
                    "training snapshot",
                    &snapshot.record.session_id,
                )
                .map(|snapshot| compute_training_session_root(self.policy, &snapshot)),
        };
        let outcome = match root {
            Ok(r) => mismatch(r, rel.training_session_root),
            Err(e) => Err(check_error(&e)),
        };
        self.report.push(
            "training session root",
            Stage::Roots,
            "release root",
            format!("{L}/release/record/training_session_root"),
            outcome,
        );
        self.report.push(
            "release root",
            Stage::Roots,
            "release root",
            format!("{L}/release/record/root"),
            verify_release_root(self.policy, rel).map_err(|e| check_error(&e)),
        );
    }
}

#[cfg(test)]
mod tests {
    use lcm_crypto::VerifyingKey;

    use super::*;

    /// The committed golden vector: the demo bundle (4 receipts in two groups, the second
    /// open) and its signer's public key.
    fn golden() -> (Bundle, VerifyingKey) {
        let doc: Value =
            serde_json::from_str(include_str!("../../../tests/vectors/lifecycle-bundle.json"))
                .unwrap();
        let key = doc["public_key"].as_str().unwrap().parse().unwrap();
        (Bundle::from_json(&doc["bundle"].to_string()).unwrap(), key)
    }

    /// The result and the progress calls of verifying `bundle` `chunk` receipts at a time.
    fn run(
        bundle: &Bundle,
        key: &VerifyingKey,
        chunk: usize,
    ) -> (Result<Report, VerificationFailed>, Vec<VerifyProgress>) {
        let mut calls = Vec::new();
        let result = verify_in_chunks(
            bundle,
            key,
            &PolicyRequirements::default(),
            &mut |p| calls.push(p),
            chunk,
        );
        (result, calls)
    }

    /// The calls go forward, are bounded and end full.
    #[track_caller]
    fn check_calls(calls: &[VerifyProgress], total: u64, chunk: usize) {
        assert!(
            calls
                .windows(2)
                .all(|w| w[0].stage <= w[1].stage && w[0].done <= w[1].done)
        );
        assert!(calls.iter().all(|c| c.total == total && c.done <= total));
        assert!(calls.len() as u64 <= total / chunk as u64 + 4, "{calls:?}");
        let last = calls.last().unwrap();
        assert_eq!((last.stage, last.done), (VerifyStage::Finished, total));
    }

    type Tamper = fn(&mut Bundle);

    /// Receipt `i` of the chain (groups of two).
    fn receipt(b: &mut Bundle, i: usize) -> &mut Claimed<InferenceReceipt> {
        &mut b.lifecycle.inference.batches[i / 2].receipts[i % 2]
    }

    /// Checking the chain in chunks of any size gives exactly the report of checking each
    /// group at once, passing or failing, also for tampering across a chunk's boundary.
    #[test]
    fn chunks_do_not_change_the_report() {
        let (bundle, key) = golden();
        let tampers: [(&str, Tamper); 10] = [
            ("none", |_| {}),
            ("edited receipt", |b| {
                receipt(b, 1).record.request_id = "x".into();
            }),
            // Its seal matches, and its group is open (no batch): within the group, only the
            // next receipt's link, in the next chunk, catches it.
            ("re-sealed receipt", |b| {
                let p = b.header.policy.clone();
                let r = receipt(b, 2);
                r.record.request_id = "x".into();
                *r = Sealed::seal(r.record.clone(), &p).unwrap().into();
            }),
            ("edited digest", |b| {
                receipt(b, 1).digest = Digest::from_bytes([9; 32]);
            }),
            ("repeat across chunks", |b| {
                let r = receipt(b, 0).clone();
                b.lifecycle.inference.batches[0].receipts.push(r);
            }),
            ("swapped", |b| {
                b.lifecycle.inference.batches[0].receipts.swap(0, 1);
            }),
            ("dropped", |b| {
                b.lifecycle.inference.batches[0].receipts.remove(1);
            }),
            ("dropped first", |b| {
                b.lifecycle.inference.batches[0].receipts.remove(0);
            }),
            ("link", |b| receipt(b, 3).record.prev_receipt = None),
            ("receipts moved between groups", |b| {
                let r = b.lifecycle.inference.batches[1].receipts.remove(0);
                b.lifecycle.inference.batches[0].receipts.push(r);
            }),
        ];
        for (what, tamper) in tampers {
            let mut b = bundle.clone();
            tamper(&mut b);
            let total = b.lifecycle.inference.receipts().count() as u64;
            let (whole, calls) = run(&b, &key, usize::MAX);
            check_calls(&calls, total, usize::MAX);
            assert_eq!(whole.is_ok(), what == "none", "{what}");
            for chunk in [1, 2, 3] {
                let (result, calls) = run(&b, &key, chunk);
                assert_eq!(result, whole, "{what}, chunks of {chunk}");
                check_calls(&calls, total, chunk);
            }
        }
    }

    /// A repeat across two chunks is reported as a repeat, with its index in the group.
    #[test]
    fn a_repeat_across_chunks_is_a_repeat() {
        let (mut b, key) = golden();
        let r = receipt(&mut b, 0).clone();
        b.lifecycle.inference.batches[0].receipts.push(r);
        let (result, _) = run(&b, &key, 2);
        let report = result.unwrap_err().report;
        let chain = report
            .checks
            .iter()
            .find(|c| c.name == "receipt chain")
            .unwrap();
        assert_eq!(chain.outcome, Err(CheckError::Duplicate { index: 2 }));
        assert_eq!(chain.field, "/lifecycle/inference/batches/0/receipts/2");
    }

    /// An unusable policy stops the verification early; the progress still ends full.
    #[test]
    fn an_early_stop_ends_full() {
        let (mut b, key) = golden();
        b.header.policy.kdf_iterations = 0;
        let (result, calls) = run(&b, &key, 1);
        assert!(result.is_err());
        assert_eq!(
            calls,
            [
                VerifyProgress {
                    stage: VerifyStage::Records,
                    done: 0,
                    total: 4
                },
                VerifyProgress {
                    stage: VerifyStage::Finished,
                    done: 4,
                    total: 4
                },
            ]
        );
    }

    /// Every stage is announced once, in order, and the receipts count one chunk at a time.
    #[test]
    fn stages_come_in_order() {
        let (b, key) = golden();
        let (result, calls) = run(&b, &key, 1);
        assert!(result.is_ok());
        let seen: Vec<(VerifyStage, u64)> = calls.iter().map(|c| (c.stage, c.done)).collect();
        use VerifyStage::{Finished, Header, Receipts, Records};
        assert_eq!(
            seen,
            [
                (Records, 0),
                (Receipts, 0),
                (Receipts, 1),
                (Receipts, 2),
                (Receipts, 3),
                (Receipts, 4),
                (Header, 4),
                (Finished, 4)
            ]
        );
    }

    /// A document that does not parse: one parse call, then the end.
    #[test]
    fn json_progress() {
        let (b, key) = golden();
        let text = b.to_json(None).unwrap();
        let mut calls = Vec::new();
        let plain = verify_bundle_json(&text, &key, &PolicyRequirements::default());
        let with = verify_json_in_chunks(
            &text,
            &key,
            &PolicyRequirements::default(),
            &mut |p| calls.push(p),
            1,
        );
        assert_eq!(with, plain);
        assert!(with.is_ok());
        assert_eq!(
            calls.first().map(|c| (c.stage, c.total)),
            Some((VerifyStage::Parse, 0))
        );
        check_calls(&calls[1..], 4, 1);

        let broken = text.replacen("\"sequence\":1", "\"sequence\":\"1\"", 1);
        let mut calls = Vec::new();
        let with = verify_json_in_chunks(
            &broken,
            &key,
            &PolicyRequirements::default(),
            &mut |p| calls.push(p),
            1,
        );
        assert_eq!(
            with,
            verify_bundle_json(&broken, &key, &PolicyRequirements::default())
        );
        assert!(with.is_err());
        let seen: Vec<(VerifyStage, u64, u64)> =
            calls.iter().map(|c| (c.stage, c.done, c.total)).collect();
        assert_eq!(
            seen,
            [(VerifyStage::Parse, 0, 0), (VerifyStage::Finished, 0, 0)]
        );
    }

    /// The outcome of the first check named `name` in the report of `bundle`.
    fn outcome(bundle: &Bundle, key: &VerifyingKey, name: &str) -> Result<(), CheckError> {
        let report = match run(bundle, key, usize::MAX).0 {
            Ok(report) => report,
            Err(failed) => failed.report,
        };
        report
            .checks
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .outcome
            .clone()
    }

    /// The chain, history and root checks skip the seals checked before them only when
    /// these all matched: a re-sealed record that breaks a binding still fails its check,
    /// and an edited record still fails it with the seal mismatch it always gave.
    #[test]
    fn chain_checks_after_the_seals() {
        let (bundle, key) = golden();
        let p = bundle.header.policy.clone();
        for name in [
            "checkpoint chain",
            "status history",
            "training session root",
        ] {
            assert_eq!(outcome(&bundle, &key, name), Ok(()), "{name}");
        }
        type Reseal = fn(&mut Bundle, &Policy);
        let cases: [(&str, &str, Reseal); 9] = [
            ("re-sealed link", "checkpoint chain", |b, p| {
                let cp = &mut b.lifecycle.training.checkpoints[1];
                cp.record.previous = Digest::from_bytes([7; 32]);
                *cp = Sealed::seal(cp.record.clone(), p).unwrap().into();
            }),
            ("re-sealed step", "checkpoint chain", |b, p| {
                let cp = &mut b.lifecycle.training.checkpoints[1];
                cp.record.step = 0;
                *cp = Sealed::seal(cp.record.clone(), p).unwrap().into();
            }),
            ("re-sealed session", "checkpoint chain", |b, p| {
                let s = &mut b.lifecycle.training.session;
                s.record.session_id = "other".into();
                *s = Sealed::seal(s.record.clone(), p).unwrap().into();
            }),
            ("re-sealed snapshot count", "checkpoint chain", |b, p| {
                let s = &mut b.lifecycle.training.snapshot;
                s.record.checkpoint_count += 1;
                *s = Sealed::seal(s.record.clone(), p).unwrap().into();
            }),
            ("re-sealed snapshot", "training session root", |b, p| {
                let s = &mut b.lifecycle.training.snapshot;
                s.record.user_id = "other".into();
                *s = Sealed::seal(s.record.clone(), p).unwrap().into();
            }),
            ("edited checkpoint", "checkpoint chain", |b, _| {
                b.lifecycle.training.checkpoints[1].record.step += 1;
            }),
            ("edited snapshot", "training session root", |b, _| {
                b.lifecycle.training.snapshot.record.user_id = "other".into();
            }),
            ("re-sealed event", "status history", |b, p| {
                let e = &mut b.lifecycle.deployment.status_history[0];
                e.record.deployment = Digest::from_bytes([7; 32]);
                *e = Sealed::seal(e.record.clone(), p).unwrap().into();
            }),
            ("edited event", "status history", |b, _| {
                b.lifecycle.deployment.status_history[0].record.reason = "edited".into();
            }),
        ];
        let mut seen = Vec::new();
        for (what, name, tamper) in cases {
            let mut b = bundle.clone();
            tamper(&mut b, &p);
            let error = outcome(&b, &key, name).expect_err(what);
            let kind = match error {
                CheckError::ChainLink { index: 0 | 1, .. } => "link",
                CheckError::ValueMismatch { .. } => "value",
                CheckError::DigestMismatch { .. } => "digest",
                other => panic!("{what}: {other:?}"),
            };
            seen.push((what, kind));
        }
        assert_eq!(
            seen,
            [
                ("re-sealed link", "link"),
                ("re-sealed step", "value"),
                ("re-sealed session", "link"),
                ("re-sealed snapshot count", "value"),
                ("re-sealed snapshot", "digest"),
                ("edited checkpoint", "digest"),
                ("edited snapshot", "digest"),
                ("re-sealed event", "value"),
                ("edited event", "digest"),
            ]
        );
    }
}
