//! c2sp.org/tlog-checkpoint: the checkpoint body (origin, tree size, root hash, extension
//! lines), signed checkpoints, and their verification against a log key and a witness quorum.

use std::fmt;

use lcm_crypto::merkle::MerkleRoot;
use lcm_crypto::{Digest, HashAlgorithm};

use crate::b64;
use crate::error::{Error, FormatError, VerifyError};
use crate::note::{Note, SignerKey, Verified, VerifierKey};

/// The body of a checkpoint: a tree head of an RFC 6962 SHA-256 Merkle tree.
///
/// # Examples
///
/// ```
/// use lcm_tlog::Checkpoint;
///
/// let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
/// let checkpoint = Checkpoint::parse(text)?;
/// assert_eq!(checkpoint.origin(), "example.com/behind-the-sofa");
/// assert_eq!(checkpoint.size(), 20852163);
/// assert_eq!(checkpoint.to_text(), text);
/// # Ok::<(), lcm_tlog::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Digest,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    ///
    /// # Errors
    ///
    /// [`FormatError::EmptyLine`] for an empty origin, and the note text errors of
    /// [`check_text`](crate::note::check_text) for an origin with a newline or another
    /// control character.
    pub fn new(origin: &str, size: u64, root: Digest) -> Result<Self, Error> {
        Self::with_extensions(origin, size, root, Vec::new())
    }

    /// A checkpoint with extension lines (opaque, non-empty; the spec does not recommend
    /// them, as monitors cannot audit them).
    ///
    /// # Errors
    ///
    /// As [`Checkpoint::new`], and [`FormatError::EmptyLine`] for an empty extension line.
    pub fn with_extensions(
        origin: &str,
        size: u64,
        root: Digest,
        extensions: Vec<String>,
    ) -> Result<Self, Error> {
        let checkpoint = Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        };
        // The formatted text must parse back to the same value.
        Self::parse(&checkpoint.to_text())?;
        Ok(checkpoint)
    }

    /// Parses a checkpoint body strictly: an origin line, a decimal size without leading
    /// zeros, a base64 32-byte root, then non-empty extension lines, each ending in a newline.
    ///
    /// # Errors
    ///
    /// The note text errors of [`check_text`](crate::note::check_text),
    /// [`FormatError::MissingLine`], [`FormatError::EmptyLine`], [`FormatError::Number`] for
    /// the size, [`FormatError::Base64`] or [`FormatError::HashLength`] for the root.
    pub fn parse(text: &str) -> Result<Self, Error> {
        crate::note::check_text(text)?;
        let mut lines = text.lines();
        let mut next = |expected| lines.next().ok_or(FormatError::MissingLine { expected });
        let origin = next("an origin line")?;
        let size = next("a tree size line")?;
        let root = next("a root hash line")?;
        non_empty("origin", origin)?;
        let size = parse_decimal("a tree size", size)?;
        let root = b64::decode_hash("root hash", root)?;
        let extensions = lines
            .map(|line| non_empty("extension", line).map(|()| line.to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The origin: the log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> &Digest {
        &self.root
    }

    /// The root with its size, for the `lcm_crypto::merkle` verifiers (SHA-256, as the spec
    /// fixes).
    pub fn merkle_root(&self) -> MerkleRoot {
        MerkleRoot::new(HashAlgorithm::Sha256, self.root, self.size)
    }

    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The body text, each line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            b64::encode_hash(&self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Signs the checkpoint with the log's Ed25519 key.
    ///
    /// # Errors
    ///
    /// As [`SignerKey::sign`].
    pub fn sign(&self, key: &SignerKey) -> Result<SignedCheckpoint, Error> {
        let mut note = Note::new(&self.to_text())?;
        note.add_signature(key.sign(note.text())?)?;
        Ok(SignedCheckpoint {
            checkpoint: self.clone(),
            note,
        })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn non_empty(what: &'static str, line: &str) -> Result<(), Error> {
    if line.is_empty() {
        Err(FormatError::EmptyLine { what }.into())
    } else {
        Ok(())
    }
}

/// Splits a request or proof file into its lines before the first empty line and the signed
/// checkpoint after it.
///
/// # Errors
///
/// [`FormatError::NoteEncoding`] for invalid UTF-8 and [`FormatError::MissingLine`] without
/// the empty line.
pub(crate) fn split_checkpoint(bytes: &[u8]) -> Result<(&str, &str), Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| FormatError::NoteEncoding {
        index: e.valid_up_to(),
    })?;
    text.split_once("\n\n").ok_or_else(|| {
        FormatError::MissingLine {
            expected: "an empty line before the checkpoint",
        }
        .into()
    })
}

/// Parses ASCII decimal without leading zeros (except `0` itself) into a `u64`.
pub(crate) fn parse_decimal(what: &'static str, text: &str) -> Result<u64, Error> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical
        .then(|| text.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            FormatError::Number {
                what,
                text: text.chars().take(100).collect(),
            }
            .into()
        })
}

/// A checkpoint note: the parsed body and the note with its signatures.
///
/// Its text form is the note, signatures included, exactly as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint (a signed note whose text is a checkpoint body). No
    /// signature is checked here.
    ///
    /// # Errors
    ///
    /// The errors of [`Note::parse`] and [`Checkpoint::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(Self { checkpoint, note })
    }

    /// The checkpoint body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note, with its signatures.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Adds a witness cosignature made with `key` (type 0x04) at `timestamp`, replacing an
    /// earlier one of the same key.
    ///
    /// # Errors
    ///
    /// As [`SignerKey::cosign`] and [`Note::add_signature`].
    pub fn cosign(&mut self, key: &SignerKey, timestamp: u64) -> Result<(), Error> {
        let signature = key.cosign(self.note.text(), timestamp)?;
        self.note.add_signature(signature)
    }

    /// The whole signed note.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }
}

impl fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// What a verifier trusts: the log's key (and, optionally, the origin it must sign for), the
/// witnesses' cosignature keys, and how many of them must have cosigned.
#[derive(Clone, Debug)]
pub struct Policy {
    log: VerifierKey,
    origin: Option<String>,
    witnesses: Vec<VerifierKey>,
    quorum: usize,
}

impl Policy {
    /// Trust checkpoints signed by `log`, with no witness required.
    pub fn new(log: VerifierKey) -> Self {
        Self {
            log,
            origin: None,
            witnesses: Vec::new(),
            quorum: 0,
        }
    }

    /// Requires the checkpoint's origin to be `origin`.
    #[must_use]
    pub fn with_origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_owned());
        self
    }

    /// Requires cosignatures of at least `quorum` distinct keys among `witnesses`.
    #[must_use]
    pub fn with_witnesses(mut self, witnesses: Vec<VerifierKey>, quorum: usize) -> Self {
        self.witnesses = witnesses;
        self.quorum = quorum;
        self
    }

    /// The log key.
    pub fn log(&self) -> &VerifierKey {
        &self.log
    }

    /// Verifies a signed checkpoint: the origin (if the policy names one), the note with the
    /// log key and every witness key (a known key whose signature fails rejects the note;
    /// unknown keys are ignored), the log's own signature, and the witness quorum.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// [`VerifyError::OriginMismatch`], the errors of [`Note::verify`],
    /// [`VerifyError::LogSignatureMissing`] when only witnesses signed, and
    /// [`VerifyError::Quorum`] with the number of witnesses that did.
    pub fn verify(&self, signed: &SignedCheckpoint) -> Result<VerifiedCheckpoint, VerifyError> {
        if let Some(origin) = &self.origin
            && origin != signed.checkpoint.origin()
        {
            return Err(VerifyError::OriginMismatch {
                expected: origin.clone(),
                actual: signed.checkpoint.origin().to_owned(),
            });
        }
        let mut known = Vec::with_capacity(self.witnesses.len() + 1);
        known.push(self.log.clone());
        known.extend(self.witnesses.iter().cloned());
        let verified = signed.note.verify(&known)?;
        if !verified.iter().any(|v| v.key == self.log) {
            return Err(VerifyError::LogSignatureMissing {
                name: self.log.name().to_string(),
                key_id: self.log.id(),
            });
        }
        let witnesses: Vec<Verified> = verified
            .into_iter()
            .filter(|v| v.key != self.log && self.witnesses.contains(&v.key))
            .collect();
        if witnesses.len() < self.quorum {
            return Err(VerifyError::Quorum {
                required: self.quorum,
                actual: witnesses.len(),
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint: signed.checkpoint.clone(),
            witnesses,
        })
    }
}

/// A checkpoint whose log signature and witness quorum verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    witnesses: Vec<Verified>,
}

impl VerifiedCheckpoint {
    /// The checkpoint body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The witnesses whose cosignature verified, with their timestamps.
    pub fn witnesses(&self) -> &[Verified] {
        &self.witnesses
    }
}

#[cfg(test)]
mod tests;
