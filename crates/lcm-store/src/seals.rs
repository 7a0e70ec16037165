//! The decisions behind a store's seals, written once for every backend: each chain seed's
//! check value, the check of a seed against it, and the check of the store's policy against
//! the sealed copy. A backend only reads and writes the rows (`sqlite::seals`,
//! `postgres::seals`); what counts as edited is decided here, so the backends cannot drift
//! apart on what `lcm check` accepts.

use lcm_crypto::Digest;
use lcm_model::Policy;
use zeroize::Zeroize;

use crate::Error;

/// The label a chain seed's check value is a MAC of (with the chain's deployment id).
const SEED_CHECK_LABEL: &[u8] = b"lcm 2026-12 chain seed check value";

/// The check value of `deployment`'s chain seed: HMAC-SHA-256 under the seed of a fixed label
/// and the deployment id. It reveals nothing about the seed, and a seed with one bit changed
/// (or another chain's seed) gives another value.
pub(crate) fn seed_check_value(deployment: &str, seed: &[u8; 32]) -> Result<[u8; 32], Error> {
    let key = lcm_crypto::MacKey::new(lcm_crypto::HashAlgorithm::Sha256, seed)?;
    Ok(*key
        .mac_parts(&[SEED_CHECK_LABEL, deployment.as_bytes()])
        .as_bytes())
}

/// Checks `seed` of `deployment`'s chain against `stored`, the check value the backend read
/// for it (`None`: none is recorded).
///
/// # Errors
///
/// [`Error::SeedCheck`] naming what is wrong.
pub(crate) fn check_seed(
    deployment: &str,
    seed: &[u8; 32],
    stored: Option<&[u8]>,
) -> Result<(), Error> {
    let fail = |what| Error::SeedCheck {
        deployment: deployment.to_owned(),
        what,
    };
    let stored = stored.ok_or_else(|| fail("no check value is recorded for it"))?;
    let stored =
        Digest::try_from_slice(stored).map_err(|_| fail("its check value is not 32 bytes"))?;
    // `Digest` compares in constant time.
    if Digest::from_bytes(seed_check_value(deployment, seed)?) == stored {
        Ok(())
    } else {
        Err(fail("the seed or its check value was edited"))
    }
}

/// The seed of a chain from its stored `bytes`, after `verify` (the backend's read of the
/// check value, then [`check_seed`]) accepted it. The bytes are zeroized on every path.
///
/// # Errors
///
/// [`Error::Corrupt`] for a seed that is not 32 bytes; `verify`'s error.
pub(crate) fn checked_seed(
    mut bytes: Vec<u8>,
    verify: impl FnOnce(&[u8; 32]) -> Result<(), Error>,
) -> Result<lcm_crypto::Seed, Error> {
    let arr: Result<[u8; 32], _> = bytes.as_slice().try_into();
    let len = bytes.len();
    bytes.zeroize();
    let mut arr = arr.map_err(|_| Error::Corrupt {
        what: format!("a commitment seed of {len} bytes, expected 32"),
    })?;
    let verified = verify(&arr);
    let seed = lcm_crypto::Seed::from_bytes(arr);
    arr.zeroize();
    verified?;
    Ok(seed)
}

/// Checks the store's policy (its canonical JSON `json`, parsed as `policy`) against
/// `sealed`, the sealed policy's JSON and digest the backend read (`None`: no seal).
///
/// # Errors
///
/// [`Error::PolicyChanged`] naming what differs; [`Error::Corrupt`] for a sealed digest that
/// is not 32 bytes.
pub(crate) fn check_policy(
    json: &str,
    policy: &Policy,
    sealed: Option<(String, Vec<u8>)>,
) -> Result<(), Error> {
    let changed = |what: String| Error::PolicyChanged { what };
    let (sealed_json, sealed_digest) =
        sealed.ok_or_else(|| changed("the store has no sealed policy".to_owned()))?;
    let sealed_digest = Digest::try_from_slice(&sealed_digest).map_err(|_| Error::Corrupt {
        what: format!("a digest of {} bytes, expected 32", sealed_digest.len()),
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_passes_only_its_own_check_value() {
        let seed = [7u8; 32];
        let value = seed_check_value("dep", &seed).unwrap();
        check_seed("dep", &seed, Some(&value)).unwrap();
        // Tamper twins: one bit of the seed, of the value, another deployment, its length,
        // and no value at all.
        let mut flipped = seed;
        flipped[31] ^= 1;
        let mut edited = value;
        edited[0] ^= 0x80;
        for (dep, seed, stored, what) in [
            (
                "dep",
                flipped,
                Some(&value[..]),
                "the seed or its check value was edited",
            ),
            (
                "dep",
                seed,
                Some(&edited[..]),
                "the seed or its check value was edited",
            ),
            (
                "other",
                seed,
                Some(&value[..]),
                "the seed or its check value was edited",
            ),
            (
                "dep",
                seed,
                Some(&value[..31]),
                "its check value is not 32 bytes",
            ),
            ("dep", seed, None, "no check value is recorded for it"),
        ] {
            let e = check_seed(dep, &seed, stored).unwrap_err();
            assert!(
                matches!(&e, Error::SeedCheck { what: w, .. } if *w == what),
                "{e:?}"
            );
        }
    }

    #[test]
    fn checked_seed_refuses_a_wrong_length_and_the_verifiers_no() {
        let seed = checked_seed(vec![5; 32], |_| Ok(())).unwrap();
        assert_eq!(seed.expose_secret(), &[5; 32]);
        let e = checked_seed(vec![5; 31], |_| Ok(())).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        let e = checked_seed(vec![5; 32], |_| {
            Err(Error::SeedCheck {
                deployment: "dep".to_owned(),
                what: "edited",
            })
        })
        .unwrap_err();
        assert!(matches!(e, Error::SeedCheck { .. }), "{e:?}");
    }

    #[test]
    fn the_policy_passes_only_against_its_own_seal() {
        let policy = Policy::default();
        let json = policy.canonical_json().unwrap();
        let digest = policy.digest().unwrap().as_bytes().to_vec();
        check_policy(&json, &policy, Some((json.clone(), digest.clone()))).unwrap();
        let other = other_policy();
        let other_json = other.canonical_json().unwrap();
        let mut bad_digest = digest.clone();
        bad_digest[0] ^= 1;
        for (sealed, changed) in [
            (None, true),
            (Some((json.clone(), bad_digest)), true),
            (Some((other_json.clone(), digest.clone())), true),
            (
                Some((other_json, other.digest().unwrap().as_bytes().to_vec())),
                true,
            ),
            (Some((json.clone(), digest[..31].to_vec())), false),
        ] {
            let e = check_policy(&json, &policy, sealed).unwrap_err();
            if changed {
                assert!(matches!(e, Error::PolicyChanged { .. }), "{e:?}");
            } else {
                assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
            }
        }
    }

    /// A policy other than the default (another PBKDF2 cost).
    fn other_policy() -> Policy {
        let mut p = Policy::default();
        p.kdf_iterations += 1;
        p
    }
}
