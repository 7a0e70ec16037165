//! [`assign_splits`]: the seeded, reproducible assignment of record ids to splits.

use super::*;

/// The kind name used in error messages.
const ASSIGNMENT: &str = "split assignment";

/// The domain tag of the sort keys of [`assign_splits`] (fixed, independent of any policy, so
/// that an assignment can be reproduced from the seed alone).
const ASSIGN_TAG: &str = "lcm/assign-splits/1";

/// Assigns record ids to splits, reproducibly from `seed` (the seed's "RNG seed tracking for
/// deterministic splits").
///
/// `ratios` are integer weights per split, for example `{train: 8, val: 1, test: 1}` or
/// `70/15/15`. The procedure, which depends on nothing but its inputs (not the policy, the
/// platform or the process):
///
/// 1. every id gets the sort key `SHA-256` of `hash_domain("lcm/assign-splits/1", [seed as
///    8 big-endian bytes, id])`, and the ids are ordered by key (then by id);
/// 2. split `i` gets `floor(n * w_i / W)` ids, and the remaining ids (fewer than the number of
///    splits) go one each to the splits with the largest remainders `n * w_i mod W`, ties to
///    the earlier split;
/// 3. the ordered ids are cut into consecutive runs in split order (train, val, test).
///
/// Each returned list is sorted by id. A split with weight 0 gets no ids but is still a key.
///
/// # Errors
///
/// [`lcm_model::Error::EmptyCollection`] for no ids; [`Error::Empty`] for an empty id;
/// [`lcm_model::Error::UnexpectedValue`] for an id given twice or when no weight is positive.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use lcm_managers::assign_splits;
/// use lcm_model::records::DatasetSplit;
///
/// let ids: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
/// let ratios = BTreeMap::from([(DatasetSplit::Train, 70), (DatasetSplit::Test, 30)]);
/// let a = assign_splits(&ids, &ratios, 7)?;
/// assert_eq!(a[&DatasetSplit::Train].len(), 7);
/// assert_eq!(a[&DatasetSplit::Test].len(), 3);
/// assert_eq!(a, assign_splits(&ids, &ratios, 7)?);
/// # Ok::<(), lcm_managers::Error>(())
/// ```
pub fn assign_splits<S: AsRef<str>>(
    record_ids: &[S],
    ratios: &BTreeMap<DatasetSplit, u32>,
    seed: u64,
) -> Result<BTreeMap<DatasetSplit, Vec<String>>, Error> {
    let id = format!("seed {seed}");
    if record_ids.is_empty() {
        return Err(Error::Model(lcm_model::Error::EmptyCollection {
            kind: ASSIGNMENT,
            id,
            field: "record_ids",
        }));
    }
    let total: u64 = ratios.values().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return Err(Error::unexpected(
            ASSIGNMENT,
            id,
            "ratios",
            "at least one positive weight".to_owned(),
            format!("{ratios:?}"),
        ));
    }
    let seed_bytes = seed.to_be_bytes();
    let mut keyed: Vec<(Digest, &str)> = Vec::with_capacity(record_ids.len());
    for rid in record_ids {
        let rid = rid.as_ref();
        if rid.is_empty() {
            return Err(Error::Empty {
                kind: ASSIGNMENT,
                id,
                field: "record_ids",
            });
        }
        let key = hash_domain(
            HashAlgorithm::Sha256,
            ASSIGN_TAG,
            &[&seed_bytes, rid.as_bytes()],
        );
        keyed.push((key, rid));
    }
    keyed.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(b.1)));
    // Equal ids have equal keys, so after sorting by (key, id) duplicates are neighbours.
    if let Some(w) = keyed.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(Error::unexpected(
            ASSIGNMENT,
            id,
            "record_ids",
            "unique record ids".to_owned(),
            format!("{:?} twice", w[0].1),
        ));
    }

    // Largest-remainder apportionment in exact integer arithmetic.
    let n = u128::try_from(keyed.len()).unwrap_or(u128::MAX);
    let total = u128::from(total);
    let mut counts: Vec<(DatasetSplit, u128, u128)> = ratios
        .iter()
        .map(|(s, &w)| {
            let share = n.saturating_mul(u128::from(w));
            (*s, share / total, share % total)
        })
        .collect();
    let assigned: u128 = counts.iter().map(|c| c.1).sum();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    // Stable sort: equal remainders keep split order.
    order.sort_by(|&a, &b| counts[b].2.cmp(&counts[a].2));
    let leftover = usize::try_from(n.saturating_sub(assigned)).unwrap_or(usize::MAX);
    for &i in order.iter().take(leftover) {
        counts[i].1 = counts[i].1.saturating_add(1);
    }

    let mut out = BTreeMap::new();
    let mut rest = keyed.as_slice();
    for (split, count, _) in counts {
        let take = usize::try_from(count).unwrap_or(usize::MAX).min(rest.len());
        let (now, later) = rest.split_at(take);
        rest = later;
        let mut ids: Vec<String> = now.iter().map(|k| k.1.to_owned()).collect();
        ids.sort_unstable();
        out.insert(split, ids);
    }
    Ok(out)
}
