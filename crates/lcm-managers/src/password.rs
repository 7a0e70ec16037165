//! The password anchors of dataset families and model anchors: a MAC of a content digest under
//! a key derived from a master password (PBKDF2, then a labelled sub-key). One way to make one
//! and one way to check one, for both kinds.

use lcm_crypto::{Digest, HashAlgorithm, MacKey, MacTag, MasterKey, Pbkdf2Params, Salt};

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
