//! The seals of a `PostgreSQL` store, as the `SQLite` backend keeps them: each chain seed's
//! check value (the same MAC, `crate::seals::seed_check_value`, and the same checks) and the sealed policy,
//! both in append-only tables. No single edit of a seed, a check value or the policy goes
//! unnoticed; an editor who changes a value and its seal together, with the triggers
//! disabled, is caught only by signed headers and checkpoints (docs/CLI.md).

use lcm_model::Policy;

use super::PostgresStore;
use crate::Error;
use crate::seals::seed_check_value;

/// Records `policy` as the store's sealed policy: its canonical JSON and its digest.
pub(super) fn seal_policy(s: &PostgresStore, policy: &Policy) -> Result<(), Error> {
    s.execute(
        "INSERT INTO sealed_policy (singleton, json, digest) VALUES (1, $1, $2)",
        &[
            &policy.canonical_json()?,
            &policy.digest()?.as_bytes().as_slice(),
        ],
    )?;
    Ok(())
}

/// Records the check value of a chain's seed.
pub(super) fn record_seed_check(
    s: &PostgresStore,
    chain_id: i64,
    deployment: &str,
    seed: &[u8; 32],
) -> Result<(), Error> {
    s.execute(
        "INSERT INTO chain_checks (chain_id, check_value) VALUES ($1, $2)",
        &[&chain_id, &seed_check_value(deployment, seed)?.as_slice()],
    )?;
    Ok(())
}

/// Checks `seed` of `deployment`'s chain against the check value recorded with it.
pub(super) fn verify_seed(
    s: &PostgresStore,
    deployment: &str,
    seed: &[u8; 32],
) -> Result<(), Error> {
    let stored: Option<Vec<u8>> = s
        .query_opt(
            "SELECT k.check_value FROM chain_checks k JOIN chains c ON c.chain_id = k.chain_id \
             WHERE c.deployment = $1",
            &[&deployment],
        )?
        .map(|r| r.try_get(0))
        .transpose()?;
    crate::seals::check_seed(deployment, seed, stored.as_deref())
}

/// Checks the policy in `meta` (canonical JSON `json`) against the sealed policy.
pub(super) fn verify_policy(s: &PostgresStore, json: &str, policy: &Policy) -> Result<(), Error> {
    let sealed: Option<(String, Vec<u8>)> = s
        .query_opt(
            "SELECT json, digest FROM sealed_policy WHERE singleton = 1",
            &[],
        )?
        .map(|r| Ok::<_, Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?;
    crate::seals::check_policy(json, policy, sealed)
}
