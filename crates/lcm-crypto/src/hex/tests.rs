//! Unit tests of `lcm_crypto::hex`.

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

/// The decoder agrees with the definition (`0-9a-f` only) for every byte at every
/// position, in the word-at-a-time part and in the table-driven tail, in its value and
/// in the index its error names.
#[test]
fn decoder_matches_the_alphabet() {
    let value = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    for c in 0..=255u8 {
        assert_eq!(
            DECODE[usize::from(c)] != INVALID,
            value(c).is_some(),
            "byte {c}"
        );
    }
    let base = *b"0f9a3b7c65d4e8219f";
    for c in 0..=255u8 {
        for at in 0..base.len() {
            let mut input = base;
            input[at] = c;
            let Ok(text) = std::str::from_utf8(&input) else {
                continue;
            };
            let expected = match value(c) {
                Some(_) => Ok(input
                    .chunks(2)
                    .map(|p| (value(p[0]).unwrap() << 4) | value(p[1]).unwrap())
                    .collect::<Vec<u8>>()),
                None => Err(Error::HexCharacter {
                    index: at,
                    character: char::from(c),
                }),
            };
            check(text, expected.clone());
            let array = decode_array::<9>(text).map(Vec::from);
            assert_eq!(array, expected, "input {text:?}");
        }
    }
    // Two bad characters: the first one is named, in either part.
    for (input, index, character) in [("0gZ0", 1, 'g'), ("00000000000Z00g0", 11, 'Z')] {
        check(input, Err(Error::HexCharacter { index, character }));
    }
    // A multi-byte character inside a word.
    check(
        "00é00000000",
        Err(Error::HexCharacter {
            index: 2,
            character: 'é',
        }),
    );
}

/// The decoder before the word-at-a-time one: a `match` per nibble, stopping at the first
/// bad character. The fast decoder must agree with it on every input.
fn reference(s: &str) -> Result<Vec<u8>, Error> {
    let b = s.as_bytes();
    if b.len() % 2 == 1 {
        return Err(Error::HexOddLength { actual: b.len() });
    }
    let nibble = |index: usize| match b[index] {
        c @ b'0'..=b'9' => Ok(c - b'0'),
        c @ b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(Error::HexCharacter {
            index,
            character: char_at(b, index),
        }),
    };
    (0..b.len())
        .step_by(2)
        .map(|i| Ok((nibble(i)? << 4) | nibble(i + 1)?))
        .collect()
}

proptest::proptest! {
    #[test]
    fn agrees_with_the_reference(s in "[0-9a-fA-Fg\\x00-\\x7f\u{e9}\u{2014}]{0,80}") {
        proptest::prop_assert_eq!(decode(&s), reference(&s));
    }

    #[test]
    fn mostly_valid_inputs(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..48), bad in 0usize..200, c in "[^0-9a-f]") {
        let mut s = encode(&bytes);
        if bad < s.len() && s.is_char_boundary(bad) {
            s.replace_range(bad..=bad, &c);
        }
        proptest::prop_assert_eq!(decode(&s), reference(&s));
    }
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
