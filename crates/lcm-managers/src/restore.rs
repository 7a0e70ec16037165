//! Shared checks of the `restore_*` methods, which let a manager adopt records made earlier
//! (for example by another process, read back from storage).
//!
//! A restored record is never trusted: its seal is recomputed under the manager's policy, and
//! every digest, root and chain link it carries is recomputed from the inputs given with it,
//! with the same checks the create path applies. A restore either adopts everything it is given
//! or nothing.

use std::collections::BTreeMap;

use lcm_crypto::Digest;
use lcm_model::{Claimed, Record, Seal, Sealed};

use crate::deployment::non_empty;

use crate::{Context, Error};

/// Checks a restored record's claimed seal under the manager's policy and returns it sealed;
/// a mismatch is an [`lcm_model::Error::SealMismatch`] naming the record by `kind` and `id`.
pub(crate) fn check_seal<S>(
    ctx: &Context,
    kind: &'static str,
    id: &str,
    claimed: &S,
) -> Result<Sealed<S::Record>, Error>
where
    S: Seal,
    S::Record: Clone,
{
    let claimed = Claimed {
        record: claimed.record().clone(),
        digest: claimed.digest(),
    };
    Ok(claimed.check_named(ctx.policy(), kind, id)?)
}

/// An id that is not held yet: [`lcm_model::Error::DuplicateId`] naming `kind` and `id` when
/// it is `taken`. The one duplicate check of every create and restore path.
pub(crate) fn fresh_id(kind: &'static str, id: &str, taken: bool) -> Result<(), Error> {
    if taken {
        return Err(Error::Model(lcm_model::Error::DuplicateId {
            kind,
            id: id.to_owned(),
        }));
    }
    Ok(())
}

/// A new record's id (its `id_field`): not empty ([`Error::Empty`]) and not among the ids
/// `held` yet ([`fresh_id`]).
pub(crate) fn new_id<V>(
    kind: &'static str,
    id_field: &'static str,
    id: &str,
    held: &BTreeMap<String, V>,
) -> Result<(), Error> {
    non_empty(kind, id, id_field, id)?;
    fresh_id(kind, id, held.contains_key(id))
}

/// A digest a record stores equals the one recomputed from its inputs: otherwise an
/// [`lcm_model::Error::SealMismatch`] naming the field by `kind` and the record by `id`.
pub(crate) fn same_digest(
    kind: &'static str,
    id: &str,
    stored: Digest,
    recomputed: Digest,
) -> Result<(), Error> {
    if stored != recomputed {
        return Err(Error::Model(lcm_model::Error::SealMismatch {
            kind,
            id: id.to_owned(),
            stored,
            recomputed,
        }));
    }
    Ok(())
}

/// The start of every `restore_*` of a record kept by id: the id (its `id_field`) is not
/// empty and not `taken` already, and the claimed seal checks under the manager's policy.
///
/// # Errors
///
/// [`Error::Empty`], [`lcm_model::Error::DuplicateId`], or as [`check_seal`].
pub(crate) fn adopt<T: Record + Clone>(
    ctx: &Context,
    kind: &'static str,
    id_field: &'static str,
    id: &str,
    taken: bool,
    claimed: &Claimed<T>,
) -> Result<Sealed<T>, Error> {
    non_empty(kind, id, id_field, id)?;
    fresh_id(kind, id, taken)?;
    check_seal(ctx, kind, id, claimed)
}

/// Checks a stored KDF cost against the floor without deriving a key (a restore needs no
/// password): an anchor below the floor could never be checked by `verify_password`.
pub(crate) fn check_kdf_iterations(iterations: u32) -> Result<(), Error> {
    lcm_crypto::Pbkdf2Params::new(iterations)?;
    Ok(())
}
