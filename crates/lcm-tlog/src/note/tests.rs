//! Unit tests of `lcm_tlog::note`.

use super::*;

#[test]
fn key_names() {
    for good in ["a", "example.com/foo", "oid/1.2.3", "ünïcödé"] {
        assert!(KeyName::new(good).is_ok(), "{good:?}");
    }
    for bad in ["", "a b", "a+b", "a\u{a0}b", "a\nb", "a\u{2003}"] {
        assert_eq!(
            KeyName::new(bad),
            Err(FormatError::KeyName {
                name: bad.to_owned()
            }
            .into())
        );
    }
}

#[test]
fn key_id_hex_is_strict() {
    assert_eq!(KeyId::from_hex("530d903a"), Ok(KeyId::new(0x530d_903a)));
    for bad in ["530D903A", "530d903", "530d903a0", "0x530d90", ""] {
        assert!(KeyId::from_hex(bad).is_err(), "{bad:?}");
    }
    assert_eq!(KeyId::new(0xab).to_string(), "000000ab");
}
