//! Finding receipts: by request id and by time range, through the backends' indexes (never a
//! scan of the whole chain).

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
