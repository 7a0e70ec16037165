//! Record digests: canonical bytes hashed under the record kind's domain tag.

use lcm_crypto::{Digest, hash_domain};
use serde::{Deserialize, Serialize};

use crate::{Error, Policy, canonical};

/// A record kind with a stable name, hashed under `lcm/<schema_version>/<KIND>`.
///
/// The digest covers the record's canonical JSON. Records do not contain their own digest;
/// [`Sealed`] pairs a record with it.
pub trait Record: Serialize {
    /// The record kind, for example `"inference-receipt"`. Part of the domain tag, so two
    /// kinds with the same fields still hash differently.
    const KIND: &'static str;

    /// The record's digest under `policy`.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] or [`Error::NonFinite`] when the record cannot be encoded.
    fn digest(&self, policy: &Policy) -> Result<Digest, Error> {
        record_digest(policy, Self::KIND, self)
    }
}

/// The digest of `value` as a record of `kind` under `policy`.
///
/// # Errors
///
/// As [`canonical::to_vec`].
pub fn record_digest<T: Serialize + ?Sized>(
    policy: &Policy,
    kind: &str,
    value: &T,
) -> Result<Digest, Error> {
    let bytes = canonical::to_vec(value)?;
    Ok(hash_domain(
        policy.hash_algorithm,
        &policy.domain_tag(kind),
        &[&bytes],
    ))
}

/// A record together with its digest.
///
/// Parsing a `Sealed` does not trust the stored digest: call [`Sealed::verify`], which
/// recomputes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed<T> {
    /// The record.
    pub record: T,
    /// Its digest under the policy it was made with.
    pub digest: Digest,
}

impl<T: Record> Sealed<T> {
    /// Computes the digest and pairs it with the record.
    ///
    /// # Errors
    ///
    /// As [`Record::digest`].
    pub fn seal(record: T, policy: &Policy) -> Result<Self, Error> {
        let digest = record.digest(policy)?;
        Ok(Self { record, digest })
    }

    /// Recomputes the digest and compares it (in constant time) with the stored one.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when they differ; encoding errors as [`Record::digest`].
    pub fn verify(&self, policy: &Policy) -> Result<(), Error> {
        let recomputed = self.record.digest(policy)?;
        if recomputed == self.digest {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                record: T::KIND,
                stored: self.digest,
                recomputed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Example {
        name: String,
    }

    impl Record for Example {
        const KIND: &'static str = "example";
    }

    #[derive(Serialize)]
    struct Other {
        name: String,
    }

    impl Record for Other {
        const KIND: &'static str = "other";
    }

    #[test]
    fn kind_and_policy_separate_digests() {
        let p = Policy::default();
        let a = Example { name: "x".into() }.digest(&p).unwrap();
        let b = Other { name: "x".into() }.digest(&p).unwrap();
        assert_ne!(a, b);
        let blake = Policy {
            hash_algorithm: lcm_crypto::HashAlgorithm::Blake3,
            ..p
        };
        assert_ne!(a, Example { name: "x".into() }.digest(&blake).unwrap());
    }

    #[test]
    fn sealed_verify_detects_tamper() {
        let p = Policy::default();
        let mut s = Sealed::seal(Example { name: "x".into() }, &p).unwrap();
        assert!(s.verify(&p).is_ok());
        s.record.name = "y".into();
        assert!(matches!(
            s.verify(&p),
            Err(Error::DigestMismatch {
                record: "example",
                ..
            })
        ));
    }
}
