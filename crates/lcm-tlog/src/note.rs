//! c2sp.org/signed-note: notes, key names, key ids, verifier and signer keys, Ed25519 note
//! signatures, and verification of notes with several signatures.
//!
//! # Limits
//!
//! A note is at most [`MAX_NOTE_LEN`] bytes and carries at most [`MAX_SIGNATURES`] signature
//! lines. The spec asks verifiers to accept at least 16 signatures and reminds that
//! post-quantum signatures approach 5 kB; Go's `golang.org/x/mod/sumdb/note` (the reference
//! implementation) refuses a note with more than 100 signatures "to avoid spending forever
//! parsing". lcm takes the same 100, and 1 MiB for the whole note: 100 signature lines of an
//! ML-DSA-44 cosignature (about 3.3 kB of base64 each) plus a checkpoint fit with room to
//! spare, while a hostile input cannot make a verifier hash or allocate without bound.

use std::fmt;

use crate::b64;
use crate::error::{Error, FormatError, VerifyError};

mod keys;

pub use self::keys::{KeyId, KeyName, SignatureType, SignerKey, VerifierKey};

/// The largest note accepted, in bytes (see the module docs).
pub const MAX_NOTE_LEN: usize = 1 << 20;

/// The most signature lines a note may carry (see the module docs; Go's sumdb/note limit).
pub const MAX_SIGNATURES: usize = 100;

/// The prefix of every signature line: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Checks the rules of a note text (and of a whole note): at most [`MAX_NOTE_LEN`] bytes, no
/// ASCII control character other than newline, and a final newline.
///
/// # Errors
///
/// [`FormatError::NoteTooLarge`], [`FormatError::NoteControlCharacter`] or
/// [`FormatError::NoteEnd`].
pub fn check_text(text: &str) -> Result<(), Error> {
    if text.len() > MAX_NOTE_LEN {
        return Err(FormatError::NoteTooLarge {
            max: MAX_NOTE_LEN,
            actual: text.len(),
        }
        .into());
    }
    if let Some(index) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
        let byte = text.as_bytes()[index];
        return Err(FormatError::NoteControlCharacter { index, byte }.into());
    }
    if !text.ends_with('\n') {
        return Err(FormatError::NoteEnd.into());
    }
    Ok(())
}

/// One signature line: the key name, the key id and the signature bytes after the id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    name: KeyName,
    id: KeyId,
    bytes: Vec<u8>,
}

impl NoteSignature {
    /// A signature line's parts.
    ///
    /// # Errors
    ///
    /// [`FormatError::SignatureLength`] when `bytes` is empty (a line needs at least one
    /// signature byte after the id).
    pub fn new(name: KeyName, id: KeyId, bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(FormatError::SignatureLength {
                expected: 5,
                actual: 4,
            }
            .into());
        }
        Ok(Self { name, id, bytes })
    }

    /// Parses one line without its final newline: `— <name> <base64(id || signature)>`.
    ///
    /// # Errors
    ///
    /// [`FormatError::SignatureLine`] for a line of another shape, [`FormatError::KeyName`],
    /// [`FormatError::Base64`], or [`FormatError::SignatureLength`] below 5 bytes.
    pub fn parse_line(line: &str, number: usize) -> Result<Self, Error> {
        let bad = || -> Error {
            FormatError::SignatureLine {
                line: number,
                text: line.to_owned(),
            }
            .into()
        };
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(bad)?;
        let (name, sig) = rest.split_once(' ').ok_or_else(bad)?;
        let name = KeyName::new(name)?;
        let raw = b64::decode("a signature", sig)?;
        let (id, bytes) = raw.split_first_chunk::<4>().ok_or_else(|| {
            Error::from(FormatError::SignatureLength {
                expected: 5,
                actual: raw.len(),
            })
        })?;
        Self::new(name, KeyId::new(u32::from_be_bytes(*id)), bytes.to_vec())
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The signature bytes after the key id.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The cosignature timestamp of a type 0x04 signature (its first 8 bytes), unverified.
    pub fn cosignature_timestamp(&self) -> Option<u64> {
        self.bytes
            .first_chunk::<8>()
            .map(|t| u64::from_be_bytes(*t))
    }
}

impl fmt::Display for NoteSignature {
    /// The line with its final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = self.id.get().to_be_bytes().to_vec();
        raw.extend_from_slice(&self.bytes);
        writeln!(f, "{SIGNATURE_PREFIX}{} {}", self.name, b64::encode(&raw))
    }
}

/// A signature that verified with a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The key that verified it.
    pub key: VerifierKey,
    /// The cosignature timestamp, for a type 0x04 key.
    pub timestamp: Option<u64>,
}

/// A signed note: a text ending in a newline, a blank line, and one or more signature lines.
///
/// Parsing checks the format and the limits but no signature; [`Note::verify`] checks them.
/// [`Note::to_text`] gives back exactly the parsed bytes (base64 is canonical both ways).
///
/// # Examples
///
/// ```
/// use lcm_tlog::note::{Note, VerifierKey};
///
/// let vkey: VerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".parse()?;
/// let text = "This is an example message.\n\n\u{2014} example.com/foo \
///     Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
/// let note = Note::parse(text.as_bytes())?;
/// assert_eq!(note.text(), "This is an example message.\n");
/// assert_eq!(note.verify(&[vkey])?.len(), 1);
/// assert_eq!(note.to_text(), text);
/// # Ok::<(), lcm_tlog::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// A note of `text` with no signatures yet (add them with [`Note::add_signature`]).
    ///
    /// # Errors
    ///
    /// The note text errors of [`check_text`].
    pub fn new(text: &str) -> Result<Self, Error> {
        check_text(text)?;
        Ok(Self {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note.
    ///
    /// # Errors
    ///
    /// [`FormatError::NoteTooLarge`], [`FormatError::NoteEncoding`],
    /// [`FormatError::NoteControlCharacter`], [`FormatError::NoSignatureBlock`],
    /// [`FormatError::NoteEnd`], [`FormatError::TooManySignatures`] and the signature line
    /// errors of [`NoteSignature::parse_line`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(FormatError::NoteTooLarge {
                max: MAX_NOTE_LEN,
                actual: bytes.len(),
            }
            .into());
        }
        let all = std::str::from_utf8(bytes).map_err(|e| FormatError::NoteEncoding {
            index: e.valid_up_to(),
        })?;
        check_text(all)?;
        // The text ends at the last blank line; the signature block follows it.
        let split = all.rfind("\n\n").ok_or(FormatError::NoSignatureBlock)?;
        let (text, block) = (&all[..=split], &all[split + 2..]);
        if block.is_empty() {
            return Err(FormatError::MissingLine {
                expected: "a signature line after the blank line",
            }
            .into());
        }
        let mut signatures = Vec::new();
        for (number, line) in block.lines().enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(FormatError::TooManySignatures {
                    max: MAX_SIGNATURES,
                }
                .into());
            }
            signatures.push(NoteSignature::parse_line(line, number + 1)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line, replacing an earlier one with the same key name and id.
    ///
    /// # Errors
    ///
    /// [`FormatError::TooManySignatures`] when the note already has the maximum.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), Error> {
        if let Some(old) = self
            .signatures
            .iter_mut()
            .find(|s| s.name == signature.name && s.id == signature.id)
        {
            *old = signature;
            return Ok(());
        }
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(FormatError::TooManySignatures {
                max: MAX_SIGNATURES,
            }
            .into());
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The whole signed note.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_string());
        }
        out
    }

    /// Verifies the note against `known` keys, as c2sp.org/signed-note says: signature lines
    /// whose key name and id match no known key are ignored; every line that matches a known
    /// key is verified, and one that fails rejects the whole note; at least one must verify.
    ///
    /// Returns each known key that verified, once, in the order of its first line.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadSignature`] for a failing known key, and
    /// [`VerifyError::NoKnownSignature`] when no known key signed the note.
    pub fn verify(&self, known: &[VerifierKey]) -> Result<Vec<Verified>, VerifyError> {
        let mut verified: Vec<Verified> = Vec::new();
        for sig in &self.signatures {
            let Some(key) = known.iter().find(|k| k.matches(&sig.name, sig.id)) else {
                continue;
            };
            let timestamp = key.verify(&self.text, &sig.bytes)?;
            if !verified.iter().any(|v| v.key == *key) {
                verified.push(Verified {
                    key: key.clone(),
                    timestamp,
                });
            }
        }
        if verified.is_empty() {
            return Err(VerifyError::NoKnownSignature);
        }
        Ok(verified)
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests;
