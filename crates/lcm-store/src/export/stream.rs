//! `lcm export` written as the store is scanned: the bundle's bytes go to a writer while the
//! receipts are read in sequence order, so nothing is held per receipt.
//!
//! The bytes are those of [`super::bundle`]'s bundle written by `Bundle::to_json(Some(2))`:
//! the same serializer writes the same fields in the same order, only the receipts come from
//! the store's scan instead of a vector. The header is signed first, from the chain's log
//! ([`super::header`]: `O(log n)` reads under a SHA-256 policy); while the receipts are
//! written their digests are folded into an `O(log n)` Merkle frontier, and a chain whose
//! receipts do not give the header's count, root and head is refused as a corrupt store.

use std::cell::RefCell;
use std::io::Write;

use lcm_capsule::{BUNDLE_VERSION, CapsuleHeader, Lifecycle};
use lcm_crypto::merkle::CompactRange;
use lcm_crypto::{Digest, SigningKey};
use lcm_model::records::{InferenceBatch, InferenceReceipt};
use lcm_model::{Claimed, Record, Timestamp};
use serde::ser::{Error as _, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::{Layout, SealedBatch};
use crate::{Error, Store};

/// Writes the bundle of the lifecycle of `deployment` (as [`super::bundle`] makes it, indented
/// by two spaces, without a final newline) to `out` as the receipts are scanned. Returns the
/// signed header and the number of bytes written. Memory: the lifecycle's records and the
/// batch list, an `O(log n)` Merkle frontier and one receipt at a time.
///
/// # Errors
///
/// As [`super::header`]; [`Error::Parse`] for a stored receipt that does not parse;
/// [`Error::Corrupt`] when the chain's receipts do not give the header's count, root and head
/// or a batch's bounds are not in the chain; [`Error::Write`] when `out` fails.
pub fn write_bundle(
    store: &dyn Store,
    deployment: &str,
    origin: Option<&str>,
    generated_at: Timestamp,
    key: &SigningKey,
    out: &mut dyn Write,
) -> Result<(CapsuleHeader, u64), Error> {
    write_bundle_as(
        store,
        deployment,
        origin,
        generated_at,
        key,
        Layout::Indented,
        out,
    )
}

/// [`write_bundle`] in the given [`Layout`]: [`Layout::Compact`] writes the same JSON value
/// on one line.
///
/// # Errors
///
/// As [`write_bundle`].
pub fn write_bundle_as(
    store: &dyn Store,
    deployment: &str,
    origin: Option<&str>,
    generated_at: Timestamp,
    key: &SigningKey,
    layout: Layout,
    out: &mut dyn Write,
) -> Result<(CapsuleHeader, u64), Error> {
    let policy = store.policy()?;
    let ((lifecycle, batches), (header, log)) =
        super::load_and_sign(store, deployment, origin, generated_at, key)?;
    let count = log.size();
    drop(log);
    let groups = groups(&batches, count)?;
    let state = RefCell::new(Scan {
        range: CompactRange::with_algorithm(policy.hash_algorithm),
        head: None,
        error: None,
    });
    let doc = StreamedBundle {
        header: &header,
        lifecycle: &lifecycle,
        inference: Groups {
            store,
            deployment,
            groups: &groups,
            state: &state,
        },
    };
    let mut counting = Counting {
        inner: out,
        bytes: 0,
    };
    let written = match layout {
        Layout::Indented => {
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
            doc.serialize(&mut serde_json::Serializer::with_formatter(
                &mut counting,
                fmt,
            ))
        }
        Layout::Compact => doc.serialize(&mut serde_json::Serializer::new(&mut counting)),
    };
    let scan = state.into_inner();
    if let Some(e) = scan.error {
        return Err(e);
    }
    written.map_err(|e| match e.io_error_kind() {
        Some(kind) => Error::Write(std::io::Error::new(kind, e.to_string())),
        None => lcm_model::Error::Json(e).into(),
    })?;
    check_chain(&header, &scan.range, scan.head)?;
    Ok((header, counting.bytes))
}

/// The receipts of each group: `(batch, first, last)` with `last` inclusive, grouped as
/// [`super::bundle`] groups them (each batch closes at its last sequence; receipts after the
/// last batch form a group without one). Every stored batch must close inside the chain, in
/// order: the header signs all of them.
fn groups(batches: &[SealedBatch], count: u64) -> Result<Vec<Span<'_>>, Error> {
    let mut groups = Vec::with_capacity(batches.len() + 1);
    let mut next = 0u64;
    for b in batches {
        if b.last_sequence < next || b.last_sequence >= count {
            return Err(Error::Corrupt {
                what: format!(
                    "inference batch {} ends at receipt {} of a chain of {count} receipts, \
                     after receipt {next}",
                    b.batch.record.window_id, b.last_sequence
                ),
            });
        }
        groups.push((Some(&b.batch), next, b.last_sequence));
        next = b.last_sequence + 1;
    }
    if next < count {
        groups.push((None, next, count - 1));
    }
    Ok(groups)
}

/// One group of the bundle: its batch (none for receipts after the last batch) and the
/// sequences of its first and last receipts.
type Span<'a> = (Option<&'a Claimed<InferenceBatch>>, u64, u64);

/// The header's receipt count, root and head must be those of the receipts written.
fn check_chain(
    header: &CapsuleHeader,
    range: &CompactRange,
    head: Option<Digest>,
) -> Result<(), Error> {
    let Some(g) = &header.stage_g_inference else {
        return Ok(());
    };
    if g.receipt_count != range.len() || g.receipts_root != range.root() || g.chain_head != head {
        return Err(Error::Corrupt {
            what: format!(
                "the chain's {} receipts give root {}, but its log gives {} receipts with root {}",
                range.len(),
                range.root(),
                g.receipt_count,
                g.receipts_root
            ),
        });
    }
    Ok(())
}

/// What the scan keeps: the frontier of the receipts written, the last digest, and the first
/// store error (which the serializer cannot carry).
struct Scan {
    range: CompactRange,
    head: Option<Digest>,
    error: Option<Error>,
}

/// A writer that counts the bytes it passes on.
pub(crate) struct Counting<'a> {
    /// Where the bytes go.
    pub(crate) inner: &'a mut dyn Write,
    /// How many were written.
    pub(crate) bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `Bundle`'s fields, with the lifecycle's receipts streamed.
struct StreamedBundle<'a> {
    header: &'a CapsuleHeader,
    lifecycle: &'a Lifecycle,
    inference: Groups<'a>,
}

impl Serialize for StreamedBundle<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Bundle", 3)?;
        st.serialize_field("bundle_version", BUNDLE_VERSION)?;
        st.serialize_field("header", self.header)?;
        st.serialize_field("lifecycle", &StreamedLifecycle(self))?;
        st.end()
    }
}

/// `Lifecycle`'s fields in its order, `inference` streamed.
struct StreamedLifecycle<'a, 'b>(&'b StreamedBundle<'a>);

impl Serialize for StreamedLifecycle<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0.lifecycle;
        let mut st = s.serialize_struct("Lifecycle", 8)?;
        st.serialize_field("dataset", &l.dataset)?;
        st.serialize_field("model", &l.model)?;
        st.serialize_field("training", &l.training)?;
        st.serialize_field("predeployment", &l.predeployment)?;
        st.serialize_field("deployment", &l.deployment)?;
        st.serialize_field("test_evaluation", &l.test_evaluation)?;
        st.serialize_field("inference", &Inference(&self.0.inference))?;
        st.serialize_field("release", &l.release)?;
        st.end()
    }
}

/// `InferenceEvidence { batches }`.
struct Inference<'a, 'b>(&'b Groups<'a>);

impl Serialize for Inference<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("InferenceEvidence", 1)?;
        st.serialize_field("batches", self.0)?;
        st.end()
    }
}

/// The batch groups, each scanned from the store when it is written.
struct Groups<'a> {
    store: &'a dyn Store,
    deployment: &'a str,
    groups: &'a [Span<'a>],
    state: &'a RefCell<Scan>,
}

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.groups.len()))?;
        for &(batch, first, last) in self.groups {
            seq.serialize_element(&Group {
                groups: self,
                batch,
                first,
                last,
            })?;
        }
        seq.end()
    }
}

/// `BatchEvidence { batch, receipts }`, its receipts scanned.
struct Group<'a, 'b> {
    groups: &'b Groups<'a>,
    batch: Option<&'a Claimed<InferenceBatch>>,
    first: u64,
    last: u64,
}

impl Serialize for Group<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("BatchEvidence", 2)?;
        st.serialize_field("batch", &self.batch)?;
        st.serialize_field("receipts", &Receipts(self))?;
        st.end()
    }
}

/// The receipts of one group, read from the store in sequence order.
struct Receipts<'a, 'b, 'c>(&'c Group<'a, 'b>);

impl Serialize for Receipts<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let groups = g.groups;
        let mut seq = s.serialize_seq(None)?;
        let mut failed: Option<S::Error> = None;
        let scanned =
            groups
                .store
                .scan_receipts(groups.deployment, g.first, Some(g.last), &mut |r| {
                    let mut state = groups.state.borrow_mut();
                    if r.sequence != state.range.len() {
                        return Err(Error::Corrupt {
                            what: format!(
                                "receipt {} has sequence {} where {} was expected",
                                r.receipt_id,
                                r.sequence,
                                state.range.len()
                            ),
                        });
                    }
                    let record: InferenceReceipt =
                        serde_json::from_str(&r.json).map_err(|source| Error::Parse {
                            kind: InferenceReceipt::KIND.to_owned(),
                            id: r.receipt_id.clone(),
                            source,
                        })?;
                    state.range.push(r.digest.as_bytes())?;
                    state.head = Some(r.digest);
                    drop(state);
                    let claimed = Claimed {
                        record,
                        digest: r.digest,
                    };
                    seq.serialize_element(&claimed).map_err(|e| {
                        failed = Some(e);
                        Error::Corrupt {
                            what: "writing stopped".to_owned(),
                        }
                    })
                });
        if let Some(e) = failed {
            return Err(e);
        }
        if let Err(e) = scanned {
            groups.state.borrow_mut().error.get_or_insert(e);
            return Err(S::Error::custom("reading the store failed"));
        }
        if groups.state.borrow().range.len() != g.last + 1 {
            groups
                .state
                .borrow_mut()
                .error
                .get_or_insert(Error::Corrupt {
                    what: format!(
                        "the chain of {} ends before receipt {}",
                        groups.deployment, g.last
                    ),
                });
            return Err(S::Error::custom("the chain ended early"));
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::demo::tests::demo_store;

    /// Groups follow the batches; a batch outside the chain is refused.
    #[test]
    fn groups_close_at_each_batch() {
        let (store, dir, deployment, _) = demo_store("export-groups", 3);
        let (_, batches) = super::super::load(&*store, &deployment).unwrap();
        let n = batches.last().map_or(0, |b| b.last_sequence + 1);
        let g = groups(&batches, n + 2).unwrap();
        assert_eq!(g.len(), batches.len() + 1);
        assert_eq!(
            g.last().map(|x| (x.0.is_none(), x.1, x.2)),
            Some((true, n, n + 1))
        );
        assert!(matches!(
            groups(&batches, n.saturating_sub(1)),
            Err(Error::Corrupt { .. })
        ));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The streamed bundle is byte for byte the in-memory assembler's, with its batches and
    /// an open group after the last batch.
    #[test]
    fn streamed_bundle_is_the_assembled_bundle() {
        let (store, dir, deployment, key) = demo_store("export-stream", 7);
        let now = Timestamp::now();
        let assembled = super::super::bundle(&*store, &deployment, now, &key)
            .unwrap()
            .to_json(Some(2))
            .unwrap();
        let mut streamed = Vec::new();
        let (header, bytes) =
            write_bundle(&*store, &deployment, None, now, &key, &mut streamed).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), assembled);
        assert_eq!(bytes, assembled.len() as u64);
        assert_eq!(header.stage_g_inference.unwrap().receipt_count, 7);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The compact layout writes the assembler's compact JSON, byte for byte: one line, the
    /// same value as the indented bundle, in fewer bytes; and `write_document` passes the
    /// layout on for a bundle and for a header.
    #[test]
    fn compact_bundle_is_the_assembled_compact_bundle() {
        let (store, dir, deployment, key) = demo_store("export-compact", 5);
        let now = Timestamp::now();
        let assembled = super::super::bundle(&*store, &deployment, now, &key).unwrap();
        let (mut compact, mut indented) = (Vec::new(), Vec::new());
        let (_, bytes) = write_bundle_as(
            &*store,
            &deployment,
            None,
            now,
            &key,
            Layout::Compact,
            &mut compact,
        )
        .unwrap();
        write_bundle(&*store, &deployment, None, now, &key, &mut indented).unwrap();
        let compact = String::from_utf8(compact).unwrap();
        assert_eq!(compact, assembled.to_json(None).unwrap());
        assert_eq!(bytes, compact.len() as u64);
        assert!(!compact.contains('\n') && compact.len() < indented.len());
        let value = |t: &[u8]| serde_json::from_slice::<serde_json::Value>(t).unwrap();
        assert_eq!(value(compact.as_bytes()), value(&indented));
        for kind in [
            lcm_capsule::DocumentKind::Bundle,
            lcm_capsule::DocumentKind::Header,
        ] {
            let mut out = Vec::new();
            let doc = super::super::Document {
                kind,
                layout: Layout::Compact,
            };
            super::super::write_document(&*store, &deployment, doc, None, now, &key, &mut out)
                .unwrap();
            assert!(!out.contains(&b'\n') && !out.starts_with(b"{ "), "{kind:?}");
            let mut indented = Vec::new();
            super::super::write_document(
                &*store,
                &deployment,
                kind,
                None,
                now,
                &key,
                &mut indented,
            )
            .unwrap();
            assert_eq!(value(&out), value(&indented), "{kind:?}");
            assert!(indented.contains(&b'\n'), "{kind:?}");
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A writer that fails is reported as a write error, not as a store error.
    #[test]
    fn a_failing_writer_is_a_write_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (store, dir, deployment, key) = demo_store("export-full", 2);
        let e = write_bundle(
            &*store,
            &deployment,
            None,
            Timestamp::now(),
            &key,
            &mut Full,
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::Write(io) if io.kind() == std::io::ErrorKind::StorageFull),
            "{e}"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
