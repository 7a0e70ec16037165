//! Commitments that can be opened, one record at a time: [`Committer`], [`Commitment`],
//! [`Opening`] and its public form [`RevealedOpening`].
//!
//! The construction is documented on [`Committer`].

use std::fmt;
use std::str::FromStr;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::mac::{
    BLOCK_LEN_U64, HmacSha256, IV, compress_block, ct_eq_32, sha256_finish, state_to_bytes,
};
use crate::{Digest, Error, HashAlgorithm, RandomSource, Seed, hex};

/// The second half of the SHA-256 PRF key block (the first half is the seed).
const PRF_TAG: &[u8; 32] = b"lcm 2026-11-26 commitment nonce\0";
/// BLAKE3 key-derivation context of the PRF key (style rule 8: `"lcm <date> <purpose>"`).
const PRF_CONTEXT: &str = "lcm 2026-11-26 commitment nonce";
/// The fixed message prefix of HMAC commitments.
const HMAC_TAG: &[u8] = b"lcm commitment hmac";
/// The domain tag of salted commitments.
const SALTED_DOMAIN: &str = "lcm commitment salted";
/// The domain tag of plaintext commitments.
const PLAINTEXT_DOMAIN: &str = "lcm commitment plaintext";

/// How a commitment hides its data. The wire names are those of the Python reference's
/// `CommitmentType`.
///
/// # Examples
///
/// ```
/// use lcm_crypto::CommitmentScheme;
///
/// assert_eq!("HMAC-SHA256".parse::<CommitmentScheme>()?, CommitmentScheme::Hmac);
/// assert_eq!(CommitmentScheme::Salted.to_string(), "salted");
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum CommitmentScheme {
    /// `"HMAC-SHA256"`: a MAC keyed by the per-commitment secret (keyed BLAKE3 when the
    /// commitment's algorithm is BLAKE3; the wire name stays the reference's).
    Hmac,
    /// `"plaintext"`: a domain-separated hash of public data; the opening is empty.
    Plaintext,
    /// `"salted"`: a domain-separated hash of the per-commitment secret and the data. The
    /// default, as in the reference.
    #[default]
    Salted,
}

impl CommitmentScheme {
    /// The wire name: `"HMAC-SHA256"`, `"plaintext"` or `"salted"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hmac => "HMAC-SHA256",
            Self::Plaintext => "plaintext",
            Self::Salted => "salted",
        }
    }
}

impl FromStr for CommitmentScheme {
    type Err = Error;

    /// Accepts exactly the wire names.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "HMAC-SHA256" => Ok(Self::Hmac),
            "plaintext" => Ok(Self::Plaintext),
            "salted" => Ok(Self::Salted),
            _ => Err(Error::UnknownName {
                what: "commitment scheme",
                name: s.to_owned(),
                expected: "\"HMAC-SHA256\", \"plaintext\", \"salted\"",
            }),
        }
    }
}

crate::hash::name_forms!(CommitmentScheme);

/// A public commitment: the scheme, the hash algorithm and the full 32-byte value.
///
/// Check it against data and an [`Opening`] with [`Commitment::verify`].
///
/// # Examples
///
/// ```
/// use lcm_crypto::{CommitmentScheme, Committer, HashAlgorithm, OsRandom};
///
/// let committer = Committer::from_random(CommitmentScheme::Hmac, HashAlgorithm::Sha256, &mut OsRandom)?;
/// let (commitment, opening) = committer.commit(7, b"patient record");
/// commitment.verify(b"patient record", &opening)?;
/// assert!(commitment.verify(b"other record", &opening).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Commitment {
    /// How the value was computed.
    pub scheme: CommitmentScheme,
    /// The hash function behind it.
    pub algorithm: HashAlgorithm,
    /// The 32-byte commitment value.
    pub value: Digest,
}

impl Commitment {
    /// Checks that this commitment opens to `data` with `opening`, comparing in constant time.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::SchemeMismatch`] when the opening belongs to another scheme;
    /// [`Error::CommitmentMismatch`] when the data or the opening is wrong (the error does
    /// not say which, and carries no bytes).
    pub fn verify(&self, data: &[u8], opening: &Opening) -> Result<(), Error> {
        if opening.scheme != self.scheme {
            return Err(Error::SchemeMismatch {
                expected: self.scheme.name(),
                actual: opening.scheme.name(),
            });
        }
        let value = compute_value(self.scheme, self.algorithm, &opening.secret, data);
        if ct_eq_32(value.as_bytes(), self.value.as_bytes()) {
            Ok(())
        } else {
            Err(Error::CommitmentMismatch)
        }
    }
}

/// The commitment value for a scheme, algorithm, per-commitment secret and data.
fn compute_value(
    scheme: CommitmentScheme,
    algorithm: HashAlgorithm,
    secret: &[u8; 32],
    data: &[u8],
) -> Digest {
    match scheme {
        CommitmentScheme::Plaintext => {
            let data_len = len_prefix(data);
            hash_slices(
                algorithm,
                &[
                    &PLAINTEXT_PREFIX,
                    PLAINTEXT_DOMAIN.as_bytes(),
                    &data_len,
                    data,
                ],
            )
        }
        CommitmentScheme::Salted => {
            let data_len = len_prefix(data);
            let slices = [
                &SALTED_PREFIX,
                SALTED_DOMAIN.as_bytes(),
                &SECRET_PREFIX,
                secret,
                &data_len,
                data,
            ];
            hash_slices(algorithm, &slices)
        }
        CommitmentScheme::Hmac => match algorithm {
            HashAlgorithm::Sha256 => Digest::from_bytes(hmac_sha256_value(secret, data)),
            HashAlgorithm::Blake3 => {
                let mut h = blake3::Hasher::new_keyed(secret);
                h.update(HMAC_TAG).update(data);
                Digest::from_bytes(*h.finalize().as_bytes())
            }
        },
    }
}

/// The length prefixes of [`hash_domain`](crate::hash_domain)'s encoding for the fixed fields.
const SALTED_PREFIX: [u8; 8] = (SALTED_DOMAIN.len() as u64).to_be_bytes();
const PLAINTEXT_PREFIX: [u8; 8] = (PLAINTEXT_DOMAIN.len() as u64).to_be_bytes();
const SECRET_PREFIX: [u8; 8] = 32u64.to_be_bytes();

/// The 8-byte big-endian length prefix of one `hash_domain` part.
fn len_prefix(part: &[u8]) -> [u8; 8] {
    u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes()
}

/// The hash of the concatenation of `slices`: the same bytes
/// [`hash_domain`](crate::hash_domain) hashes when the slices are its length-prefixed
/// encoding (the unit tests check that), without the streaming [`Hasher`](crate::Hasher) and
/// its boxed BLAKE3 state on this hot path.
fn hash_slices(algorithm: HashAlgorithm, slices: &[&[u8]]) -> Digest {
    match algorithm {
        HashAlgorithm::Sha256 => Digest::from_bytes(sha256_finish(IV, 0, slices)),
        HashAlgorithm::Blake3 => {
            let mut h = blake3::Hasher::new();
            for s in slices {
                h.update(s);
            }
            Digest::from_bytes(*h.finalize().as_bytes())
        }
    }
}

/// `HMAC-SHA256(key = secret, HMAC_TAG || data)`, with the `hmac` crate. The key is used
/// once, so its keyed state is consumed rather than cloned; it zeroizes itself when the MAC is
/// done.
fn hmac_sha256_value(secret: &[u8; 32], data: &[u8]) -> [u8; 32] {
    HmacSha256::mac_once(secret, &[HMAC_TAG, data])
}

/// The keyed PRF that turns a nonce into a per-commitment secret.
enum Prf {
    /// The SHA-256 chaining state after the block `seed || PRF_TAG`.
    Sha256([u32; 8]),
    /// The BLAKE3 key derived from the seed.
    Blake3([u8; 32]),
}

/// The SHA-256 PRF: SHA-256 of the key block (already absorbed into `state`) followed by
/// `label_len || label || nonce`.
///
/// With a label of up to [`ONE_BLOCK_LABEL`] bytes the rest of the message and its padding fit
/// one block, which is written here and compressed once; longer labels take
/// [`sha256_finish`]. Both give SHA-256 of the same message (the unit tests check every label
/// length on both sides of the boundary).
fn prf_sha256(state: &[u32; 8], label_len: [u8; 8], label: &[u8], nonce: [u8; 8]) -> [u8; 32] {
    let Some(block) = prf_block(label_len, label, nonce) else {
        return sha256_finish(*state, BLOCK_LEN_U64, &[&label_len, label, &nonce]);
    };
    let mut out = *state;
    compress_block(&mut out, &block);
    state_to_bytes(&out)
}

/// The longest label whose PRF message fits one block with its padding: 64 bytes less the
/// two 8-byte fields, the `0x80` byte and the 8-byte bit length.
const ONE_BLOCK_LABEL: usize = 64 - 16 - 9;

/// The last, padded block of the PRF message `label_len || label || nonce` after the 64-byte
/// key block, or `None` when the label is longer than [`ONE_BLOCK_LABEL`] bytes.
fn prf_block(label_len: [u8; 8], label: &[u8], nonce: [u8; 8]) -> Option<[u8; 64]> {
    if label.len() > ONE_BLOCK_LABEL {
        return None;
    }
    let mut block = [0u8; 64];
    let (len_field, rest) = block.split_at_mut(8);
    len_field.copy_from_slice(&label_len);
    let (label_field, rest) = rest.split_at_mut(label.len());
    label_field.copy_from_slice(label);
    let (nonce_field, rest) = rest.split_at_mut(8);
    nonce_field.copy_from_slice(&nonce);
    rest[0] = 0x80;
    // The key block and 16 + label bytes, in bits; the label is at most 39 bytes, so exact.
    let bits = (BLOCK_LEN_U64 + 16 + u64::try_from(label.len()).unwrap_or(0)) * 8;
    block[56..].copy_from_slice(&bits.to_be_bytes());
    Some(block)
}

/// Makes commitments and re-derives their openings from one secret [`Seed`].
///
/// The committer must be given a nonce that is unique among its commitments (a sequence
/// number, or a label plus a number): two commitments under the same nonce share their
/// secret, so opening one opens both.
///
/// # What was wrong before
///
/// The Python reference returns 64-bit commitment prefixes and throws the salt away, so a
/// "salted" commitment can never be opened and an HMAC commitment can be checked only by the
/// holder of the master password. Here every commitment is a full 32-byte value, and every
/// commitment comes with an [`Opening`] that lets an auditor check *that one* commitment and
/// nothing else.
///
/// # Construction
///
/// A [`Committer`] holds a secret 32-byte [`Seed`]. Each commitment gets a *nonce* (a `u64`,
/// optionally with a byte label) that the caller keeps unique per committer, for example the
/// record's sequence number. The per-commitment secret is `r = PRF(seed, nonce)`:
///
/// - SHA-256 policy: `r = SHA-256(seed || tag || u64be(len(label)) || label || u64be(nonce))`
///   with the 32-byte `tag = "lcm 2026-11-26 commitment nonce\0"`; `seed || tag` fills
///   exactly the first 64-byte block, whose chaining state is computed once per committer,
///   so `r` costs one compression. The encoding after the key block is prefix-free (its
///   length is fixed by its first 8 bytes), so SHA-256 length extension from a revealed `r`
///   never yields the input of another nonce.
/// - BLAKE3 policy: `r = BLAKE3-keyed(derive_key("lcm 2026-11-26 commitment nonce", seed),
///   u64be(len(label)) || label || u64be(nonce))`.
///
/// Revealing `r` for one nonce reveals nothing about `r` for another (PRF security). The
/// commitment value is then:
///
/// | scheme | value | opening |
/// |---|---|---|
/// | [`CommitmentScheme::Hmac`] | `HMAC-SHA256(key = r, "lcm commitment hmac" \|\| data)`; keyed BLAKE3 with key `r` under the BLAKE3 policy | `r` |
/// | [`CommitmentScheme::Salted`] | `hash_domain(alg, "lcm commitment salted", [r, data])` | `r` |
/// | [`CommitmentScheme::Plaintext`] | `hash_domain(alg, "lcm commitment plaintext", [data])` | empty: the data is public |
///
/// All three are binding as long as the hash function is collision resistant. `Hmac` and
/// `Salted` also hide the data from anyone without `r`, even when the data is guessable.
///
/// # Cost
///
/// Under the SHA-256 policy, `r` is one compression; an HMAC commitment of up to 36 bytes of
/// data is then four more (two for the key schedule of `r`, one inner and one outer block),
/// and a salted commitment of 32 bytes two more. The HMAC is the `hmac` crate's block-level
/// core, keyed once per commitment and consumed: the commitment of 32 bytes runs at
/// 1.11–1.23× of its five compressions done by the raw compression function in a tight loop,
/// 235–245 ns on a quiet machine (`cargo bench --bench primitives`, group
/// `commitment_summary`; figures in docs/PERFORMANCE.md, "The crate without `expect`").
///
/// The committer is zeroized on drop; `Debug` prints only the scheme and algorithm.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{CommitmentScheme, Committer, HashAlgorithm, Seed};
///
/// let seed = || Seed::from_bytes([42; 32]); // in production: Seed::generate or MasterKey::seed
/// let committer = Committer::from_seed(CommitmentScheme::Salted, HashAlgorithm::Sha256, &seed());
/// let (c1, _) = committer.commit(1, b"first");
/// let (c2, _) = committer.commit_labeled(b"output", 1, b"second");
///
/// // Later, re-derive the opening of the second commitment only, and hand it to an auditor.
/// let revealed = committer.opening_labeled(b"output", 1).reveal();
/// let for_auditor = revealed.to_string();
///
/// // The auditor's side.
/// let opening = lcm_crypto::Opening::from_revealed(&for_auditor.parse()?);
/// c2.verify(b"second", &opening)?;
/// assert!(c1.verify(b"first", &opening).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct Committer {
    scheme: CommitmentScheme,
    algorithm: HashAlgorithm,
    prf: Prf,
}

impl Committer {
    /// A committer keyed by `seed`: the same seed, scheme and algorithm always produce the
    /// same commitments and openings.
    pub fn from_seed(scheme: CommitmentScheme, algorithm: HashAlgorithm, seed: &Seed) -> Self {
        let prf = match algorithm {
            HashAlgorithm::Sha256 => {
                let mut block = [0u8; 64];
                block[..32].copy_from_slice(seed.expose_secret());
                block[32..].copy_from_slice(PRF_TAG);
                let mut state = IV;
                compress_block(&mut state, &block);
                block.zeroize();
                Prf::Sha256(state)
            }
            HashAlgorithm::Blake3 => {
                Prf::Blake3(blake3::derive_key(PRF_CONTEXT, seed.expose_secret()))
            }
        };
        Self {
            scheme,
            algorithm,
            prf,
        }
    }

    /// A committer with a fresh seed from `rng` (use [`OsRandom`](crate::OsRandom) outside
    /// tests). Its openings can be re-derived only while it lives.
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the random source fails.
    pub fn from_random<R: RandomSource + ?Sized>(
        scheme: CommitmentScheme,
        algorithm: HashAlgorithm,
        rng: &mut R,
    ) -> Result<Self, Error> {
        Ok(Self::from_seed(scheme, algorithm, &Seed::generate(rng)?))
    }

    /// The scheme of every commitment this committer makes.
    pub fn scheme(&self) -> CommitmentScheme {
        self.scheme
    }

    /// The hash algorithm of every commitment this committer makes.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Commits to `data` under `nonce`; returns the public commitment and its opening.
    pub fn commit(&self, nonce: u64, data: &[u8]) -> (Commitment, Opening) {
        self.commit_labeled(&[], nonce, data)
    }

    /// Commits to `data` under the nonce `(label, nonce)`.
    pub fn commit_labeled(&self, label: &[u8], nonce: u64, data: &[u8]) -> (Commitment, Opening) {
        let opening = self.opening_labeled(label, nonce);
        let value = compute_value(self.scheme, self.algorithm, &opening.secret, data);
        (
            Commitment {
                scheme: self.scheme,
                algorithm: self.algorithm,
                value,
            },
            opening,
        )
    }

    /// Re-derives the opening of the commitment made under `nonce`, without the data.
    pub fn opening(&self, nonce: u64) -> Opening {
        self.opening_labeled(&[], nonce)
    }

    /// Re-derives the opening of the commitment made under `(label, nonce)`.
    pub fn opening_labeled(&self, label: &[u8], nonce: u64) -> Opening {
        if self.scheme == CommitmentScheme::Plaintext {
            return Opening::plaintext();
        }
        let label_len = u64::try_from(label.len()).unwrap_or(u64::MAX).to_be_bytes();
        let nonce = nonce.to_be_bytes();
        let secret = match &self.prf {
            Prf::Sha256(state) => prf_sha256(state, label_len, label, nonce),
            Prf::Blake3(key) => {
                let mut h = blake3::Hasher::new_keyed(key);
                h.update(&label_len).update(label).update(&nonce);
                *h.finalize().as_bytes()
            }
        };
        Opening {
            scheme: self.scheme,
            secret,
        }
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        match &mut self.prf {
            Prf::Sha256(state) => state.zeroize(),
            Prf::Blake3(key) => key.zeroize(),
        }
    }
}

impl ZeroizeOnDrop for Committer {}

impl fmt::Debug for Committer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Committer")
            .field("scheme", &self.scheme)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The secret that opens one commitment.
///
/// Zeroized on drop; `Debug` prints only the scheme; no `Clone`, `Display` or `Serialize`.
/// To hand it to an auditor, make it public on purpose with [`Opening::reveal`].
pub struct Opening {
    scheme: CommitmentScheme,
    /// The per-commitment secret `r`; all zeros (and unused) for plaintext commitments.
    secret: [u8; 32],
}

impl Opening {
    /// The (empty) opening of a plaintext commitment.
    pub const fn plaintext() -> Self {
        Self {
            scheme: CommitmentScheme::Plaintext,
            secret: [0; 32],
        }
    }

    /// The scheme of the commitment this opens.
    pub fn scheme(&self) -> CommitmentScheme {
        self.scheme
    }

    /// Makes this opening public, **to disclose one commitment to an auditor**. The revealed
    /// value opens only the commitment it was made for: the PRF keeps every other opening of
    /// the same committer secret. This is the one way an opening's secret leaves the type.
    pub fn reveal(&self) -> RevealedOpening {
        RevealedOpening {
            scheme: self.scheme,
            secret: self.secret,
        }
    }

    /// The opening contained in a disclosed [`RevealedOpening`] (the auditor's side).
    pub fn from_revealed(revealed: &RevealedOpening) -> Self {
        Self {
            scheme: revealed.scheme,
            secret: revealed.secret,
        }
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        // As a slice: `zeroize` then clears the 32 bytes with two stores behind an
        // optimization barrier, where the array form writes them one volatile byte at a time
        // (an opening is dropped with every commitment made).
        self.secret.as_mut_slice().zeroize();
    }
}

impl ZeroizeOnDrop for Opening {}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opening")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

/// An opening that has been disclosed on purpose ([`Opening::reveal`]): a public value.
///
/// The text form is `<scheme>:<hex>`, for example `salted:` followed by 64 hex characters,
/// and `plaintext:` (nothing after the colon) for plaintext commitments. With the `serde`
/// feature it serializes as that string.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{Opening, RevealedOpening};
///
/// let r: RevealedOpening = "plaintext:".parse()?;
/// assert_eq!(r.to_string(), "plaintext:");
/// assert!("salted:00".parse::<RevealedOpening>().is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RevealedOpening {
    scheme: CommitmentScheme,
    secret: [u8; 32],
}

impl RevealedOpening {
    /// The scheme of the commitment this opens.
    pub fn scheme(&self) -> CommitmentScheme {
        self.scheme
    }

    /// The disclosed bytes: 32 bytes, or none for a plaintext commitment.
    pub fn as_bytes(&self) -> &[u8] {
        match self.scheme {
            CommitmentScheme::Plaintext => &[],
            CommitmentScheme::Hmac | CommitmentScheme::Salted => &self.secret,
        }
    }

    /// Builds a revealed opening from its scheme and bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Length`] unless `bytes` is 32 bytes long (0 for [`CommitmentScheme::Plaintext`]).
    pub fn from_parts(scheme: CommitmentScheme, bytes: &[u8]) -> Result<Self, Error> {
        let expected = match scheme {
            CommitmentScheme::Plaintext => 0,
            CommitmentScheme::Hmac | CommitmentScheme::Salted => 32,
        };
        if bytes.len() != expected {
            return Err(Error::Length {
                what: "a commitment opening",
                expected,
                actual: bytes.len(),
            });
        }
        let mut secret = [0u8; 32];
        secret[..expected].copy_from_slice(bytes);
        Ok(Self { scheme, secret })
    }
}

impl fmt::Display for RevealedOpening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, hex::encode(self.as_bytes()))
    }
}

crate::digest::debug_as_display!(RevealedOpening);

impl FromStr for RevealedOpening {
    type Err = Error;

    /// Parses `<scheme>:<hex>`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let (scheme, bytes) = s.split_once(':').ok_or_else(|| Error::UnknownName {
            what: "revealed opening",
            name: s.to_owned(),
            expected: "\"<scheme>:<hex>\"",
        })?;
        let scheme: CommitmentScheme = scheme.parse()?;
        let bytes = hex::decode(bytes)?;
        Self::from_parts(scheme, &bytes)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for RevealedOpening {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RevealedOpening {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
