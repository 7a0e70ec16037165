//! `lcm batch close`: the receipts not yet in a batch streamed into the next batch and its
//! root, holding `O(log n)` state (the batch builder's accumulator: one subtree root per set
//! bit of the count), never a list of the receipts.

use lcm_managers::{InferenceBatchBuilder, ReceiptLink};
use lcm_model::records::{InferenceBatch, InferenceBatchRoot, InferenceReceipt};
use lcm_model::{Policy, Record, Sealed, Timestamp, canonical};

use crate::{Error, Store, StoredBatch, StoredReceipt, StoredRecord};

/// A finished batch: the batch, its root record, its first and last sequence numbers.
type FinishedBatch = (InferenceBatch, Sealed<InferenceBatchRoot>, u64, u64);

/// What the roots manager calls a batch root in its refusals.
const BATCH_ROOT: &str = "inference batch root";

/// The next batch of a chain, built as its receipts are scanned: the receipts' links go
/// into an [`InferenceBatchBuilder`] one at a time, so the state is the builder's accumulator
/// (one digest per set bit of the count) and the first and last links, whatever the batch's
/// size. The batch root (`inference-batch-root`) is the same tree over the same digests, so
/// it is taken from the builder rather than rebuilt.
///
/// A receipt that does not parse, or does not follow the one before, fails the batch; the
/// scan still runs to the window's end so that the error names the window as the batch
/// would have been named.
///
/// # Examples
///
/// ```
/// use lcm_crypto::Digest;
/// use lcm_model::{Policy, Timestamp};
/// use lcm_store::pipeline::BatchStream;
///
/// let policy = Policy::default();
/// let mut stream = BatchStream::new(&policy, None, None);
/// assert!(stream.finish()?.is_none()); // nothing to seal
/// # Ok::<(), lcm_store::Error>(())
/// ```
#[derive(Debug)]
pub struct BatchStream<'a> {
    policy: &'a Policy,
    window: Option<&'a str>,
    until: Option<Timestamp>,
    builder: InferenceBatchBuilder,
    range: Option<(u64, u64)>,
    stopped: bool,
    parse_failure: Option<Error>,
    link_failure: Option<lcm_model::Error>,
}

impl<'a> BatchStream<'a> {
    /// An empty batch under `policy`, named `window` (default `batch_FIRST_LAST`), ending
    /// before the first receipt made after `until`.
    pub fn new(policy: &'a Policy, window: Option<&'a str>, until: Option<Timestamp>) -> Self {
        Self {
            policy,
            window,
            until,
            builder: InferenceBatchBuilder::new(policy, window.unwrap_or("")),
            range: None,
            stopped: false,
            parse_failure: None,
            link_failure: None,
        }
    }

    /// Takes the next stored receipt of the chain (in sequence order).
    pub fn push(&mut self, r: &StoredReceipt) {
        // The window ends at the first receipt made after `until`.
        if self.stopped || self.parse_failure.is_some() {
            return;
        }
        if self.until.is_some_and(|u| r.timestamp > u.unix_micros()) {
            self.stopped = true;
            return;
        }
        let record = match serde_json::from_str::<InferenceReceipt>(&r.json) {
            Ok(record) => record,
            Err(source) => {
                self.parse_failure = Some(Error::Parse {
                    kind: "receipt".to_owned(),
                    id: r.receipt_id.clone(),
                    source,
                });
                return;
            }
        };
        self.range = Some(match self.range {
            Some((first, _)) => (first, r.sequence),
            None => (r.sequence, r.sequence),
        });
        if self.link_failure.is_none()
            && let Err(e) = self.builder.push(ReceiptLink {
                digest: r.digest,
                sequence: r.sequence,
                prev_receipt: record.prev_receipt,
                timestamp: record.timestamp,
            })
        {
            self.link_failure = Some(e);
        }
    }

    /// The digests held: the builder's accumulator, one per set bit of the count pushed.
    pub fn held(&self) -> usize {
        self.builder.accumulator().len().count_ones() as usize
    }

    /// The batch, its root record, and the first and last sequence numbers it covers (`None`
    /// when no receipt was taken).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] for the first receipt that did not parse; the builder's refusal of
    /// the first receipt that does not follow the one before (naming the window); the roots
    /// manager's refusal of an empty window id.
    pub fn finish(self) -> Result<Option<FinishedBatch>, Error> {
        if let Some(e) = self.parse_failure {
            return Err(e);
        }
        let Some((first, last)) = self.range else {
            return Ok(None);
        };
        let window_id = self
            .window
            .map_or_else(|| format!("batch_{first}_{last}"), str::to_owned);
        if let Some(e) = self.link_failure {
            return Err(named(e, &window_id).into());
        }
        if window_id.is_empty() {
            return Err(lcm_managers::Error::Empty {
                kind: BATCH_ROOT,
                id: window_id,
                field: "window_id",
            }
            .into());
        }
        let mut batch = self.builder.finish()?;
        batch.window_id.clone_from(&window_id);
        let root = InferenceBatchRoot {
            window_id,
            size: batch.count,
            root: batch.root,
        };
        Ok(Some((batch, Sealed::seal(root, self.policy)?, first, last)))
    }
}

/// The builder's refusal with the window's final id (the builder ran before the default id,
/// `batch_FIRST_LAST`, was known).
fn named(mut e: lcm_model::Error, window_id: &str) -> lcm_model::Error {
    if let lcm_model::Error::ChainGap { id, .. }
    | lcm_model::Error::ChainLink { id, .. }
    | lcm_model::Error::ChainOrder { id, .. } = &mut e
    {
        window_id.clone_into(id);
    }
    e
}

/// Seals the receipts of `deployment`'s chain not yet in a batch (up to the first made after
/// `until`, and up to the sequence number `upto`) into the next batch and its root (stored
/// as the record `inference-batch-root` `DEPLOYMENT/WINDOW`). `None` when there is nothing
/// to seal. The receipts are streamed through a [`BatchStream`]: memory is `O(log n)` in
/// the batch's size.
///
/// # Errors
///
/// [`Error::NoChain`]; [`Error::Parse`] for a stored receipt that does not parse; the
/// managers' refusals; write failures.
pub fn seal_next_batch(
    store: &mut dyn Store,
    deployment: &str,
    window: Option<&str>,
    until: Option<Timestamp>,
    upto: Option<u64>,
) -> Result<Option<StoredBatch>, Error> {
    let policy = store.policy()?;
    store.close_batch(deployment, &mut |s, next| {
        let mut stream = BatchStream::new(&policy, window, until);
        s.scan_receipts(deployment, next, upto, &mut |r| {
            stream.push(&r);
            Ok(())
        })?;
        let Some((batch, root, first_sequence, last_sequence)) = stream.finish()? else {
            return Ok(None);
        };
        Ok(Some((
            StoredBatch {
                window_id: batch.window_id.clone(),
                first_sequence,
                last_sequence,
                digest: batch.digest(&policy)?,
                json: canonical::to_string(&batch)?,
            },
            vec![StoredRecord {
                kind: InferenceBatchRoot::KIND.to_owned(),
                id: format!("{deployment}/{}", root.record().window_id),
                digest: root.digest(),
                json: canonical::to_string(&root.record())?,
            }],
        )))
    })
}

#[cfg(test)]
mod tests {
    use lcm_crypto::{CommitmentScheme, Digest};
    use lcm_model::records::InferenceCommitment;

    use super::*;

    /// Stored receipts `0..n` of one chain (digests made up: the builder uses stored digests
    /// as they are), with receipt `broken`'s link pointing elsewhere.
    fn receipts(n: u64, broken: Option<u64>) -> impl Iterator<Item = StoredReceipt> {
        let digest = |i: u64| {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&i.to_le_bytes());
            Digest::from_bytes(b)
        };
        let commitment = InferenceCommitment {
            scheme: CommitmentScheme::Salted,
            value: Digest::from_bytes([3; 32]),
            metadata: serde_json::Map::new(),
            plaintext: None,
        };
        (0..n).map(move |i| {
            let prev = i.checked_sub(1).map(|p| {
                if Some(i) == broken {
                    digest(p + 1000)
                } else {
                    digest(p)
                }
            });
            let r = InferenceReceipt {
                receipt_id: format!("inf_{i}"),
                sequence: i,
                model_anchor: Digest::from_bytes([1; 32]),
                deployment_anchor: Digest::from_bytes([2; 32]),
                request_id: format!("req_{i}"),
                input_commitment: commitment.clone(),
                output_commitment: commitment.clone(),
                explanation_digests: vec![],
                prev_receipt: prev,
                timestamp: Timestamp::from_unix_micros(i64::try_from(i).unwrap()),
            };
            StoredReceipt {
                sequence: i,
                receipt_id: r.receipt_id.clone(),
                digest: digest(i),
                timestamp: i64::try_from(i).unwrap(),
                json: serde_json::to_string(&r).unwrap(),
            }
        })
    }

    /// Memory of a batch close does not grow with the batch: the stream holds one digest per
    /// set bit of the count (at most 17 for 2^17 receipts), and gives the root of the tree
    /// over every digest.
    #[test]
    fn a_batch_close_holds_log_n_digests_and_gives_the_full_tree_root() {
        let policy = Policy::default();
        let n = (1u64 << 17) - 1;
        let mut stream = BatchStream::new(&policy, None, None);
        let mut digests = Vec::new();
        let mut most = 0;
        for r in receipts(n, None) {
            digests.push(r.digest);
            stream.push(&r);
            most = most.max(stream.held());
        }
        assert_eq!(most, 17);
        let (batch, root, first, last) = stream.finish().unwrap().unwrap();
        assert_eq!((first, last, batch.count), (0, n - 1, n));
        assert_eq!(batch.window_id, format!("batch_0_{}", n - 1));
        let full =
            lcm_model::verify::compute_inference_batch_root(&policy, &batch.window_id, &digests)
                .unwrap();
        assert_eq!(root.record(), &full);
        assert_eq!(batch.root, full.root);
    }

    /// Tamper twin: a receipt whose link is not the digest before it fails the batch, the
    /// error naming the window by its final default id; `until` ends the window early.
    #[test]
    fn a_broken_link_fails_naming_the_window_and_until_ends_it() {
        let policy = Policy::default();
        let mut stream = BatchStream::new(&policy, None, None);
        receipts(50, Some(20)).for_each(|r| stream.push(&r));
        let e = stream.finish().unwrap_err().to_string();
        assert!(e.contains("batch_0_49"), "{e}");
        let mut stream = BatchStream::new(&policy, Some("w"), Some(Timestamp::from_unix_micros(9)));
        receipts(50, None).for_each(|r| stream.push(&r));
        let (batch, _, first, last) = stream.finish().unwrap().unwrap();
        assert_eq!((batch.window_id.as_str(), first, last), ("w", 0, 9));
        let stream = BatchStream::new(&policy, Some(""), None);
        assert!(stream.finish().unwrap().is_none());
        let mut stream = BatchStream::new(&policy, Some(""), None);
        receipts(2, None).for_each(|r| stream.push(&r));
        assert!(
            stream
                .finish()
                .unwrap_err()
                .to_string()
                .contains("must not be empty")
        );
    }
}
