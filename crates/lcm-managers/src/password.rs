//! The password anchors of dataset families and model anchors: a MAC of a content digest under
//! a key derived from a master password (PBKDF2, then a labelled sub-key). One way to make one
//! and one way to check one, for both kinds.

use lcm_crypto::{Digest, HashAlgorithm, MacKey, MacTag, MasterKey, Pbkdf2Params, Salt};

use crate::deployment::non_empty;
use crate::restore::same_digest;
use crate::{Context, Error};

/// What a password anchor stores beside the content it authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PasswordAnchor {
    /// The PBKDF2 salt.
    pub(crate) salt: Salt,
    /// The PBKDF2 cost.
    pub(crate) kdf_iterations: u32,
    /// The MAC of the content digest.
    pub(crate) anchor: MacTag,
}

impl PasswordAnchor {
    /// A new anchor of `digest`: a fresh salt from `ctx`, the policy's KDF cost and the MAC
    /// under the `label` key of `password` (the key is dropped, and zeroized, on return).
    pub(crate) fn new(
        ctx: &Context,
        password: &str,
        label: &str,
        digest: &Digest,
    ) -> Result<Self, Error> {
        let policy = ctx.policy();
        let salt = ctx.random_salt()?;
        let kdf_iterations = policy.kdf_iterations;
        let key = password_key(
            policy.hash_algorithm,
            password,
            &salt,
            kdf_iterations,
            label,
        )?;
        Ok(Self {
            salt,
            kdf_iterations,
            anchor: key.mac(digest.as_bytes()),
        })
    }

    /// Checks `password` against an anchor read back from storage, of the `kind` record `id`:
    /// [`Error::Empty`] for an empty password; the content digest the record stores (`field`,
    /// `stored`) must be the one `recompute` computes from its content (the MAC's message is
    /// recomputed: a stored digest is never trusted); then as [`Self::check`].
    pub(crate) fn check_stored(
        &self,
        algorithm: HashAlgorithm,
        password: &str,
        label: &str,
        (kind, id): (&'static str, &str),
        (field, stored): (&'static str, Digest),
        recompute: impl FnOnce() -> Result<Digest, Error>,
    ) -> Result<(), Error> {
        non_empty(kind, id, "master_password", password)?;
        let digest = recompute()?;
        same_digest(field, id, stored, digest)?;
        self.check(algorithm, password, label, &digest, (kind, id))
    }

    /// Checks that `password` reproduces this anchor of `digest` (recomputed by the caller)
    /// under the `label` key: [`Error::WrongPassword`] naming the `kind` record `id` if not.
    pub(crate) fn check(
        &self,
        algorithm: HashAlgorithm,
        password: &str,
        label: &str,
        digest: &Digest,
        (kind, id): (&'static str, &str),
    ) -> Result<(), Error> {
        let key = password_key(algorithm, password, &self.salt, self.kdf_iterations, label)?;
        key.verify(digest.as_bytes(), &self.anchor)
            .map_err(|_| Error::WrongPassword {
                kind,
                id: id.to_owned(),
            })
    }
}

/// The `label` MAC key of `password`: PBKDF2 with `salt` and `iterations`, then the labelled
/// sub-key.
fn password_key(
    algorithm: HashAlgorithm,
    password: &str,
    salt: &Salt,
    iterations: u32,
    label: &str,
) -> Result<MacKey, Error> {
    let master = MasterKey::derive(password.as_bytes(), salt, Pbkdf2Params::new(iterations)?)?;
    Ok(master.mac_key(algorithm, label))
}
