//! Ed25519 signatures (RFC 8032, via `ed25519-dalek`): [`SigningKey`], [`VerifyingKey`],
//! [`Signature`] and the [`KeyId`] that names a public key.
//!
//! Verification uses dalek's `verify_strict`, which rejects non-canonical signatures and
//! small-order keys; [`VerifyingKey::from_bytes`] also refuses weak (small-order) keys, so
//! such a key never enters a record.

use std::fmt;

use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::digest::hex_text_forms;
use crate::{Digest, Error, HashAlgorithm, RandomSource, Seed, hash_domain, hex};

/// The domain tag of key ids.
const KEY_ID_DOMAIN: &str = "lcm key id";

/// A secret Ed25519 signing key.
///
/// The secret is zeroized on drop (dalek's `zeroize` feature does it in the inner key's
/// `Drop`); `Debug` prints `SigningKey { key_id: .., .. }` with the public key id only; no
/// `Clone`, `Display` or `Serialize`.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{OsRandom, SigningKey};
///
/// let key = SigningKey::generate(&mut OsRandom)?;
/// let signature = key.sign(b"root 1234");
/// key.verifying_key().verify(b"root 1234", &signature)?;
/// assert!(key.verifying_key().verify(b"root 1235", &signature).is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// The key whose RFC 8032 secret seed is `seed`.
    pub fn from_seed(seed: &Seed) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed.expose_secret()))
    }

    /// A fresh key from `rng` (use [`OsRandom`](crate::OsRandom) outside tests).
    ///
    /// # Errors
    ///
    /// [`Error::Randomness`] when the random source fails.
    pub fn generate<R: RandomSource + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        Ok(Self::from_seed(&Seed::generate(rng)?))
    }

    /// The RFC 8032 secret seed, **for writing the key to protected storage**: the one way
    /// the secret leaves this type.
    pub fn to_seed(&self) -> Seed {
        Seed::from_bytes(self.0.to_bytes())
    }

    /// Parses a PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`, RFC 8410), as
    /// `openssl genpkey -algorithm ed25519` writes it. A key that also holds its public half
    /// (PKCS#8 v2) must hold the right one.
    ///
    /// # Errors
    ///
    /// [`Error::KeyPem`] for another label, bad base64 or DER, or a key of another algorithm.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| Error::KeyPem {
                expected: "private key",
                label: "PRIVATE KEY",
                reason: e.to_string(),
            })
    }

    /// The key as PKCS#8 in PEM (`-----BEGIN PRIVATE KEY-----`, RFC 8410, LF line ends),
    /// **for writing it to protected storage**; the text is zeroized on drop. It is the
    /// version 1 form without the public key, as `openssl genpkey` writes it (OpenSSL 3.0
    /// does not read the version 2 form).
    ///
    /// # Errors
    ///
    /// [`Error::KeyPem`] when the encoder fails (it does not for a 32-byte seed).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, Error> {
        // Zeroized on drop (the `zeroize` feature of `ed25519`).
        let pair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        pair.to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::KeyPem {
                expected: "private key",
                label: "PRIVATE KEY",
                reason: e.to_string(),
            })
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    /// The id of the public half.
    pub fn key_id(&self) -> KeyId {
        self.verifying_key().key_id()
    }

    /// Signs `msg` (pure Ed25519, deterministic).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl ZeroizeOnDrop for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// A public Ed25519 key. The text form is 64 lowercase hex characters.
///
/// # Examples
///
/// ```
/// use lcm_crypto::{Seed, SigningKey, VerifyingKey};
///
/// let key = SigningKey::from_seed(&Seed::from_bytes([1; 32]));
/// let public: VerifyingKey = key.verifying_key().to_string().parse()?;
/// assert_eq!(public, key.verifying_key());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// The length of a public key in bytes.
    pub const LEN: usize = 32;

    /// Parses a compressed Edwards point.
    ///
    /// # Errors
    ///
    /// [`Error::PublicKey`] when the bytes are not a point, or are a small-order (weak) point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::PublicKey)?;
        if key.is_weak() {
            return Err(Error::PublicKey);
        }
        Ok(Self(key))
    }

    /// Parses a slice that must be 32 bytes long.
    ///
    /// # Errors
    ///
    /// [`Error::Length`] for another length, otherwise as [`VerifyingKey::from_bytes`].
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes(&crate::error::fixed("an Ed25519 public key", bytes)?)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Parses exactly 64 lowercase hex characters.
    ///
    /// # Errors
    ///
    /// [`Error::HexLength`] or [`Error::HexCharacter`] for bad hex, [`Error::PublicKey`] for
    /// bytes that are not a valid key.
    pub fn from_hex(s: &str) -> Result<Self, Error> {
        Self::from_bytes(&hex::decode_array(s)?)
    }

    /// The 64-character lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }

    /// Parses an SPKI public key in PEM (`-----BEGIN PUBLIC KEY-----`, RFC 8410), as
    /// `openssl pkey -pubout` writes it; weak keys are refused as by [`Self::from_bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::KeyPem`] for another label, bad base64 or DER, or a key of another
    /// algorithm; [`Error::PublicKey`] for a weak key.
    pub fn from_public_key_pem(pem: &str) -> Result<Self, Error> {
        let key =
            ed25519_dalek::VerifyingKey::from_public_key_pem(pem).map_err(|e| Error::KeyPem {
                expected: "public key",
                label: "PUBLIC KEY",
                reason: e.to_string(),
            })?;
        Self::from_bytes(key.as_bytes())
    }

    /// The key as SPKI in PEM (`-----BEGIN PUBLIC KEY-----`, RFC 8410, LF line ends).
    ///
    /// # Errors
    ///
    /// [`Error::KeyPem`] when the encoder fails (it does not for a valid key).
    pub fn to_public_key_pem(&self) -> Result<String, Error> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::KeyPem {
                expected: "public key",
                label: "PUBLIC KEY",
                reason: e.to_string(),
            })
    }

    /// The key id: `hash_domain(SHA-256, "lcm key id", [public key])`.
    pub fn key_id(&self) -> KeyId {
        KeyId(hash_domain(
            HashAlgorithm::Sha256,
            KEY_ID_DOMAIN,
            &[self.as_bytes()],
        ))
    }

    /// Verifies `signature` over `msg` (strict RFC 8032 verification).
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`Error::Signature`] when the signature does not verify.
    pub fn verify(&self, msg: &[u8], signature: &Signature) -> Result<(), Error> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(msg, &sig)
            .map_err(|_| Error::Signature)
    }

    /// Checks that this key has the id `expected` (for example the key id a record carries).
    ///
    /// # Errors
    ///
    /// [`Error::KeyIdMismatch`] with both ids when it does not.
    pub fn check_key_id(&self, expected: &KeyId) -> Result<(), Error> {
        let actual = self.key_id();
        if actual == *expected {
            Ok(())
        } else {
            Err(Error::KeyIdMismatch {
                expected: *expected,
                actual,
            })
        }
    }
}

hex_text_forms!(VerifyingKey);

impl std::hash::Hash for VerifyingKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// The id of a public key: a SHA-256 digest of it under the domain tag `"lcm key id"`.
///
/// The text form is 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct KeyId(Digest);

impl KeyId {
    /// Wraps a digest that is known to be a key id (for example read from a record).
    pub const fn from_digest(digest: Digest) -> Self {
        Self(digest)
    }

    /// The digest.
    pub const fn as_digest(&self) -> &Digest {
        &self.0
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

hex_text_forms!(@text KeyId);

/// A 64-byte Ed25519 signature. The text form is 128 lowercase hex characters. Any 64 bytes
/// wrap into a signature ([`Signature::from_bytes`]); they are checked only when verified.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; 64]);

hex_text_forms!(@bytes Signature, 64, "an Ed25519 signature", 128);
hex_text_forms!(Signature);
