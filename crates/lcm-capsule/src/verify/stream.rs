//! [`verify_bundle_reader`]: a bundle verified as it is read, in memory that does not grow
//! with its receipts.
//!
//! Each receipt is checked as it comes (its digest recomputed, its sequence number and link
//! against the one before it, its leaf added to the chain's Merkle frontier and to its batch
//! group's, and what the cross-reference and policy checks need of it noted), then dropped.
//! What stays: the records other than receipts, one sealed batch and one computed batch per
//! group, two frontiers of one digest per set bit of their counts, the first receipt, and
//! the few receipts a failure names. The report is then made by the same [`Verifier`] as for
//! a bundle in memory, from these, in the same order and with the same wording.
//!
//! # Repeated receipts without a set of every digest
//!
//! The in-memory check keeps every digest of a batch group to report a receipt that appears
//! twice ([`lcm_model::Error::DuplicateId`]). The streamed check does not need that set to
//! *detect* a repeat: let receipt `j` of a group repeat receipt `i < j` of it (the same
//! stored digest). Receipts `0..j` of the group passed their checks, so receipt `i` carries
//! the sequence number `s0 + i` (`s0`: the group's first). Receipt `j`'s digest is
//! recomputed and matches, and a digest (a collision-resistant hash of the receipt's
//! canonical encoding, which includes its sequence number) equal to receipt `i`'s means the
//! same receipt, so receipt `j` carries `s0 + i < s0 + j`: its sequence check fails as going
//! back ([`lcm_model::Error::ChainOrder`]). So every repeat fails that check, at the same
//! receipt as the set would have caught it; and no other error can come first, since the set
//! is consulted after the digest and before the sequence. Whether a sequence going back is a
//! repeat (for the report to name it as the in-memory check does) is decided only then, by
//! comparing receipt `j`'s digest with receipt `actual - s0`'s: on a failure, the source is
//! read a second time ([`Resolver`]) for that digest and for the other facts the failure's
//! report names (the receipt after it, the chain's sequence numbers in one bit each).
//!
//! # Key order
//!
//! The receipts are checked under the header's policy, so `header` must come before
//! `lifecycle` (as `lcm export` writes it, and as a serializer sorting keys does). A bundle in
//! another order is refused with an error saying so (never checked in part);
//! [`crate::verify_bundle_json`] reads any order. Every other key may come in any order: the
//! receipts' anchors are compared with the model and deployment at the end
//! (`ReceiptFacts::foreign`), and a group's `batch` may come before or after its
//! `receipts`.

use std::io::{BufReader, Read, Seek, SeekFrom};

use lcm_crypto::merkle::{CompactRange, leaf_hash};
use lcm_model::records::{InferenceBatch, InferenceReceipt, ReceiptEncoder};
use lcm_model::verify::check_receipt_follows;

use super::chains::{ChainFailure, SequenceOrder};
use super::scan::{self, Parts, Receipts, Stop};
use super::*;
use crate::CapsuleHeader;
use crate::bundle::{InferenceEvidence, Lifecycle};

/// The receipts' checks made while the bundle was read, for [`Verifier`].
pub(super) struct Streamed {
    /// The first receipt (its anchors are referenced from the anchors' blame).
    pub(super) first: Option<InferenceReceipt>,
    /// What the cross-reference and policy checks need of the receipts.
    pub(super) facts: ReceiptFacts,
    /// The tree over every receipt digest.
    pub(super) tree: TreeFacts,
    /// The first failure of the chain check.
    pub(super) failure: Option<ChainFailure>,
    /// Each group's batch recomputed from its receipts (or why it cannot be).
    pub(super) batches: Vec<Result<InferenceBatch, String>>,
}

/// Verifies a bundle read from `source` once, as [`verify_bundle_json`] verifies its text,
/// in memory that does not grow with the number of receipts: `O(records + batches + log n)`
/// (see the module's documentation, and `docs/PERFORMANCE.md` for the measured peak).
///
/// The report is the one [`verify_bundle_json`] gives for the same bytes, except that a
/// bundle whose `lifecycle` comes before its `header` is refused (one failed check naming
/// `/lifecycle/inference`), that a non-strict value (a key twice, a number that does not
/// survive a round trip) fails the `document parses` check, and so does a document,
/// `lifecycle`, `inference` or batch group written as the array of its fields (which
/// `serde`, and so [`verify_bundle_json`], reads as the struct). A value nested past the
/// parser's recursion limit, counting the levels above it, is refused as by
/// [`verify_bundle_json`].
/// A valid bundle is read once; a bundle whose receipt chain fails is read a second time to
/// name the failure (hence [`Seek`]), and one that is not JSON, to name the syntax error as
/// a parser of the whole text does.
///
/// This does not panic (unless `progress` does).
///
/// # Errors
///
/// As [`verify_bundle`].
pub fn verify_bundle_reader<R: Read + Seek>(
    source: R,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
) -> Result<Report, VerificationFailed> {
    verify_bundle_reader_with_progress(source, key, requirements, &mut |_| {})
}

/// [`verify_bundle_reader`], calling `progress` as [`verify_bundle_json_with_progress`]
/// does, with `total` the receipt count the header signs (0 until the header is read).
///
/// This does not panic (unless `progress` does).
///
/// # Errors
///
/// As [`verify_bundle`].
pub fn verify_bundle_reader_with_progress<R: Read + Seek>(
    source: R,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
) -> Result<Report, VerificationFailed> {
    stream_in_chunks(
        source,
        key,
        requirements,
        progress,
        PROGRESS_CHUNK,
        scan::CHUNK,
    )
}

/// The header of a bundle that starts with its version and its header (as `lcm export` writes
/// it), read from the first bytes of `source` only: for a caller that needs the signer
/// before [`verify_bundle_reader`] reads the rest. `None` for any other document, or a header
/// that does not parse (the whole document's verification then names the error).
///
/// This does not panic.
pub fn leading_bundle_header<R: Read>(source: R) -> Option<CapsuleHeader> {
    scan::leading_header(source)
}

pub(super) fn stream_in_chunks<R: Read + Seek>(
    mut source: R,
    key: &VerifyingKey,
    requirements: &PolicyRequirements,
    progress: &mut dyn FnMut(VerifyProgress),
    chunk: usize,
    read_chunk: usize,
) -> Result<Report, VerificationFailed> {
    let mut bar = Progress::new(progress, 0, chunk);
    bar.call();
    let mut checker = ChainChecker::new(bar);
    let walked = scan::walk_in(BufReader::new(&mut source), &mut checker, read_chunk);
    let parts = match walked {
        Ok(parts) => parts,
        Err(stop) => {
            let e = named(stop, &mut source);
            return parse_failure(e, &mut checker.progress);
        }
    };
    let bundle = match assemble(parts) {
        Ok(b) => b,
        Err(e) => return parse_failure(e, &mut checker.progress),
    };
    let (mut bar, mut streamed) = checker.finish();
    if let Some(failure) = streamed.failure.take() {
        streamed.failure = Some(resolve(&mut source, failure, checker_count(&streamed)));
    }
    let mut v = Verifier {
        report: Report::default(),
        policy: &bundle.header.policy,
        bundle: &bundle,
        receipts: streamed.facts.clone(),
        streamed: Some(&streamed),
        checked: CheckedSeals::default(),
    };
    v.run(key, requirements, &mut bar);
    bar.finish();
    v.report.into_result()
}

/// The error a stopped walk reports: a syntax error as `serde_json` names it when it parses
/// the whole document as a [`Bundle`] (read again from the start, see [`shadow`]), others as
/// they are.
fn named<R: Read + Seek>(stop: Stop, source: &mut R) -> Error {
    match stop {
        Stop::Parse(e) => e,
        Stop::Io(e) => Error::Parse {
            path: String::new(),
            message: format!("cannot read the bundle: {e}"),
        },
        Stop::Syntax => {
            let again = source.seek(SeekFrom::Start(0)).map_err(|e| e.to_string());
            let message = match again
                .map(|_| serde_json::from_reader::<_, shadow::Bundle>(BufReader::new(source)))
            {
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(_)) => "malformed JSON".to_owned(),
                Err(e) => format!("cannot read the bundle again: {e}"),
            };
            Error::Parse {
                path: String::new(),
                message,
            }
        }
    }
}

/// The bundle of the records read, with empty batch groups (their receipts were checked as
/// they came), after the version checks of [`Bundle::from_json`].
fn assemble(parts: Parts) -> Result<Bundle, Error> {
    let missing = |what: &str| Error::Parse {
        path: String::new(),
        message: format!("missing field `{what}`"),
    };
    let lifecycle = Lifecycle {
        dataset: parts.dataset.ok_or_else(|| missing("dataset"))?,
        model: parts.model.ok_or_else(|| missing("model"))?,
        training: parts.training.ok_or_else(|| missing("training"))?,
        predeployment: parts
            .predeployment
            .ok_or_else(|| missing("predeployment"))?,
        deployment: parts.deployment.ok_or_else(|| missing("deployment"))?,
        test_evaluation: parts
            .test_evaluation
            .ok_or_else(|| missing("test_evaluation"))?,
        inference: InferenceEvidence {
            batches: parts
                .groups
                .into_iter()
                .map(|batch| BatchEvidence {
                    batch,
                    receipts: Vec::new(),
                })
                .collect(),
        },
        release: parts.release.ok_or_else(|| missing("release"))?,
    };
    let bundle = Bundle {
        bundle_version: parts
            .bundle_version
            .ok_or_else(|| missing("bundle_version"))?,
        header: parts.header.ok_or_else(|| missing("header"))?,
        lifecycle,
    };
    crate::error::version("/bundle_version", BUNDLE_VERSION, &bundle.bundle_version)?;
    bundle.header.check_version("/header/capsule_version")?;
    Ok(bundle)
}

/// The receipts' checks as they come: [`verify_receipt_segment`] over each group after the
/// one before (but without a set of digests, see the module's documentation),
/// [`compute_inference_batch`] over each group, the tree over every digest, and
/// [`ReceiptFacts`].
struct ChainChecker<'p> {
    progress: Progress<'p>,
    /// Set by [`Receipts::start`].
    cx: Option<Context>,
    /// The last receipt checked in the chain, while no check failed.
    prev: Option<(Digest, u64)>,
    /// The first failure: its group, the error, and the failing receipt's digest.
    failed: Option<(usize, lcm_model::Error, usize)>,
    tree: CompactRange,
    root_at_signed: Option<Digest>,
    head: Option<Digest>,
    first: Option<InferenceReceipt>,
    facts: ReceiptFacts,
    group: GroupBatch,
    batches: Vec<Result<InferenceBatch, String>>,
    /// Receipts read.
    count: u64,
}

/// What the receipts are checked against.
struct Context {
    policy: Policy,
    encoder: ReceiptEncoder,
    /// The receipt count the header signs.
    signed: Option<u64>,
}

/// One group's batch, built as [`compute_inference_batch`] builds it.
struct GroupBatch {
    range: CompactRange,
    /// The first receipt's digest and time.
    first: Option<(Digest, Timestamp)>,
    /// The last receipt's digest, sequence number and time.
    last: Option<(Digest, u64, Timestamp)>,
    /// The first link error.
    error: Option<lcm_model::Error>,
}

impl GroupBatch {
    fn new(policy: Option<&Policy>) -> Self {
        Self {
            range: CompactRange::with_algorithm(
                policy.map_or_else(|| Policy::default().hash_algorithm, |p| p.hash_algorithm),
            ),
            first: None,
            last: None,
            error: None,
        }
    }

    fn push(&mut self, index: usize, r: &Claimed<InferenceReceipt>, leaf: &Digest) {
        if self.error.is_some() {
            return;
        }
        let rec = &r.record;
        if let Some((digest, sequence, _)) = self.last
            && let Err(e) = check_receipt_follows(len_u64(index), Some((digest, sequence)), rec)
        {
            self.error = Some(e);
            return;
        }
        if let Err(e) = self.range.push_leaf_hash(leaf) {
            self.error = Some(e.into());
            return;
        }
        if self.first.is_none() {
            self.first = Some((r.digest, rec.timestamp));
        }
        self.last = Some((r.digest, rec.sequence, rec.timestamp));
    }

    fn finish(self, policy: &Policy, window_id: &str) -> Result<InferenceBatch, lcm_model::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return compute_inference_batch::<Claimed<InferenceReceipt>>(policy, window_id, &[]);
        };
        Ok(InferenceBatch {
            window_id: window_id.to_owned(),
            count: self.range.len(),
            root: self.range.root(),
            first_receipt: first.0,
            last_receipt: last.0,
            window_start: first.1,
            window_end: last.2,
        })
    }
}

impl<'p> ChainChecker<'p> {
    fn new(progress: Progress<'p>) -> Self {
        Self {
            progress,
            cx: None,
            prev: None,
            failed: None,
            tree: CompactRange::new(),
            root_at_signed: None,
            head: None,
            first: None,
            facts: ReceiptFacts::default(),
            group: GroupBatch::new(None),
            batches: Vec::new(),
            count: 0,
        }
    }

    /// The checks made, and the progress to go on with.
    fn finish(mut self) -> (Progress<'p>, Streamed) {
        // A bundle without receipts or groups: the empty tree at the header's count.
        if self.count == 0 && self.cx.as_ref().and_then(|c| c.signed) == Some(0) {
            self.root_at_signed = Some(self.tree.root());
        }
        let tree = TreeFacts {
            len: self.tree.len(),
            root: self.tree.root(),
            root_at_signed: self.root_at_signed,
            head: self.head,
        };
        let failure = self.failed.map(|(group, error, at)| {
            // The receipt the report names, as `failure_in_memory` finds it (a digest
            // mismatch's is settled on the second read).
            let index = match &error {
                lcm_model::Error::SealMismatch { .. } => at,
                e => error_index(e).unwrap_or(0),
            };
            ChainFailure {
                group,
                error,
                index,
                id: String::new(),
                next: None,
                order: None,
            }
        });
        let streamed = Streamed {
            first: self.first,
            facts: self.facts,
            tree,
            failure,
            batches: self.batches,
        };
        (self.progress, streamed)
    }

    /// The chain check of receipt `at` (while no receipt failed).
    fn chain(&mut self, cx: &mut Context, at: ReceiptAt, r: &Claimed<InferenceReceipt>) {
        if self.failed.is_some() {
            return;
        }
        let rec = &r.record;
        let outcome = match cx.encoder.digest(rec) {
            Err(e) => Err(e),
            Ok(recomputed) if recomputed != r.digest => Err(lcm_model::Error::SealMismatch {
                kind: "inference receipt",
                id: rec.receipt_id.clone(),
                stored: r.digest,
                recomputed,
            }),
            Ok(_) => check_receipt_follows(len_u64(at.index), self.prev, rec),
        };
        match outcome {
            Ok(()) => self.prev = Some((r.digest, rec.sequence)),
            Err(e) => self.failed = Some((at.batch, e, at.index)),
        }
    }
}

impl Receipts for ChainChecker<'_> {
    fn start(&mut self, parts: &Parts) -> Result<(), Error> {
        let Some(header) = &parts.header else {
            return Err(Error::Parse {
                path: format!("{L}/inference"),
                message: OUT_OF_ORDER.to_owned(),
            });
        };
        let policy = header.policy.clone();
        let signed = header.stage_g_inference.as_ref().map(|g| g.receipt_count);
        self.tree = CompactRange::with_algorithm(policy.hash_algorithm);
        self.group = GroupBatch::new(Some(&policy));
        self.progress.set_total(signed.unwrap_or(0));
        self.progress.stage(VerifyStage::Receipts);
        self.cx = Some(Context {
            encoder: ReceiptEncoder::new(&policy),
            policy,
            signed,
        });
        if signed == Some(0) {
            self.root_at_signed = Some(self.tree.root());
        }
        Ok(())
    }

    fn receipt(&mut self, at: ReceiptAt, r: Claimed<InferenceReceipt>) {
        let Some(mut cx) = self.cx.take() else {
            return;
        };
        self.facts.observe(cx.policy.commitments, at, &r);
        let leaf = leaf_hash(cx.policy.hash_algorithm, r.digest.as_bytes());
        // Past 2^64 leaves the push fails; the count then stops short of the receipts, which
        // the header comparison reports.
        if self.tree.push_leaf_hash(&leaf).is_ok() && Some(self.tree.len()) == cx.signed {
            self.root_at_signed = Some(self.tree.root());
        }
        self.head = Some(r.digest);
        self.group.push(at.index, &r, &leaf);
        self.chain(&mut cx, at, &r);
        if self.first.is_none() {
            self.first = Some(r.record);
        }
        self.count = self.count.saturating_add(1);
        self.progress.advance(1);
        self.cx = Some(cx);
    }

    fn group_end(&mut self, _gi: usize, batch: Option<&Claimed<InferenceBatch>>) {
        let policy = self.cx.as_ref().map(|c| &c.policy);
        let group = std::mem::replace(&mut self.group, GroupBatch::new(policy));
        let window = batch.map_or("", |b| b.record.window_id.as_str());
        let computed = match policy {
            Some(p) => group.finish(p, window),
            None => Err(lcm_model::Error::Unreachable(
                "streamed receipts before the policy",
            )),
        };
        self.batches.push(computed.map_err(|e| e.to_string()));
    }
}

/// The number of receipts of the first read.
fn checker_count(streamed: &Streamed) -> u64 {
    streamed.tree.len
}

/// The refusal of a bundle whose receipts come before what they are checked against.
pub(super) const OUT_OF_ORDER: &str = "the receipts come before the header whose policy they are checked \
    under: a streamed bundle has `header` before `lifecycle` (as `lcm export` writes it); \
    verify_bundle_json reads any order";

/// The second read of a bundle whose chain check failed: what the failure's report needs
/// (see [`Verifier::failure_in_memory`] for the same from memory).
fn resolve<R: Read + Seek>(source: &mut R, failure: ChainFailure, n: u64) -> ChainFailure {
    let mut resolver = Resolver::new(failure, n);
    let read = source.seek(SeekFrom::Start(0)).is_ok()
        && scan::walk(BufReader::new(source), &mut resolver).is_ok();
    resolver.finish(read)
}

/// Collects, on a second read, what [`Verifier::receipt_failure`] names: the receipt the
/// failure is at (for a digest mismatch, the first of its group with its id and stored
/// digest), whether a sequence going back repeats an earlier receipt of the group, the
/// previous digest the receipt after it names, and the chain's sequence numbers.
struct Resolver {
    f: ChainFailure,
    /// The group's first sequence number.
    s0: Option<u64>,
    /// For a sequence going back at `f.index`: the digest of the receipt it would repeat.
    repeated: Option<Digest>,
    /// Whether `f.index` is final (found).
    found: bool,
    /// Waiting for the receipt after `f.index` (its group and index).
    after: Option<ReceiptAt>,
    order: Option<SequenceOrder>,
}

impl Resolver {
    /// For `f`, in a chain of `n` receipts.
    fn new(f: ChainFailure, n: u64) -> Self {
        let order = matches!(
            f.error,
            lcm_model::Error::ChainOrder { .. } | lcm_model::Error::ChainGap { .. }
        );
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            f,
            s0: None,
            repeated: None,
            found: false,
            after: None,
            order: order.then(|| SequenceOrder::new(n)),
        }
    }

    fn finish(mut self, read: bool) -> ChainFailure {
        if !read {
            self.f.id = String::new();
        }
        self.f.order = self.order;
        self.f
    }
}

impl Receipts for Resolver {
    fn start(&mut self, _parts: &Parts) -> Result<(), Error> {
        Ok(())
    }

    fn receipt(&mut self, at: ReceiptAt, r: Claimed<InferenceReceipt>) {
        use lcm_model::Error as M;
        if let Some(order) = &mut self.order {
            order.see(r.record.sequence);
        }
        if let Some(next) = self.after
            && next == at
        {
            self.f.next = r.record.prev_receipt;
            self.after = None;
        }
        if at.batch != self.f.group || self.found {
            return;
        }
        if at.index == 0 {
            self.s0 = Some(r.record.sequence);
        }
        let here = match &self.f.error {
            M::SealMismatch { id, stored, .. } => r.record.receipt_id == *id && r.digest == *stored,
            M::ChainOrder {
                index,
                expected,
                actual,
                ..
            } => {
                let j = usize::try_from(*index).unwrap_or(usize::MAX);
                let candidate = self
                    .s0
                    .filter(|_| actual < expected)
                    .and_then(|s0| actual.checked_sub(s0))
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|i| *i < j);
                if candidate == Some(at.index) {
                    self.repeated = Some(r.digest);
                }
                if at.index == j && self.repeated == Some(r.digest) {
                    self.f.error = M::DuplicateId {
                        kind: "inference receipt",
                        id: r.record.receipt_id.clone(),
                    };
                    self.order = None;
                }
                at.index == j
            }
            _ => at.index == self.f.index,
        };
        if here {
            self.found = true;
            self.f.index = at.index;
            self.f.id = r.record.receipt_id;
            self.after = Some(ReceiptAt {
                batch: at.batch,
                index: at.index + 1,
            });
        }
    }

    fn group_end(&mut self, gi: usize, _batch: Option<&Claimed<InferenceBatch>>) {
        // The receipt after the failing one is the next group's first only when the failing
        // one closes its group.
        self.after = match self.after {
            Some(next) if next.batch == gi && next.index > 0 => Some(ReceiptAt {
                batch: gi + 1,
                index: 0,
            }),
            Some(next) if next.batch <= gi => None,
            other => other,
        };
    }
}

/// The bundle's types as far as the receipts, which are parsed one at a time and dropped: the
/// typed parse of a whole document, for the syntax error it names (which depends on what it
/// was parsing where the text breaks), in memory that does not grow with the receipts. The
/// names are the bundle types' own, as the parser's messages name them.
mod shadow {
    use std::fmt;
    use std::marker::PhantomData;

    use lcm_model::Claimed;
    use lcm_model::records::{
        InferenceBatch, InferenceReceipt, ModelAnchor, ReleaseRoot, TestEvaluationAnchor,
    };
    use serde::Deserialize;
    use serde::de::{Deserializer, SeqAccess, Visitor};

    use crate::CapsuleHeader;
    use crate::bundle::{
        DatasetEvidence, DeploymentEvidence, PreDeploymentEvidence, TrainingEvidence,
    };

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Parsed for the parser's errors only.
    pub(super) struct Bundle {
        bundle_version: String,
        header: CapsuleHeader,
        lifecycle: Lifecycle,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Lifecycle {
        dataset: DatasetEvidence,
        model: Claimed<ModelAnchor>,
        training: TrainingEvidence,
        predeployment: PreDeploymentEvidence,
        deployment: DeploymentEvidence,
        test_evaluation: Claimed<TestEvaluationAnchor>,
        inference: InferenceEvidence,
        release: Claimed<ReleaseRoot>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct InferenceEvidence {
        batches: Vec<BatchEvidence>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct BatchEvidence {
        batch: Option<Claimed<InferenceBatch>>,
        receipts: Dropped<Claimed<InferenceReceipt>>,
    }

    /// A sequence of `T`, each parsed and dropped.
    struct Dropped<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Dropped<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Each<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for Each<T> {
                type Value = Dropped<T>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a sequence")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    while seq.next_element::<T>()?.is_some() {}
                    Ok(Dropped(PhantomData))
                }
            }
            d.deserialize_seq(Each(PhantomData))
        }
    }
}
