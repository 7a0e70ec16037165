//! [`Context`]: what every manager needs from its environment — the policy, a clock and a
//! source of randomness — injected so that a run can be reproduced exactly.

use std::fmt;
use std::sync::{Arc, Mutex};

use lcm_crypto::{OsRandom, RandomSource};
use lcm_model::{Clock, Policy, SystemClock};

use crate::Error;

/// The policy, clock and randomness a manager works with.
///
/// [`Context::default`] takes [`Policy::default`], the system clock and the operating system's
/// randomness; the library never reads a process-wide default policy (the `lcm` facade's
/// `get_default_policy` is one for callers who want it, passed in with [`Context::with_policy`]). Tests and reproducible runs inject a
/// [`lcm_model::FixedClock`] and a seeded source: with fixed ones every digest is reproducible
/// across runs and machines.
#[derive(Clone)]
pub struct Context {
    policy: Policy,
    clock: Arc<dyn Clock>,
    random: Arc<Mutex<dyn RandomSource + Send>>,
}

impl Context {
    /// A context with an explicit policy, clock and randomness.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the policy is not usable ([`Policy::validate`]).
    pub fn new(
        policy: Policy,
        clock: Arc<dyn Clock>,
        random: impl RandomSource + Send + 'static,
    ) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self {
            policy,
            clock,
            random: Arc::new(Mutex::new(random)),
        })
    }

    /// A context with `policy`, the system clock and OS randomness.
    ///
    /// # Errors
    ///
    /// As [`Context::new`].
    pub fn with_policy(policy: Policy) -> Result<Self, Error> {
        Self::new(policy, Arc::new(SystemClock), OsRandom)
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> lcm_model::Timestamp {
        self.clock.now()
    }

    /// Fills `buf` from the injected randomness.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] when the source fails.
    pub fn fill_random(&self, buf: &mut [u8]) -> Result<(), Error> {
        let mut guard = match self.random.lock() {
            Ok(g) => g,
            // A panic elsewhere while holding the lock leaves the source usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.fill(buf)?;
        Ok(())
    }

    /// A fresh salt from the context's randomness.
    pub(crate) fn random_salt(&self) -> Result<lcm_crypto::Salt, Error> {
        let mut salt = [0u8; lcm_crypto::Salt::LEN];
        self.fill_random(&mut salt)?;
        Ok(lcm_crypto::Salt::from_bytes(salt))
    }
}

impl Default for Context {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
            random: Arc::new(Mutex::new(OsRandom)),
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
