//! Message authentication: [`MacKey`] (HMAC-SHA256 from the `RustCrypto` `hmac` crate, or
//! keyed BLAKE3 under the BLAKE3 policy) and its public output [`MacTag`].
//!
//! The crate-private SHA-256 helpers here ([`sha256_finish`] on a precomputed chaining state,
//! [`compress_block`]) serve the commitment PRF, whose first block is a secret state computed
//! once per committer; they are not an HMAC.

use std::fmt;

use hmac::block_api::HmacCore;
use hmac::digest::block_api::{Buffer, FixedOutputCore as _, UpdateCore as _};
use hmac::digest::{Key, KeyInit as _, Output};
use sha2::Digest as _;
use sha2::block_api::compress256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Digest, Error, HashAlgorithm};

/// The SHA-256 initial chaining value (FIPS 180-4 §5.3.3).
pub(crate) const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The SHA-256 block length in bytes.
const BLOCK: usize = 64;

/// The SHA-256 block length in bytes, as the type of message lengths.
pub(crate) const BLOCK_LEN_U64: u64 = 64;

/// Serializes a chaining state as the big-endian digest bytes.
pub(crate) fn state_to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Constant-time equality of two 32-byte values, as a `bool`.
pub(crate) fn ct_eq_32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    crate::digest::ct_eq_32(a, b).into()
}

/// Runs the compression function over one block that starts from `state`.
pub(crate) fn compress_block(state: &mut [u32; 8], block: &[u8; 64]) {
    compress256(state, std::slice::from_ref(block));
}

/// Finishes a SHA-256 computation: `state` has already absorbed `prefix_len` bytes (a whole
/// number of blocks), and `parts` are the remaining message bytes, in order.
///
/// The result is SHA-256 of the whole message. Used for HMAC's inner and outer hashes and for
/// the commitment PRF, whose first block is a precomputed secret state.
pub(crate) fn sha256_finish(mut state: [u32; 8], prefix_len: u64, parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    let mut fill = 0usize;
    let mut total = prefix_len;
    for part in parts {
        let mut p: &[u8] = part;
        total = total.wrapping_add(u64::try_from(p.len()).unwrap_or(u64::MAX));
        if fill > 0 {
            let take = (BLOCK - fill).min(p.len());
            block[fill..fill + take].copy_from_slice(&p[..take]);
            fill += take;
            p = &p[take..];
            if fill < BLOCK {
                continue;
            }
            compress_block(&mut state, &block);
        }
        let (blocks, rest) = p.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut state, blocks);
        }
        block[..rest.len()].copy_from_slice(rest);
        fill = rest.len();
    }
    // Padding: 0x80, zeros, and the message length in bits as a 64-bit big-endian integer.
    block[fill] = 0x80;
    block[fill + 1..].fill(0);
    if fill + 1 > BLOCK - 8 {
        compress_block(&mut state, &block);
        block = [0u8; BLOCK];
    }
    block[BLOCK - 8..].copy_from_slice(&total.wrapping_mul(8).to_be_bytes());
    compress_block(&mut state, &block);
    state_to_bytes(&state)
}

/// The `hmac` crate's block-level HMAC-SHA256: the SHA-256 states after the key's inner and
/// outer pad blocks, without the crate's message buffer (each message gets its own).
type Core = HmacCore<sha2::Sha256>;

/// RFC 2104 §2's key block: the key zero-padded to one 64-byte block, or SHA-256 of the key
/// zero-padded when the key is longer than a block. HMAC under the padded key is HMAC under the
/// key itself, so [`Core`]'s infallible `KeyInit::new` (which takes exactly one block) serves
/// every key length without the crate's fallible `new_from_slice`.
///
/// Secret: the caller zeroizes the block.
///
/// Always inlined, as are [`HmacSha256::new`] and [`finish`]: where the key and message parts
/// have lengths known at compile time (a commitment's 32-byte secret and fixed tag) their
/// copies become fixed moves instead of `memcpy` calls, and the long-key branch disappears;
/// the 32-byte commitment costs ~120 fewer instructions, a quarter of its overhead over its
/// compressions (docs/PERFORMANCE.md).
#[inline(always)]
fn key_block(key: &[u8]) -> Key<Core> {
    let mut block = Key::<Core>::default();
    if let Some(dst) = block.get_mut(..key.len()) {
        dst.copy_from_slice(key);
    } else {
        let mut hashed = sha2::Sha256::digest(key);
        block[..hashed.len()].copy_from_slice(&hashed);
        hashed.as_mut_slice().zeroize();
    }
    block
}

/// HMAC-SHA256 (RFC 2104) from the `hmac` crate, keyed once: the crate's block-level state
/// after the key's inner and outer pad blocks, cloned for every message.
///
/// Holds secret-derived state. It is zeroized when it is dropped, and so is every clone made
/// for a message and the block buffer of every message: `lcm-crypto` turns on the `zeroize`
/// features of `hmac` and `sha2`, under which the SHA-256 block states inside the crate's HMAC
/// and the buffers zeroize themselves on drop (the test `hmac_state_zeroizes_on_drop` checks
/// that the features are on). Not `Clone`: a copy would be one more secret.
pub(crate) struct HmacSha256(Core);

impl HmacSha256 {
    /// The key schedule (RFC 2104): keys longer than a block are hashed first, then the key is
    /// zero-padded to one block, which is zeroized once the pad states are computed.
    #[inline(always)]
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = key_block(key);
        let core = Core::new(&block);
        block.as_mut_slice().zeroize();
        Self(core)
    }

    /// The MAC of the concatenation of `parts`.
    pub(crate) fn mac_parts(&self, parts: &[&[u8]]) -> [u8; 32] {
        finish(self.0.clone(), parts)
    }

    /// The MAC of the concatenation of `parts` under a key used once: the keyed state is
    /// consumed (and zeroized when the MAC is done) instead of cloned.
    pub(crate) fn mac_once(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        finish(Self::new(key).0, parts)
    }
}

/// Runs the keyed `core` over the concatenation of `parts` and finishes the MAC. Whole blocks
/// go straight to the core; the buffer keeps the tail, which the crate pads. Both zeroize
/// themselves when they are dropped at the end.
#[inline(always)]
fn finish(mut core: Core, parts: &[&[u8]]) -> [u8; 32] {
    let mut buffer = Buffer::<Core>::default();
    for part in parts {
        buffer.digest_blocks(part, |blocks| core.update_blocks(blocks));
    }
    let mut out = Output::<Core>::default();
    core.finalize_fixed_core(&mut buffer, &mut out);
    out.into()
}

/// The key material of a [`MacKey`].
enum KeyInner {
    /// The keyed HMAC-SHA256 state (zeroizes itself on drop).
    Sha256(HmacSha256),
    /// A 32-byte BLAKE3 key (keyed mode).
    Blake3([u8; 32]),
}

/// A secret MAC key: HMAC-SHA256 under the SHA-256 policy, keyed BLAKE3 under the BLAKE3
/// policy.
///
/// The key is zeroized when it is dropped. It cannot be cloned, printed, or serialized: its
/// `Debug` form is `MacKey { .. }`. A [`MacKey`] is made from bytes ([`MacKey::new`]), from
/// randomness ([`MacKey::generate`]), or derived from a password
/// ([`MasterKey::mac_key`](crate::MasterKey::mac_key)).
///
/// # Implementation
///
/// HMAC-SHA256 is the `RustCrypto` `hmac` crate's block-level `HmacCore` over `sha2`, keyed
/// through RFC 2104's key schedule (long keys hashed, then zero-padded to one block) so that no
/// fallible constructor is called. The key's inner and outer pad states are computed once,
/// when the key is created, and cloned for each message, so a MAC of a short message costs two
/// SHA-256 compressions. An earlier hand-written HMAC on the compression function was faster
/// on this primitive alone but not measurably on `lcm infer` end to end (docs/PERFORMANCE.md,
/// "Hand-written or crate"), so the crate is used. The tests check RFC 4231, every key length
/// from 0 to 200 bytes against the crate's own `new_from_slice`, and every split of messages
/// of 0 to 300 bytes.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, MacKey};
///
/// let key = MacKey::new(HashAlgorithm::Sha256, b"a key that is kept secret")?;
/// let tag = key.mac(b"message");
/// key.verify(b"message", &tag)?;
/// assert!(key.verify(b"messagE", &tag).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct MacKey {
    inner: KeyInner,
}

impl MacKey {
    /// The length of the keys [`MacKey::generate`] draws, and the only key length accepted
    /// for BLAKE3.
    pub const KEY_LEN: usize = 32;

    /// A key from secret bytes.
    ///
    /// HMAC-SHA256 accepts any non-empty key (keys longer than 64 bytes are hashed first, as
    /// RFC 2104 says). Keyed BLAKE3 takes exactly 32 bytes.
    ///
    /// # Errors
    ///
    /// [`Error::EmptySecret`] for an empty key; [`Error::Length`] for a BLAKE3 key that is not
    /// 32 bytes long.
    pub fn new(algorithm: HashAlgorithm, key: &[u8]) -> Result<Self, Error> {
        if key.is_empty() {
            return Err(Error::EmptySecret { what: "MAC key" });
        }
        let inner = match algorithm {
            HashAlgorithm::Sha256 => KeyInner::Sha256(HmacSha256::new(key)),
            HashAlgorithm::Blake3 => {
                KeyInner::Blake3(crate::error::fixed("a BLAKE3 MAC key", key)?)
            }
        };
        Ok(Self { inner })
    }

    /// A fresh 32-byte key from `rng` (use [`OsRandom`](crate::OsRandom) outside tests).
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use lcm_crypto::{HashAlgorithm, MacKey, OsRandom};
    ///
    /// let key = MacKey::generate(HashAlgorithm::Blake3, &mut OsRandom)?;
    /// assert_eq!(key.algorithm(), HashAlgorithm::Blake3);
    /// # Ok::<(), lcm_crypto::Error>(())
    /// ```
    pub fn generate<R: crate::RandomSource + ?Sized>(
        algorithm: HashAlgorithm,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        let result = rng
            .fill(&mut bytes)
            .and_then(|()| Self::new(algorithm, &bytes));
        bytes.zeroize();
        result
    }

    /// A key from 32 bytes that were derived for it (internal: the KDF and tests of it).
    pub(crate) fn from_array(algorithm: HashAlgorithm, bytes: &[u8; 32]) -> Self {
        let inner = match algorithm {
            HashAlgorithm::Sha256 => KeyInner::Sha256(HmacSha256::new(bytes)),
            HashAlgorithm::Blake3 => KeyInner::Blake3(*bytes),
        };
        Self { inner }
    }

    /// The algorithm this key computes MACs with.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.inner {
            KeyInner::Sha256(_) => HashAlgorithm::Sha256,
            KeyInner::Blake3(_) => HashAlgorithm::Blake3,
        }
    }

    /// The tag of `msg`.
    pub fn mac(&self, msg: &[u8]) -> MacTag {
        self.mac_parts(&[msg])
    }

    /// The tag of the concatenation of `parts` (the same as [`MacKey::mac`] of the
    /// concatenated bytes, without building them).
    pub fn mac_parts(&self, parts: &[&[u8]]) -> MacTag {
        let bytes = match &self.inner {
            KeyInner::Sha256(h) => h.mac_parts(parts),
            KeyInner::Blake3(key) => {
                let mut h = blake3::Hasher::new_keyed(key);
                for p in parts {
                    h.update(p);
                }
                *h.finalize().as_bytes()
            }
        };
        MacTag(Digest::from_bytes(bytes))
    }

    /// Checks `tag` against the tag of `msg`, in constant time.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::MacMismatch`] when the tag is wrong. The error carries nothing about the
    /// expected tag.
    pub fn verify(&self, msg: &[u8], tag: &MacTag) -> Result<(), Error> {
        if ct_eq_32(self.mac(msg).as_bytes(), tag.as_bytes()) {
            Ok(())
        } else {
            Err(Error::MacMismatch)
        }
    }
}

impl Drop for MacKey {
    fn drop(&mut self) {
        match &mut self.inner {
            // The crate's state zeroizes itself when it is dropped, right after this.
            KeyInner::Sha256(_) => {}
            KeyInner::Blake3(k) => k.zeroize(),
        }
    }
}

impl ZeroizeOnDrop for MacKey {}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey { .. }")
    }
}

/// A 32-byte MAC tag: public, compared in constant time.
///
/// The text form is 64 lowercase hex characters.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, MacKey, MacTag};
///
/// let key = MacKey::new(HashAlgorithm::Sha256, b"key")?;
/// let tag: MacTag = key.mac(b"hello").to_string().parse()?;
/// key.verify(b"hello", &tag)?;
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct MacTag(Digest);

impl MacTag {
    /// The length of a tag in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Digest::from_bytes(bytes))
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Parses exactly 64 lowercase hex characters.
    ///
    /// # Errors
    ///
    /// [`Error::HexLength`] or [`Error::HexCharacter`] for anything else.
    pub fn from_hex(s: &str) -> Result<Self, Error> {
        Digest::from_hex(s).map(Self)
    }

    /// The 64-character lowercase hex form.
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }
}

crate::digest::hex_text_forms!(@text MacTag);

#[cfg(test)]
mod tests;
