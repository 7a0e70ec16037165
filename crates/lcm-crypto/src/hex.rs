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

/// Marks a byte that is not lowercase hex in [`DECODE`]. Valid entries are `0..=15`, so a
/// set high bit in the OR of every looked-up value means "some character was bad".
const INVALID: u8 = 0x80;

/// The value of each byte as a lowercase hex digit, or [`INVALID`]: the tail of
/// [`decode_into`] and the error path.
static DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut value: u8 = 0;
    while value < 16 {
        table[ALPHABET[value as usize] as usize] = value;
        value += 1;
    }
    table
};

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Decodes eight characters into four bytes, eight characters at a time in one `u64`
/// ("SIMD within a register"), and reports whether all eight were lowercase hex.
///
/// For a byte `c < 0x80`, `c + (0x80 - t)` has its high bit set exactly when `c >= t`, and
/// stays below `0x100`, so no carry crosses into the next byte: four additions give the
/// ranges `0-9` and `a-f` for all eight bytes at once. A byte `>= 0x80` may carry into its
/// neighbour, but then the word is invalid anyway and its output is discarded.
#[inline]
fn decode8(chars: [u8; 8]) -> ([u8; 4], bool) {
    let x = u64::from_le_bytes(chars);
    let ascii = !x & HIGH;
    let at_least_0 = x.wrapping_add(ONES * (0x80 - 0x30)) & HIGH;
    let at_most_9 = !x.wrapping_add(ONES * (0x80 - 0x3a)) & HIGH;
    let at_least_a = x.wrapping_add(ONES * (0x80 - 0x61)) & HIGH;
    let at_most_f = !x.wrapping_add(ONES * (0x80 - 0x67)) & HIGH;
    let letter = at_least_a & at_most_f;
    let valid = ascii & ((at_least_0 & at_most_9) | letter) == HIGH;
    // '0'..'9' and 'a'..'f' have the digit value (minus 9 for letters) in their low nibble.
    let values = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Each 16-bit lane: the first character is the high nibble of the output byte.
    let lanes = ((values & 0x00ff_00ff_00ff_00ff) << 4) | ((values >> 8) & 0x00ff_00ff_00ff_00ff);
    let packed = (lanes & 0xff)
        | ((lanes >> 8) & 0xff00)
        | ((lanes >> 16) & 0x00ff_0000)
        | ((lanes >> 24) & 0xff00_0000);
    let bytes = packed.to_le_bytes();
    ([bytes[0], bytes[1], bytes[2], bytes[3]], valid)
}

/// Decodes `input` into `out` (exactly half as long), and reports whether every character was
/// lowercase hex. `out` holds garbage when it was not.
///
/// Eight characters at a time through [`decode8`], then the table for the rest. Neither has a
/// branch per character: a 64-character digest decodes in about ten word operations per
/// output word (a `match` per nibble with an early return took ~220 ns). Only an input that
/// fails takes the slow path, [`first_invalid`], to name the offending character.
#[inline]
fn decode_into(input: &[u8], out: &mut [u8]) -> bool {
    let (blocks, tail_in) = input.as_chunks::<8>();
    let (words, tail_out) = out.as_chunks_mut::<4>();
    let mut ok = true;
    for (o, block) in words.iter_mut().zip(blocks) {
        let (bytes, valid) = decode8(*block);
        *o = bytes;
        ok &= valid;
    }
    let mut bad = 0u8;
    let (pairs, _) = tail_in.as_chunks::<2>();
    for (o, &[h, l]) in tail_out.iter_mut().zip(pairs) {
        let hi = DECODE[usize::from(h)];
        let lo = DECODE[usize::from(l)];
        bad |= hi | lo;
        *o = (hi << 4) | lo;
    }
    ok && bad & INVALID == 0
}

/// The error naming the first character of `s` that is not lowercase hex: the same index and
/// character a left-to-right scan that stops at the first bad nibble reports.
#[cold]
fn first_invalid(s: &[u8]) -> Error {
    let index = s
        .iter()
        .position(|&c| DECODE[usize::from(c)] == INVALID)
        .unwrap_or(0);
    Error::HexCharacter {
        index,
        character: char_at(s, index),
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
    let mut out = vec![0u8; b.len() / 2];
    if decode_into(b, &mut out) {
        Ok(out)
    } else {
        Err(first_invalid(b))
    }
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
    if decode_into(b, &mut out) {
        Ok(out)
    } else {
        Err(first_invalid(b))
    }
}

#[cfg(test)]
mod tests;
