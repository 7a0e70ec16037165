//! c2sp.org/tlog-cosignature, the Ed25519 (type 0x04) cosignature: the signed message and the
//! `timestamped_signature` layout. Signing is [`SignerKey::cosign`](crate::note::SignerKey::cosign)
//! and verification [`VerifierKey::verify`](crate::note::VerifierKey::verify) with a type
//! 0x04 key.

use lcm_crypto::Signature;

use crate::error::{Error, FormatError};

/// The largest timestamp a cosignature may carry: `2^63 - 1`.
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// The length of an Ed25519 `timestamped_signature`: an 8-byte timestamp and a 64-byte
/// signature.
pub const SIGNATURE_LEN: usize = 8 + Signature::LEN;

/// The message an Ed25519 cosignature signs, exactly as the spec writes it:
/// `"cosignature/v1\ntime <timestamp>\n"` followed by the whole checkpoint body (with its final
/// newline, without signature lines). The timestamp is decimal without leading zeros.
///
/// # Examples
///
/// ```
/// let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
/// assert_eq!(
///     lcm_tlog::cosignature::message(1679315147, body),
///     b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
/// );
/// ```
pub fn message(timestamp: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{body}").into_bytes()
}

/// Checks that a timestamp is at most [`MAX_TIMESTAMP`].
///
/// # Errors
///
/// [`FormatError::Timestamp`] above it.
pub fn check_timestamp(timestamp: u64) -> Result<(), Error> {
    if timestamp > MAX_TIMESTAMP {
        Err(FormatError::Timestamp { actual: timestamp }.into())
    } else {
        Ok(())
    }
}

/// Splits a `timestamped_signature` into its timestamp and Ed25519 signature.
pub(crate) fn split(bytes: &[u8]) -> Result<(u64, Signature), Error> {
    let Some((timestamp, signature)) = bytes.split_first_chunk::<8>() else {
        return Err(length(bytes.len()));
    };
    let signature = Signature::try_from_slice(signature).map_err(|_| length(bytes.len()))?;
    let timestamp = u64::from_be_bytes(*timestamp);
    check_timestamp(timestamp)?;
    Ok((timestamp, signature))
}

fn length(actual: usize) -> Error {
    FormatError::SignatureLength {
        expected: SIGNATURE_LEN,
        actual,
    }
    .into()
}
