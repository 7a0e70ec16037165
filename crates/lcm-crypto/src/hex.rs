//! Strict lowercase hex, the one text form of every digest, salt and key id in `lcm`.
//!
//! Decoding accepts only `0-9a-f`: a digest has exactly one text form, so that a record that
//! embeds it has exactly one canonical encoding. Errors name the offending index and
//! character. Nothing here panics.

use crate::Error;

const ALPHABET: &[u8; 16] = b"0123456789abcdef";

/// Encodes `bytes` as lowercase hex.
///
/// # Examples
///
/// ```
/// assert_eq!(lcm_crypto::hex::encode(&[0x00, 0xab, 0xff]), "00abff");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(ALPHABET[usize::from(b >> 4)]));
        out.push(char::from(ALPHABET[usize::from(b & 0x0f)]));
    }
    out
}

/// Encodes `bytes` into `out`, which must be exactly twice as long (used on hot paths to
/// avoid an allocation).
///
/// # Errors
///
/// [`Error::Length`] when `out` is not `2 * bytes.len()` long.
pub fn encode_to_slice(bytes: &[u8], out: &mut [u8]) -> Result<(), Error> {
    if out.len() != bytes.len().saturating_mul(2) {
        return Err(Error::Length {
            what: "hex output buffer",
            expected: bytes.len().saturating_mul(2),
            actual: out.len(),
        });
    }
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = ALPHABET[usize::from(b >> 4)];
        pair[1] = ALPHABET[usize::from(b & 0x0f)];
    }
    Ok(())
}

fn nibble(s: &[u8], index: usize) -> Result<u8, Error> {
    let c = s[index];
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(Error::HexCharacter {
            index,
            character: char_at(s, index),
        }),
    }
}

/// The character that starts at byte `index`, for error messages (the input came from a
/// `&str`, but may be cut inside a multi-byte character).
fn char_at(s: &[u8], index: usize) -> char {
    std::str::from_utf8(&s[index..])
        .ok()
        .or_else(|| {
            // Cut inside a character: decode what is there up to the next boundary.
            (index + 1..=s.len()).find_map(|end| std::str::from_utf8(&s[index..end]).ok())
        })
        .and_then(|t| t.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Decodes lowercase hex of any even length.
///
/// # Errors
///
/// [`Error::HexOddLength`] for an odd length, [`Error::HexCharacter`] for anything but
/// `0-9a-f`.
///
/// # Examples
///
/// ```
/// assert_eq!(lcm_crypto::hex::decode("00abff")?, vec![0x00, 0xab, 0xff]);
/// assert!(lcm_crypto::hex::decode("0G").is_err());
/// # Ok::<(), lcm_crypto::Error>(())
/// ```
pub fn decode(s: &str) -> Result<Vec<u8>, Error> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(Error::HexOddLength { actual: b.len() });
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for i in (0..b.len()).step_by(2) {
        out.push((nibble(b, i)? << 4) | nibble(b, i + 1)?);
    }
    Ok(out)
}

/// Decodes exactly `N` bytes of lowercase hex (`2 * N` characters).
///
/// # Errors
///
/// [`Error::HexLength`] when the string is not `2 * N` characters long,
/// [`Error::HexCharacter`] for anything but `0-9a-f`.
pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], Error> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return Err(Error::HexLength {
            expected: 2 * N,
            actual: b.len(),
        });
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b, 2 * i)? << 4) | nibble(b, 2 * i + 1)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<Vec<u8>, Error>) {
        assert_eq!(decode(input), expected, "input {input:?}");
    }

    #[test]
    fn decode_cases() {
        check("", Ok(vec![]));
        check("00ff10", Ok(vec![0, 255, 16]));
        check("0", Err(Error::HexOddLength { actual: 1 }));
        check(
            "0A",
            Err(Error::HexCharacter {
                index: 1,
                character: 'A',
            }),
        );
        check(
            "zz",
            Err(Error::HexCharacter {
                index: 0,
                character: 'z',
            }),
        );
        check(
            "0é0",
            Err(Error::HexCharacter {
                index: 1,
                character: 'é',
            }),
        );
        check(
            "é00",
            Err(Error::HexCharacter {
                index: 0,
                character: 'é',
            }),
        );
    }

    #[test]
    fn array_length_is_checked() {
        assert_eq!(
            decode_array::<2>("abc"),
            Err(Error::HexLength {
                expected: 4,
                actual: 3
            })
        );
        assert_eq!(decode_array::<2>("abcd"), Ok([0xab, 0xcd]));
    }

    #[test]
    fn encode_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        let mut buf = [0u8; 6];
        encode_to_slice(&[1, 2, 3], &mut buf).unwrap();
        assert_eq!(&buf, b"010203");
        assert!(encode_to_slice(&[1, 2, 3], &mut [0u8; 5]).is_err());
    }
}
