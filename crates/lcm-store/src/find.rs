//! Finding receipts: by request id and by time range, through the backends' indexes (never a
//! scan of the whole chain).

use std::io::Write;

use lcm_model::Timestamp;

use crate::{Error, Store, StoredReceipt};

/// The receipts of `deployment`'s chain made for `request_id`, in chain order (more than one
/// only when repeated request ids were allowed): an indexed lookup, then one read each.
///
/// # Errors
///
/// Read failures.
pub fn receipts_by_request(
    store: &dyn Store,
    deployment: &str,
    request_id: &str,
) -> Result<Vec<StoredReceipt>, Error> {
    let mut found = Vec::new();
    for sequence in store.request_sequences(deployment, request_id)? {
        store.scan_receipts(deployment, sequence, Some(sequence), &mut |r| {
            found.push(r);
            Ok(())
        })?;
    }
    Ok(found)
}

/// A time bound given as RFC 3339 text (any fractional precision, `Z` or an offset), in
/// microseconds since the Unix epoch; `flag` names it in the error.
///
/// # Errors
///
/// [`Error::Stage`] naming `flag` and the expected form.
pub fn time_bound(flag: &'static str, text: &str) -> Result<i64, Error> {
    Timestamp::parse_rfc3339(text)
        .map(Timestamp::unix_micros)
        .map_err(|e| Error::Stage {
            stage: flag,
            message: e.to_string(),
        })
}

/// The range of `lcm list receipts --since SINCE --until UNTIL` ([`time_bound`] of each), a
/// bound left out being the earliest or latest time.
///
/// # Errors
///
/// As [`time_bound`], naming `--since` or `--until`.
pub fn time_range(since: Option<&str>, until: Option<&str>) -> Result<(i64, i64), Error> {
    Ok((
        since.map_or(Ok(i64::MIN), |t| time_bound("--since", t))?,
        until.map_or(Ok(i64::MAX), |t| time_bound("--until", t))?,
    ))
}

/// Calls `visit` for every receipt of `deployment`'s chain whose timestamp lies in
/// `since..=until` (microseconds since the Unix epoch), in chain order. The index on
/// timestamps gives the first and last such receipt ([`Store::time_span`]); only the receipts
/// between them are read, so a range costs one index lookup and its own receipts when the
/// chain's timestamps grow with its sequence (as `lcm infer` makes them on one clock), and
/// never more than the receipts between the range's first and last (no bound at all: the
/// plain scan of the chain). Memory: one receipt.
///
/// # Errors
///
/// Read failures; `visit`'s errors.
pub fn scan_receipts_between(
    store: &dyn Store,
    deployment: &str,
    since: i64,
    until: i64,
    visit: &mut dyn FnMut(StoredReceipt) -> Result<(), Error>,
) -> Result<(), Error> {
    if (since, until) == (i64::MIN, i64::MAX) {
        return store.scan_receipts(deployment, 0, None, visit);
    }
    let Some((first, last)) = store.time_span(deployment, since, until)? else {
        return Ok(());
    };
    store.scan_receipts(deployment, first, Some(last), &mut |r| {
        if (since..=until).contains(&r.timestamp) {
            visit(r)?;
        }
        Ok(())
    })
}

/// Why [`write_receipts_between`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] Error),
    /// The output failed (for standard output: its reader may have closed it).
    #[error("writing the receipts: {0}")]
    Write(#[source] std::io::Error),
}

/// The size of the pieces [`write_receipts_between`] writes: about 64 KiB.
pub const WRITE_PIECE: usize = 1 << 16;

/// Writes the receipts of [`scan_receipts_between`] to `out`, each as `format` prints it
/// (`lcm list receipts`: [`crate::pipeline::text_acks`], or
/// [`crate::pipeline::json_acks`] with `--json`), as the scan goes, in pieces of about
/// [`WRITE_PIECE`] bytes. Memory: one piece and one receipt, whatever the chain's length. A
/// failed write stops the scan.
///
/// # Errors
///
/// [`WriteError::Store`] for read failures, [`WriteError::Write`] for the first failed write.
pub fn write_receipts_between(
    store: &dyn Store,
    deployment: &str,
    (since, until): (i64, i64),
    format: fn(&[StoredReceipt], &mut String),
    out: &mut dyn Write,
) -> Result<(), WriteError> {
    let mut lines = String::with_capacity(WRITE_PIECE + 512);
    // A failed write stops the scan; the store error that stops it is never shown.
    let mut failed = None;
    let scanned = scan_receipts_between(store, deployment, since, until, &mut |r| {
        format(std::slice::from_ref(&r), &mut lines);
        if lines.len() >= WRITE_PIECE {
            if let Err(e) = out.write_all(lines.as_bytes()) {
                failed = Some(e);
                return Err(Error::Corrupt {
                    what: "the output failed".to_owned(),
                });
            }
            lines.clear();
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(WriteError::Write(e));
    }
    scanned?;
    out.write_all(lines.as_bytes()).map_err(WriteError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::demo::tests::demo_store;
    use crate::pipeline::{json_acks, text_acks};

    /// An output that keeps the size of each write, and fails from write number `fail_at`.
    struct Pieces {
        sizes: Vec<usize>,
        bytes: Vec<u8>,
        fail_at: usize,
    }

    impl Write for Pieces {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.sizes.len() >= self.fail_at {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.sizes.push(buf.len());
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn pieces(fail_at: usize) -> Pieces {
        Pieces {
            sizes: Vec::new(),
            bytes: Vec::new(),
            fail_at,
        }
    }

    #[test]
    fn writes_every_receipt_in_bounded_pieces_and_stops_at_a_failed_write() {
        let (store, dir, deployment, _) = demo_store("find-write", 1500);
        let all = (i64::MIN, i64::MAX);
        let mut expected = String::new();
        let mut receipts = Vec::new();
        store
            .scan_receipts(&deployment, 0, None, &mut |r| {
                receipts.push(r);
                Ok(())
            })
            .unwrap();
        text_acks(&receipts, &mut expected);
        let mut out = pieces(usize::MAX);
        write_receipts_between(&*store, &deployment, all, text_acks, &mut out).unwrap();
        assert_eq!(String::from_utf8(out.bytes).unwrap(), expected);
        // Memory stays bounded: more than one piece, none much larger than WRITE_PIECE.
        assert!(out.sizes.len() > 1, "{:?}", out.sizes);
        assert!(out.sizes.iter().all(|&n| n < WRITE_PIECE + 512));
        // JSON lines, one per receipt.
        let mut out = pieces(usize::MAX);
        write_receipts_between(&*store, &deployment, all, json_acks, &mut out).unwrap();
        assert_eq!(out.bytes.iter().filter(|&&b| b == b'\n').count(), 1500);
        // A range: only the receipts made in it (one timestamp here: the first receipt's).
        let first = receipts[0].timestamp;
        let mut out = pieces(usize::MAX);
        let range = (first, first);
        write_receipts_between(&*store, &deployment, range, text_acks, &mut out).unwrap();
        let n = receipts.iter().filter(|r| r.timestamp == first).count();
        assert_eq!(out.bytes.iter().filter(|&&b| b == b'\n').count(), n);
        // The first failed write stops the scan and is the error.
        let mut out = pieces(1);
        let failed = write_receipts_between(&*store, &deployment, all, text_acks, &mut out);
        assert!(
            matches!(failed, Err(WriteError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe)
        );
        assert_eq!(out.sizes.len(), 1);
        // A chain the store does not hold writes nothing.
        let mut out = pieces(usize::MAX);
        write_receipts_between(&*store, "none", all, text_acks, &mut out).unwrap();
        assert!(out.bytes.is_empty());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
