//! Unit tests of `lcm_crypto::digest`.

use super::*;

#[test]
fn hex_round_trip_and_errors() {
    let d = Digest::from_bytes(std::array::from_fn(|i| u8::try_from(i).unwrap()));
    assert_eq!(d.to_hex(), d.to_string());
    assert_eq!(Digest::from_hex(&d.to_hex()).unwrap(), d);
    assert_eq!(format!("{d:?}"), format!("Digest({d})"));
    assert_eq!(
        Digest::from_hex("ab"),
        Err(Error::HexLength {
            expected: 64,
            actual: 2
        })
    );
    let upper = d.to_hex().to_uppercase();
    assert!(matches!(
        Digest::from_hex(&upper),
        Err(Error::HexCharacter { .. })
    ));
    assert_eq!(d.short(), "000102030405");
}

#[test]
fn equality_and_order() {
    let a = Digest::from_bytes([1; 32]);
    let mut b_bytes = [1; 32];
    b_bytes[31] = 2;
    let b = Digest::from_bytes(b_bytes);
    assert_eq!(a, a);
    assert_ne!(a, b);
    assert!(a < b);
}

#[test]
fn equality_sees_every_bit() {
    let a = Digest::from_bytes(std::array::from_fn(|i| u8::try_from(i * 7).unwrap()));
    for bit in 0..256 {
        let mut bytes = a.to_bytes();
        bytes[bit / 8] ^= 1 << (bit % 8);
        assert_ne!(a, Digest::from_bytes(bytes), "bit {bit}");
    }
}

#[test]
fn slice_length_checked() {
    assert_eq!(
        Digest::try_from_slice(&[0; 31]),
        Err(Error::Length {
            what: "a digest",
            expected: 32,
            actual: 31
        })
    );
    assert!(Digest::try_from_slice(&[0; 32]).is_ok());
}

#[test]
fn input_mode_is_set_inside_and_restored_after_nesting_and_unwinding() {
    assert!(!Digest::is_accepting_input());
    Digest::accepting_input(|| {
        assert!(Digest::is_accepting_input());
        Digest::accepting_input(|| assert!(Digest::is_accepting_input()));
        // The inner call restores the value it found (set), not the default.
        assert!(Digest::is_accepting_input());
    });
    assert!(!Digest::is_accepting_input());
    let unwound = std::panic::catch_unwind(|| {
        Digest::accepting_input(|| -> () { panic!("inside") });
    });
    assert!(unwound.is_err());
    assert!(!Digest::is_accepting_input());
}

#[test]
fn byte_array_forms_of_every_type_use_its_own_lengths() {
    use crate::{Salt, Signature};
    let sig = Signature::from_bytes(std::array::from_fn(|i| u8::try_from(i).unwrap()));
    assert_eq!(Signature::LEN, 64);
    assert_eq!(sig.to_hex().len(), 128);
    assert_eq!(sig.to_hex(), sig.to_string());
    assert_eq!(Signature::from_hex(&sig.to_hex()).unwrap(), sig);
    assert_eq!(Signature::try_from_slice(sig.as_bytes()).unwrap(), sig);
    assert_eq!(
        Signature::from_hex(&sig.to_hex()[..64]),
        Err(Error::HexLength {
            expected: 128,
            actual: 64
        })
    );
    assert_eq!(
        Signature::try_from_slice(&[0; 32]),
        Err(Error::Length {
            what: "an Ed25519 signature",
            expected: 64,
            actual: 32
        })
    );
    let salt = Salt::from_bytes([7; 16]);
    assert_eq!(salt.to_hex(), "07".repeat(16));
    assert_eq!(Salt::from_hex(&salt.to_hex()).unwrap(), salt);
    assert_eq!(
        Salt::from_hex(&"07".repeat(32)),
        Err(Error::HexLength {
            expected: 32,
            actual: 64
        })
    );
    let mut upper = salt.to_hex();
    upper.replace_range(..1, "A");
    assert!(matches!(
        Salt::from_hex(&upper),
        Err(Error::HexCharacter { .. })
    ));
}
