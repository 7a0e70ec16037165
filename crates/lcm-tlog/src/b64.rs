//! Standard base64 (RFC 4648 §4), strictly: canonical padding and no stray bits, so that every
//! value has exactly one text form and a parsed note formats back to the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, FormatError};

/// Encodes `bytes` as padded standard base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes padded standard base64, refusing non-canonical encodings.
pub(crate) fn decode(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    STANDARD.decode(text).map_err(|_| {
        FormatError::Base64 {
            what,
            text: text.chars().take(100).collect(),
        }
        .into()
    })
}

/// Decodes one 32-byte hash.
pub(crate) fn decode_hash(what: &'static str, text: &str) -> Result<lcm_crypto::Digest, Error> {
    let bytes = decode(what, text)?;
    lcm_crypto::Digest::try_from_slice(&bytes).map_err(|_| {
        FormatError::HashLength {
            what,
            actual: bytes.len(),
        }
        .into()
    })
}

/// Encodes one hash.
pub(crate) fn encode_hash(hash: &lcm_crypto::Digest) -> String {
    encode(hash.as_bytes())
}

#[cfg(test)]
mod tests;
