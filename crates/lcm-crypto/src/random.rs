//! Randomness: [`fill_random`] from the operating system, the injectable [`RandomSource`]
//! trait with [`OsRandom`] and the deterministic [`SeededRandom`], and the secret 32-byte
//! [`Seed`] that keys committers, deterministic sources and signing keys.
//!
//! Library code that needs randomness takes `&mut R` where `R: RandomSource + ?Sized`, so
//! that production passes [`OsRandom`] and tests or reproducible runs pass a
//! [`SeededRandom`].

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// BLAKE3 key-derivation context of [`SeededRandom`] (style rule 8: `"lcm <date> <purpose>"`).
const SEEDED_RANDOM_CONTEXT: &str = "lcm 2026-11-26 seeded random stream";

/// Fills `buf` with bytes from the operating system's random number generator.
///
/// # Errors
///
/// [`Error::Randomness`] when the operating system cannot provide randomness.
///
/// # Examples
///
/// ```
/// let mut salt = [0u8; 16];
/// lcm_crypto::fill_random(&mut salt)?;
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|_| Error::Randomness)
}

/// A source of random bytes that callers can inject.
///
/// Everything in `lcm` that draws random bytes (salts, seeds, keys) takes a `RandomSource`,
/// so that tests and reproducible runs can substitute a [`SeededRandom`] for [`OsRandom`].
pub trait RandomSource {
    /// Fills `buf` completely.
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the source cannot deliver.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's random number generator (via `getrandom`). Use it for every
/// secret outside tests.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{OsRandom, RandomSource};
///
/// let mut buf = [0u8; 32];
/// OsRandom.fill(&mut buf)?;
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        fill_random(buf)
    }
}

/// A deterministic stream of bytes from a 32-byte [`Seed`]: **for tests and reproducible
/// runs only.**
///
/// The stream is the BLAKE3 extendable output keyed by
/// `derive_key("lcm 2026-11-26 seeded random stream", seed)`; successive calls to
/// [`RandomSource::fill`] continue where the last one stopped. The same seed always gives the
/// same bytes, which is the point for tests and the danger in production: anyone who knows
/// the seed knows every "random" value drawn from it.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{RandomSource, Seed, SeededRandom};
///
/// let mut a = SeededRandom::new(&Seed::from_bytes([7; 32]));
/// let mut b = SeededRandom::new(&Seed::from_bytes([7; 32]));
/// let (mut x, mut y) = ([0u8; 40], [0u8; 40]);
/// a.fill(&mut x)?;
/// b.fill(&mut y[..10])?;
/// b.fill(&mut y[10..])?;
/// assert_eq!(x, y);
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct SeededRandom {
    key: [u8; 32],
    position: u64,
}

impl SeededRandom {
    /// A stream determined by `seed`.
    pub fn new(seed: &Seed) -> Self {
        Self {
            key: blake3::derive_key(SEEDED_RANDOM_CONTEXT, &seed.0),
            position: 0,
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        let len = u64::try_from(buf.len()).map_err(|_| Error::Randomness)?;
        let end = self.position.checked_add(len).ok_or(Error::Randomness)?;
        let mut reader = blake3::Hasher::new_keyed(&self.key).finalize_xof();
        reader.set_position(self.position);
        reader.fill(buf);
        self.position = end;
        Ok(())
    }
}

impl Drop for SeededRandom {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl ZeroizeOnDrop for SeededRandom {}

impl fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededRandom { .. }")
    }
}

/// A secret 32-byte seed: the root of a [`Committer`](crate::Committer), a
/// [`SeededRandom`] stream or a [`SigningKey`](crate::SigningKey).
///
/// Zeroized on drop; `Debug` prints `Seed { .. }`; no `Clone`, `Display` or `Serialize`.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{OsRandom, Seed};
///
/// let seed = Seed::generate(&mut OsRandom)?;
/// assert_eq!(format!("{seed:?}"), "Seed { .. }");
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct Seed([u8; 32]);

impl Seed {
    /// The length of a seed in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 secret bytes (for example read from a key file).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh seed from `rng`.
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the random source fails.
    pub fn generate<R: RandomSource + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut seed = Self([0u8; 32]);
        rng.fill(&mut seed.0)?;
        Ok(seed)
    }

    /// The secret bytes, **for writing them to protected storage** (a key file, a sealed
    /// store). This is the one way a seed leaves this type; every call site exports a secret
    /// on purpose.
    pub const fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Seed {}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed { .. }")
    }
}

#[cfg(test)]
mod tests;
