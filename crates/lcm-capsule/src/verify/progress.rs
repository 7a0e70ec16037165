//! Progress reports of a bundle verification.

/// How far a bundle verification has come: reported by [`verify_bundle_with_progress`](crate::verify_bundle_with_progress) and
/// [`verify_bundle_json_with_progress`](crate::verify_bundle_json_with_progress).
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
    /// The JSON document is parsed ([`verify_bundle_json_with_progress`](crate::verify_bundle_json_with_progress) only).
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
pub(super) struct Progress<'p> {
    report: &'p mut dyn FnMut(VerifyProgress),
    stage: VerifyStage,
    done: u64,
    /// `done` when the callback was last called.
    reported: u64,
    total: u64,
    pub(super) chunk: usize,
}

impl<'p> Progress<'p> {
    pub(super) fn new(report: &'p mut dyn FnMut(VerifyProgress), total: u64, chunk: usize) -> Self {
        Self {
            report,
            stage: VerifyStage::Parse,
            done: 0,
            reported: 0,
            total,
            chunk: chunk.max(1),
        }
    }

    pub(super) fn call(&mut self) {
        self.reported = self.done;
        (self.report)(VerifyProgress {
            stage: self.stage,
            done: self.done,
            total: self.total,
        });
    }

    /// Sets the number of receipts, once it is known (a streamed bundle's, from its header).
    pub(super) fn set_total(&mut self, total: u64) {
        self.total = total;
    }

    /// Enters `stage`, if it comes later than the current one, and says so.
    pub(super) fn stage(&mut self, stage: VerifyStage) {
        if stage > self.stage {
            self.stage = stage;
            self.call();
        }
    }

    /// `n` more receipts are checked; reports when a chunk's worth has gathered since the
    /// last report.
    pub(super) fn advance(&mut self, n: usize) {
        self.done = self.done.saturating_add(len_u64(n)).min(self.total);
        if self.done.saturating_sub(self.reported) >= len_u64(self.chunk) {
            self.call();
        }
    }

    /// The last call: `done == total`.
    pub(super) fn finish(&mut self) {
        self.done = self.total;
        self.stage = VerifyStage::Finished;
        self.call();
    }
}

pub(super) fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
