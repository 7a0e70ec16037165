//! The seals of a `PostgreSQL` store, as the `SQLite` backend keeps them: each chain seed's
//! check value (the same MAC, [`crate::sqlite::seed_check_value`]) and the sealed policy,
//! both in append-only tables. No single edit of a seed, a check value or the policy goes
//! unnoticed; an editor who changes a value and its seal together, with the triggers
//! disabled, is caught only by signed headers and checkpoints (docs/CLI.md).

use lcm_crypto::Digest;
use lcm_model::Policy;

use super::{PostgresStore, digest_from};
use crate::Error;
use crate::sqlite::seed_check_value;

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
    let fail = |what| Error::SeedCheck {
        deployment: deployment.to_owned(),
        what,
    };
    let stored = stored.ok_or_else(|| fail("no check value is recorded for it"))?;
    let stored =
        Digest::try_from_slice(&stored).map_err(|_| fail("its check value is not 32 bytes"))?;
    // `Digest` compares in constant time.
    if Digest::from_bytes(seed_check_value(deployment, seed)?) == stored {
        Ok(())
    } else {
        Err(fail("the seed or its check value was edited"))
    }
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
    let changed = |what: String| Error::PolicyChanged { what };
    let (sealed_json, sealed_digest) =
        sealed.ok_or_else(|| changed("the store has no sealed policy".to_owned()))?;
    let sealed_digest = digest_from(&sealed_digest)?;
    let sealed_policy: Policy = serde_json::from_str(&sealed_json)
        .map_err(|e| changed(format!("the sealed policy does not parse: {e}")))?;
    if sealed_policy.digest()? != sealed_digest {
        return Err(changed(
            "the sealed policy does not hash to its recorded digest".to_owned(),
        ));
    }
    if json != sealed_json || policy.digest()? != sealed_digest {
        return Err(changed(format!(
            "the store's policy {json} is not the policy sealed when the store was made \
             {sealed_json}"
        )));
    }
    Ok(())
}
