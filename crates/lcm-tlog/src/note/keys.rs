//! Key names, key ids, signature types, and the verifier (`vkey`) and signer key text forms
//! of c2sp.org/signed-note.

use std::fmt;

use lcm_crypto::{Seed, SigningKey, VerifyingKey};
use zeroize::{Zeroize as _, Zeroizing};

use super::{NoteSignature, check_text};
use crate::b64;
use crate::cosignature;
use crate::error::{Error, FormatError, VerifyError};

/// The prefix of a signer key.
const SIGNER_PREFIX: &str = "PRIVATE+KEY+";

/// A key name: non-empty, without Unicode spaces or `+` (and so without newlines).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Checks and wraps a key name.
    ///
    /// # Errors
    ///
    /// [`FormatError::KeyName`] for an empty name or one with a Unicode space, a `+` or a
    /// control character.
    pub fn new(name: &str) -> Result<Self, Error> {
        let valid = !name.is_empty()
            && !name
                .chars()
                .any(|c| c.is_whitespace() || c == '+' || c.is_control());
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(FormatError::KeyName {
                name: name.to_owned(),
            }
            .into())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyName({:?})", self.0)
    }
}

/// A C2SP key id: the 32-bit identifier that starts every note signature. Its text form is 8
/// lowercase hex characters.
///
/// It is an identifier, not a cryptographic hash: a verifier matches it together with the key
/// name to pick a configured key, then verifies the signature with that key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(u32);

impl KeyId {
    /// Wraps a 32-bit id.
    pub const fn new(id: u32) -> Self {
        Self(id)
    }

    /// The id as a number.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The recommended (and for types 0x01 and 0x04 required) key id:
    /// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
    pub fn compute(name: &KeyName, kind: SignatureType, public_key: &[u8]) -> Self {
        let mut hasher = lcm_crypto::Hasher::new(lcm_crypto::HashAlgorithm::Sha256);
        hasher.update(name.as_str().as_bytes());
        hasher.update(b"\n");
        hasher.update(&[kind.byte()]);
        hasher.update(public_key);
        let digest = hasher.finalize();
        let b = digest.as_bytes();
        Self(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Parses exactly 8 lowercase hex characters.
    ///
    /// # Errors
    ///
    /// [`FormatError::KeyIdHex`] for anything else.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        lcm_crypto::hex::decode_array::<4>(text)
            .map(|b| Self(u32::from_be_bytes(b)))
            .map_err(|_| {
                FormatError::KeyIdHex {
                    text: text.to_owned(),
                }
                .into()
            })
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({:08x})", self.0)
    }
}

/// The signature types this crate implements (signed-note's type registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    /// `0x01`: Ed25519 over the note text (c2sp.org/signed-note).
    Ed25519,
    /// `0x04`: a timestamped Ed25519 checkpoint cosignature (c2sp.org/tlog-cosignature).
    Cosignature,
}

impl SignatureType {
    /// The type identifier byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Ed25519 => 0x01,
            Self::Cosignature => 0x04,
        }
    }

    /// The type of an identifier byte.
    ///
    /// # Errors
    ///
    /// [`FormatError::SignatureType`] for any byte but 0x01 and 0x04.
    pub fn from_byte(byte: u8) -> Result<Self, Error> {
        match byte {
            0x01 => Ok(Self::Ed25519),
            0x04 => Ok(Self::Cosignature),
            actual => Err(FormatError::SignatureType { actual }.into()),
        }
    }
}

/// A verifier key ("vkey"): `<name>+<hex8(key id)>+<base64(type || public key)>`.
///
/// Parsing is strict: the id must be 8 lowercase hex characters and must equal the id the
/// name, type and key give, and the key must be a valid, non-weak Ed25519 point.
///
/// # Examples
///
/// ```
/// use lcm_tlog::note::VerifierKey;
///
/// let text = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
/// let key: VerifierKey = text.parse()?;
/// assert_eq!(key.name().as_str(), "example.com/foo");
/// assert_eq!(key.to_string(), text);
/// # Ok::<(), lcm_tlog::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: KeyName,
    id: KeyId,
    kind: SignatureType,
    key: VerifyingKey,
}

impl VerifierKey {
    /// The key of `name` and `kind` for the public key `key`, with its computed id.
    pub fn new(name: KeyName, kind: SignatureType, key: VerifyingKey) -> Self {
        let id = KeyId::compute(&name, kind, key.as_bytes());
        Self {
            name,
            id,
            kind,
            key,
        }
    }

    /// Parses the vkey text form.
    ///
    /// # Errors
    ///
    /// [`FormatError`] kinds for a bad field count, name, id, base64, type or length,
    /// [`FormatError::KeyIdMismatch`] when the id is not the computed one, and
    /// [`Error::Crypto`] for bytes that are not a valid Ed25519 public key.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (name, id, kind, material) = parse_key_fields(text, |actual| {
            FormatError::KeyFields {
                expected: "a verifier key <name>+<id>+<key> of 3",
                actual,
            }
            .into()
        })?;
        let parsed = Self::new(name, kind, VerifyingKey::try_from_slice(&material)?);
        check_id(parsed.id, id)?;
        Ok(parsed)
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether this key made a signature line with `name` and `id` (both must match).
    pub fn matches(&self, name: &KeyName, id: KeyId) -> bool {
        self.name == *name && self.id == id
    }

    /// Verifies the signature bytes of one note signature line (after the key id) over the
    /// note `text`, and returns the cosignature timestamp for a type 0x04 key.
    ///
    /// A signature that cannot be of this key's type (wrong length, a timestamp above
    /// `2^63 - 1`) fails like a wrong one: the line names this key, and it did not sign.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadSignature`] when the signature does not verify.
    pub fn verify(&self, text: &str, signature: &[u8]) -> Result<Option<u64>, VerifyError> {
        let bad = || VerifyError::BadSignature {
            name: self.name.to_string(),
            key_id: self.id,
        };
        match self.kind {
            SignatureType::Ed25519 => {
                let sig = lcm_crypto::Signature::try_from_slice(signature).map_err(|_| bad())?;
                self.key.verify(text.as_bytes(), &sig).map_err(|_| bad())?;
                Ok(None)
            }
            SignatureType::Cosignature => {
                let (timestamp, sig) = cosignature::split(signature).map_err(|_| bad())?;
                let message = cosignature::message(timestamp, text);
                self.key.verify(&message, &sig).map_err(|_| bad())?;
                Ok(Some(timestamp))
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.kind.byte());
        material.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, self.id, b64::encode(&material))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// A signer key: `PRIVATE+KEY+<name>+<hex8(key id)>+<base64(type || 32-byte seed)>`.
///
/// The seed is secret: the key zeroizes it on drop (through [`SigningKey`]), wipes the
/// decoded bytes while parsing, formats only into a [`Zeroizing`] string, and its `Debug`
/// shows the name and id alone. It is neither `Clone` nor `Display`.
///
/// # Examples
///
/// ```
/// use lcm_tlog::note::{KeyName, SignatureType, SignerKey};
/// use lcm_crypto::{Seed, SigningKey};
///
/// let name = KeyName::new("log.example/a")?;
/// let signer = SignerKey::new(name, SignatureType::Ed25519, SigningKey::from_seed(&Seed::from_bytes([7; 32])));
/// let text = signer.to_text();
/// assert!(text.starts_with("PRIVATE+KEY+log.example/a+"));
/// let again = SignerKey::parse(&text)?;
/// assert_eq!(again.verifier(), signer.verifier());
/// # Ok::<(), lcm_tlog::Error>(())
/// ```
pub struct SignerKey {
    /// The name, id, type and public key: the matching verifier key.
    public: VerifierKey,
    key: SigningKey,
}

impl SignerKey {
    /// The signer of `name` and `kind` for `key`.
    pub fn new(name: KeyName, kind: SignatureType, key: SigningKey) -> Self {
        Self {
            public: VerifierKey::new(name, kind, key.verifying_key()),
            key,
        }
    }

    /// Parses the signer key text form.
    ///
    /// # Errors
    ///
    /// [`FormatError::KeyFields`] without the `PRIVATE+KEY+` prefix or with the wrong field
    /// count, the other [`FormatError`] kinds for a bad name, id, base64, type or length, and
    /// [`FormatError::KeyIdMismatch`] when the id is not the one of the derived public key.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let wrong = |actual| -> Error {
            FormatError::KeyFields {
                expected: "a signer key PRIVATE+KEY+<name>+<id>+<key> of 5",
                actual,
            }
            .into()
        };
        let Some(rest) = text.strip_prefix(SIGNER_PREFIX) else {
            return Err(wrong(text.split('+').count()));
        };
        let (name, id, kind, material) = parse_key_fields(rest, |count| wrong(count + 2))?;
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&material);
        let seed = Seed::from_bytes(bytes);
        bytes.zeroize();
        let parsed = Self::new(name, kind, SigningKey::from_seed(&seed));
        check_id(parsed.id(), id)?;
        Ok(parsed)
    }

    /// The signer key text form, in a string that is wiped on drop.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = self.key.to_seed();
        let mut material = Zeroizing::new(Vec::with_capacity(33));
        material.push(self.kind().byte());
        material.extend_from_slice(seed.expose_secret());
        Zeroizing::new(format!(
            "{SIGNER_PREFIX}{}+{}+{}",
            self.name(),
            self.id(),
            Zeroizing::new(b64::encode(&material)).as_str()
        ))
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        self.public.name()
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.public.id()
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.public.kind()
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        self.public.clone()
    }

    /// The private key itself, for a signature other than a note's (a log's operator signs
    /// the capsule headers it serves with its log key).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs the note `text` with an Ed25519 (type 0x01) key: deterministic RFC 8032
    /// Ed25519 over the text.
    ///
    /// # Errors
    ///
    /// [`FormatError::WrongKeyType`] for a cosignature key (use
    /// [`SignerKey::cosign`]), [`FormatError::NoteEnd`] when the text does not end with a
    /// newline, and the note text errors of [`check_text`].
    pub fn sign(&self, text: &str) -> Result<NoteSignature, Error> {
        self.expect_kind(SignatureType::Ed25519)?;
        check_text(text)?;
        Ok(self.signature(self.key.sign(text.as_bytes()).as_bytes().to_vec()))
    }

    /// Cosigns a checkpoint `body` at `timestamp` with a cosignature (type 0x04) key
    /// (c2sp.org/tlog-cosignature): the signature is `timestamp (u64 big-endian) ||
    /// Ed25519("cosignature/v1\ntime <timestamp>\n" || body)`.
    ///
    /// # Errors
    ///
    /// [`FormatError::WrongKeyType`] for an Ed25519 note key, [`FormatError::Timestamp`]
    /// above `2^63 - 1`, and the note text errors of [`check_text`].
    pub fn cosign(&self, body: &str, timestamp: u64) -> Result<NoteSignature, Error> {
        self.expect_kind(SignatureType::Cosignature)?;
        check_text(body)?;
        cosignature::check_timestamp(timestamp)?;
        let message = cosignature::message(timestamp, body);
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.key.sign(&message).as_bytes());
        Ok(self.signature(bytes))
    }

    fn expect_kind(&self, expected: SignatureType) -> Result<(), Error> {
        if self.kind() == expected {
            Ok(())
        } else {
            Err(FormatError::WrongKeyType {
                expected: expected.byte(),
                actual: self.kind().byte(),
            }
            .into())
        }
    }

    fn signature(&self, bytes: Vec<u8>) -> NoteSignature {
        NoteSignature {
            name: self.name().clone(),
            id: self.id(),
            bytes,
        }
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", self.name())
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// The parsed name, id, type and key material (public key or secret seed) of a key.
type KeyFields = (KeyName, KeyId, SignatureType, Zeroizing<Vec<u8>>);

/// Parses the `<name>+<id>+<base64(type || key)>` fields shared by vkeys and signer keys;
/// `wrong` makes the error for a text that does not split into three fields.
fn parse_key_fields(text: &str, wrong: impl FnOnce(usize) -> Error) -> Result<KeyFields, Error> {
    // The base64 key may itself contain '+': the name and id fields cannot.
    let fields: Vec<&str> = text.splitn(3, '+').collect();
    let [name, id, key] = fields[..] else {
        return Err(wrong(fields.len()));
    };
    let name = KeyName::new(name)?;
    let id = KeyId::from_hex(id)?;
    // For a signer key this is the secret seed: wiped on every path.
    let mut material = Zeroizing::new(b64::decode("a key", key)?);
    let Some((&kind, rest)) = material.split_first() else {
        return Err(FormatError::KeyLength {
            expected: 33,
            actual: 0,
        }
        .into());
    };
    let kind = SignatureType::from_byte(kind)?;
    if rest.len() != 32 {
        return Err(FormatError::KeyLength {
            expected: 33,
            actual: material.len(),
        }
        .into());
    }
    material.remove(0);
    Ok((name, id, kind, material))
}

fn check_id(computed: KeyId, written: KeyId) -> Result<(), Error> {
    if computed == written {
        Ok(())
    } else {
        Err(FormatError::KeyIdMismatch {
            expected: computed,
            actual: written,
        }
        .into())
    }
}
