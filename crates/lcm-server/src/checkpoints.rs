//! The signed checkpoints the server has made, kept so that reads at one log size do not sign
//! again. A log only grows, so the checkpoint of a deployment's log at a size never changes
//! (its origin and key are the server's for its lifetime): an entry is never stale, only old.

use std::collections::VecDeque;
use std::sync::Mutex;

use lcm_tlog::SignedCheckpoint;

/// The most checkpoints kept; past it the oldest entry goes. A bound, because a deployment
/// name in a request (with public reads: anyone's) picks the entry.
pub(crate) const CACHED_CHECKPOINTS: usize = 64;

/// Signed checkpoints by (deployment, log size), at most `capacity` of them, the oldest
/// evicted first.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    entries: Mutex<VecDeque<(String, u64, SignedCheckpoint)>>,
    capacity: usize,
}

impl Checkpoints {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    /// The checkpoint of `deployment`'s log at `size`: the kept one, else `sign()`'s, kept.
    /// The lock is not held while signing (two requests may both sign the first time; the
    /// signatures are deterministic, so they are the same note).
    pub(crate) fn get_or_sign<E>(
        &self,
        deployment: &str,
        size: u64,
        sign: impl FnOnce() -> Result<SignedCheckpoint, E>,
    ) -> Result<SignedCheckpoint, E> {
        if let Some(found) = self
            .lock()
            .iter()
            .find_map(|(d, s, c)| (*s == size && d == deployment).then(|| c.clone()))
        {
            return Ok(found);
        }
        let signed = sign()?;
        let mut entries = self.lock();
        if !entries
            .iter()
            .any(|(d, s, _)| *s == size && d == deployment)
        {
            if entries.len() >= self.capacity {
                entries.pop_front();
            }
            entries.push_back((deployment.to_owned(), size, signed.clone()));
        }
        Ok(signed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(String, u64, SignedCheckpoint)>> {
        // A panic while the lock was held left the cache as it was: still valid entries.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcm_crypto::{HashAlgorithm, Seed, SigningKey};
    use lcm_tlog::Checkpoint;
    use lcm_tlog::note::{KeyName, SignatureType, SignerKey};

    fn signer() -> SignerKey {
        SignerKey::new(
            KeyName::new("lcm.test/cache").unwrap(),
            SignatureType::Ed25519,
            SigningKey::from_seed(&Seed::from_bytes([9; 32])),
        )
    }

    fn sign(size: u64) -> Result<SignedCheckpoint, lcm_tlog::Error> {
        let root = lcm_crypto::hash(HashAlgorithm::Sha256, &size.to_be_bytes());
        Checkpoint::new("lcm.test/cache", size, root)?.sign(&signer())
    }

    #[test]
    fn a_size_is_signed_once_and_the_cache_is_bounded() {
        let cache = Checkpoints::new(3);
        let signed = std::cell::Cell::new(0);
        let get = |d: &str, size: u64| {
            cache
                .get_or_sign(d, size, || {
                    signed.set(signed.get() + 1);
                    sign(size)
                })
                .unwrap()
        };
        let first = get("a", 5);
        // The same (deployment, size): the kept note, not signed again.
        assert_eq!(get("a", 5).to_text(), first.to_text());
        assert_eq!(get("a", 5).checkpoint().size(), 5);
        // Another size or another deployment is another entry.
        assert_eq!(get("a", 6).checkpoint().size(), 6);
        get("b", 5);
        assert_eq!(signed.get(), 3);
        assert_eq!(cache.len(), 3);
        // A fourth entry evicts the oldest (a, 5), which is then signed again; (a, 6) is
        // still kept.
        get("c", 1);
        get("a", 6);
        get("a", 5);
        assert_eq!(signed.get(), 5);
        assert_eq!(cache.len(), 3);
        // A failed signature is not kept.
        let failed: Result<_, &str> = cache.get_or_sign("d", 1, || Err("no key"));
        assert!(failed.is_err());
        assert_eq!(cache.len(), 3);
    }
}
