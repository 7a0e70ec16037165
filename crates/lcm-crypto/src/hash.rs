//! Hashing: [`HashAlgorithm`], one-shot [`hash`], streaming [`Hasher`] and domain-separated
//! hashing ([`hash_domain`], [`DomainHasher`]).
//!
//! # Domain separation
//!
//! Every digest of a record or anchor in `lcm` is taken under a *domain tag* (for example
//! `"lcm/v1/receipt"`), so that bytes hashed for one purpose can never be passed off as bytes
//! hashed for another. The input to the hash is
//!
//! ```text
//! u64be(len(tag)) || tag || u64be(len(part_1)) || part_1 || ... || u64be(len(part_n)) || part_n
//! ```
//!
//! Every field is length-prefixed, so the encoding is injective: two different
//! `(tag, parts)` pairs never produce the same hash input, and therefore (barring a hash
//! collision) never the same digest. The Python reference concatenates without separators,
//! so that `["ab", "c"]` and `["a", "bc"]` collide there; they cannot collide here.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

use crate::{Digest, Error};

/// The hash function a policy selects. SHA-256 is the default.
///
/// Both produce 32-byte digests. SHA-256 runs on the SHA-NI unit where the CPU has one and is
/// the faster choice for the short inputs of Merkle trees and receipts; BLAKE3 is several times
/// faster on large inputs (model files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4). The default.
    #[default]
    Sha256,
    /// BLAKE3 in its default (unkeyed) hash mode.
    Blake3,
}

impl HashAlgorithm {
    /// The canonical name: `"SHA-256"` or `"BLAKE3"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Blake3 => "BLAKE3",
        }
    }

    /// Hashes `data` in one call.
    pub fn hash(self, data: &[u8]) -> Digest {
        hash(self, data)
    }
}

impl FromStr for HashAlgorithm {
    type Err = Error;

    /// Accepts the canonical names and their common spellings (`sha256`, `SHA256`, `blake3`).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "SHA-256" | "sha-256" | "SHA256" | "sha256" => Ok(Self::Sha256),
            "BLAKE3" | "blake3" => Ok(Self::Blake3),
            _ => Err(Error::UnknownName {
                what: "hash algorithm",
                name: s.to_owned(),
                expected: "\"SHA-256\", \"BLAKE3\"",
            }),
        }
    }
}

/// The forms of a type named on the wire: `Display` as its `name()`, with the `serde` feature
/// `Serialize` as its `name()` and, unless `@no_deserialize` is given (for a type whose wire form
/// is stricter than its `FromStr`), `Deserialize` by `FromStr`.
macro_rules! name_forms {
    (@no_deserialize $ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
    ($ty:ident) => {
        $crate::hash::name_forms!(@no_deserialize $ty);

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use name_forms;

name_forms!(@no_deserialize HashAlgorithm);

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for HashAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // The wire form is strict: only the canonical names.
        match &*s {
            "SHA-256" => Ok(Self::Sha256),
            "BLAKE3" => Ok(Self::Blake3),
            other => Err(serde::de::Error::custom(Error::UnknownName {
                what: "hash algorithm",
                name: other.to_owned(),
                expected: "\"SHA-256\", \"BLAKE3\"",
            })),
        }
    }
}

/// Hashes `data` with `algorithm` in one call.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, hash};
///
/// let d = hash(HashAlgorithm::Sha256, b"abc");
/// assert_eq!(d.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn hash(algorithm: HashAlgorithm, data: &[u8]) -> Digest {
    match algorithm {
        HashAlgorithm::Sha256 => Digest::from_bytes(sha2::Sha256::digest(data).into()),
        HashAlgorithm::Blake3 => Digest::from_bytes(*blake3::hash(data).as_bytes()),
    }
}

#[derive(Clone)]
enum Inner {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
}

/// A streaming hasher for either algorithm.
///
/// It also implements [`std::io::Write`], so a serializer or [`std::io::copy`] can write
/// straight into it without an intermediate buffer.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, Hasher, hash};
///
/// let mut h = Hasher::new(HashAlgorithm::Blake3);
/// h.update(b"ab").update(b"c");
/// assert_eq!(h.finalize(), hash(HashAlgorithm::Blake3, b"abc"));
/// ```
#[derive(Clone)]
pub struct Hasher {
    inner: Inner,
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        let inner = match algorithm {
            HashAlgorithm::Sha256 => Inner::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Blake3 => Inner::Blake3(Box::new(blake3::Hasher::new())),
        };
        Self { inner }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.inner {
            Inner::Sha256(_) => HashAlgorithm::Sha256,
            Inner::Blake3(_) => HashAlgorithm::Blake3,
        }
    }

    /// Feeds more input.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        match &mut self.inner {
            Inner::Sha256(h) => h.update(data),
            Inner::Blake3(h) => {
                h.update(data);
            }
        }
        self
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Digest {
        match self.inner {
            Inner::Sha256(h) => Digest::from_bytes(h.finalize().into()),
            Inner::Blake3(h) => Digest::from_bytes(*h.finalize().as_bytes()),
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.update(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes `parts` under the domain tag `domain`.
///
/// The hash input is `u64be(len(tag)) || tag || u64be(len(part_1)) || part_1 || ...`: every field
/// is length-prefixed, so two different `(domain, parts)` pairs never give the same input (the
/// Python reference joins without separators, so that `["ab", "c"]` and `["a", "bc"]` collide
/// there; they cannot here).
///
/// # Examples
///
/// ```
/// use lcm_crypto::{HashAlgorithm, hash_domain};
///
/// let a = hash_domain(HashAlgorithm::Sha256, "example", &[b"ab", b"c"]);
/// let b = hash_domain(HashAlgorithm::Sha256, "example", &[b"a", b"bc"]);
/// assert_ne!(a, b);
/// ```
pub fn hash_domain(algorithm: HashAlgorithm, domain: &str, parts: &[&[u8]]) -> Digest {
    let mut h = DomainHasher::new(algorithm, domain);
    for p in parts {
        h.part(p);
    }
    h.finalize()
}

/// Incremental form of [`hash_domain`]: the tag first, then one length-prefixed part at a
/// time.
#[derive(Clone, Debug)]
pub struct DomainHasher {
    inner: Hasher,
}

impl DomainHasher {
    /// Starts a domain-separated hash under `domain`.
    pub fn new(algorithm: HashAlgorithm, domain: &str) -> Self {
        let mut inner = Hasher::new(algorithm);
        inner
            .update(&len_prefix(domain.len()))
            .update(domain.as_bytes());
        Self { inner }
    }

    /// Appends one part (length-prefixed).
    pub fn part(&mut self, part: &[u8]) -> &mut Self {
        self.inner.update(&len_prefix(part.len())).update(part);
        self
    }

    /// Appends a digest as one 32-byte part.
    pub fn digest(&mut self, digest: &Digest) -> &mut Self {
        self.part(digest.as_bytes())
    }

    /// Appends a `u64` as one 8-byte big-endian part.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.part(&value.to_be_bytes())
    }

    /// The digest.
    pub fn finalize(self) -> Digest {
        self.inner.finalize()
    }
}

fn len_prefix(len: usize) -> [u8; 8] {
    // usize is at most 64 bits on every supported target.
    u64::try_from(len).unwrap_or(u64::MAX).to_be_bytes()
}

#[cfg(test)]
mod tests;
