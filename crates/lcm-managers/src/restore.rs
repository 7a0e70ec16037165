//! Shared checks of the `restore_*` methods, which let a manager adopt records made earlier
//! (for example by another process, read back from storage).
//!
//! A restored record is never trusted: its seal is recomputed under the manager's policy, and
//! every digest, root and chain link it carries is recomputed from the inputs given with it,
//! with the same checks the create path applies. A restore either adopts everything it is given
//! or nothing.

use lcm_model::{Claimed, Seal, Sealed};

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

/// Checks a stored KDF cost against the floor without deriving a key (a restore needs no
/// password): an anchor below the floor could never be checked by `verify_password`.
pub(crate) fn check_kdf_iterations(iterations: u32) -> Result<(), Error> {
    lcm_crypto::Pbkdf2Params::new(iterations)?;
    Ok(())
}
