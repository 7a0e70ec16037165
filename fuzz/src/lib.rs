//! The checks behind lcm's fuzz targets, one function per target.
//!
//! Each function takes the fuzzer's raw bytes, must never panic on its own account, and
//! asserts a property: a round trip, an oracle, or `verify(prove(x))` with tamper checks. The
//! targets in `fuzz_targets/` are one-line calls into this file, and the facade's test
//! `tests/fuzz_artifacts.rs` includes this same file (`#[path]`) to replay every committed seed
//! (`fuzz/corpus/<target>/`) and crash input (`fuzz/artifacts/<target>/`) on plain
//! `cargo test`. So this file depends on `lcm_crypto` and `std` only, and has no inner
//! attributes.

use lcm_crypto::{Digest, Error, hex};

/// Target `digest_hex`: [`hex::decode`] and [`Digest::from_hex`] on arbitrary text.
///
/// Properties: decoding succeeds exactly on strict lowercase hex of even length, and then
/// re-encodes to the same text; a failure names the first offending character (or the odd
/// length). `Digest::from_hex` agrees with `hex::decode` on 64-character input and round-trips
/// through `to_hex`, `Display`, `FromStr` and `write_hex`.
pub fn digest_hex(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    // The oracle: the odd length first, then the first byte outside `0-9a-f`. Every byte
    // before that one is ASCII, so the index is a character boundary.
    let first_bad = text
        .bytes()
        .position(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let expected_error = if !text.len().is_multiple_of(2) {
        Some(Error::HexOddLength { actual: text.len() })
    } else {
        first_bad.map(|index| Error::HexCharacter {
            index,
            character: text
                .get(index..)
                .and_then(|t| t.chars().next())
                .unwrap_or_default(),
        })
    };
    let decoded = hex::decode(text);
    assert_eq!(
        decoded.as_ref().err(),
        expected_error.as_ref(),
        "hex::decode({text:?})"
    );
    if let Ok(bytes) = &decoded {
        assert_eq!(
            hex::encode(bytes),
            text,
            "decode then encode must give the input back"
        );
    }

    let digest = Digest::from_hex(text);
    if text.len() == 64 {
        let digest_bytes = digest.clone().map(|d| d.as_bytes().to_vec());
        assert_eq!(digest_bytes, decoded, "Digest::from_hex({text:?})");
    } else {
        let expected = Error::HexLength {
            expected: 64,
            actual: text.len(),
        };
        assert_eq!(
            digest.as_ref().err(),
            Some(&expected),
            "Digest::from_hex({text:?})"
        );
    }
    if let Ok(digest) = &digest {
        assert_eq!(digest.to_hex(), text);
        assert_eq!(digest.to_string(), text);
        assert_eq!(text.parse::<Digest>().as_ref(), Ok(digest));
        let mut buffer = [0u8; 64];
        digest.write_hex(&mut buffer);
        assert_eq!(&buffer[..], text.as_bytes());
    }
}
