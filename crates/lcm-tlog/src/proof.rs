//! c2sp.org/tlog-proof: an offline proof that an entry is in a log, observed by witnesses.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64, optional>
//! index <decimal>
//! <base64 inclusion proof hash, from the leaf's sibling up>
//! ...
//!
//! <the signed checkpoint, verbatim>
//! ```

use std::fmt;

use lcm_crypto::Digest;
use lcm_crypto::merkle::{MAX_PROOF_LEN, verify_inclusion};

use crate::b64;
use crate::checkpoint::{
    Policy, SignedCheckpoint, VerifiedCheckpoint, parse_decimal, split_checkpoint,
};
use crate::error::{Error, FormatError, VerifyError};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed `.tlog-proof` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (the `extra` line), if any.
    pub extra: Option<Vec<u8>>,
    /// The 0-based index of the entry.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up.
    pub path: Vec<Digest>,
    /// The checkpoint, with the log's signature and any cosignatures.
    pub checkpoint: SignedCheckpoint,
}

impl TlogProof {
    /// Parses a proof strictly.
    ///
    /// # Errors
    ///
    /// [`FormatError::NoteEncoding`] for invalid UTF-8, [`FormatError::UnexpectedLine`] for a
    /// missing header or `index` line, [`FormatError::Base64`], [`FormatError::Number`],
    /// [`FormatError::HashLength`], [`FormatError::TooManyHashes`] above 64 proof hashes,
    /// [`FormatError::MissingLine`] without the empty line, and the errors of
    /// [`SignedCheckpoint::parse`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (head, checkpoint) = split_checkpoint(bytes)?;
        let mut lines = head.split('\n');
        let unexpected = |expected, line: &str| -> Error {
            FormatError::UnexpectedLine {
                expected,
                text: line.chars().take(100).collect(),
            }
            .into()
        };
        let first = lines.next().unwrap_or_default();
        if first != HEADER {
            return Err(unexpected("the line c2sp.org/tlog-proof@v1", first));
        }
        let mut line = lines.next().ok_or(FormatError::MissingLine {
            expected: "an index line",
        })?;
        let extra = match line.strip_prefix("extra ") {
            Some(data) => {
                let extra = b64::decode("extra data", data)?;
                line = lines.next().ok_or(FormatError::MissingLine {
                    expected: "an index line",
                })?;
                Some(extra)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .ok_or_else(|| unexpected("index <decimal>", line))?;
        let index = parse_decimal("an entry index", index)?;
        let hashes: Vec<&str> = lines.collect();
        if hashes.len() > MAX_PROOF_LEN {
            return Err(FormatError::TooManyHashes {
                max: MAX_PROOF_LEN,
                actual: hashes.len(),
            }
            .into());
        }
        let path = hashes
            .into_iter()
            .map(|h| b64::decode_hash("inclusion proof hash", h))
            .collect::<Result<_, _>>()?;
        let checkpoint = SignedCheckpoint::parse(checkpoint.as_bytes())?;
        Ok(Self {
            extra,
            index,
            path,
            checkpoint,
        })
    }

    /// The proof file's text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", b64::encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.path {
            out.push_str(&b64::encode_hash(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint.to_text());
        out
    }

    /// Verifies the proof for the entry whose RFC 6962 leaf hash is `leaf_hash`: the checkpoint
    /// under `policy` (origin, log signature, witness quorum), then the inclusion proof from
    /// `leaf_hash` at [`index`](Self::index) to the checkpoint's root.
    ///
    /// This does not panic.
    ///
    /// # Errors
    ///
    /// The errors of [`Policy::verify`], and [`VerifyError::Inclusion`] when the inclusion
    /// proof does not bind the leaf to the root (wrong index, hash, size or path length).
    pub fn verify(
        &self,
        leaf_hash: &Digest,
        policy: &Policy,
    ) -> Result<VerifiedCheckpoint, VerifyError> {
        let verified = policy.verify(&self.checkpoint)?;
        let checkpoint = verified.checkpoint();
        verify_inclusion(
            leaf_hash,
            self.index,
            checkpoint.size(),
            &self.path,
            checkpoint.root(),
        )
        .map_err(VerifyError::Inclusion)?;
        Ok(verified)
    }
}

impl fmt::Display for TlogProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
