//! Key derivation from a master password: PBKDF2-HMAC-SHA256 ([`Pbkdf2Params`], [`Salt`])
//! into a [`MasterKey`], then labelled sub-keys per purpose with HKDF-SHA256 expand: one
//! output block, which is one HMAC of the `RustCrypto` `hmac` crate (the `hkdf` crate is its
//! differential oracle in the tests, `labels_and_kinds_separate_sub_keys`).
//!
//! PBKDF2 is the one hand-written derivation left in `lcm-crypto`: the `pbkdf2` crate made
//! anchor creation measurably slower (docs/PERFORMANCE.md, "Hand-written or crate"), so
//! the loop here runs on `sha2`'s compression function and the tests check it against the
//! crate (`pbkdf2_matches_the_pbkdf2_crate`) and the RFC 7914 vectors. The cost model and the
//! sub-key derivation are documented on [`MasterKey`].

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::digest::hex_text_forms;
use crate::mac::{BLOCK_LEN_U64, HmacSha256, IV, compress_block, sha256_finish, state_to_bytes};
use crate::{Error, HashAlgorithm, MacKey, RandomSource, Seed};

/// The PBKDF2-HMAC-SHA256 cost parameter: the iteration count, validated against a floor.
///
/// # Examples
///
/// ```
/// use lcm_crypto::Pbkdf2Params;
///
/// assert_eq!(Pbkdf2Params::default().iterations(), 600_000);
/// assert_eq!(Pbkdf2Params::new(100_000)?.iterations(), 100_000);
/// assert!(Pbkdf2Params::new(99_999).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawParams", into = "RawParams"))]
pub struct Pbkdf2Params {
    iterations: u32,
}

/// The serde shape of [`Pbkdf2Params`]: `{"iterations": n}`, validated on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    iterations: u32,
}

#[cfg(feature = "serde")]
impl TryFrom<RawParams> for Pbkdf2Params {
    type Error = Error;

    fn try_from(raw: RawParams) -> Result<Self, Error> {
        Self::new(raw.iterations)
    }
}

#[cfg(feature = "serde")]
impl From<Pbkdf2Params> for RawParams {
    fn from(p: Pbkdf2Params) -> Self {
        Self {
            iterations: p.iterations,
        }
    }
}

impl Pbkdf2Params {
    /// The default iteration count (OWASP 2023 for PBKDF2-HMAC-SHA256).
    pub const DEFAULT_ITERATIONS: u32 = 600_000;
    /// The smallest accepted iteration count (the Python reference's fixed value).
    pub const MIN_ITERATIONS: u32 = 100_000;

    /// Parameters with `iterations` rounds.
    ///
    /// # Errors
    ///
    /// [`Error::KdfIterations`] below [`Pbkdf2Params::MIN_ITERATIONS`].
    pub const fn new(iterations: u32) -> Result<Self, Error> {
        if iterations < Self::MIN_ITERATIONS {
            return Err(Error::KdfIterations {
                minimum: Self::MIN_ITERATIONS,
                actual: iterations,
            });
        }
        Ok(Self { iterations })
    }

    /// The iteration count.
    pub const fn iterations(self) -> u32 {
        self.iterations
    }
}

impl Default for Pbkdf2Params {
    fn default() -> Self {
        Self {
            iterations: Self::DEFAULT_ITERATIONS,
        }
    }
}

/// A random 16-byte PBKDF2 salt. Public, but it **must be stored** next to whatever was
/// derived with it: without it the master key cannot be derived again.
///
/// The text form is 32 lowercase hex characters.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{OsRandom, Salt};
///
/// let salt = Salt::generate(&mut OsRandom)?;
/// let stored = salt.to_string();
/// assert_eq!(stored.parse::<Salt>()?, salt);
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt([u8; 16]);

impl Salt {
    /// The length of a salt in bytes (the Python reference's `SALT_LENGTH`).
    pub const LEN: usize = 16;

    /// A fresh salt from `rng` (use [`OsRandom`](crate::OsRandom) outside tests).
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the random source fails.
    pub fn generate<R: RandomSource + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Wraps 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

hex_text_forms!(@array Salt, 32);

/// The secret key derived from a master password; the root of labelled sub-keys.
///
/// Zeroized on drop; `Debug` prints `MasterKey { .. }`; no `Clone`, `Display` or
/// `Serialize`. It holds the `hmac` crate's HMAC-SHA256 state keyed by the pseudo-random key
/// (the HMAC pad states, which zeroize themselves on drop under the `zeroize` features
/// `lcm-crypto` turns on), so each sub-key costs two SHA-256 compressions. A 32-byte sub-key is
/// one block of HKDF-Expand, `T(1) = HMAC(prk, info || 0x01)`, so that HMAC is the whole of
/// it: the `hkdf` crate would add only its error paths for longer outputs and shorter keys,
/// which cannot occur here.
///
/// # PBKDF2 is slow on purpose
///
/// A password has little entropy; the iteration count is what makes each guess expensive for
/// an attacker who has the salt and a value derived from the key. The default,
/// [`Pbkdf2Params::DEFAULT_ITERATIONS`] (600,000, the OWASP 2023 figure for
/// PBKDF2-HMAC-SHA256), takes about 55 ms here; the floor, [`Pbkdf2Params::MIN_ITERATIONS`]
/// (100,000), exists only for compatibility with the Python reference, which hard-codes it.
/// Derive the master key once per process and keep it, instead of deriving it per record.
///
/// The PBKDF2 loop runs on the password's precomputed HMAC pad states: each iteration is
/// exactly two dependent SHA-256 compressions, 1.0–1.15× of the same compressions done by
/// the raw compression function in a tight loop, where the `pbkdf2` crate (with the
/// `zeroize` features `lcm-crypto` needs for its HMAC keys) took 1.3–1.8×; see
/// docs/PERFORMANCE.md.
///
/// # Sub-keys
///
/// The 32-byte PBKDF2 output is already a uniformly distributed key, so it is used directly
/// as the HKDF pseudo-random key (RFC 5869 §3.3 allows skipping the extract step then). A
/// sub-key is `HKDF-Expand(master, info, 32)`, with
/// `info = "lcm subkey " || kind || ":" || label` and `kind` being `mac` or `seed`. The two
/// prefixes differ before the label starts, so a MAC key and a seed never share bytes even
/// under the same label.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, MasterKey, OsRandom, Pbkdf2Params, Salt};
///
/// let salt = Salt::generate(&mut OsRandom)?; // store it
/// let params = Pbkdf2Params::new(100_000)?; // store it too; the default is 600,000
/// let master = MasterKey::derive(b"correct horse battery staple", &salt, params)?;
/// let key = master.mac_key(HashAlgorithm::Sha256, "dataset anchors");
/// let again = MasterKey::derive(b"correct horse battery staple", &salt, params)?;
/// let tag = key.mac(b"record");
/// again.mac_key(HashAlgorithm::Sha256, "dataset anchors").verify(b"record", &tag)?;
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct MasterKey {
    prk: HmacSha256,
}

impl MasterKey {
    /// Runs PBKDF2-HMAC-SHA256 over `password` and `salt` (32-byte output). Deliberately slow:
    /// see [PBKDF2 is slow on purpose](MasterKey#pbkdf2-is-slow-on-purpose).
    ///
    /// # Errors
    ///
    /// [`Error::EmptySecret`] for an empty password.
    pub fn derive(password: &[u8], salt: &Salt, params: Pbkdf2Params) -> Result<Self, Error> {
        if password.is_empty() {
            return Err(Error::EmptySecret { what: "password" });
        }
        let mut okm = [0u8; 32];
        pbkdf2_hmac_sha256(password, salt.as_bytes(), params.iterations, &mut okm);
        let master = Self::from_prk(&okm);
        okm.zeroize();
        Ok(master)
    }

    /// The master key whose HKDF pseudo-random key is `prk`.
    fn from_prk(prk: &[u8; 32]) -> Self {
        Self {
            prk: HmacSha256::new(prk),
        }
    }

    /// A MAC key for `algorithm` and the purpose `label` (HKDF-Expand with
    /// `info = "lcm subkey mac:" || label`).
    pub fn mac_key(&self, algorithm: HashAlgorithm, label: &str) -> MacKey {
        let mut okm = self.expand(b"lcm subkey mac:", label);
        let key = MacKey::from_array(algorithm, &okm);
        okm.zeroize();
        key
    }

    /// A secret seed for the purpose `label` (HKDF-Expand with
    /// `info = "lcm subkey seed:" || label`), for a [`Committer`](crate::Committer) or a
    /// [`SigningKey`](crate::SigningKey).
    pub fn seed(&self, label: &str) -> Seed {
        Seed::from_bytes(self.expand(b"lcm subkey seed:", label))
    }

    /// `HKDF-Expand(prk, prefix || label, 32)` (RFC 5869 §2.3): 32 bytes are one block of
    /// output, `T(1) = HMAC(prk, info || 0x01)`.
    fn expand(&self, prefix: &[u8], label: &str) -> [u8; 32] {
        self.prk
            .mac_parts(&[prefix, label.as_bytes(), &[HKDF_FIRST_BLOCK]])
    }
}

/// The counter byte of HKDF-Expand's first output block, `T(1)` (RFC 5869 §2.3).
const HKDF_FIRST_BLOCK: u8 = 0x01;

// The keyed HMAC state zeroizes itself on drop (see the struct docs and the test
// `hmac_state_zeroizes_on_drop` in `mac.rs`).
impl ZeroizeOnDrop for MasterKey {}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey { .. }")
    }
}

/// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) with any output length and no iteration floor (the
/// public API enforces the floor; the tests need RFC vectors with one iteration).
///
/// Each iteration after the first is one inner and one outer compression on hand-padded
/// blocks: `U` is 32 bytes, so both the inner message (`ipad block || U`) and the outer one
/// (`opad block || inner digest`) are 96 bytes, one block after the precomputed pad state.
pub(crate) fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    let mut prf = PadStates::new(password);
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        // Block indices start at 1; an output longer than 2^32 - 1 blocks is not a concern
        // for a 32-byte key, but wrap rather than panic.
        let index = u32::try_from(i).unwrap_or(u32::MAX).wrapping_add(1);
        let mut u1 = prf.mac_parts(&[salt, &index.to_be_bytes()]);
        let mut t = iterate(&prf, &u1, iterations);
        chunk.copy_from_slice(&t[..chunk.len()]);
        u1.zeroize();
        t.zeroize();
    }
    prf.zeroize();
}

/// The password's HMAC-SHA256 pad states (RFC 2104), the PRF of the PBKDF2 loop.
///
/// Secret-derived: [`pbkdf2_hmac_sha256`] zeroizes it. Not `Clone`: a copy would be one more
/// secret to zeroize.
struct PadStates {
    /// The chaining state after the block `key ^ ipad`.
    inner: [u32; 8],
    /// The chaining state after the block `key ^ opad`.
    outer: [u32; 8],
}

impl PadStates {
    /// The key schedule (RFC 2104): keys longer than a block are hashed first.
    ///
    /// One block buffer serves both pads (`key ^ ipad`, then flipped to `key ^ opad` in
    /// place) and is zeroized once.
    fn new(key: &[u8]) -> Self {
        let mut block = [0x36u8; 64];
        if key.len() > block.len() {
            let mut hashed = sha256_finish(IV, 0, &[key]);
            for (b, k) in block.iter_mut().zip(&hashed) {
                *b ^= k;
            }
            hashed.zeroize();
        } else {
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
        }
        let mut inner = IV;
        compress_block(&mut inner, &block);
        for b in &mut block {
            *b ^= 0x36 ^ 0x5c;
        }
        let mut outer = IV;
        compress_block(&mut outer, &block);
        block.zeroize();
        Self { inner, outer }
    }

    /// The MAC of the concatenation of `parts` (PBKDF2's `U_1 = HMAC(P, S || INT(i))`).
    fn mac_parts(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = sha256_finish(self.inner, BLOCK_LEN_U64, parts);
        // The outer hash over the 32-byte inner digest: exactly one compression.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&inner);
        block[32] = 0x80;
        block[56..].copy_from_slice(&((BLOCK_LEN_U64 + 32) * 8).to_be_bytes());
        let mut state = self.outer;
        compress_block(&mut state, &block);
        inner.zeroize();
        block.zeroize();
        let out = state_to_bytes(&state);
        state.zeroize();
        out
    }
}

impl Zeroize for PadStates {
    fn zeroize(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// `U_1 ^ U_2 ^ ... ^ U_c` from `U_1`, with `U_{j+1} = HMAC(P, U_j)` on the pad states.
///
/// `U` and the running XOR stay in 32-bit words, the form the compression function produces,
/// and are turned into message bytes only where a block needs them. The loop then runs at the
/// limit of two dependent compressions per iteration; the per-iteration byte conversions of a
/// byte-oriented loop cost a few percent more. The chaining states are overwritten every
/// iteration and zeroized once at the end.
///
/// The pad states and `U_1` are borrowed, not copied, so that the caller's zeroized values are
/// the only copies of them outside this frame's own (zeroized) working state.
///
/// Never inlined: inlined into its caller together with the key schedule, the loop measured
/// ~10 % slower in the release build (anchor creation, docs/PERFORMANCE.md).
#[inline(never)]
fn iterate(prf: &PadStates, u1: &[u8; 32], iterations: u32) -> [u8; 32] {
    // The block layout shared by the inner and outer hashes: 32 message bytes, 0x80, zeros,
    // and the bit length of 64 + 32 bytes.
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[56..].copy_from_slice(&((BLOCK_LEN_U64 + 32) * 8).to_be_bytes());
    let mut u = [0u32; 8];
    for (w, b) in u.iter_mut().zip(u1.as_chunks::<4>().0) {
        *w = u32::from_be_bytes(*b);
    }
    let mut t = u;
    let mut inner = prf.inner;
    let mut outer = prf.outer;
    for _ in 1..iterations {
        put_words(&mut block, &u);
        inner = prf.inner;
        compress_block(&mut inner, &block);
        put_words(&mut block, &inner);
        outer = prf.outer;
        compress_block(&mut outer, &block);
        u = outer;
        for (a, b) in t.iter_mut().zip(&u) {
            *a ^= b;
        }
    }
    let out = state_to_bytes(&t);
    inner.zeroize();
    outer.zeroize();
    u.zeroize();
    t.zeroize();
    block.zeroize();
    out
}

/// Writes eight words big-endian into the first 32 bytes of `block`.
fn put_words(block: &mut [u8; 64], words: &[u32; 8]) {
    for (o, w) in block.as_chunks_mut::<4>().0.iter_mut().zip(words) {
        *o = w.to_be_bytes();
    }
}

#[cfg(test)]
mod tests;
