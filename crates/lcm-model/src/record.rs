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

/// A record with a digest: one checked by sealing ([`Sealed`]) or one as a document claims it
/// ([`Claimed`]).
///
/// Verifiers that recompute every digest they meet (a receipt chain, a batch) take either;
/// verifiers that rely on the digests take [`Sealed`] only.
pub trait Seal {
    /// The record kind.
    type Record: Record;

    /// The record.
    fn record(&self) -> &Self::Record;

    /// The digest paired with it: for a [`Sealed`], the record's digest; for a [`Claimed`],
    /// whatever the document says.
    fn digest(&self) -> Digest;

    /// The record and digest as a document carries them.
    fn to_claimed(&self) -> Claimed<Self::Record>
    where
        Self::Record: Clone,
    {
        Claimed {
            record: self.record().clone(),
            digest: self.digest(),
        }
    }
}

/// A record together with its digest, which is the record's digest under the policy it was
/// sealed or checked with.
///
/// A `Sealed` is made only by sealing a record ([`Sealed::seal`]) or by checking a claimed
/// seal ([`Claimed::check`]), so code holding one need not recompute its digest. It serializes
/// as `{"record": ..., "digest": ...}` and does not deserialize: documents parse into
/// [`Claimed`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sealed<T> {
    record: T,
    digest: Digest,
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
}

impl<T> Sealed<T> {
    /// Pairs a record with the digest just computed from it under the policy's domain tag
    /// (by a specialised encoder, such as [`ReceiptEncoder`](crate::records::ReceiptEncoder)).
    pub(crate) fn from_computed(record: T, digest: Digest) -> Self {
        Self { record, digest }
    }

    /// The record.
    pub fn record(&self) -> &T {
        &self.record
    }

    /// The record's digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The record, without its digest.
    pub fn into_record(self) -> T {
        self.record
    }

    /// The record and its digest.
    pub fn into_parts(self) -> (T, Digest) {
        (self.record, self.digest)
    }

    /// The same record and digest as a document carries them.
    pub fn to_claimed(&self) -> Claimed<T>
    where
        T: Clone,
    {
        Claimed {
            record: self.record.clone(),
            digest: self.digest,
        }
    }
}

/// Implements [`Seal`] for a holder of a `record` and its `digest` (sealed or claimed alike).
macro_rules! impl_seal {
    ($holder:ident) => {
        impl<T: Record> Seal for $holder<T> {
            type Record = T;

            fn record(&self) -> &T {
                &self.record
            }

            fn digest(&self) -> Digest {
                self.digest
            }
        }
    };
}

impl_seal!(Sealed);

impl<T: PartialEq> PartialEq<Claimed<T>> for Sealed<T> {
    /// Whether the claim is this record with this digest.
    fn eq(&self, other: &Claimed<T>) -> bool {
        self.digest == other.digest && self.record == other.record
    }
}

impl<T: PartialEq> PartialEq<Sealed<T>> for Claimed<T> {
    /// Whether this claim is that record with that digest.
    fn eq(&self, other: &Sealed<T>) -> bool {
        other == self
    }
}

impl<T> From<Sealed<T>> for Claimed<T> {
    fn from(sealed: Sealed<T>) -> Self {
        Self {
            record: sealed.record,
            digest: sealed.digest,
        }
    }
}

/// A record with the digest a document claims for it, not yet checked: what bundles,
/// capsules and stores parse into.
///
/// [`Claimed::check`] recomputes the digest and turns it into a [`Sealed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claimed<T> {
    /// The record.
    pub record: T,
    /// The digest claimed for it.
    pub digest: Digest,
}

impl<T: Record> Claimed<T> {
    /// Recomputes the digest, compares it (in constant time) with the claimed one and, when
    /// they match, returns the record sealed.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when they differ; encoding errors as [`Record::digest`].
    pub fn check(self, policy: &Policy) -> Result<Sealed<T>, Error> {
        self.verify(policy)?;
        Ok(Sealed {
            record: self.record,
            digest: self.digest,
        })
    }

    /// [`Claimed::check`] for a record a verifier names by `kind` and `id`: a mismatch is an
    /// [`Error::SealMismatch`] naming them.
    ///
    /// # Errors
    ///
    /// [`Error::SealMismatch`] when the digests differ; encoding errors as [`Record::digest`].
    pub fn check_named(
        self,
        policy: &Policy,
        kind: &'static str,
        id: &str,
    ) -> Result<Sealed<T>, Error> {
        self.check(policy).map_err(|e| match e {
            Error::DigestMismatch {
                stored, recomputed, ..
            } => Error::SealMismatch {
                kind,
                id: id.to_owned(),
                stored,
                recomputed,
            },
            other => other,
        })
    }

    /// [`Claimed::check`] without consuming the claim: the record is cloned only when its
    /// digest matches.
    ///
    /// # Errors
    ///
    /// As [`Claimed::check`].
    pub fn check_ref(&self, policy: &Policy) -> Result<Sealed<T>, Error>
    where
        T: Clone,
    {
        self.verify(policy)?;
        Ok(Sealed {
            record: self.record.clone(),
            digest: self.digest,
        })
    }

    /// Recomputes the digest and compares it (in constant time) with the claimed one.
    ///
    /// # Errors
    ///
    /// As [`Claimed::check`].
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

impl_seal!(Claimed);

#[cfg(test)]
mod tests;
